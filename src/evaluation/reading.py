"""Entry point: does a model that learned Ctx read its prompt, or answer from somewhere else?

Four greedy probes on Ctx questions, `evaluation.reading_questions` of each kind (every k-th, so they
spread over the file and repeat exactly):
- seen: questions its SFT stage trained on. Low here is underfitting; high here and low at I.I.D. is a
  reader that does not generalize (it learned those contexts, not reading).
- iid: the I.I.D. test questions as asked (the same ones as the next two probes: paired).
- swapped: the same questions with every mention of the answer in the context replaced by another object
  of the final relation that the context does not name; the gold answer becomes that object. A reader
  follows the prompt; a model that recalls its training keeps the old value (`kept_old`).
- no_context: the same questions without their context: what the model answers from its weights alone.
Writes reading.json: {probe: {accuracy, n}}, the swap also with `kept_old` (share that gave the old value).
"""
from __future__ import annotations

import json
import logging
import random
from pathlib import Path

from ..data.counterfactual import longer_names, objects_by_relation, record_text, rename
from ..data.questions import answer_in_prompt
from ..io import atomic_write_text, read_jsonl
from ..model_io import load_tokenizer
from ..models import Model
from ..text import extract_answer, normalize, prompt_of
from ..training.questions import qa_dataset
from .evaluate import generate, model_args, start

log = logging.getLogger(__name__)
PROBES = ("seen", "iid", "swapped", "no_context")


def spread(rows: list, n: int) -> list:
    """n rows taken evenly over the list (all of them when it has at most n)."""
    if len(rows) <= n:
        return list(rows)
    return [rows[i * len(rows) // n] for i in range(n)]


def swapped(question: dict, objects: dict[str, list[str]], longer: dict[str, list[str]]) -> dict | None:
    """The question with its answer replaced in the context by another object of its final relation, one
    the question does not name, drawn by the question's id (the same swap every run). None where the prompt
    does not print the answer or the swap is not clean (src/data/counterfactual.py rename)."""
    if not answer_in_prompt(question):
        return None
    text = record_text(question)
    pool = [o for o in objects.get(question["relation_path"][-1], []) if o not in text]
    if not pool:
        return None
    new = rename(question, question["answer"], random.Random(question["id"]).choice(pool), longer)
    return None if new is None else {**new, "old_answer": question["answer"]}


def probe_questions(data: Path, slug: str, holdout: float, n: int) -> dict[str, list[dict]]:
    """The questions of each probe: seen ones from the model's own SFT share, the rest from the I.I.D. test."""
    step = Model(slug).step
    seen = qa_dataset(data, ["ctx"], holdout, "sft", step.share / 100)
    iid = spread([r for r in read_jsonl(data / "qa_ctx.jsonl") if r["split"] == "iid"], n)
    facts = read_jsonl(data / "facts.jsonl")
    objects = objects_by_relation(facts)
    longer = longer_names({f["object"] for f in facts} | {f["subject"] for f in facts})
    return {"seen": spread(seen, n), "iid": iid,
            "swapped": [s for s in (swapped(r, objects, longer) for r in iid) if s is not None],
            "no_context": [{**r, "context": ""} for r in iid]}


def main() -> None:
    ap = model_args(__doc__)
    ap.add_argument("--slug", required=True, help="the model's stage chain, e.g. sft-mem+ctx")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args()
    s, model = start(args, "probe_reading")
    tokenizer = load_tokenizer(args.model)
    out = {}
    for probe, rows in probe_questions(args.data, args.slug, s.atomic_holdout, s.questions).items():
        gens = generate(model, tokenizer, [prompt_of(r) for r in rows], s.batch_size, s.max_new_tokens, probe)
        preds = [extract_answer(g) for g in gens]
        out[probe] = {"accuracy": sum(p == normalize(r["answer"]) for p, r in zip(preds, rows)) / max(1, len(rows)),
                      "n": len(rows)}
        if probe == "swapped":
            out[probe]["kept_old"] = (sum(p == normalize(r["old_answer"]) for p, r in zip(preds, rows))
                                      / max(1, len(rows)))
        log.info("%s: %s", probe, out[probe])
    atomic_write_text(args.out, json.dumps(out, indent=1) + "\n", checksum=True)


if __name__ == "__main__":
    main()
