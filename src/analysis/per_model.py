"""The report's tables that come from per-model files rather than metrics.csv: pass@k samples, error
localisation, why the atomic skills fail, RL's learning signal, Comp Zero-shot by relation, and the
training curves.

Each function names the models it reads by their identity (src/models.py) and reads those models'
files from `StudyFiles`: the paths the report rule declares as its inputs, by model, nothing else.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..data.draw import data_design
from ..data.questions import LEVELS, answer_in_prompt
from ..io import read_jsonl
from ..models import Model, curve_models
from ..recipes import ATOMIC_SFT, chain_slug, model_chains, rl_pairs
from .errors import VALUE_SOURCES, error_kind, localise, stated_facts, value_source
from .premise import copyable, facts_by_relation

if TYPE_CHECKING:
    from ..params.settings.study import Params

ERROR_KINDS = ("value", "step", "answer")


def model_path(path: Path) -> str:
    """The model a declared file or folder belongs to (its `Model.path`): 'results/x/eval/seed0/sft-comp/
    predictions.jsonl' and 'results/x/models/seed0/sft-comp' -> 'seed0/sft-comp'; '.../models/inject' -> 'inject'."""
    parts = Path(path).parts if Path(path).suffix == "" else Path(path).parts[:-1]
    return "/".join(parts[-2:]) if len(parts) > 1 and parts[-2].startswith("seed") else parts[-1]


@dataclass(frozen=True)
class StudyFiles:
    """What the report reads: the files its rule declares, passed on its command line."""
    metrics: Path  # metrics.csv
    data: Path  # the data folder: plan.json, qa_<task>.jsonl
    predictions: dict[str, Path]  # model path -> its predictions.jsonl
    samples: dict[str, Path]  # model path -> its pass@k samples.json
    shifts: dict[str, Path]  # RL model path -> its hidden-state shifts (src/evaluation/hidden.py)
    reading: dict[str, Path]  # SFT model path -> its reading probes (src/evaluation/reading.py)
    models: dict[str, Path]  # model path -> its folder (train_stats.json, curves/)
    generation: Path  # the generation benchmark's json
    matmul: Path  # the matmul peak's json
    benchmarks: list[Path]  # Snakemake's per-job benchmark files (absent under `dvc repro`: skipped)

    @classmethod
    def of(cls, metrics, data, predictions, samples, shifts, reading, models, generation, matmul,
           benchmarks) -> "StudyFiles":
        by_model = lambda paths: {model_path(p): Path(p) for p in paths}  # noqa: E731
        return cls(Path(metrics), Path(data), by_model(predictions), by_model(samples), by_model(shifts),
                   by_model(reading), by_model(models), Path(generation), Path(matmul), [Path(b) for b in benchmarks])


def passk_seeds(p: Params) -> list[int]:
    """The seeds that get pass@k: the first `evaluation.passk.seeds`."""
    return p.seeds[: p.evaluation.passk.seeds]


def passk_samples(files: StudyFiles, p: Params) -> list[dict]:
    """One row per (RL recipe, side, seed, question): n samples, c correct. Saved as passk_samples.csv so
    the pass@k curves and verdicts can be recomputed from the committed results, without the models."""
    rows = []
    for base, rl in rl_pairs(p.recipes):
        for side, chain in (("base", base), ("rl", rl)):
            for seed in passk_seeds(p):
                model = Model(chain, seed)
                for q in json.loads(files.samples[model.path].read_text())["questions"]:
                    rows.append({"recipe": Model(rl).label, "side": side, "model": model.label, "seed": seed,
                                 "level": q["level"], "id": q["id"], "n": q["n"], "c": q["c"]})
    return rows


def _predictions(files: StudyFiles, model: Model, task: str) -> dict[str, dict]:
    return {p["id"]: p for p in read_jsonl(files.predictions[model.path]) if p["task"] == task}


