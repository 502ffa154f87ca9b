"""params.yaml `model`: the model every recipe starts from."""
from __future__ import annotations

from .declare import param, section


@section
class Scratch:
    hidden_size: int = param("width d of the residual stream, at most 16384", minimum=1, maximum=16384)
    num_hidden_layers: int = param("transformer blocks, at most 256", minimum=1, maximum=256)
    num_attention_heads: int = param("attention heads; must divide hidden_size into an even head size", minimum=1)
    intermediate_size: int = param("width of the MLP, at most 65536", minimum=1, maximum=65536)
    max_position_embeddings: int = param("longest sequence in tokens; at least every training max_length", minimum=1)


@section
class Lora:
    enabled: bool = param("train every stage through LoRA (LoRA(...) recipe stages use it regardless)")
    r: int = param("adapter rank", minimum=1)
    alpha: int = param("adapter scaling alpha", minimum=1)
    dropout: float = param("adapter dropout, 0-1", minimum=0, maximum=1)


@section
class Model:
    pretrained: str | None = param("local folder of a Hugging Face checkpoint (config.json and weights); null trains "
                                   "from scratch")
    scratch: Scratch = param("shape of the Llama-style model built from scratch (ignored with pretrained)")
    lora: Lora = param("LoRA adapters (PEFT) instead of full fine-tuning")
