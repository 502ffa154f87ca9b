"""The report's tables that come from per-model files rather than metrics.csv: pass@k samples, error
localisation, why the atomic skills fail, RL's learning signal, Comp Zero-shot by relation, and the
training curves.

Each function names the models it reads by their identity (src/models.py) and reads those models'
files under the study's folder: the same files the report rule declares as its inputs.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from ..config import ATOMIC_SFT, chain_slug, model_chains, rl_pairs
from ..data.questions import LEVELS
from ..io import read_jsonl
from ..models import BASE, Model
from .errors import error_kind, localise

ERROR_KINDS = ("value", "step", "answer")


def passk_seeds(cfg: dict) -> list[int]:
    """The seeds that get pass@k: the first `evaluation.passk.seeds`."""
    return cfg["seeds"][: cfg["evaluation"]["passk"]["seeds"]]


def passk_samples(results: Path, cfg: dict) -> list[dict]:
    """One row per (RL recipe, side, seed, question): n samples, c correct. Saved as passk_samples.csv so
    the pass@k curves and verdicts can be recomputed from the committed results, without the models."""
    rows = []
    for base, rl in rl_pairs(cfg):
        for side, chain in (("base", base), ("rl", rl)):
            for seed in passk_seeds(cfg):
                model = Model(chain, seed)
                for q in json.loads((results / "passk" / model.path / "samples.json").read_text())["questions"]:
                    rows.append({"recipe": Model(rl).label, "side": side, "model": model.label, "seed": seed,
                                 "level": q["level"], "id": q["id"], "n": q["n"], "c": q["c"]})
    return rows


def _predictions(results: Path, model: Model, task: str) -> dict[str, dict]:
    return {p["id"]: p for p in read_jsonl(results / "eval" / model.path / "predictions.jsonl") if p["task"] == task}


def error_rows(results: Path, cfg: dict) -> list[dict]:
    """Per RL(Comp) model and seed: where the Comp questions wrong before and after RL first go wrong."""
    records = {r["id"]: r for r in read_jsonl(results / "data" / "qa_comp.jsonl") if r["split"] in LEVELS}
    rows = []
    for base, rl in rl_pairs(cfg):
        if not rl.endswith("grpo-comp"):
            continue
        for seed in cfg["seeds"]:
            after, before = Model(rl, seed), Model(base, seed)
            loc = localise(records, _predictions(results, before, "comp"), _predictions(results, after, "comp"))
            rows.append({"recipe": after.label, "base": before.label, "seed": f"seed{seed}",
                         "questions": loc["questions"],
                         **{f"{k}_{side}": None if loc[side][k] is None else round(100 * loc[side][k], 2)
                            for k in ("contextual_share", "mean_position") for side in ("before", "after")}})
    return rows


def atomic_error_rows(results: Path, cfg: dict) -> list[dict]:
    """SFT(Mem+Ctx) on the Mem and Ctx tests, per seed, task and level: how many answers are wrong,
    and where and how each wrong chain first goes wrong (src/evaluation/errors.py:error_kind)."""
    slug = chain_slug([ATOMIC_SFT])
    if slug not in model_chains(cfg):
        return []
    rows = []
    for task in ("mem", "ctx"):
        records = {r["id"]: r for r in read_jsonl(results / "data" / f"qa_{task}.jsonl") if r["split"] in LEVELS}
        for seed in cfg["seeds"]:
            preds = [p for p in _predictions(results, Model(slug, seed), task).values() if p["id"] in records]
            for lv in LEVELS:
                mine = [p for p in preds if p["level"] == lv]
                errs = [error_kind(records[p["id"]], p["generation"]) for p in mine if not p["correct"]]
                rows.append({"seed": f"seed{seed}", "task": task, "level": lv, "questions": len(mine),
                             "wrong": len(errs), "first_hop": sum(h == 0 for h, _ in errs),
                             **{k: sum(kind == k for _, kind in errs) for k in ERROR_KINDS}})
    return rows


def rl_signal_rows(results: Path, cfg: dict) -> list[dict]:
    """Per RL model and seed: mean exact-match reward during GRPO, and how many steps had a learning
    signal (a group whose rewards differ; with all-equal rewards GRPO's advantages are all zero)."""
    rows = []
    for _, rl in rl_pairs(cfg):
        for seed in cfg["seeds"]:
            model = Model(rl, seed)
            st = json.loads((results / "models" / model.path / "train_stats.json").read_text())
            if "rl_logged_steps" in st:  # written by src/training/common.py:throughput for GRPO
                rows.append({"recipe": model.label, "seed": f"seed{seed}", "mean_reward": st["rl_mean_reward"],
                             "steps_with_signal": st["rl_steps_with_signal"], "steps": st["rl_logged_steps"]})
    return rows


def zero_shot_relation_rows(results: Path, cfg: dict) -> list[dict]:
    """Per recipe model, seed and Comp zero-shot relation: the Comp Zero-shot questions whose path holds
    that relation and how many the model answers, with the atomic tasks that train the relation (plan.json),
    so a Zero-shot verdict never rests on one relation unnoticed."""
    plan = json.loads((results / "data" / "plan.json").read_text())
    if "comp_zero_shot_trained_in" not in plan:  # data of a generator before per-task levels
        return []
    records = [r for r in read_jsonl(results / "data" / "qa_comp.jsonl") if r["split"] == "zero_shot"]
    rows = []
    for chain in model_chains(cfg):
        for seed in cfg["seeds"]:
            model = Model(chain, seed)
            preds = _predictions(results, model, "comp")
            for rel, trained_in in plan["comp_zero_shot_trained_in"].items():
                ids = [r["id"] for r in records if rel in r["relation_path"]]
                rows.append({"model": model.label, "seed": seed, "relation": rel,
                             "trained_in": "+".join(trained_in) or "none", "questions": len(ids),
                             "correct": sum(preds[i]["correct"] for i in ids)})
    return rows


def comp_test_sizes(results: Path) -> dict:
    """What the Comp verdicts rest on: Comp's relations and test paths per level (plan.json)."""
    plan = json.loads((results / "data" / "plan.json").read_text())
    comp = plan["tasks"]["comp"]
    return {"level_split": plan.get("level_split", "shared"),
            "zero_shot_relations": comp.get("relations", {}).get("zero_shot", []),
            "paths": {lv: len(comp["test_paths"][lv]) for lv in LEVELS}}


CURVES = ("loss", "reward", "reward_std")  # dvclive's files under a model's curves/plots/metrics/


def curve_models(cfg: dict) -> list[Model]:
    """The models whose training curves the report draws: the base and every model of the first seed."""
    return [BASE] + [Model(chain, cfg["seeds"][0]) for chain in model_chains(cfg)]


def training_curves(results: Path, cfg: dict) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """{model label: {metric: [(step, value)]}} from the dvclive files each training job saves with its model
    (src/training/common.py training_curves); a step logged twice (a run resumed from a checkpoint) keeps
    its last value. Models saved without curves (before they were logged) are left out."""
    out = {}
    for model in curve_models(cfg):
        folder = results / "models" / model.path / "curves" / "plots" / "metrics"
        got = {}
        for name in CURVES:
            if (folder / f"{name}.tsv").exists():
                with open(folder / f"{name}.tsv") as f:
                    by_step = {int(r["step"]): float(r[name]) for r in csv.DictReader(f, delimiter="\t")}
                got[name] = sorted(by_step.items())
        if got:
            out[model.label] = got
    return out