def error_rows(files: StudyFiles, p: Params) -> list[dict]:
    """Per RL(Comp) model and seed: where the Comp questions wrong before and after RL first go wrong."""
    records = {r["id"]: r for r in read_jsonl(files.data / "qa_comp.jsonl") if r["split"] in LEVELS}
    rows = []
    for base, rl in rl_pairs(p.recipes):
        if not rl.endswith("grpo-comp"):
            continue
        for seed in p.seeds:
            after, before = Model(rl, seed), Model(base, seed)
            loc = localise(records, _predictions(files, before, "comp"), _predictions(files, after, "comp"))
            rows.append({"recipe": after.label, "base": before.label, "seed": f"seed{seed}",
                         "questions": loc["questions"],
                         **{f"{k}_{side}": None if loc[side][k] is None else round(100 * loc[side][k], 2)
                            for k in ("contextual_share", "mean_position") for side in ("before", "after")}})
    return rows


def atomic_error_rows(files: StudyFiles, p: Params) -> list[dict]:
    """SFT(Mem+Ctx) on the Mem and Ctx tests, per seed, task and level: how many answers are wrong,
    and where and how each wrong chain first goes wrong (src/analysis/errors.py:error_kind)."""
    slug = chain_slug([ATOMIC_SFT])
    if slug not in model_chains(p.recipes):
        return []
    by_subject = defaultdict(list)  # the facts a Ctx prompt may state, to name whose value a wrong read copies
    for f in read_jsonl(files.data / "facts.jsonl"):
        by_subject[f["subject"]].append((f["relation"], f["object"]))
    rows = []
    for task in ("mem", "ctx"):
        records = {r["id"]: r for r in read_jsonl(files.data / f"qa_{task}.jsonl") if r["split"] in LEVELS}
        stated = {} if task == "mem" else {i: stated_facts(r["context"], by_subject) for i, r in records.items()}
        for seed in p.seeds:
            preds = [p for p in _predictions(files, Model(slug, seed), task).values() if p["id"] in records]
            for lv in LEVELS:
                wrong = [p for p in preds if p["level"] == lv and not p["correct"]]
                errs = [error_kind(records[p["id"]], p["generation"]) for p in wrong]
                sources = [value_source(records[p["id"]], p["generation"], stated[p["id"]])
                           for p, (_, kind) in zip(wrong, errs) if task == "ctx" and kind == "value"]
                rows.append({"seed": f"seed{seed}", "task": task, "level": lv,
                             "questions": sum(p["level"] == lv for p in preds),
                             "wrong": len(errs), "first_hop": sum(h == 0 for h, _ in errs),
                             **{k: sum(kind == k for _, kind in errs) for k in ERROR_KINDS},
                             **{f"value: {k}": sources.count(k) for k in VALUE_SOURCES}})
    return rows


def rl_signal_rows(files: StudyFiles, p: Params) -> list[dict]:
    """Per RL model and seed: mean exact-match reward during GRPO, and how many steps had a learning
    signal (a group whose rewards differ; with all-equal rewards GRPO's advantages are all zero)."""
    rows = []
    for _, rl in rl_pairs(p.recipes):
        for seed in p.seeds:
            model = Model(rl, seed)
            st = json.loads((files.models[model.path] / "train_stats.json").read_text())
            if "rl_logged_steps" in st:  # written by src/training/common.py:throughput for GRPO
                rows.append({"recipe": model.label, "seed": f"seed{seed}", "mean_reward": st["rl_mean_reward"],
                             "steps_with_signal": st["rl_steps_with_signal"], "steps": st["rl_logged_steps"]})
    return rows


