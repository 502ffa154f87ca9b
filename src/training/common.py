"""What every training stage shares: devices, loading and saving models, trainer arguments."""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from safetensors import SafetensorError
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM, TrainerCallback

from ..devices import claim_gpus, describe_device
from ..io import atomic_dir, check_folder
from ..models import WEIGHTS
from .finite import FiniteLoss, require_finite

if TYPE_CHECKING:  # annotations only: stages.load imports the declarations a stage reads
    from ..settings.model import Model as ModelSettings

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
        # the job's threads (Snakemake and dvc.yaml set OMP_NUM_THREADS), at most the CPUs it may use
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        torch.set_num_threads(min(int(os.environ.get("OMP_NUM_THREADS", cpus)), cpus))
    bf16 = precision_kwargs()["bf16"]
    log.info("runs on %s; %d thread(s); precision %s", describe_device(), torch.get_num_threads(),
             "bf16 mixed (GPU)" if bf16 else "fp32")


def precision_kwargs() -> dict:
    """bf16 on a GPU that supports it, fp32 on the CPU (TRL needs bf16=False there)."""
    bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return {"bf16": bf16, "fp16": False, "use_cpu": not torch.cuda.is_available()}


def cpu_bf16(precision: str) -> bool:
    """Whether a CPU job computes under bf16 autocast: `precision` is fp32, bf16, or auto (bf16 where the
    CPU multiplies bf16 natively: oneDNN's check for AVX512-BF16 or AMX; emulated bf16 is slower than fp32)."""
    if precision == "auto":
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return precision == "bf16"


