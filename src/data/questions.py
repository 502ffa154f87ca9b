"""Multi-hop questions, their generalization levels and their train/test splits.

Rules (paper.md, "Three levels of generalization" and "The authors' generator, read"):
- Each task draws its own levels (`level_split: per_task`, the authors' design): its relations are
  shuffled, per group, into I.I.D. / composition / zero-shot shares. Mem splits the parametric group,
  Ctx the contextual group; Comp recalls only relations that Mem trains (those of Mem's I.I.D. paths)
  and reads the whole contextual group. So a Comp zero-shot relation is asked in no Comp training
  question but usually in an atomic one. `level_split: shared` (a stricter deviation) gives every
  relation one level for all three tasks, and Comp every relation.
- A path with a zero-shot relation is zero-shot; else one with an I.I.D. relation is I.I.D.;
  else (composition relations only) it is composition.
- Training questions come from all I.I.D. paths and part of the composition paths; the other
  composition paths are held out for test, each of their relations being trained elsewhere.
- I.I.D. test questions reuse trained paths with (path, start person) pairs never trained on, drawn
  with training and split from it per path length and start (src/data/draw.py), so they are asked like it.
- Ctx questions start from a new person or, for a share of them (`ctx_familiar_share`), from a person
  whose parametric facts were injected, reading that person's contextual facts from the prompt; such a
  chain is kept only if no injected fact links the two ends of any of its hops (nothing recallable).
"""
from __future__ import annotations

import random

from ..params.settings.questions import Questions
from .counterfactual import counterfactual_training
from .draw import draw_task
from .relations import BY_NAME, CONTEXTUAL, PARAMETRIC, RELATIONS
from .world import World, render_paragraph, sentence

LEVELS = ("iid", "composition", "zero_shot")


def answer_in_prompt(record: dict) -> bool:
    """Whether a question's context prints its final answer: a reader may copy it without recalling a hop."""
    return record["answer"] in record.get("context", "")
TASK_GROUPS = {"mem": {PARAMETRIC}, "ctx": {CONTEXTUAL}, "comp": {PARAMETRIC, CONTEXTUAL}}


def level_counts(shares: dict[str, float], n: int) -> tuple[int, int, int]:
    """(zero-shot, I.I.D., composition) relations of a group of n: at least one each (needs n >= 3)."""
    n_zero = max(1, round(shares["zero_shot"] * n))
    n_iid = max(1, round(shares["iid"] * n))
    return n_zero, n_iid, n - n_zero - n_iid


def assign_levels(rng: random.Random, shares: dict[str, float], relations=RELATIONS) -> dict[str, str]:
    """Relation -> level, stratified per group so each group present has every level."""
    levels = {}
    for group in (PARAMETRIC, CONTEXTUAL):
        names = [r.name for r in relations if r.group == group]
        if not names:
            continue
        rng.shuffle(names)
        n_zero, n_iid, n_comp = level_counts(shares, len(names))
        if n_comp < 1:
            raise ValueError(f"{len(names)} {group} relations cannot hold every level; "
                             "add relations (world.relations) or lower questions.level_shares")
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


def _context(world: World, path, chain, rng: random.Random, paragraph_facts: int, distractors: int = 0) -> str:
    """Paragraphs of the subjects of the contextual hops, never linking the two people of a parametric hop,
    and `distractors` paragraphs about other people per needed one, stating the same relations."""
    # the prompt must not give a parametric hop away: no sentence links its two people (its inverse
    # fact, or any other relation between them, e.g. "B's neighbor is A" when the question asks A's child)
    linked = {frozenset((a, b)) for rel, a, b in zip(path, chain, chain[1:]) if BY_NAME[rel].group == PARAMETRIC}
    needed: dict[str, set[str]] = {}
    for rel, a in zip(path, chain):
        if BY_NAME[rel].group == CONTEXTUAL:
            needed.setdefault(a, set()).add(rel)
    paragraphs, taken = [], set(chain)
    for person, rels in needed.items():
        facts = [f for f in world.facts_of(person, CONTEXTUAL) if frozenset((f[0], f[2])) not in linked]
        paragraphs.append(_paragraph(world, facts, rels, rng, paragraph_facts))
        for other in _distractor_people(world, person, rels, taken, rng, distractors):
            facts = [f for f in world.facts_of(other, CONTEXTUAL) if f[2] not in chain]
            paragraphs.append(_paragraph(world, facts, rels, rng, paragraph_facts))
    rng.shuffle(paragraphs)
    return "\n\n".join(paragraphs)


def _paragraph(world: World, facts, rels: set[str], rng: random.Random, paragraph_facts: int) -> str:
    must = [f for f in facts if f[1] in rels]
    rest = [f for f in facts if f[1] not in rels]
    if paragraph_facts:
        rest = rng.sample(rest, max(0, min(len(rest), paragraph_facts - len(must))))
    return render_paragraph(must + rest, rng, world.templates)


def _distractor_people(world: World, person: str, rels: set[str], taken: set, rng: random.Random, n: int):
    """n people of `person`'s population, outside the chain and each other, whose facts of `rels` name no
    one of the chain: their paragraphs state the same relations, so reading needs to know whose fact to read."""
    if not n:  # no draw at all: data without distractors stays byte-identical
        return []
    pool = world.parametric_people if person in world.parametric_people else world.contextual_people
    out = []
    for _ in range(50 * n):
        other = rng.choice(pool)
        objs = [world.obj(other, r) for r in rels]
        if other not in taken and all(o is not None and o not in taken for o in objs):
            out.append(other)
            taken.add(other)
            if len(out) == n:
                return out
    key = "parametric_people" if pool is world.parametric_people else "contextual_people"
    raise ValueError(f"questions.distractor_paragraphs: found {len(out)} of {n} distractor people for a "
                     f"paragraph about {person}; lower it or raise world.{key}")


