"""Entry point: collect every model's metrics.json into the study's tables.

Writes metrics.csv (tidy: model, seed, task, level, accuracy, n; one row per model, seed and cell)
and results.md (the Comp task beside the paper's numbers, then every model, task and level), with
means and 95% confidence intervals over seeds.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from ..data.questions import LEVELS
from ..io import atomic_write_text, csv_text
from ..models import label_order
from ..params import stages
from .intervals import mean_ci
from .paper import PAPER_COMP

LEVEL_NAMES = {"iid": "I.I.D.", "composition": "Composition", "zero_shot": "Zero-shot"}
TASK_NAMES = {"mem": "Mem", "ctx": "Ctx", "comp": "Comp"}
# every (task, level) cell of metrics.csv: the three tasks at three levels, then the knowledge probe
CELLS = [(t, lv) for t in TASK_NAMES for lv in LEVELS] + [("facts", "recall")]
COLUMNS = ["model", "seed", "task", "level", "accuracy", "n"]


def collect(recipes: list[str], metric_files: list[Path]) -> list[dict]:
    """metrics.csv's rows from the evaluations' metrics.json files, each naming its own model and seed."""
    rows = []
    for path in metric_files:
        metrics = json.loads(path.read_text())
        if "model" not in metrics:
            raise ValueError(f"{path}: no 'model' entry (written by src/evaluation/evaluate.py); rerun its evaluation")
        model = metrics["model"]
        for task, level in CELLS:
            cell = metrics[task][level]
            rows.append({"model": model["label"], "seed": "" if model["seed"] is None else model["seed"],
                         "task": task, "level": level, "accuracy": round(cell["accuracy"], 6), "n": cell["n"]})
    order = {label: i for i, label in enumerate(label_order(recipes))}
    rows.sort(key=lambda r: (order[r["model"]], str(r["seed"]), CELLS.index((r["task"], r["level"]))))
    return rows


def read_csv(path: Path) -> list[dict]:
    """metrics.csv's rows. Studies tabled before the column was named `model` call it `recipe`."""
    with open(path) as f:
        return [{"model": r.get("model", r.get("recipe")), "seed": r["seed"], "task": r["task"], "level": r["level"],
                 "accuracy": float(r["accuracy"]), "n": int(r["n"])} for r in csv.DictReader(f)]


def accuracies(rows: list[dict], model: str, task: str, level: str) -> dict:
    """seed -> accuracy (%) of one cell of one model (by its label)."""
    return {r["seed"]: 100 * r["accuracy"] for r in rows if (r["model"], r["task"], r["level"]) == (model, task, level)}


def to_csv(rows: list[dict]) -> str:
    return csv_text(rows, COLUMNS)


def cell_text(values: list[float]) -> str:
    """'mean ± 95% CI half-width' over seeds, or the single value."""
    if not values:
        return "-"
    m, half = mean_ci(values)
    return f"{m:.1f}" if len(values) < 2 else f"{m:.1f} ± {half:.1f}"


def comp_beside_paper(rows: list[dict], recipes: list[str], n: dict | None = None) -> list[str]:
    """The Comp table: per recipe and level, ours (mean ± CI over seeds) beside the paper's; with `n`
    (questions per level) in the header."""
    head = [f"{LEVEL_NAMES[lv]} ours (n={n[lv]}) | {LEVEL_NAMES[lv]} paper" if n else f"{LEVEL_NAMES[lv]} ours | paper"
            for lv in LEVELS]
    lines = ["| recipe | " + " | ".join(head) + " |", "|---|" + "---:|---:|" * len(LEVELS)]
    for recipe in recipes:
        paper = PAPER_COMP.get(recipe)
        cells = [f"{cell_text(list(accuracies(rows, recipe, 'comp', lv).values()))} | {paper[i] if paper else '-'}"
                 for i, lv in enumerate(LEVELS)]
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    return lines


def to_markdown(s: stages.Tables, rows: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in rows if r["seed"] != ""})
    n = {lv: next((r["n"] for r in rows if r["task"] == "comp" and r["level"] == lv), 0) for lv in LEVELS}
    cell = lambda recipe, t, lv: cell_text(list(accuracies(rows, recipe, t, lv).values()))  # noqa: E731
    lines = [f"# Results: preset `{s.preset}`", "",
             f"Exact match (%) of the final answer: mean ± 95% confidence half-width (t) over seeds "
             f"{', '.join(map(str, seeds))}. Paper: Qwen2.5-1.5B (paper.md); ours: the model of this preset.", "",
             "## Comp task, ours beside the paper", "", *comp_beside_paper(rows, s.recipes, n)]
    lines += ["", "## Every model, task and level (ours)", "",
              "| model | " + " | ".join(f"{TASK_NAMES[t]} {LEVEL_NAMES[lv]}" for t in TASK_NAMES for lv in LEVELS)
              + " | fact recall |", "|---|" + "---:|" * (3 * len(LEVELS) + 1)]
    for recipe in label_order(s.recipes):
        lines.append(f"| {recipe} | " + " | ".join(cell(recipe, t, lv) for t in TASK_NAMES for lv in LEVELS)
                     + f" | {cell(recipe, 'facts', 'recall')} |")
    lines += ["", "The base is one model for all seeds. Models that are not recipes themselves (e.g. SFT(Mem)) "
              "are the starting points of recipes. Fact recall: share of the injected parametric facts whose "
              "canonical sentence the model completes correctly (e.g. \"X's boss is\" -> Y), a probe of the "
              "Mem prerequisite."]
    return "\n".join(lines) + "\n"


def summary(recipes: list[str], rows: list[dict]) -> dict:
    """Mean accuracy over seeds of every model, task and level: the study's DVC metrics file."""
    out: dict = {}
    for recipe in label_order(recipes):
        for task, level in CELLS:
            vals = list(accuracies(rows, recipe, task, level).values())
            if vals:
                out.setdefault(recipe, {}).setdefault(task, {})[level] = round(sum(vals) / len(vals) / 100, 6)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--metrics", required=True, nargs="+", type=Path)
    ap.add_argument("--csv", required=True, type=Path)
    ap.add_argument("--markdown", required=True, type=Path)
    ap.add_argument("--summary", type=Path, help="metrics JSON for `dvc metrics show`")
    args = ap.parse_args()
    s = stages.load("tables", args.params, args.preset)
    rows = collect(s.recipes, args.metrics)
    atomic_write_text(args.csv, to_csv(rows))
    atomic_write_text(args.markdown, to_markdown(s, rows))
    if args.summary:
        atomic_write_text(args.summary, json.dumps(summary(s.recipes, rows), indent=2) + "\n")


if __name__ == "__main__":
    main()
