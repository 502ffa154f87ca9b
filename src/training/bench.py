"""Where a training step's time goes: TRL's trainer as configured before, each change made since, and a
plain PyTorch loop, on the same model, data and batches. Not part of the study (a benchmark, not a test):

    python -m src.training.bench --preset default --threads 1 --stage sft     # then --stage inject

It needs the preset's data and tokenizer (`snakemake --cores all results/default/tokenizer`) and writes
results/<preset>/speed/trainer_<stage>_<threads>t.md: median seconds per step, real tokens/s and model
FLOP/s (6 x parameters x real tokens) against the matmul peak measured in the same process. Steps are timed
in CPU time of this process (time.process_time), which other jobs on the machine distort far less than the
wall clock does.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING

import torch
from datasets import Dataset
from trl import SFTConfig, SFTTrainer

from ..io import atomic_write_text, read_jsonl
from ..job import matmul_peak
from ..model_io import new_model
from ..params.check import results_dir, study
from ..text import completion_of, prompt_of
from .bench_grpo import CpuClock
from .packing import PackedCollator, PackedSFTTrainer, label_token_loss
from .questions import qa_dataset

if TYPE_CHECKING:
    from ..params.settings.study import Params


PIPELINE = "+ LM head on label tokens only (the pipeline)"


class PlainLoss(SFTTrainer):
    """TRL's trainer with the model's own loss instead of TRL's fused LM head; batches padded as TRL pads."""

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        return model(**inputs, use_cache=False).loss


def dataset(p: Params, data: Path, stage: str) -> Dataset:
    if stage == "inject":
        return Dataset.from_list([{"text": r["text"]} for r in read_jsonl(data / "biographies.jsonl")])
    rows = qa_dataset(data, ["mem", "ctx", "comp"], p.training.sft.atomic_holdout)  # SFT(Mem+Ctx+Comp)
    return Dataset.from_list([{"prompt": prompt_of(r), "completion": completion_of(r)} for r in rows])


def trainer_variant(name: str, p: Params, tokenizer, data: Dataset, stage: str, steps: int, out: Path,
                    callbacks: tuple = ()):
    t = getattr(p.training, stage)
    config = SFTConfig(output_dir=str(out), max_steps=steps, learning_rate=t.learning_rate,
                       per_device_train_batch_size=t.batch_size, max_length=t.max_length,
                       completion_only_loss=stage == "sft", packing=False, report_to="none", save_strategy="no",
                       disable_tqdm=True, use_cpu=True, bf16=False, seed=0, dataloader_num_workers=0,
                       gradient_checkpointing=name == "TRL as before")
    cls = {"TRL as before": SFTTrainer, "no gradient checkpointing": SFTTrainer,
           "+ the model's own loss": PlainLoss, "+ packed batches": PackedSFTTrainer,
           PIPELINE: PackedSFTTrainer}[name]
    timer = CpuClock()
    extra = {"label_head": name == PIPELINE} if cls is PackedSFTTrainer else {}
    trainer = cls(model=new_model(p.model, tokenizer), args=config, train_dataset=data,
                  processing_class=tokenizer, callbacks=[timer, *callbacks], **extra)
    trainer.train()
    return timer.cpu, trainer


def plain_loop(trainer, steps: int) -> list[float]:
    """The same model, packed batches and AdamW, without the Trainer: a lower bound for its overhead."""
    model = trainer.model.train()
    collate = PackedCollator(trainer.processing_class.pad_token_id)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    size = trainer.args.per_device_train_batch_size
    data = trainer.train_dataset
    # random batches, as the trainer's
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0)).tolist()
    seconds = []
    for step in range(steps):
        start = time.process_time()
        batch = collate([data[order[(step * size + i) % len(data)]] for i in range(size)])
        batch.pop("num_real_tokens")
        loss = label_token_loss(model, **batch)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.process_time() - start)
    return seconds


