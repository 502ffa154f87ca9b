"""The invariants a generated data folder must satisfy (paper.md's rules), as one function.

`generate` runs it before writing, and the tests run it on good and on deliberately broken data,
so each check is known to fail when its invariant breaks.
"""
from __future__ import annotations

from collections import Counter, defaultdict

from .draw import kind
from .questions import TASK_GROUPS
from .relations import BY_NAME, CONTEXTUAL, PARAMETRIC


def _statements(rel: str, s: str, o: str) -> list[str]:
    return [t.format(s=s, o=o) for t in BY_NAME[rel].templates]


def check_dataset(facts: list[dict], records: list[dict], plan: dict, biographies: list[dict]) -> list[str]:
    """Every violated invariant, as a readable line; [] when the data is sound."""
    errors: list[str] = []
    kb = {(f["subject"], f["relation"]): f["object"] for f in facts}
    if len(kb) != len(facts):
        errors.append("facts: a (subject, relation) pair has more than one object")
    for (s, r), o in kb.items():  # symmetric and inverse facts agree
        rel = BY_NAME[r]
        if rel.symmetric and kb.get((o, r)) != s:
            errors.append(f"facts: {r} is symmetric but {s} -> {o} has no way back")
        if rel.inverse and (o, rel.inverse) in kb and kb[(o, rel.inverse)] != s:
            errors.append(f"facts: {s} {r} {o} disagrees with its inverse {rel.inverse}")
    injected = {b["person"] for b in biographies}
    # {subject, object} of every injected fact: a Ctx hop between them could be recalled, not read
    recallable = {frozenset((f["subject"], f["object"])) for f in facts
                  if f["group"] == PARAMETRIC and f["subject"] in injected}
    errors += _injection_errors(facts, injected, biographies)
    errors += _mix_errors(records, plan, injected)

    trained_paths: dict[str, set] = defaultdict(set)
    trained_relations: dict[str, set] = defaultdict(set)
    trained_starts: set = set()
    trained_prompts: set = set()
    for r in records:
        if r["split"] == "train":
            trained_paths[r["task"]].add(tuple(r["relation_path"]))
            trained_relations[r["task"]].update(r["relation_path"])
            trained_starts.add((r["task"], tuple(r["relation_path"]), r["entities"][0]))
            trained_prompts.add((r["context"], r["question"]))

    for r in records:
        rid, path, chain = r["id"], r["relation_path"], r["entities"]
        # the answer follows from the facts, hop by hop (a counterfactual one's from its prompt: checked below)
        walked = [chain[0]]
        for rel in path:
            walked.append(kb.get((walked[-1], rel)))
        if r.get("counterfactual") and (r["task"] != "ctx" or r["split"] != "train"):
            errors.append(f"{rid}: only Ctx training questions may be counterfactual")
        if (walked != chain and not r.get("counterfactual")) or chain[-1] != r["answer"]:
            errors.append(f"{rid}: the entities/answer do not follow from facts.jsonl along {path}")
            continue
        if (not 2 <= len(path) <= 5 or any(not BY_NAME[x].person for x in path[:-1])
                or len(set(path[:-1])) != len(path) - 1):
            errors.append(f"{rid}: path {path} breaks the path rules (2-5 hops, distinct person hops)")
        groups = {BY_NAME[x].group for x in path}
        if not groups <= TASK_GROUPS[r["task"]] or (r["task"] == "comp" and len(groups) < 2):
            errors.append(f"{rid}: a {r['task']} question uses relations of groups {sorted(groups)}")
        steps = [_statements(rel, a, b)[0] for rel, a, b in zip(path, chain, chain[1:])]
        if r["answer_cot"] != " ".join(steps) + f" So, the answer is: {r['answer']}":
            errors.append(f"{rid}: the chain of thought is not one sentence per hop then the answer")
        # context: every contextual hop is readable, no parametric hop is given away
        for rel, a, b in zip(path, chain, chain[1:]):
            given = any(st in r["context"] for st in _statements(rel, a, b))
            inverse = BY_NAME[rel].inverse
            given_inv = inverse is not None and any(st in r["context"] for st in _statements(inverse, b, a))
            if BY_NAME[rel].group == CONTEXTUAL and not given:
                errors.append(f"{rid}: the context lacks the contextual hop {a} {rel} {b}")
            if BY_NAME[rel].group == PARAMETRIC and (given or given_inv):
                errors.append(f"{rid}: the context states the parametric hop {a} {rel} {b}")
            elif BY_NAME[rel].group == PARAMETRIC and r["context"]:
                links = [(x, y, z) for x, y in ((a, b), (b, a)) for z in BY_NAME if kb.get((x, z)) == y]
                if any(st in r["context"] for x, y, z in links for st in _statements(z, x, y)):
                    errors.append(f"{rid}: the context links {a} and {b}, the two people of the parametric hop {rel}")
        if r["task"] == "ctx" and any(frozenset(hop) in recallable for hop in zip(chain, chain[1:])):
            errors.append(f"{rid}: a Ctx hop can be recalled: an injected fact links two people of its chain")
        if r["task"] == "mem" and r["context"]:
            errors.append(f"{rid}: a Mem question has a context")
        # generalization levels, the task's own
        levels = plan["tasks"][r["task"]]["relation_levels"]
        if not set(path) <= set(levels):
            errors.append(f"{rid}: path {path} uses a relation outside the {r['task']} task's relations")
            continue
        if (r["task"] == "comp" and plan["level_split"] == "per_task"
                and any(BY_NAME[x].group == PARAMETRIC and x not in trained_relations["mem"] for x in path)):
            errors.append(f"{rid}: a Comp question recalls a relation that no Mem training question asks")
        kinds = {levels[x] for x in path}
        level = "zero_shot" if "zero_shot" in kinds else "iid" if "iid" in kinds else "composition"
        if r["split"] == "train":
            if level == "zero_shot":
                errors.append(f"{rid}: a training question uses a zero-shot relation")
            continue
        if level != r["split"]:
            errors.append(f"{rid}: a {level} path is filed under {r['split']}")
        key = tuple(path)
        if (r["context"], r["question"]) in trained_prompts:
            errors.append(f"{rid}: this test question also appears in training")
        if r["split"] == "iid":
            if key not in trained_paths[r["task"]]:
                errors.append(f"{rid}: an I.I.D. test path is never trained on")
            if (r["task"], key, chain[0]) in trained_starts:
                errors.append(f"{rid}: an I.I.D. test question reuses a trained (path, person) pair")
        if r["split"] == "composition":
            if key in trained_paths[r["task"]]:
                errors.append(f"{rid}: a composition test path is trained on")
            if not set(path) <= trained_relations[r["task"]]:
                errors.append(f"{rid}: a composition test path has a relation trained nowhere")
        if r["split"] == "zero_shot" and set(path) <= trained_relations[r["task"]]:
            errors.append(f"{rid}: a zero-shot test path has no relation that the task's training questions lack")
    return errors


