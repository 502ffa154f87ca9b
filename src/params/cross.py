"""What the schema cannot say about params.yaml: checks across keys, against the disk, and of what
the world can supply. `src/params/check.py` runs them on every preset before any job starts, so a bad value
is refused at planning time (`snakemake -n`, the first `dvc repro` stage) with one line naming the key,
the value and what would be valid, instead of failing minutes later inside a stage.
"""
from __future__ import annotations

import json
from math import perm
from pathlib import Path

from ..data.questions import LEVELS, TASK_GROUPS, level_counts
from ..data.relations import CONTEXTUAL, PARAMETRIC
from ..data.world import active_relations
from ..models import WEIGHTS

POOL = {"mem": "parametric_people", "ctx": "contextual_people", "comp": "parametric_people"}


def model_errors(cfg: dict) -> list[str]:
    """Model shapes that transformers would reject, and a checkpoint path that cannot be loaded."""
    m, t, out = cfg["model"], cfg["training"], []
    longest = max(t["inject"]["max_length"], t["sft"]["max_length"])
    if m["pretrained"]:
        path = Path(m["pretrained"])
        if not path.is_dir():
            return [f"model.pretrained = {m['pretrained']!r}: no such folder; give the local path of a Hugging Face "
                    "checkpoint (nothing is downloaded), or null to train from scratch"]
        if not (path / "config.json").exists():
            return [f"model.pretrained = {m['pretrained']!r}: the folder has no config.json, so it is not a saved "
                    "checkpoint; point it at the folder that save_pretrained wrote"]
        if not any((path / w).exists() for w in WEIGHTS):
            return [f"model.pretrained = {m['pretrained']!r}: the folder has no weights ({', '.join(WEIGHTS)}); "
                    "copy the whole checkpoint there, not only its config"]
        if not any((path / t).exists() for t in ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")):
            return [f"model.pretrained = {m['pretrained']!r}: the folder has no tokenizer (tokenizer.json or "
                    "tokenizer_config.json); copy the checkpoint's tokenizer files beside its weights"]
        positions = json.loads((path / "config.json").read_text()).get("max_position_embeddings")
        if positions and positions < longest:
            out.append(f"training.sft/inject.max_length = {longest}: longer than the checkpoint's "
                       f"max_position_embeddings ({positions}); use at most {positions}")
        return out
    s = m["scratch"]
    if s["hidden_size"] % s["num_attention_heads"]:
        divisors = [d for d in range(1, s["hidden_size"] + 1) if s["hidden_size"] % d == 0 and d <= 64]
        out.append(f"model.scratch.num_attention_heads = {s['num_attention_heads']}: must divide "
                   f"model.scratch.hidden_size ({s['hidden_size']}); use one of {divisors[-6:]}")
    elif (s["hidden_size"] // s["num_attention_heads"]) % 2:
        out.append(f"model.scratch.num_attention_heads = {s['num_attention_heads']}: the head size "
                   f"{s['hidden_size'] // s['num_attention_heads']} must be even (rotary position embeddings); "
                   "use fewer or more heads")
    if s["max_position_embeddings"] < longest:
        out.append(f"model.scratch.max_position_embeddings = {s['max_position_embeddings']}: shorter than the "
                   f"longest training sequence ({longest}, training.sft/inject.max_length); use at least {longest}")
    return out


def max_paths(task: str, names, hop_weights: list[float]) -> int:
    """How many distinct relation paths a task can draw: every hop but the last a distinct person
    relation, the last any relation of the task's groups; a Comp path mixes both groups."""
    rels = [r for r in active_relations(names) if r.group in TASK_GROUPS[task]]

    def count(group_rels):
        persons = sum(r.person for r in group_rels)
        return sum(perm(persons, k - 1) * len(group_rels) for k, w in enumerate(hop_weights, 2) if w > 0)
    if task != "comp":
        return count(rels)
    return count(rels) - sum(count([r for r in rels if r.group == g]) for g in TASK_GROUPS[task])


def batch_errors(cfg: dict) -> list[str]:
    """The configured batch is the global batch of an optimizer step, split evenly among the data-parallel
    processes (one per GPU, resources.<kind>.gpus): it must divide."""
    out, t, r = [], cfg["training"], cfg["resources"]
    for stage, kind in (("inject", "inject"), ("sft", "train"), ("grpo", "train")):
        gpus, batch = r[kind]["gpus"] if r["use_gpus"] else 0, t[stage]["batch_size"]
        if gpus > 1 and batch % gpus:
            out.append(f"training.{stage}.batch_size = {batch}: the global batch does not divide among "
                       f"resources.{kind}.gpus = {gpus} processes; use a multiple of {gpus}, e.g. "
                       f"{batch + gpus - batch % gpus}")
    return out


def world_errors(cfg: dict) -> list[str]:
    """Sizes the world cannot supply, computed from the relations and the people (upper bounds)."""
    w, q, out = cfg["world"], cfg["questions"], []
    for task in ("mem", "ctx", "comp"):
        most = max_paths(task, w["relations"], q["hop_weights"])
        if q["paths"][task] > most:
            out.append(f"questions.paths.{task} = {q['paths'][task]}: the world has at most {most} distinct "
                       f"{task.capitalize()} paths (world.relations, questions.hop_weights); use at most {most}")
            continue
        people = w[POOL[task]] + (w["parametric_people"] if task == "ctx" and q["ctx_familiar_share"] else 0)
        asked = q["train_questions"][task] + q["test_questions"][task]
        supply = q["paths"][task] * people  # one question per (path, first person)
        if asked > supply:
            out.append(f"questions.train_questions.{task} = {q['train_questions'][task]}: with "
                       f"{q['test_questions'][task]} test questions this asks {asked} distinct {task.capitalize()} "
                       f"questions, but questions.paths.{task} x world.{POOL[task]} = {q['paths'][task]} x {people} "
                       f"= {supply} exist at most; lower it or raise those two")
    d = q["distractor_paragraphs"]
    # a Ctx question not about injected people reads a paragraph about a contextual person (a necessary
    # bound only: the generator's draw can still run short on a chain's people, and says so)
    if d and q["ctx_familiar_share"] < 1 and d >= w["contextual_people"]:
        out.append(f"questions.distractor_paragraphs = {d}: each paragraph about a contextual person needs {d} "
                   f"other people of world.contextual_people = {w['contextual_people']}, outside its chain; lower "
                   f"it or raise world.contextual_people")
    g = cfg["generic"]
    if g["enabled"]:
        relations = len(active_relations(w["relations"]))
        for task in ("mem", "ctx", "comp"):
            most = max_paths(task, w["relations"], q["hop_weights"])
            supply = (g["paths"][task] + relations) * g[POOL[task]]  # its paths, plus one per relation they lack
            if g["paths"][task] > most:
                out.append(f"generic.paths.{task} = {g['paths'][task]}: at most {most} distinct paths exist; "
                           f"use at most {most}")
            elif g["train_questions"][task] > supply:
                out.append(f"generic.train_questions.{task} = {g['train_questions'][task]}: its paths and people "
                           f"supply at most {supply}; lower it or raise generic.paths.{task} or generic.{POOL[task]}")
    return out


def level_errors(cfg: dict) -> list[str]:
    """Settings that would leave a task without a level: a zero share, test ratios summing to zero, or a
    group too small to give each level a relation (Mem's and Ctx's groups, and Comp's recalled relations,
    which exclude Mem's zero-shot ones under level_split: per_task)."""
    q, out = cfg["questions"], []
    for level in LEVELS:
        if q["level_shares"][level] <= 0:
            out.append(f"questions.level_shares.{level} = {q['level_shares'][level]}: every task needs relations at "
                       f"every level; give it a share above 0")
    if sum(q["test_level_ratio"].values()) <= 0:
        out.append(f"questions.test_level_ratio = {q['test_level_ratio']}: the ratios sum to zero, so no test "
                   "question would be drawn; use e.g. {iid: 5, composition: 3, zero_shot: 2}")
    if out:
        return out
    rels = active_relations(cfg["world"]["relations"])
    for group, task in ((PARAMETRIC, "mem"), (CONTEXTUAL, "ctx")):
        n = sum(r.group == group for r in rels)
        if level_counts(q["level_shares"], n)[2] < 1:
            out.append(f"world.relations: {n} {group} relations cannot give the {task.capitalize()} task a relation "
                       f"at each level with questions.level_shares = {q['level_shares']}; add relations or lower "
                       "the I.I.D. and zero-shot shares")
    if not out and q["level_split"] == "per_task":
        n = sum(r.group == PARAMETRIC for r in rels)
        recallable = n - level_counts(q["level_shares"], n)[0]  # Mem's zero-shot relations never reach Comp
        if level_counts(q["level_shares"], recallable)[2] < 1:
            out.append(f"world.relations: Comp recalls at most {recallable} parametric relations (Mem's non-zero-shot "
                       "ones), too few for a relation at each level; add parametric relations or lower the I.I.D. "
                       "and zero-shot shares (questions.level_shares)")
    return out

