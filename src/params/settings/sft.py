"""params.yaml `training.sft`: supervised fine-tuning (TRL SFTTrainer), loss on the completion only."""
from __future__ import annotations

from .declare import param, section


@section
class SFT:
    epochs: float = param("passes over the training questions, at most 1000", exclusive_minimum=0, maximum=1000)
    learning_rate: float = param("peak AdamW learning rate", exclusive_minimum=0)
    batch_size: int = param("examples per step (packed)", minimum=1)
    max_length: int = param("tokens per packed row; a longer example is an error; at most 131072", minimum=1,
                              maximum=131072)
    warmup: float = param("share of the steps over which the learning rate rises linearly to its peak, before "
                          "the cosine decay, in [0, 1)", minimum=0, exclusive_maximum=1)
    atomic_holdout: float = param("share of the Mem/Ctx training questions SFT leaves for RL(Mem+Ctx), in [0, 1) "
                                  "(paper: 0.2)", minimum=0, exclusive_maximum=1)
