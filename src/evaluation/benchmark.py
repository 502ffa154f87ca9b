"""Entry point: the speed benchmarks the report quotes.

  matmul      this machine's measured matrix-multiply peak (fp32 and bf16), the yardstick for the
              training stages' model FLOP/s
  generation  greedy decoding of the same Comp test questions batched (with the KV cache) and one
              question at a time; the ratio of the two and whether they agree; and pass@k sampling at
              `evaluation.passk.timed_samples` per question on one question per level (the paper's n = 512
              costs what this says before anyone sets `samples` to it)
"""
from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from ..data.questions import LEVELS
from ..io import atomic_write_text, read_jsonl
from ..job import device, matmul_peak, setup
from ..model_io import load_model, load_tokenizer
from ..params import stages
from ..text import prompt_of
from .evaluate import generate
from .sample import passk_questions

log = logging.getLogger(__name__)


def library_generate(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int) -> list[str]:
    """transformers' `generate` on the same batches (greedy, KV cache), the yardstick for `decode`."""
    tokenizer.padding_side = "left"
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out = [""] * len(prompts)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        enc = tokenizer([prompts[i] for i in idx], return_tensors="pt", padding=True,
                        add_special_tokens=False).to(device())
        gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False, use_cache=True,
                             pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
        for i, text in zip(idx, tokenizer.batch_decode(gen[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)):
            out[i] = text
    return out


def generation_speed(model, tokenizer, prompts: list[str], batch_size: int, max_new_tokens: int) -> dict:
    """Seconds to answer `prompts` greedily: batched and one at a time with the pipeline's decoder, and
    batched with transformers' `generate`; their ratios and whether the answers agree. On the CPU the
    seconds are CPU seconds (`time.process_time`), which another job on the machine does not inflate."""
    clock = time.process_time if device() == "cpu" else time.perf_counter
    out = {"questions": len(prompts), "batch_size": batch_size, "max_new_tokens": max_new_tokens,
           "clock": "cpu" if device() == "cpu" else "wall"}
    runs = {"batched": lambda: generate(model, tokenizer, prompts, batch_size, max_new_tokens, "batched"),
            "one_at_a_time": lambda: generate(model, tokenizer, prompts, 1, max_new_tokens, "one at a time"),
            "library_batched": lambda: library_generate(model, tokenizer, prompts, batch_size, max_new_tokens)}
    generate(model, tokenizer, prompts[:batch_size], batch_size, max_new_tokens, "warm-up")  # untimed: first-call costs
    library_generate(model, tokenizer, prompts[:batch_size], batch_size, max_new_tokens)
    texts = {}
    for name, run in runs.items():
        t0 = clock()
        texts[name] = run()
        out[f"{name}_s"] = clock() - t0
        out[f"{name}_questions_per_s"] = len(prompts) / out[f"{name}_s"]
    out["speedup"] = out["one_at_a_time_s"] / out["batched_s"]
    out["speedup_over_library"] = out["library_batched_s"] / out["batched_s"]
    # padding changes floating-point sums slightly, so greedy outputs may differ in rare ties
    for name in ("one_at_a_time", "library_batched"):
        same = sum(a == b for a, b in zip(texts["batched"], texts[name])) / len(prompts)
        out["same_output_share" if name == "one_at_a_time" else f"same_output_share_{name}"] = same
    return out


def sampling_speed(model, tokenizer, prompts: list[str], samples: int, temperature: float, batch_size: int,
                   max_new_tokens: int) -> dict:
    """Seconds to draw `samples` completions of each prompt as sample_passk does (same batches)."""
    t0 = time.perf_counter()
    generate(model, tokenizer, [q for q in prompts for _ in range(samples)], batch_size, max_new_tokens,
             f"pass@k timing, n = {samples}", temperature=temperature)
    seconds = time.perf_counter() - t0
    return {"questions": len(prompts), "samples": samples, "seconds": seconds,
            "seconds_per_question": seconds / len(prompts)}


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
    if args.what == "matmul":
        stages.load("benchmark_matmul", args.params, args.preset)  # reads no parameter; checks the file
        result = matmul_peak()
    else:
        if not (args.data and args.model):
            ap.error("generation needs --data and --model")
        s = stages.load("benchmark_generation", args.params, args.preset)
        rows = [r for r in read_jsonl(args.data / "qa_comp.jsonl") if r["split"] in LEVELS][: s.speed_questions]
        model = load_model(args.model).to(device()).eval()
        tokenizer = load_tokenizer(args.model)
        result = generation_speed(model, tokenizer, [prompt_of(r) for r in rows], s.batch_size, s.max_new_tokens)
        result["passk_sampling"] = sampling_speed(
            model, tokenizer, [prompt_of(r) for r in passk_questions(args.data, 1)], s.passk.timed_samples,
            s.passk.temperature, s.batch_size * 4, s.max_new_tokens)  # sample_passk's batch
        log.info("batched %.1fs, one at a time %.1fs: %.1fx; transformers' generate, batched: %.1fs",
                 result["batched_s"], result["one_at_a_time_s"], result["speedup"], result["library_batched_s"])
        log.info("pass@k sampling, n = %d: %.1f s per question", s.passk.timed_samples,
                 result["passk_sampling"]["seconds_per_question"])
    atomic_write_text(args.out, json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
