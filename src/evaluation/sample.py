"""Entry point: n sampled answers per Comp test question, the counts pass@k is estimated from.

Takes `evaluation.passk.questions` questions per level (the first ones of the test set, the same for
every model) and `samples` completions each at `temperature`. Writes samples.json with, per
question, n and c (correct samples); src/analysis/passk.py turns them into pass@k for k = 1..n
with the unbiased estimator (src/analysis/intervals.py).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from ..data.questions import LEVELS
from ..io import atomic_write_text, read_jsonl
from ..model_io import load_tokenizer
from ..text import is_correct, prompt_of
from .evaluate import generate, model_args, start

log = logging.getLogger(__name__)


def passk_questions(data: Path, per_level: int) -> list[dict]:
    rows = [r for r in read_jsonl(data / "qa_comp.jsonl") if r["split"] in LEVELS]
    return [r for lv in LEVELS for r in [x for x in rows if x["split"] == lv][:per_level]]


def main() -> None:
    ap = model_args(__doc__)
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    s, model = start(args, "sample_passk")
    p = s.passk
    rows = passk_questions(args.data, p.questions)
    for level in LEVELS:  # the test set decides how many there are; say so where it has fewer than asked
        have = sum(r["split"] == level for r in rows)
        if have < p.questions:
            log.warning("evaluation.passk.questions = %d, but the %s level has only %d Comp test questions: "
                        "pass@k uses those %d", p.questions, level, have, have)
    prompts = [prompt_of(r) for r in rows for _ in range(p.samples)]
    gens = generate(model, load_tokenizer(args.model), prompts, s.batch_size * 4, s.max_new_tokens,
                    "samples", temperature=p.temperature)
    out = []
    for i, r in enumerate(rows):
        mine = gens[i * p.samples:(i + 1) * p.samples]
        out.append({"id": r["id"], "level": r["split"], "n": len(mine),
                    "c": sum(is_correct(g, r["answer"]) for g in mine)})
    log.info("correct samples per level: %s",
             {lv: sum(q["c"] for q in out if q["level"] == lv) for lv in LEVELS})
    atomic_write_text(args.out, json.dumps({"temperature": p.temperature, "questions": out}, indent=1) + "\n",
                      checksum=True)


if __name__ == "__main__":
    main()
