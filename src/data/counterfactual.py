"""Counterfactual questions: the same question about other people and values, so only reading answers it.

A contextual person's facts are the same in every prompt that holds them, so over a training set a model
can learn them, and lean on them, instead of reading (the reading probes, src/evaluation/reading.py, show
it: new questions about the same facts are read worse than trained ones, and worse still once the answer
is swapped). `rename` puts one name in place of another throughout a question (prompt, chain of thought,
answer); `counterfactual` renames every person and value a Ctx chain reaches after its first person, each
to another object of the same relation that the prompt does not name. The prompt then still states every
hop the chain needs, but those facts hold nowhere else: `questions.ctx_counterfactual_share` of the Ctx
training questions are drawn so (a deviation from the authors' data; tests are never counterfactual).
"""
from __future__ import annotations

import random


def objects_by_relation(facts: list[dict]) -> dict[str, list[str]]:
    """Every object each relation has in the world, sorted (the candidates a renamed hop draws from)."""
    out: dict[str, set] = {}
    for f in facts:
        out.setdefault(f["relation"], set()).add(f["object"])
    return {rel: sorted(objs) for rel, objs in out.items()}


def longer_names(names: set[str]) -> dict[str, list[str]]:
    """For each name, the other names that contain it ('East Keithview' for 'Keithview'), once for a data set."""
    return {n: [m for m in names if n in m and m != n] for n in names}


def record_text(record: dict) -> str:
    """Everything a question says: prompt, chain of thought, question (what a renaming must not collide with)."""
    return f"{record['context']}\n{record['answer_cot']}\n{record['question']}"


def rename(record: dict, old: str, new: str, longer: dict[str, list[str]]) -> dict | None:
    """The record with `old` replaced by `new` in its prompt, chain of thought, answer and entities. None where
    that is not a clean swap: `new` is already in its text, or `old` is also part of a longer name there
    ('Keithview' inside 'East Keithview', which a replacement would break)."""
    text = record_text(record)
    if new in text or any(m in text for m in longer.get(old, ())):
        return None
    swap = lambda s: s.replace(old, new)  # noqa: E731
    return {**record, "context": swap(record["context"]), "answer_cot": swap(record["answer_cot"]),
            "answer": new if record["answer"] == old else record["answer"],
            "entities": [new if e == old else e for e in record["entities"]]}


def counterfactual(record: dict, objects: dict[str, list[str]], longer: dict[str, list[str]], rng: random.Random,
                   recallable: set[frozenset]) -> dict | None:
    """The question with every entity after its first renamed, hop by hop, to another object of the hop's
    relation that the question does not name and that no injected fact links to the previous one (that hop
    could then be recalled, not read). None where some hop has no clean candidate."""
    out = record
    for i, rel in enumerate(record["relation_path"], start=1):
        prev, old = out["entities"][i - 1], out["entities"][i]
        text = record_text(out)
        pool = [o for o in objects[rel] if o not in text and frozenset((prev, o)) not in recallable]
        if not pool:
            return None
        out = rename(out, old, rng.choice(pool), longer)
        if out is None:
            return None
    return {**out, "counterfactual": True}


def counterfactual_training(records: list[dict], world, share: float, seed: int,
                            recallable: set[frozenset]) -> list[dict]:
    """`records` with `share` of the Ctx training questions made counterfactual (each drawn by its own
    random stream, so the rest of the data is as without them); a question with no clean renaming stays."""
    rng = random.Random(f"{seed}/counterfactual")
    objects: dict[str, set] = {}
    for (_, rel), o in world.facts.items():
        objects.setdefault(rel, set()).add(o)
    objects = {rel: sorted(objs) for rel, objs in objects.items()}
    longer = longer_names({o for objs in objects.values() for o in objs}
                          | set(world.parametric_people) | set(world.contextual_people))
    out = []
    for r in records:
        if r["task"] == "ctx" and r["split"] == "train" and rng.random() < share:
            r = counterfactual(r, objects, longer, rng, recallable) or r
        out.append(r)
    return out
