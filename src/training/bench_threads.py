"""How many threads each kind of training job should get: on this machine's cores, is one job with all of
them faster than as many one-thread jobs side by side? Not part of the study (a benchmark, run alone on the
machine, since it measures wall-clock throughput):

    python -m src.training.bench_threads --preset quick --model results/quick/models/seed0/sft-mem+ctx

For each kind (knowledge injection, SFT, GRPO) it runs the pipeline's trainer for a few steps as one
process with N threads, then as N one-thread processes at once, on the same data, and compares steps per
second of wall time summed over the processes. Writes results/<preset>/speed/threads.md; the preset's
`resources.*.threads` should follow it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

KINDS = ("inject", "sft", "grpo")


def worker(kind: str, preset: str, model: Path, steps: int) -> dict:
    """Median wall and CPU seconds per step of `kind` in this process (its threads set by the caller)."""
    import torch

    from ..model_io import load_tokenizer
    from ..params.check import results_dir, study

    torch.use_deterministic_algorithms(True)
    cfg = study("params.yaml", preset)
    results = results_dir(cfg.preset)
    scratch = Path(tempfile.mkdtemp())
    if kind == "grpo":
        from datasets import Dataset

        from ..text import prompt_of
        from .bench_grpo import run
        from .grpo import PipelineGRPOTrainer
        from .questions import qa_dataset
        g = cfg.training.grpo
        tokenizer = load_tokenizer(model)
        tokenizer.padding_side = "left"
        rows = qa_dataset(results / "data", ["comp"], 0.0, "rl")[: g.questions]
        data = Dataset.from_list([{"prompt": prompt_of(r), "answer": r["answer"]} for r in rows])
        m = run(PipelineGRPOTrainer, model, tokenizer, data, g, steps, scratch)
        return {"wall_s": m["wall_s"], "cpu_s": m["cpu_s"]}
    from .bench import PIPELINE, dataset, trainer_variant
    from .bench_grpo import CpuClock

    tokenizer = load_tokenizer(results / "tokenizer")
    clock = CpuClock()
    trainer_variant(PIPELINE, cfg, tokenizer, dataset(cfg, results / "data", kind), kind, steps, scratch,
                    callbacks=[clock])
    return {"wall_s": median(clock.wall[2:]), "cpu_s": median(clock.cpu[2:])}


def launch(kind: str, threads: int, processes: int, args) -> list[dict]:
    """`processes` workers of `threads` threads each, at once; each one's medians."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    cmd = [sys.executable, "-m", "src.training.bench_threads", "--worker", kind, "--threads", str(threads),
           "--preset", args.preset, "--model", str(args.model), "--steps", str(args.steps)]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for _ in range(processes)]
    out = []
    for p in procs:
        stdout, _ = p.communicate()
        if p.returncode:
            raise SystemExit(f"bench_threads: the {kind} worker failed (exit {p.returncode}); rerun it alone: "
                             + " ".join(cmd))
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="quick")
    ap.add_argument("--model", required=True, type=Path, help="an SFT model of the preset (GRPO starts from it)")
    ap.add_argument("--steps", type=int, default=8, help="steps per run; the first two are warm-up")
    ap.add_argument("--kinds", nargs="*", default=list(KINDS), choices=KINDS)
    ap.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        import torch
        torch.set_num_threads(args.threads)
        print(json.dumps(worker(args.worker, args.preset, args.model, args.steps)))
        return
    from ..io import atomic_write_text
    from ..job import machine
    from ..params.check import results_dir
    cores = len(os.sched_getaffinity(0))
    L = [f"# Threads per job, preset `{args.preset}`: one {cores}-thread job or {cores} one-thread jobs", "",
         f"Machine: {machine()}, {cores} cores. Steps per second of wall time (summed over the processes that "
         f"ran at once), median of {args.steps - 2} steps after 2 of warm-up; CPU seconds per step beside it. "
         f"`python -m src.training.bench_threads --preset {args.preset} --model {args.model}`", "",
         f"| job kind | 1 job x {cores} threads: steps/s | CPU s/step | {cores} jobs x 1 thread: steps/s | "
         "CPU s/step | faster |", "|---|---:|---:|---:|---:|---|"]
    for kind in args.kinds:
        one = launch(kind, cores, 1, args)[0]
        many = launch(kind, 1, cores, args)
        wide = 1 / one["wall_s"]
        narrow = sum(1 / m["wall_s"] for m in many)
        best = (f"{cores} x 1 thread ({narrow / wide:.2f}x)" if narrow > wide
                else f"1 x {cores} threads ({wide / narrow:.2f}x)")
        L.append(f"| {kind} | {wide:.3f} | {one['cpu_s']:.2f} | {narrow:.3f} | {median(m['cpu_s'] for m in many):.2f} "
                 f"| {best} |")
        print(L[-1], flush=True)
    out = results_dir(args.preset) / "speed" / "threads.md"
    atomic_write_text(out, "\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
