"""Runs a training entry point on the GPUs its rule asks for: one process, or data parallel.

    python -m src.training.launch --gpus N src.training.sft --params ... (the stage's own arguments)

The launcher claims N free devices first (src/devices.py) and holds them until the stage ends. With one
device, or none (a CPU machine), the stage runs in this process. With N > 1 devices it runs under
`accelerate launch --multi_gpu --num_processes N`: one process per device, and TRL's trainers train
data parallel: the configured batch is the global batch, each process takes an equal share of it
(src/training/configs.py `per_device_batch`) and gradients are averaged, so 1, 2 or 4 GPUs take the same
optimizer steps over the same examples. The children see
CUDA_VISIBLE_DEVICES already set, so they claim nothing themselves. The same params run on a laptop, a
4-GPU box or a SLURM node; `resources.<kind>.gpus` in params.yaml is the only knob.
"""
from __future__ import annotations

import argparse
import runpy
import shutil
import subprocess
import sys

from ..devices import claim_gpus


def accelerate_command(n: int, module: str, args: list[str], cpu: bool = False) -> list[str]:
    """`accelerate launch` of a stage in n processes: one per GPU, or (cpu=True, for tests) CPU processes
    talking over gloo, the same data-parallel code path without a GPU."""
    exe = shutil.which("accelerate") or "accelerate"
    return [exe, "launch", "--cpu" if cpu else "--multi_gpu", "--num_processes", str(n), "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no", "--module", module, *args]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gpus", type=int, default=1, help="devices the stage trains on (resources.<kind>.gpus)")
    ap.add_argument("module", help="the entry point, e.g. src.training.sft")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="the entry point's own arguments")
    opts = ap.parse_args(argv)
    if not opts.module.startswith("src.training."):
        ap.error(f"{opts.module!r} is not a training entry point (src.training.inject, .sft or .grpo)")
    devices = claim_gpus(opts.gpus) if opts.gpus > 0 else []
    if len(devices) > 1:
        # precision is the trainers' choice (bf16 where supported), so accelerate is told "no"
        return subprocess.run(accelerate_command(len(devices), opts.module, opts.args)).returncode
    sys.argv = [opts.module, *opts.args]
    runpy.run_module(opts.module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
