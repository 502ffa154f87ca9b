"""Multi-hop questions, their generalization levels and their train/test splits.

Rules (paper.md, "Three levels of generalization"):
- Relations of each group are shuffled and split into I.I.D. / composition / zero-shot shares.
- A path with a zero-shot relation is zero-shot; else one with an I.I.D. relation is I.I.D.;
  else (composition relations only) it is composition.
- Training questions come from all I.I.D. paths and part of the composition paths; the other
  composition paths are held out for test, each of their relations being trained elsewhere.
- I.I.D. test questions reuse trained paths with (path, start person) pairs never trained on.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from .relations import BY_NAME, CONTEXTUAL, PARAMETRIC, RELATIONS
from .world import World, render_paragraph, sentence

LEVELS = ("iid", "composition", "zero_shot")
TASK_GROUPS = {"mem": {PARAMETRIC}, "ctx": {CONTEXTUAL}, "comp": {PARAMETRIC, CONTEXTUAL}}


@dataclass(frozen=True)
class QuestionSettings:
    seed: int
    hop_weights: list[float]  # for 2, 3, 4, 5 ... hops
    level_shares: dict[str, float]
    paths: dict[str, int]  # distinct relation paths per task
    heldout_composition_share: float
    train_questions: dict[str, int]
    test_questions: dict[str, int]
    test_level_ratio: dict[str, int]
    paragraph_facts: int  # facts per context paragraph, 0 for all


def assign_levels(rng: random.Random, shares: dict[str, float], relations=RELATIONS) -> dict[str, str]:
    """Relation -> level, stratified per group so each group has every level."""
    levels = {}
    for group in (PARAMETRIC, CONTEXTUAL):
        names = [r.name for r in relations if r.group == group]
        rng.shuffle(names)
        n_zero = max(1, round(shares["zero_shot"] * len(names)))
        n_iid = max(1, round(shares["iid"] * len(names)))
        for i, name in enumerate(names):
            levels[name] = "zero_shot" if i < n_zero else "iid" if i < n_zero + n_iid else "composition"
    return levels


def path_level(path: tuple[str, ...], levels: dict[str, str]) -> str:
    kinds = {levels[r] for r in path}
    return "zero_shot" if "zero_shot" in kinds else "iid" if "iid" in kinds else "composition"


def sample_paths(rng: random.Random, task: str, n: int, hop_weights: list[float],
                 usable=lambda path: True, relations=RELATIONS) -> list[tuple[str, ...]]:
    """n distinct paths: every hop but the last a distinct person relation, the last any relation."""
    groups = TASK_GROUPS[task]
    persons = [r.name for r in relations if r.group in groups and r.person]
    anything = [r.name for r in relations if r.group in groups]
    hops = list(range(2, 2 + len(hop_weights)))
    found: dict[tuple[str, ...], None] = {}
    for _ in range(n * 1000):
        if len(found) == n:
            break
        k = rng.choices(hops, weights=hop_weights)[0]
        path = tuple(rng.sample(persons, k - 1)) + (rng.choice(anything),)
        if task == "comp" and len({BY_NAME[r].group for r in path}) < 2:
            continue  # Comp paths always mix recall and reading
        if path not in found and usable(path):
            found[path] = None
    if len(found) < n:
        raise ValueError(f"only {len(found)} distinct {task} paths exist for these hop weights; "
                         f"lower questions.paths.{task} (asked {n})")
    return list(found)


def split_paths(rng, paths, levels, heldout_share):
    """(training paths, test paths per level)."""
    by_level = {lv: [p for p in paths if path_level(p, levels) == lv] for lv in LEVELS}
    comp = by_level["composition"][:]
    rng.shuffle(comp)
    n_held = max(1, round(heldout_share * len(comp)))
    held, comp_train = comp[:n_held], comp[n_held:]
    # a held-out path whose relation is trained nowhere else would not test composition: train it
    while True:
        trained = {r for p in by_level["iid"] + comp_train for r in p}
        bad = [p for p in held if not set(p) <= trained]
        if not bad:
            break
        held.remove(bad[0])
        comp_train.append(bad[0])
    for lv, ps in (("iid", by_level["iid"]), ("composition", held), ("zero_shot", by_level["zero_shot"])):
        if not ps:
            raise ValueError(f"no {lv} path was drawn; raise questions.paths or the {lv} share")
    return by_level["iid"] + comp_train, {"iid": by_level["iid"], "composition": held,
                                          "zero_shot": by_level["zero_shot"]}


def question_text(path: tuple[str, ...], start: str, template: int) -> str:
    nouns = [BY_NAME[r].noun for r in path]
    if template == 0:
        inner = start
        for noun in nouns:
            inner = f"the {noun} of {inner}"
        return f"What is {inner}?"
    if template == 1:
        return f"What is {start}'s " + "'s ".join(nouns) + "?"
    steps = ", then ".join(f"the {n}" for n in nouns[:-1])
    return f"Begin with {start}. Follow {steps}. Name the {nouns[-1]}."


def _context(world: World, path, chain, rng: random.Random, paragraph_facts: int) -> str:
    """Paragraphs of the subjects of the contextual hops, never linking the two people of a parametric hop."""
    # the prompt must not give a parametric hop away: no sentence links its two people (its inverse
    # fact, or any other relation between them, e.g. "B's neighbor is A" when the question asks A's child)
    linked = {frozenset((a, b)) for rel, a, b in zip(path, chain, chain[1:]) if BY_NAME[rel].group == PARAMETRIC}
    needed: dict[str, set[str]] = {}
    for rel, a in zip(path, chain):
        if BY_NAME[rel].group == CONTEXTUAL:
            needed.setdefault(a, set()).add(rel)
    paragraphs = []
    for person, rels in needed.items():
        facts = [f for f in world.facts_of(person, CONTEXTUAL) if frozenset((f[0], f[2])) not in linked]
        must = [f for f in facts if f[1] in rels]
        rest = [f for f in facts if f[1] not in rels]
        if paragraph_facts:
            rest = rng.sample(rest, max(0, min(len(rest), paragraph_facts - len(must))))
        paragraphs.append(render_paragraph(must + rest, rng, world.templates))
    rng.shuffle(paragraphs)
    return "\n\n".join(paragraphs)


def make_record(world, task, split, idx, path, chain, rng, settings) -> dict:
    cot = [sentence(r, a, b) for r, a, b in zip(path, chain, chain[1:])]
    return {
        "id": f"{task}-{split}-{idx:06d}",
        "task": task,
        "split": split,
        "relation_path": list(path),
        "entities": chain,
        "question": question_text(path, chain[0], rng.randrange(3)),
        "context": "" if task == "mem" else _context(world, path, chain, rng, settings.paragraph_facts),
        "answer_cot": " ".join(cot) + f" So, the answer is: {chain[-1]}",
        "answer": chain[-1],
    }


def _draw_pairs(rng, chains_of, paths, n, used, what, round_robin):
    """n (path, chain) pairs with (path, start) pairs not in `used` (which grows).

    round_robin: paths taken in turn (test sets: every path at least once); otherwise at random.
    """
    free = {}
    for p in paths:
        free[p] = [c for c in chains_of(p) if (p, c[0]) not in used]
        rng.shuffle(free[p])
    live = [p for p in paths if free[p]]
    rng.shuffle(live)
    out, turn = [], 0
    while len(out) < n:
        if not live:
            raise ValueError(f"only {len(out)} distinct {what} questions exist, {n} asked; "
                             f"lower questions.*_questions or add people (world.*_people)")
        k = turn % len(live) if round_robin else rng.randrange(len(live))
        p = live[k]
        chain = free[p].pop()
        if not free[p]:
            live.pop(k)
        else:
            turn += 1
        used.add((p, chain[0]))
        out.append((p, chain))
    return out


def _cover_iid_paths(train_pairs, iid_paths, chains_of, used, task) -> None:
    """An I.I.D. path must be trained on. A small random draw can miss one: then one question of a
    path drawn more than once is traded for a question of the missing path (in place)."""
    for path in iid_paths:
        counts: dict = {}
        for p, _ in train_pairs:
            counts[p] = counts.get(p, 0) + 1
        if path in counts:
            continue
        chain = next((c for c in chains_of(path) if (path, c[0]) not in used), None)
        spare = next((i for i in range(len(train_pairs) - 1, -1, -1) if counts[train_pairs[i][0]] > 1), None)
        if chain is None or spare is None:
            raise ValueError(f"the I.I.D. {task} path {path} has no training question; "
                             f"raise questions.train_questions.{task}")
        used.add((path, chain[0]))
        train_pairs[spare] = (path, chain)


def build_questions(world: World, s: QuestionSettings) -> tuple[dict, list[dict]]:
    """Returns (the path/level plan, all QA records)."""
    rng = random.Random(s.seed)
    levels = assign_levels(rng, s.level_shares, world.relations)
    plan = {"relation_levels": levels, "tasks": {}}
    records = []
    ratio_total = sum(s.test_level_ratio.values())
    for task in ("mem", "ctx", "comp"):
        pool = world.contextual_people if task == "ctx" else world.parametric_people
        cache: dict[tuple[str, ...], list[list[str]]] = {}

        def chains_of(path):  # every valid chain of `path`, one per start person
            if path not in cache:
                cache[path] = [c for c in (world.walk(e, list(path)) for e in pool) if c is not None]
            return cache[path]

        # a path defined for under half the people (e.g. sibling, sibling: back to the start) is dropped
        usable = lambda path: len(chains_of(path)) >= len(pool) / 2  # noqa: E731
        paths = sample_paths(rng, task, s.paths[task], s.hop_weights, usable, world.relations)
        train_paths, test_paths = split_paths(rng, paths, levels, s.heldout_composition_share)
        used: set = set()
        test_pairs = []
        for lv in LEVELS:  # test first: training then avoids every (path, start) pair tested
            want = max(len(test_paths[lv]), round(s.test_questions[task] * s.test_level_ratio[lv] / ratio_total))
            test_pairs += [(lv, p, c) for p, c in _draw_pairs(rng, chains_of, test_paths[lv], want, used,
                                                              f"{task} {lv} test", round_robin=True)]
        train_pairs = _draw_pairs(rng, chains_of, train_paths, s.train_questions[task], used,
                                  f"{task} train", round_robin=False)
        _cover_iid_paths(train_pairs, test_paths["iid"], chains_of, used, task)
        for i, (p, c) in enumerate(train_pairs):
            records.append(make_record(world, task, "train", i, p, c, rng, s))
        for i, (lv, p, c) in enumerate(test_pairs):
            records.append(make_record(world, task, lv, i, p, c, rng, s))
        plan["tasks"][task] = {
            "train_paths": [list(p) for p in train_paths],
            "test_paths": {lv: [list(p) for p in ps] for lv, ps in test_paths.items()},
        }
    return plan, records