def zero_shot_relation_rows(files: StudyFiles, p: Params) -> list[dict]:
    """Per recipe model, seed and Comp zero-shot relation: the Comp Zero-shot questions whose path holds
    that relation and how many the model answers, with the atomic tasks that train the relation (plan.json),
    so a Zero-shot verdict never rests on one relation unnoticed."""
    plan = json.loads((files.data / "plan.json").read_text())
    if "comp_zero_shot_trained_in" not in plan:  # data of a generator before per-task levels
        return []
    records = [r for r in read_jsonl(files.data / "qa_comp.jsonl") if r["split"] == "zero_shot"]
    rows = []
    for chain in model_chains(p.recipes):
        for seed in p.seeds:
            model = Model(chain, seed)
            preds = _predictions(files, model, "comp")
            for rel, trained_in in plan["comp_zero_shot_trained_in"].items():
                ids = [r["id"] for r in records if rel in r["relation_path"]]
                rows.append({"model": model.label, "seed": seed, "relation": rel,
                             "trained_in": "+".join(trained_in) or "none", "questions": len(ids),
                             "correct": sum(preds[i]["correct"] for i in ids)})
    return rows


def answer_source_rows(files: StudyFiles, p: Params) -> list[dict]:
    """Per model, seed and Comp test level: the questions whose context prints the final answer (a reader can
    copy it without recalling a hop) apart from those whose answer only recall reaches, and how many of
    each the model answers. The claims' Comp numbers mix the two kinds. Rows of a third kind, *copyable*, count
    the in-prompt questions that copying the only stated fact with the final relation answers (a subset of
    *in the prompt*: src/analysis/premise.py, the copy shortcut)."""
    records = [r for r in read_jsonl(files.data / "qa_comp.jsonl") if r["split"] in LEVELS]
    by_rel = facts_by_relation(files.data)
    copy = {r["id"] for r in records if answer_in_prompt(r) and copyable(r, by_rel)}
    rows = []
    for chain in model_chains(p.recipes):
        for seed in p.seeds:
            model = Model(chain, seed)
            preds = _predictions(files, model, "comp")
            for lv in LEVELS:
                for printed in (True, False):
                    ids = [r["id"] for r in records
                           if r["split"] == lv and answer_in_prompt(r) == printed]
                    rows.append({"model": model.label, "seed": seed, "level": lv,
                                 "answer": "in the prompt" if printed else "recalled only",
                                 "questions": len(ids), "correct": sum(preds[i]["correct"] for i in ids)})
                ids = [r["id"] for r in records if r["split"] == lv and r["id"] in copy]
                rows.append({"model": model.label, "seed": seed, "level": lv, "answer": "copyable",
                             "questions": len(ids), "correct": sum(preds[i]["correct"] for i in ids)})
    return rows


def comp_test_sizes(files: StudyFiles) -> dict:
    """What the Comp verdicts rest on: Comp's relations and test paths per level (plan.json)."""
    plan = json.loads((files.data / "plan.json").read_text())
    comp = plan["tasks"]["comp"]
    # data written before plan.json gave each set's mix had I.I.D. tests drawn path by path
    design = data_design(plan.get("level_split", "shared"), "mix" in comp, plan.get("length_matched_levels", False))
    return {"level_split": plan.get("level_split", "shared"), "design": design,
            "zero_shot_relations": comp.get("relations", {}).get("zero_shot", []),
            "paths": {lv: len(comp["test_paths"][lv]) for lv in LEVELS}}


CURVES = ("loss", "reward", "reward_std")  # dvclive's files under a model's curves/plots/metrics/


def training_curves(files: StudyFiles, p: Params) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{model label: {metric: [(step, value)]}} from the dvclive files each training job saves with its model
    (src/training/common.py training_curves); a step logged twice (a run resumed from a checkpoint) keeps
    its last value. Models saved without curves (before they were logged) are left out."""
    out = {}
    for model in curve_models(p.seeds, p.recipes):
        folder = files.models[model.path] / "curves" / "plots" / "metrics"
        got = {}
        for name in CURVES:
            if (folder / f"{name}.tsv").exists():
                with open(folder / f"{name}.tsv") as f:
                    by_step = {int(r["step"]): float(r[name]) for r in csv.DictReader(f, delimiter="\t")}
                got[name] = sorted(by_step.items())
        if got:
            out[model.label] = got
    return out
