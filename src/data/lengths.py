"""Entry point: refuse, before any training compute, a `max_length` too short for the data.

Runs after the tokenizer and before knowledge injection (which every model starts from). It counts, in
the preset's own tokens, the longest biography (knowledge injection and the generic stage's corpus) and
the longest question with its answer (SFT), and refuses a `training.inject/sft.max_length` shorter than
those, naming the key and the length the data needs: otherwise TRL would silently train on cut text.
Writes the measured lengths. The token budgets of generation (GRPO's completions, evaluation's decoding)
are checked by `require_budget` at the start of those stages: tracked here, a change of either would
rerun every model (Snakemake reruns what follows a rewritten file).
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..io import atomic_write_text, read_jsonl
from ..params import stages
from ..text import completion_of, prompt_of

log = logging.getLogger(__name__)


def longest(data: Path, tokenizer) -> dict[str, int]:
    """Longest biography, SFT example and answer in tokens, an end-of-sequence token included."""
    def n(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"]) + 1
    out = {"biography": 0, "sft_example": 0, "answer": 0}
    for folder in (data, data / "generic"):
        if not folder.exists():
            continue
        out["biography"] = max([out["biography"]] + [n(b["text"]) for b in read_jsonl(folder / "biographies.jsonl")])
        for task in ("mem", "ctx", "comp"):
            for r in read_jsonl(folder / f"qa_{task}.jsonl"):
                out["sft_example"] = max(out["sft_example"], n(prompt_of(r) + completion_of(r)))
                out["answer"] = max(out["answer"], n(completion_of(r)))
    return out


def length_errors(lengths: dict[str, int], inject_max_length: int, sft_max_length: int) -> list[str]:
    """One line per `max_length` shorter than the data needs, from the lengths check_lengths measured (in the
    preset's tokens): by that job, and at planning once a study has them (rules/common.smk: this module imports
    nothing heavy at its top)."""
    checks = [("training.inject.max_length", inject_max_length, "biography", "the longest biography"),
              ("training.sft.max_length", sft_max_length, "sft_example", "the longest question with its answer")]
    return [f"{key} = {value}: {what} has {lengths[kind]} tokens; use at least {lengths[kind]}"
            for key, value, kind, what in checks if value < lengths[kind]]


def require_budget(data: Path, tokenizer, key: str, value: int) -> None:
    """A generation budget (GRPO's completions, evaluation's new tokens) must hold the longest answer,
    or the longest questions could never be answered: refused, naming the key, before the stage's work."""
    need = max(len(tokenizer(completion_of(r), add_special_tokens=False)["input_ids"]) + 1
               for task in ("mem", "ctx", "comp") for r in read_jsonl(data / f"qa_{task}.jsonl"))
    if value < need:
        raise SystemExit(f"Error in params.yaml: {key} = {value}: the longest answer has {need} tokens; "
                         f"use at least {need}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--tokenizer", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from ..model_io import load_tokenizer  # torch and transformers: not at the top, which planning imports
    s = stages.load("check_lengths", args.params, args.preset)
    lengths = longest(args.data, load_tokenizer(args.tokenizer))
    log.info("longest, in tokens: %s", lengths)
    bad = length_errors(lengths, s.inject_max_length, s.sft_max_length)
    if bad:
        raise SystemExit(f"Error in {args.params}, nothing was trained: the data is longer than the settings allow\n"
                         + "\n".join(bad))
    atomic_write_text(args.out, json.dumps(lengths, indent=2, sort_keys=True) + "\n", checksum=True)


if __name__ == "__main__":
    main()