def make_record(world, task, split, idx, path, chain, rng, paragraph_facts: int, distractors: int = 0) -> dict:
    cot = [sentence(r, a, b) for r, a, b in zip(path, chain, chain[1:])]
    return {
        "id": f"{task}-{split}-{idx:06d}",
        "task": task,
        "split": split,
        "relation_path": list(path),
        "entities": chain,
        "question": question_text(path, chain[0], rng.randrange(3)),
        "context": "" if task == "mem" else _context(world, path, chain, rng, paragraph_facts, distractors),
        "answer_cot": " ".join(cot) + f" So, the answer is: {chain[-1]}",
        "answer": chain[-1],
    }


def _recallable_links(world: World) -> set[frozenset]:
    """{subject, object} of every injected fact: a hop between two such ends could be recalled."""
    return {frozenset((p, o)) for p in world.parametric_people for _, _, o in world.facts_of(p, PARAMETRIC)}


def build_questions(world: World, s: Questions) -> tuple[dict, list[dict]]:
    """Returns (the path/level plan, all QA records). Mem comes first: per task, Comp's recalled
    relations are those of Mem's I.I.D. paths."""
    rng = random.Random(s.seed)
    shared = s.level_split == "shared"
    if shared:
        shared_levels = assign_levels(rng, s.level_shares, world.relations)
    plan = {"level_split": s.level_split, "length_matched_levels": s.length_matched_levels, "tasks": {}}
    records = []
    ratio_total = sum(s.test_level_ratio.values())
    links = _recallable_links(world) if s.ctx_familiar_share else set()
    injected = set(world.parametric_people)
    for task in ("mem", "ctx", "comp"):
        pool_relations = [r for r in world.relations if r.group in TASK_GROUPS[task]]
        if shared:
            levels = {r.name: shared_levels[r.name] for r in pool_relations}
        else:
            if task == "comp":  # "knowledge inside": recall only what Mem's I.I.D. paths train
                mem_iid = {x for p in plan["tasks"]["mem"]["test_paths"]["iid"] for x in p}
                pool_relations = [r for r in pool_relations if r.group == CONTEXTUAL or r.name in mem_iid]
            levels = assign_levels(rng, s.level_shares, pool_relations)
        familiar_share = s.ctx_familiar_share if task == "ctx" else 0.0
        pool = world.contextual_people if task == "ctx" else world.parametric_people
        cache: dict[tuple[str, ...], list[list[str]]] = {}

        def chains_of(path):  # every valid chain of `path`, one per start person
            if path not in cache:
                cache[path] = [c for c in (world.walk(e, list(path)) for e in pool) if c is not None]
                if familiar_share:  # Ctx chains through injected people, none of whose hops is recallable
                    cache[path] += [c for c in (world.walk(e, list(path)) for e in world.parametric_people)
                                    if c is not None and not any(frozenset(h) in links for h in zip(c, c[1:]))]
            return cache[path]

        # a path defined for under half the people (e.g. sibling, sibling: back to the start) is dropped
        starts = set(pool)
        usable = lambda path: sum(c[0] in starts for c in chains_of(path)) >= len(pool) / 2  # noqa: E731
        paths = sample_paths(rng, task, s.paths[task], s.hop_weights, usable, pool_relations)
        train_paths, test_paths = split_paths(rng, paths, levels, s.heldout_composition_share)
        n_test = {lv: round(s.test_questions[task] * s.test_level_ratio[lv] / ratio_total) for lv in LEVELS}
        share = s.ctx_familiar_share if task == "ctx" else 1.0  # every Mem and Comp question is about injected people
        train_pairs, test_pairs, mixes = draw_task(rng, chains_of, train_paths, test_paths, s.train_questions[task],
                                                   n_test, lambda c: c[0] in injected, share,
                                                   s.length_matched_levels, task)
        for i, (p, c) in enumerate(train_pairs):
            records.append(make_record(world, task, "train", i, p, c, rng, s.paragraph_facts,
                                       s.distractor_paragraphs))
        for i, (lv, p, c) in enumerate(test_pairs):
            records.append(make_record(world, task, lv, i, p, c, rng, s.paragraph_facts,
                                       s.distractor_paragraphs))
        plan["tasks"][task] = {
            "relation_levels": levels,
            "relations": {lv: sorted(r for r, v in levels.items() if v == lv) for lv in LEVELS},
            "train_paths": [list(p) for p in train_paths],
            "test_paths": {lv: [list(p) for p in ps] for lv, ps in test_paths.items()},
            "mix": mixes,
        }
    plan["comp_relation_pool"] = {g: sorted(r for r in plan["tasks"]["comp"]["relation_levels"]
                                            if BY_NAME[r].group == g) for g in (PARAMETRIC, CONTEXTUAL)}
    plan["comp_zero_shot_trained_in"] = {
        r: [t for t in ("mem", "ctx") if any(r in p for p in plan["tasks"][t]["train_paths"])]
        for r in plan["tasks"]["comp"]["relations"]["zero_shot"]}
    if s.ctx_counterfactual_share:  # drawn apart from the rest: the other questions stay byte-identical
        records = counterfactual_training(records, world, s.ctx_counterfactual_share, s.seed,
                                          _recallable_links(world))
    return plan, records
