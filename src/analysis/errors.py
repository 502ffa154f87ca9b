"""Error localisation (the paper's Table 2): where a wrong chain of thought first goes wrong.

The generated chain is compared, hop by hop, with the gold chain (one canonical sentence per hop).
The first hop whose sentence differs (or is missing) is the first error; a chain whose sentences all
match but whose final answer is wrong errs at its last hop. Positions are normalised to 0 (first
hop) .. 1 (last hop).
"""
from __future__ import annotations

from ..data.relations import BY_NAME, CONTEXTUAL
from ..data.world import sentence
from ..text import normalize


def _walk(record: dict, generation: str) -> tuple[int | None, str]:
    """(index of the first wrong hop or None, what is left of the normalised generation there).

    The gold hop sentences are matched in order as prefixes of what is left of the generation
    (sentences are not split on '.', which attribute values may contain)."""
    rest = normalize(generation)
    for i, (r, a, b) in enumerate(zip(record["relation_path"], record["entities"], record["entities"][1:])):
        gold = normalize(sentence(r, a, b))
        if not (rest + " ").startswith(gold + " "):
            return i, rest
        rest = rest[len(gold):].lstrip()
    return None, rest


def first_wrong_hop(record: dict, generation: str) -> int | None:
    """Index of the first hop the generation gets wrong, or None when every hop is right."""
    return _walk(record, generation)[0]


def error_kind(record: dict, generation: str) -> tuple[int, str]:
    """(first wrong hop, kind) of a wrong answer. Kinds:
    - 'value': the step names the right person and relation ("X's boss is") but a wrong value: a fact
      not recalled (Mem) or not read (Ctx);
    - 'step': it does not: another relation or person, or no such sentence: the path was not followed;
    - 'answer': every hop is right but the final answer is not."""
    hop, rest = _walk(record, generation)
    if hop is None:
        return len(record["relation_path"]) - 1, "answer"
    asked = normalize(sentence(record["relation_path"][hop], record["entities"][hop], "").rstrip(" ."))
    return hop, "value" if (rest + " ").startswith(asked + " ") else "step"


# where a wrong value read at a contextual hop comes from (value_source)
VALUE_SOURCES = ("not in the prompt", "another hop's fact", "same relation, another person", "another fact")


def stated_facts(context: str, by_subject: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str]]:
    """(subject, relation, object) of every fact the context states, in any of its relation's templates;
    `by_subject` maps a person to their (relation, object) facts (facts.jsonl)."""
    return [(s, r, o) for s, facts in by_subject.items() if s in context for r, o in facts
            if any(t.format(s=s, o=o) in context for t in BY_NAME[r].templates)]


def value_source(record: dict, generation: str, stated: list[tuple[str, str, str]]) -> str:
    """For a 'value' error: whose fact the wrong value copies. 'not in the prompt': no stated fact has it
    (the model made it up, or recalled it); "another hop's fact": a fact of another person of the chain
    (it read the wrong hop); 'same relation, another person': the asked relation of someone outside the
    chain (a distractor paragraph's fact: it did not match the name); 'another fact': any other."""
    hop, rest = _walk(record, generation)
    rel, subject = record["relation_path"][hop], record["entities"][hop]
    value = (rest[len(normalize(sentence(rel, subject, "").rstrip(" ."))):].strip() + " ")
    copied = [(s, r) for s, r, o in stated if value.startswith(normalize(o) + " . ")]
    if not copied:
        return VALUE_SOURCES[0]
    if any(s in record["entities"] and s != subject for s, _ in copied):
        return VALUE_SOURCES[1]
    return VALUE_SOURCES[2] if any(r == rel for _, r in copied) else VALUE_SOURCES[3]


def localise(records: dict[str, dict], before: dict[str, dict], after: dict[str, dict]) -> dict:
    """Over Comp test questions wrong both before and after RL: for each side, the share of first errors
    at a contextual hop and their mean normalised position (None when no such question)."""
    ids = [i for i in records if i in before and i in after
           and not before[i]["correct"] and not after[i]["correct"]]
    out = {"questions": len(ids)}
    for side, preds in (("before", before), ("after", after)):
        hops = []
        for i in ids:
            rec = records[i]
            hop, _ = error_kind(rec, preds[i]["generation"])  # all hops right: the last one is the error
            hops.append((hop, len(rec["relation_path"]), BY_NAME[rec["relation_path"][hop]].group))
        out[side] = {
            "contextual_share": sum(g == CONTEXTUAL for _, _, g in hops) / len(hops) if hops else None,
            "mean_position": sum(h / (n - 1) for h, n, _ in hops) / len(hops) if hops else None,
        }
    return out
