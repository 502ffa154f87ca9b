"""What every training stage shares: devices, loading and saving models, trainer arguments."""
from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from transformers import TrainerCallback

from ..model_io import save_model
from .finite import FiniteLoss, require_finite

if TYPE_CHECKING:  # annotations only: stages.load imports the declarations a stage reads
    pass

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

    # no dvc.yaml edits and no DVC experiment: the pipeline's dvc.yaml is generated (src/workflow/export_dvc.py)
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


