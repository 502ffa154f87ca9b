"""What every job does first (`setup`: logging, its own GPU, seeds, deterministic kernels and threads),
the precision it computes in, and the machine's measured matmul peak, the yardstick of every speed figure.
Planning imports src/devices.py, which needs no torch; this module is for the jobs."""
from __future__ import annotations

import logging
import os
import platform
import random
import time
from pathlib import Path

import numpy as np
import torch

from .devices import claim_gpus, describe_device

log = logging.getLogger(__name__)


def device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


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


def machine() -> str:
    """What the peak was measured on: the GPU's name, or the CPU's model and its widest vector unit."""
    if device() == "cuda":
        return torch.cuda.get_device_name()
    name = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
                platform.processor() or "CPU") if Path("/proc/cpuinfo").exists() else platform.processor()
    return f"{name} ({torch.backends.cpu.get_cpu_capability()})"


def matmul_peak(size: int = 1024, seconds: float = 3.0) -> dict:
    """GFLOP/s of square matmuls, best of repeated timings, per dtype; on the CPU also GFLOP per CPU-second
    (`time.process_time`, all threads of the process): the peak per thread, which another process on the
    machine does not lower, as it lowers the wall-clock figure."""
    out = {"device": device(), "machine": machine(), "threads": torch.get_num_threads(), "size": size}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(size, size, dtype=dtype, device=device())
        b = torch.randn(size, size, dtype=dtype, device=device())
        best = best_cpu = 0.0
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(4):
                a @ b
            if device() == "cuda":
                torch.cuda.synchronize()
            flops = 4 * 2 * size ** 3
            best = max(best, flops / (time.perf_counter() - t0))
            best_cpu = max(best_cpu, flops / max(time.process_time() - c0, 1e-9))
        out[f"{name}_gflops"] = best / 1e9
        if device() == "cpu":
            out[f"{name}_gflops_per_cpu_s"] = best_cpu / 1e9
        log.info("%s: %.1f GFLOP/s, %.1f GFLOP per CPU-second", name, best / 1e9, best_cpu / 1e9)
    return out