def head_ab(trainer, steps: int) -> dict[str, float]:
    """The LM head over all positions (the model's own loss) against on label tokens only, interleaved on the
    same packed batches, forward and backward: the machine's drift (other jobs) hits both alike, which
    variants timed one after the other cannot promise for a difference this small. Median CPU s of each."""
    model = trainer.model.train()
    collate = PackedCollator(trainer.processing_class.pad_token_id)
    size, data = trainer.args.per_device_train_batch_size, trainer.train_dataset
    losses = {"model's own loss": lambda b: model(**b, use_cache=False).loss,
              "LM head on label tokens only": lambda b: label_token_loss(model, **b)}
    seconds: dict[str, list[float]] = {name: [] for name in losses}
    for step in range(steps):
        batch = collate([data[(step * size + i) % len(data)] for i in range(size)])
        batch.pop("num_real_tokens")
        for name in (list(losses) if step % 2 else list(losses)[::-1]):  # alternate which goes first
            start = time.process_time()
            losses[name](batch).backward()
            seconds[name].append(time.process_time() - start)
            model.zero_grad(set_to_none=True)
    return {name: median(s[5:]) for name, s in seconds.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default="default")
    ap.add_argument("--stage", choices=["sft", "inject"], default="sft")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=30, help="steps per variant; the first 5 are warm-up")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)  # as the study runs (src/job.py: setup)
    cfg = study(args.params, args.preset)
    results = results_dir(cfg.preset)
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(results / "tokenizer")
    data = dataset(cfg, results / "data", args.stage)
    peak = matmul_peak()
    params = sum(p.numel() for p in new_model(cfg.model, tokenizer).parameters())
    rows, last, scratch = [], None, tempfile.mkdtemp()
    for name in ("TRL as before", "no gradient checkpointing", "+ the model's own loss", "+ packed batches",
                 PIPELINE):
        seconds, last = trainer_variant(name, cfg, tokenizer, data, args.stage, args.steps, Path(scratch))
        rows.append((name, median(seconds[5:])))
    torch.use_deterministic_algorithms(False)  # what the study's determinism costs
    seconds, _ = trainer_variant(PIPELINE, cfg, tokenizer, data, args.stage, args.steps,
                                 Path(scratch))
    rows.append(("the pipeline without deterministic algorithms", median(seconds[5:])))
    torch.use_deterministic_algorithms(True)
    rows.append(("plain PyTorch loop, packed batches", median(plain_loop(last, args.steps)[5:])))
    ab = head_ab(last, 2 * args.steps) if args.stage == "sft" else None  # injection: every token is a label
    again = matmul_peak()  # the peak again: another process on the machine lowers one measurement
    peak = max(peak, again, key=lambda p: p["fp32_gflops"])
    # real tokens per step: the mean example length (as TRL tokenised it) x the batch size
    lengths = [len(ids) for ids in last.train_dataset["input_ids"]]
    tokens = sum(lengths) / len(lengths) * getattr(cfg.training, args.stage).batch_size
    share = peak["fp32_gflops"] * args.threads / peak["threads"]
    L = [f"# Training step, {args.stage}, preset `{args.preset}`: {args.threads} thread(s)", "",
         f"Machine: {peak['machine']}; matmul peak {peak['fp32_gflops']:.0f} GFLOP/s fp32 with {peak['threads']} "
         f"threads ({share:.0f} for {args.threads}). Model: {params / 1e6:.2f}M parameters; "
         f"{tokens:.0f} real tokens per step (batch {getattr(cfg.training, args.stage).batch_size}). Median of "
         f"{args.steps - 5} steps after 5 of warm-up. `python -m src.training.bench --preset {args.preset} "
         f"--stage {args.stage} --threads {args.threads}`; steps timed in CPU time.", "",
         "| variant | CPU s/step | real tokens/s | model GFLOP/s | share of the peak |", "|---|---:|---:|---:|---:|"]
    for name, s in rows:
        flops = 6 * params * tokens / s / 1e9
        L.append(f"| {name} | {s:.3f} | {tokens / s:.0f} | {flops:.1f} | {flops / share:.0%} |")
    if ab:
        own, head = ab.values()
        L += ["", f"The LM head on label tokens only, interleaved with the model's own loss on the same batches "
                  f"({2 * args.steps - 5} of each, forward and backward): {own:.3f} -> {head:.3f} CPU s "
                  f"({1 - head / own:+.1%} saved)."]
    shutil.rmtree(scratch, ignore_errors=True)
    out = results / "speed" / f"trainer_{args.stage}_{args.threads}t.md"
    atomic_write_text(out, "\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
