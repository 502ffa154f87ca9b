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


def objects_by_relation(facts: list[dict]) -> dict[str, list[str]]:
    out: dict[str, set] = {}
    for f in facts:
        out.setdefault(f["relation"], set()).add(f["object"])
    return {rel: sorted(objs) for rel, objs in out.items()}


def swapped(question: dict, objects: dict[str, list[str]]) -> dict | None:
    """The question with its answer replaced in the context by another object of its final relation, one
    the context does not name, drawn by the question's id (the same swap every run). None where the prompt
    does not print the answer, or prints a longer value that contains it ('East Keithview' for 'Keithview':
    a replacement would rename that one too), or no other value is left."""
    context, answer = question["context"], question["answer"]
    longer = {o for objs in objects.values() for o in objs if answer in o and o != answer}
    if not answer_in_prompt(question) or any(o in context for o in longer):
        return None
    pool = [o for o in objects.get(question["relation_path"][-1], []) if o != answer and o not in context]
    if not pool:
        return None
    new = random.Random(question["id"]).choice(pool)
    return {**question, "context": context.replace(answer, new), "answer": new, "old_answer": answer}


def probe_questions(data: Path, slug: str, holdout: float, n: int) -> dict[str, list[dict]]:
    """The questions of each probe: seen ones from the model's own SFT share, the rest from the I.I.D. test."""
    step = Model(slug).step
    seen = qa_dataset(data, ["ctx"], holdout, "sft", step.share / 100)
    iid = spread([r for r in read_jsonl(data / "qa_ctx.jsonl") if r["split"] == "iid"], n)
    objects = objects_by_relation(read_jsonl(data / "facts.jsonl"))
    return {"seen": spread(seen, n), "iid": iid,
            "swapped": [s for s in (swapped(r, objects) for r in iid) if s is not None],
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
