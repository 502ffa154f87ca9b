"""Models and tokenizers on disk: a new model (from scratch or a pretrained checkpoint by local path), a
saved one loaded with its folder checked first (a LoRA adapter merged over the model it was trained from),
LoRA's settings, and saving a model atomically. Shared by training, evaluation and the benchmarks."""
from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from safetensors import SafetensorError
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from .io import atomic_dir, check_folder, source_digest
from .models import WEIGHTS

if TYPE_CHECKING:  # annotations only: a stage's settings import the declarations it reads
    from .params.settings.model import Model as ModelSettings

log = logging.getLogger(__name__)


ADAPTER = "adapter_config.json"  # a LoRA stage's output: PEFT's adapter, over the model it started from


def _model_folder(path: Path, what: str) -> None:
    """A clear error, naming the folder, for a model folder that cannot be loaded."""
    path = Path(path)
    try:
        check_folder(path)  # a finished stage's folder whose files changed since (a cut or overwritten file)
    except ValueError as e:
        raise SystemExit(str(e)) from None
    if (path / ADAPTER).exists():
        if not (path / "adapter_model.safetensors").exists():
            raise SystemExit(f"{path}: a LoRA adapter without its weights (adapter_model.safetensors); delete the "
                             "folder and rerun the stage that writes it")
        return
    if not (path / "config.json").exists():
        raise SystemExit(f"{path}: no config.json, so this is not a saved model ({what}); delete the folder and rerun "
                         "the stage that writes it, or give the path of a Hugging Face checkpoint")
    if not any((path / w).exists() for w in WEIGHTS):
        raise SystemExit(f"{path}: the model's weights are missing (none of {', '.join(WEIGHTS)}); delete the "
                         "folder and rerun the stage that writes it")


def load_tokenizer(path: Path):
    if not (Path(path) / "tokenizer_config.json").exists():
        raise SystemExit(f"{path}: no tokenizer_config.json: not a saved tokenizer; rerun build_tokenizer")
    return AutoTokenizer.from_pretrained(path)


def check_tokenizer(model, tokenizer, where: Path) -> None:
    """The tokenizer must be the one the model was built with: every token id within its embeddings."""
    if len(tokenizer) > model.config.vocab_size:
        raise SystemExit(f"{where}: the tokenizer has {len(tokenizer)} tokens but the model only "
                         f"{model.config.vocab_size} embeddings: they come from different worlds or presets; "
                         "rerun from the same preset's tokenizer")


def new_model(m: ModelSettings, tokenizer) -> torch.nn.Module:
    """The starting model: a pretrained checkpoint by local path, or a Llama-style model from scratch."""
    if m.pretrained:
        _model_folder(m.pretrained, "model.pretrained")
        model = AutoModelForCausalLM.from_pretrained(m.pretrained, dtype="auto")
    else:
        s = m.scratch
        config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=s.hidden_size,
                             intermediate_size=s.intermediate_size, num_hidden_layers=s.num_hidden_layers,
                             num_attention_heads=s.num_attention_heads,
                             num_key_value_heads=s.num_attention_heads,
                             max_position_embeddings=s.max_position_embeddings,
                             tie_word_embeddings=True, pad_token_id=tokenizer.pad_token_id,
                             bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
        model = LlamaForCausalLM(config)
    log.info("model: %.2fM parameters", sum(p.numel() for p in model.parameters()) / 1e6)
    return model


def load_model(path: Path, tokenizer=None) -> torch.nn.Module:
    """A saved model (its folder checked first); with `tokenizer`, checked to match it. A LoRA adapter is
    loaded over the model it was trained from (its adapter_config.json names that folder, itself possibly
    an adapter) and merged, so every caller gets a plain model, named after `path` (a LoRA stage trained
    from it records that folder as its base)."""
    _model_folder(path, "a stage's output")
    if (Path(path) / ADAPTER).exists():
        from peft import PeftConfig, PeftModel
        base = load_model(Path(PeftConfig.from_pretrained(path).base_model_name_or_path))
        model = PeftModel.from_pretrained(base, path).merge_and_unload()
    else:
        try:
            model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
        except (OSError, ValueError, RuntimeError, SafetensorError) as e:  # a cut or garbled weights file
            raise SystemExit(f"{path}: the model cannot be loaded ({type(e).__name__}: {str(e)[:200]}); the "
                             "weights file is damaged: delete the folder and rerun the stage that writes it") from None
    model.name_or_path = model.config._name_or_path = str(path)
    if tokenizer is not None:
        check_tokenizer(model, tokenizer, Path(path))
        own = Path(path) / "tokenizer.json"
        if own.exists() and load_tokenizer(path).get_vocab() != tokenizer.get_vocab():
            raise SystemExit(f"{path} was trained with another tokenizer than the one given: they come from "
                             "different worlds or presets; rerun from the same preset's tokenizer")
    return model


def peft_config(m: ModelSettings, force: bool = False):
    """A LoRA config when `model.lora.enabled` (every stage) or `force` (a LoRA(...) stage), else None
    (full fine-tuning)."""
    lora = m.lora
    if not (lora.enabled or force):
        return None
    from peft import LoraConfig
    return LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout,
                      target_modules="all-linear", task_type="CAUSAL_LM")


def save_model(model, tokenizer, out: Path, stats: dict | None = None, curves: Path | None = None) -> None:
    """save_pretrained, tokenizer included. A LoRA model saves its adapter only (PEFT's format: a few MB
    where the model is GBs); load_model puts it back over its base."""
    tokenizer.padding_side = "right"  # the saved default; generation switches to left by itself
    from peft import PeftModel
    if not isinstance(model, PeftModel):
        generation = model.generation_config
        generation.pad_token_id, generation.eos_token_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if stats is not None:
            stats = {**stats, "code": source_digest()}  # which source made it (compared across pooled runs)
            (tmp / "train_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
        if curves is not None and curves.exists():
            shutil.copytree(curves, tmp / "curves")