def per_device_batch(batch: int, key: str) -> int:
    """The configured batch is the global batch of an optimizer step: each of the WORLD_SIZE data-parallel
    processes (accelerate sets it; 1 without) takes an equal share, so 1, 2 or 4 GPUs train alike."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if batch % world:  # config_checks refuses this at planning time; a hand-launched run lands here
        raise SystemExit(f"{key} = {batch}: the global batch does not divide among {world} processes; "
                         f"use a multiple of {world}")
    return batch // world


def common_trainer_kwargs(seed: int, out: Path, keep_scratch: bool = False) -> dict:
    """The trainer's settings shared by every stage. Its scratch folder (out + '.trainer') starts empty, even
    after a killed run left one behind, unless `keep_scratch` (resume_point has checked what is in it)."""
    if not keep_scratch:
        shutil.rmtree(str(out) + ".trainer", ignore_errors=True)
    # TRL turns gradient checkpointing on by default: recomputing the forward saves memory that these
    # models do not need and costs a third more arithmetic
    # checkpoints: TimedCheckpoints decides when (save_strategy "no" otherwise); the last one is all a resume needs
    return dict(output_dir=str(out) + ".trainer", seed=seed, data_seed=seed, report_to="none",
                save_strategy="no", save_total_limit=1, logging_steps=10, logging_first_step=True, disable_tqdm=False,
                dataloader_num_workers=0, gradient_checkpointing=False, **precision_kwargs())




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


def _inputs_of(args) -> list:
    """(path, size, mtime) of every file of the stage's inputs: a rerun on other inputs starts afresh."""
    roots = [getattr(args, a, None) for a in ("data", "tokenizer", "model", "init")]
    files = sorted(f for r in roots if r for f in ([Path(r)] if Path(r).is_file() else Path(r).rglob("*"))
                   if f.is_file())
    return [(str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files]


def resume_point(out: Path, args, settings) -> str | None:
    """The checkpoint a killed run of this very job left in its scratch folder (out + '.trainer'), or None.

    A checkpoint is only resumed by the same command on the same inputs and settings: the folder holds a
    fingerprint of them, and any other run wipes it. A checkpoint is complete once its trainer_state.json
    is written (a kill during a save leaves the previous one, which the trainer rotates away only after)."""
    scratch = Path(str(out) + ".trainer")
    mark = scratch / "fingerprint.json"
    fingerprint = json.dumps({"argv": sys.argv[1:], "settings": repr(settings), "inputs": _inputs_of(args)})
    if int(os.environ.get("RANK", "0")) == 0:
        if not (mark.exists() and mark.read_text() == fingerprint):
            shutil.rmtree(scratch, ignore_errors=True)
            scratch.mkdir(parents=True)
            mark.write_text(fingerprint)
    else:  # data parallel: rank 0 decides; the others wait for its fingerprint
        deadline = time.monotonic() + 120
        while not (mark.exists() and mark.read_text() == fingerprint) and time.monotonic() < deadline:
            time.sleep(0.5)
    done = [c for c in scratch.glob("checkpoint-*") if (c / "trainer_state.json").exists()]
    return str(max(done, key=lambda c: int(c.name.split("-")[1]))) if done else None


class TimedCheckpoints(TrainerCallback):
    """Save a checkpoint (model, optimizer, scheduler, RNG, data position) every `minutes` of training, so a
    job killed by a time limit or a preemption loses minutes, not its run (0: never)."""

    def __init__(self, minutes: float):
        self.every, self.last = minutes * 60, time.monotonic()

    def on_step_end(self, args, state, control, **kwargs):
        if self.every and time.monotonic() - self.last >= self.every:
            control.should_save = True
            self.last = time.monotonic()
        return control


def training_curves(scratch: Path, resume: bool):
    """dvclive's callback for transformers' trainers, writing into the scratch folder (`curves/`, moved into
    the saved model): every logged value per step (loss, learning rate; GRPO's reward and its spread) as
    dvclive's plots/metrics/*.tsv, which `dvc plots show` and the report draw. dvclive's own step counts
    log calls; here it is the trainer's global step, so a resumed run continues its curve."""
    from dvclive import Live
    from transformers.integrations import DVCLiveCallback

    class Curves(DVCLiveCallback):
        def on_log(self, args, state, control, model=None, logs=None, **kwargs):
            if self.live is not None:
                self.live.step = state.global_step
            super().on_log(args, state, control, model=model, logs=logs, **kwargs)

    # no dvc.yaml edits and no DVC experiment: the pipeline's dvc.yaml is generated (src/export_dvc.py)
    return Curves(live=Live(dir=str(scratch / "curves"), resume=resume, save_dvc_exp=False, dvcyaml=None))


def train_and_save(trainer, tokenizer, out: Path, resume: str | None = None, checkpoint_minutes: float = 0) -> None:
    """Train (from `resume`, a checkpoint of resume_point, if any) with its training curves logged, save
    the model, its throughput and its curves, and drop the scratch folder. Throughput after a resume counts
    the resumed part only."""
    if resume:
        log.info("resuming from %s", resume)
    scratch = Path(trainer.args.output_dir)
    trainer.add_callback(TimedCheckpoints(checkpoint_minutes))
    trainer.add_callback(FiniteLoss(out))
    trainer.add_callback(training_curves(scratch, resume is not None))
    cpu = time.process_time()
    result = trainer.train(resume_from_checkpoint=resume)
    stats = throughput(trainer, result.metrics, time.process_time() - cpu)
    require_finite(trainer.model, out)
    save_model(trainer.model, tokenizer, out, stats, scratch / "curves")
    shutil.rmtree(scratch, ignore_errors=True)  # the trainer's scratch folder


def throughput(trainer, metrics: dict, cpu_s: float) -> dict:
    """Tokens/s and model FLOP/s of the run, for the speed table (src/analysis/cost.py), by the wall clock
    and per CPU-second (`cpu_s`: the process's CPU time in training, all its threads), which other jobs on
    the machine do not distort.

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
             "cpu_s": cpu_s, "model_flops_per_cpu_s": 6 * params * tokens / max(cpu_s, 1e-9),
             "device": str(trainer.args.device), "threads": torch.get_num_threads()}
    if hasattr(trainer, "generation_s"):  # GRPO: completions sampled, and the share of time spent sampling
        args = trainer.args
        stats["samples"] = trainer.state.global_step * args.per_device_train_batch_size * args.world_size
        stats["samples_per_s"] = stats["samples"] / runtime
        stats["generation_s"] = trainer.generation_s
        stats["generation_cpu_s"] = trainer.generation_cpu_s
    zero_std = [float(h["frac_reward_zero_std"]) for h in history if "frac_reward_zero_std" in h]
    if zero_std:  # GRPO logs every step: a step learns only if some group's rewards differ
        stats["rl_steps_with_signal"] = sum(z < 1 for z in zero_std)
        stats["rl_logged_steps"] = len(zero_std)
        rewards = [float(h["reward"]) for h in history if "reward" in h]
        stats["rl_mean_reward"] = sum(rewards) / len(rewards)
    return stats


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
            (tmp / "train_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
        if curves is not None and curves.exists():
            shutil.copytree(curves, tmp / "curves")
