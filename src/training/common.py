"""What every training stage shares: devices, loading and saving models, trainer arguments."""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

from ..devices import claim_gpus
from ..io import atomic_dir
from ..stages import ModelSettings

log = logging.getLogger(__name__)


def stage_args(description: str, from_model: bool = False) -> argparse.ArgumentParser:
    """Arguments of a training stage; SFT and GRPO also take the model to start from and its data."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--data", required=True, type=Path, help="the preset's data folder")
    ap.add_argument("--tokenizer", required=True, type=Path)
    ap.add_argument("--seed", required=True, type=int)
    ap.add_argument("--out", required=True, type=Path)
    if from_model:
        ap.add_argument("--model", required=True, type=Path, help="the model to start from")
        ap.add_argument("--tasks", required=True, nargs="+", choices=["mem", "ctx", "comp"],
                        help="training questions: the train split of these tasks")
    return ap


def setup(seed: int) -> None:
    """First call of every entry point: logging, this job's own GPU (if any), seeds."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    claim_gpus()  # before anything asks torch about CUDA: see src/devices.py
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if not torch.cuda.is_available():
        # Same params and seed give the same metrics on CPU: deterministic kernels, fixed threads.
        torch.use_deterministic_algorithms(True)
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1)))


def precision_kwargs() -> dict:
    """bf16 on a GPU that supports it, fp32 on the CPU (TRL needs bf16=False there)."""
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return {"bf16": bf16, "fp16": False, "use_cpu": not torch.cuda.is_available()}


def common_trainer_kwargs(seed: int, out: Path) -> dict:
    """The trainer's settings shared by every stage; its scratch folder (out + '.trainer') starts empty, even
    after a killed run left one behind."""
    shutil.rmtree(str(out) + ".trainer", ignore_errors=True)
    # TRL turns gradient checkpointing on by default: recomputing the forward saves memory that these
    # models do not need and costs a third more arithmetic
    return dict(output_dir=str(out) + ".trainer", seed=seed, data_seed=seed, report_to="none",
                save_strategy="no", logging_steps=10, disable_tqdm=False, dataloader_num_workers=0,
                gradient_checkpointing=False, **precision_kwargs())


WEIGHTS = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")


def _model_folder(path: Path, what: str) -> None:
    """A clear error, naming the folder, for a model folder that cannot be loaded."""
    path = Path(path)
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
    """A saved model (its folder checked first); with `tokenizer`, checked to match it."""
    _model_folder(path, "a stage's output")
    model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
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


def train_and_save(trainer, tokenizer, out: Path) -> None:
    result = trainer.train()
    save_model(trainer.model, tokenizer, out, throughput(trainer, result.metrics))
    shutil.rmtree(trainer.args.output_dir, ignore_errors=True)  # the trainer's scratch folder


def throughput(trainer, metrics: dict) -> dict:
    """Tokens/s and model FLOP/s of the run, for the speed table (src/evaluation/timing.py).

    Tokens are the ones TRL counted in the batches (prompt and completion, padding excluded); model
    FLOPs are 6 x parameters x tokens (forward + backward), the usual estimate, counted on those tokens.
    For GRPO also its learning signal (rl_*: mean reward, steps with a group of differing rewards), which
    the report tabulates.
    """
    history = trainer.state.log_history
    tokens = max((float(h["num_tokens"]) for h in history if "num_tokens" in h), default=0.0)
    params = sum(p.numel() for p in trainer.model.parameters())
    runtime = float(metrics["train_runtime"])
    stats = {"runtime_s": runtime, "tokens": tokens, "parameters": params, "tokens_per_s": tokens / runtime,
             "model_flops_per_s": 6 * params * tokens / runtime, "steps": trainer.state.global_step,
             "device": str(trainer.args.device), "threads": torch.get_num_threads()}
    if hasattr(trainer, "generation_s"):  # GRPO: completions sampled, and the share of time spent sampling
        stats["samples"] = trainer.state.global_step * trainer.args.per_device_train_batch_size
        stats["samples_per_s"] = stats["samples"] / runtime
        stats["generation_s"] = trainer.generation_s
    zero_std = [float(h["frac_reward_zero_std"]) for h in history if "frac_reward_zero_std" in h]
    if zero_std:  # GRPO logs every step: a step learns only if some group's rewards differ
        stats["rl_steps_with_signal"] = sum(z < 1 for z in zero_std)
        stats["rl_logged_steps"] = len(zero_std)
        rewards = [float(h["reward"]) for h in history if "reward" in h]
        stats["rl_mean_reward"] = sum(rewards) / len(rewards)
    return stats


def save_model(model, tokenizer, out: Path, stats: dict | None = None) -> None:
    """save_pretrained, tokenizer included; LoRA adapters are merged so the next stage loads plainly."""
    tokenizer.padding_side = "right"  # the saved default; generation switches to left by itself
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    generation = model.generation_config
    generation.pad_token_id, generation.eos_token_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    with atomic_dir(out) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if stats is not None:
            (tmp / "train_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
