"""The world of the generic language stage: other people, every relation word, its own questions.

A deviation from the paper, off unless `generic.enabled`. The paper fine-tunes a pretrained model,
which has met every relation word in many sentences and questions; a model trained from scratch has
never seen a zero-shot relation's word in a question, so it cannot map "What is X's pet?" to the
sentence "X's pet is ...". This stage trains it, before knowledge injection, on a separate world:
biographies of other people, and Mem / Ctx (optionally Comp) questions over every relation, with no
level held out. The study's rules still hold for the study's world: no person is shared
(`check_generic`), and a zero-shot relation appears in no training question about the study's world
(`checks.check_dataset`).
"""
from __future__ import annotations

import random
from typing import TYPE_CHECKING

from .questions import TASK_GROUPS, make_record, sample_paths
from .relations import BY_NAME
from .world import World, build_world, injection_corpus

if TYPE_CHECKING:  # for the annotation only; the job imports src/params/stages.py through generate.py
    from ..params.stages import GenerateData


def build_generic(s: GenerateData, study: World) -> tuple[World, list[dict], list[dict]]:
    """(the generic world, its biographies, its questions), all tasks' questions in the 'train' split."""
    g, w, q = s.generic, s.world, s.questions
    world = build_world(g.seed, g.parametric_people, g.contextual_people, w.value_pool_size, w.relations, w.templates,
                        avoid=frozenset(study.parametric_people + study.contextual_people))
    rng = random.Random(g.seed)
    records = []
    for task in ("mem", "ctx", "comp"):
        if not g.train_questions[task]:
            continue
        pool = world.contextual_people if task == "ctx" else world.parametric_people
        chains: dict[tuple[str, ...], list[list[str]]] = {}

        def chains_of(path):
            if path not in chains:
                chains[path] = [c for c in (world.walk(p, list(path)) for p in pool) if c is not None]
            return chains[path]
        usable = lambda path: len(chains_of(path)) >= len(pool) / 2  # noqa: E731
        paths = sample_paths(rng, task, g.paths[task], q.hop_weights, usable, world.relations)
        paths += covering_paths(rng, task, paths, usable, world)
        # one question per path first (every relation word gets asked about), then the rest at random
        firsts = [(p, rng.choice(chains_of(p))) for p in paths]
        rest = [(p, c) for p in paths for c in chains_of(p) if (p, c) not in firsts]
        n = g.train_questions[task]
        if len(firsts) > n or len(firsts) + len(rest) < n:
            raise ValueError(f"generic.train_questions.{task} must lie between {len(firsts)} (a question per path) "
                             f"and {len(firsts) + len(rest)} (every question of its world), not {n}")
        for i, (p, c) in enumerate(firsts + rng.sample(rest, n - len(firsts))):
            records.append(make_record(world, task, "train", i, p, c, rng, q.paragraph_facts,
                                       q.distractor_paragraphs))
    return world, injection_corpus(world, g.bio_renderings, g.seed + 1), records


def covering_paths(rng: random.Random, task: str, paths: list, usable, world: World) -> list[tuple[str, ...]]:
    """Two-hop paths for the task's relations that `paths` leave out: each relation word is asked about."""
    groups = TASK_GROUPS[task]
    mine = [r for r in world.relations if r.group in groups]
    persons = [r.name for r in mine if r.person]
    out = []
    for r in mine:
        if any(r.name in p for p in paths + out):
            continue
        firsts = [x for x in persons if x != r.name and (task != "comp" or BY_NAME[x].group != r.group)]
        rng.shuffle(firsts)
        found = next(((x, r.name) for x in firsts if usable((x, r.name))), None)
        if found is None:
            raise ValueError(f"the generic world has no usable {task} path asking about {r.name}")
        out.append(found)
    return out


def check_generic(study_facts: list[dict], generic_facts: list[dict], generic_records: list[dict],
                  relations: list[str]) -> list[str]:
    """The generic world shares no person with the study's world, and its questions ask about every
    relation (zero-shot ones included: that is what the stage is for)."""
    errors = []
    shared = {f["subject"] for f in study_facts} & {f["subject"] for f in generic_facts}
    if shared:
        errors.append(f"generic world: {len(shared)} people also live in the study's world, e.g. {sorted(shared)[:3]}")
    asked = {r for rec in generic_records for r in rec["relation_path"]}
    missing = sorted(set(relations) - asked)
    if missing:
        errors.append(f"generic world: no question asks about {missing}")
    return errors
