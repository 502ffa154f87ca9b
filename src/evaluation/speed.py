"""Entry point: the speed benchmarks the report quotes.

  matmul      this machine's measured matrix-multiply peak (fp32 and bf16), the yardstick for the
              training stages' model FLOP/s
  generation  greedy decoding of the same Comp test questions batched (with the KV cache) and one
              question at a time; the ratio of the two and whether they agree
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import torch

from ..config import load_params
from ..data.questions import LEVELS
from ..io import atomic_write_text, read_jsonl
from ..text import prompt_of
from ..training.common import load_model, load_tokenizer, setup
from .evaluate import device, generate

log = logging.getLogger(__name__)


def matmul_peak(size: int = 1024, seconds: float = 3.0) -> dict:
    """GFLOP/s of square matmuls, best of repeated timings, per dtype."""
    out = {"device": device(), "threads": torch.get_num_threads(), "size": size}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a = torch.randn(size, size, dtype=dtype, device=device())
        b = torch.randn(size, size, dtype=dtype, device=device())
        best, end = 0.0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            for _ in range(4):
                a @ b
            if device() == "cuda":
                torch.cuda.synchronize()
            best = max(best, 4 * 2 * size ** 3 / (time.perf_counter() - t0))
        out[f"{name}_gflops"] = best / 1e9
        log.info("%s: %.1f GFLOP/s", name, best / 1e9)
    return out


def generation_speed(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int) -> dict:
    out = {"questions": len(prompts), "batch_size": batch_size, "max_new_tokens": max_new_tokens}
    texts = {}
    for name, bs in (("batched", batch_size), ("one_at_a_time", 1)):
        t0 = time.perf_counter()
        texts[name] = generate(model, tokenizer, prompts, bs, max_new_tokens, name)
        out[f"{name}_s"] = time.perf_counter() - t0
        out[f"{name}_questions_per_s"] = len(prompts) / out[f"{name}_s"]
    out["speedup"] = out["one_at_a_time_s"] / out["batched_s"]
    # padding changes floating-point sums slightly, so greedy outputs may differ in rare ties
    out["same_output_share"] = sum(a == b for a, b in zip(texts["batched"], texts["one_at_a_time"])) / len(prompts)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["matmul", "generation"])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--data", type=Path)
    ap.add_argument("--model", type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    setup(0)
    cfg = load_params(args.params, args.preset)
    if args.what == "matmul":
        result = matmul_peak()
    else:
        if not (args.data and args.model):
            ap.error("generation needs --data and --model")
        e = cfg["evaluation"]
        rows = [r for r in read_jsonl(args.data / "qa_comp.jsonl") if r["split"] in LEVELS][: e["speed_questions"]]
        model = load_model(args.model).to(device()).eval()
        result = generation_speed(model, load_tokenizer(args.model), [prompt_of(r) for r in rows],
                                  e["batch_size"], e["max_new_tokens"])
        log.info("batched %.1fs, one at a time %.1fs: %.1fx", result["batched_s"], result["one_at_a_time_s"],
                 result["speedup"])
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