def _off(counts: Counter, weights: Counter, what: str) -> list[str]:
    """Cells whose count is not its share of the total in proportion to `weights`, up to rounding (< 1)."""
    n, total = sum(counts.values()), sum(weights.values())
    off = [f"{what} has {counts[k]} of {n} questions {kind(k)}, its training's share gives {n * w / total:.1f}"
           for k, w in sorted(weights.items()) if abs(counts[k] - n * w / total) >= 1]
    return off + [f"{what} has {counts[k]} questions {kind(k)}, which its training has none of"
                  for k in counts if not weights[k]]


def _mix_errors(records: list[dict], plan: dict, injected: set) -> list[str]:
    """Each test level drawn like its training (src/data/draw.py): the I.I.D. test is a stratified sample of
    the questions on I.I.D. paths (training and test), cell by cell (path length, a start at an injected
    person); Composition and Zero-shot have the
    training's share of questions about injected people, or, with length_matched_levels, the I.I.D.
    training's lengths (over the lengths their paths have). Each up to rounding."""
    errors = []
    cell = lambda r: (len(r["relation_path"]), r["entities"][0] in injected)  # noqa: E731
    for task, t in plan["tasks"].items():
        iid_paths = {tuple(p) for p in t["test_paths"]["iid"]}
        train = [r for r in records if r["task"] == task and r["split"] == "train"]
        on_iid = Counter(cell(r) for r in train if tuple(r["relation_path"]) in iid_paths)
        test = {lv: [r for r in records if r["task"] == task and r["split"] == lv] for lv in t["test_paths"]}
        iid_test = Counter(cell(r) for r in test["iid"])  # a stratified sample of all questions on I.I.D. paths
        errors += _off(iid_test, on_iid + iid_test, f"the {task} I.I.D. test")
        for lv in ("composition", "zero_shot"):
            if plan.get("length_matched_levels"):
                hops = {len(p) for p in t["test_paths"][lv]}
                lengths: Counter = Counter()
                for (h, _), n in on_iid.items():
                    lengths[h] += n if h in hops else 0
                errors += _off(Counter(len(r["relation_path"]) for r in test[lv]), lengths,
                               f"the length-matched {task} {lv} test")
            else:
                errors += _off(Counter(cell(r)[1] for r in test[lv]), Counter(cell(r)[1] for r in train),
                               f"the {task} {lv} test")
    return errors


def _injection_errors(facts: list[dict], injected: set, biographies: list[dict]) -> list[str]:
    """Contextual facts are never injected: no biography states a contextual fact of its person."""
    texts: dict[str, list[str]] = defaultdict(list)
    for b in biographies:
        texts[b["person"]].append(b["text"])
    return [f"biographies: {f['subject']}'s contextual fact {f['relation']} is in the injection corpus"
            for f in facts if f["group"] == CONTEXTUAL and f["subject"] in injected
            and any(st in t for st in _statements(f["relation"], f["subject"], f["object"])
                    for t in texts[f["subject"]])]
