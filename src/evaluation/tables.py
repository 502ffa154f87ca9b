"""Entry point: collect every model's metrics.json into the study's tables.

Writes metrics.csv (tidy: recipe, seed, task, level, accuracy, n) and results.md (the Comp task
beside the paper's numbers, then every task and level).
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import re
from pathlib import Path
from statistics import mean

from ..config import load_params, recipe_slugs
from ..data.questions import LEVELS
from ..io import atomic_write_text
from .paper_numbers import PAPER_COMP

LEVEL_NAMES = {"iid": "I.I.D.", "composition": "Composition", "zero_shot": "Zero-shot"}
TASK_NAMES = {"mem": "Mem", "ctx": "Ctx", "comp": "Comp"}
# every (task, level) cell of metrics.csv: the three tasks at three levels, then the knowledge probe
BASE_SLUG, BASE_LABEL = "inject", "Base (knowledge injection)"  # the model every recipe starts from
CELLS = [(t, lv) for t in TASK_NAMES for lv in LEVELS] + [("facts", "recall")]


def collect(cfg: dict, metric_files: list[Path]) -> list[dict]:
    label_of = {BASE_SLUG: BASE_LABEL, **{slug: label for label, slug in recipe_slugs(cfg).items()}}
    rows = []
    for path in metric_files:
        m = re.search(r"seed(\d+)/([^/]+)/metrics\.json$", path.as_posix())
        if not m or m.group(2) not in label_of:
            raise ValueError(f"{path}: expected .../seed<N>/<recipe model>/metrics.json of a listed recipe")
        metrics = json.loads(path.read_text())
        for task, level in CELLS:
            cell = metrics[task][level]
            rows.append({"recipe": label_of[m.group(2)], "seed": int(m.group(1)), "task": task,
                         "level": level, "accuracy": round(cell["accuracy"], 6), "n": cell["n"]})
    order = {label: i for i, label in enumerate([BASE_LABEL] + cfg["recipes"])}
    rows.sort(key=lambda r: (order[r["recipe"]], r["seed"], CELLS.index((r["task"], r["level"]))))
    return rows


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["recipe", "seed", "task", "level", "accuracy", "n"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def _mean_pct(rows, recipe, task, level) -> str:
    acc = [r["accuracy"] for r in rows if (r["recipe"], r["task"], r["level"]) == (recipe, task, level)]
    return f"{100 * mean(acc):.1f}" if acc else "-"


def to_markdown(cfg: dict, rows: list[dict]) -> str:
    seeds = sorted({r["seed"] for r in rows})
    n = {lv: next((r["n"] for r in rows if r["task"] == "comp" and r["level"] == lv), 0) for lv in LEVELS}
    lines = [f"# Results: preset `{cfg['preset']}`", "",
             f"Exact match (%) of the final answer, mean over seeds {seeds}. "
             "Paper: Qwen2.5-1.5B (paper.md); ours: the model of this preset.", "",
             "## Comp task, ours beside the paper", "",
             "| recipe | " + " | ".join(f"{LEVEL_NAMES[lv]} ours (n={n[lv]}) | {LEVEL_NAMES[lv]} paper"
                                     for lv in LEVELS) + " |",
             "|---|" + "---:|---:|" * len(LEVELS)]
    for recipe in cfg["recipes"]:
        paper = PAPER_COMP.get(recipe)
        cells = [f"{_mean_pct(rows, recipe, 'comp', lv)} | {paper[i] if paper else '-'}"
                 for i, lv in enumerate(LEVELS)]
        lines.append(f"| {recipe} | " + " | ".join(cells) + " |")
    lines += ["", "## Every task and level (ours)", "",
              "| recipe | " + " | ".join(f"{TASK_NAMES[t]} {LEVEL_NAMES[lv]}" for t in TASK_NAMES for lv in LEVELS)
              + " | fact recall |", "|---|" + "---:|" * (3 * len(LEVELS) + 1)]
    for recipe in [BASE_LABEL] + cfg["recipes"]:
        lines.append(f"| {recipe} | " + " | ".join(_mean_pct(rows, recipe, t, lv) for t in TASK_NAMES
                                                  for lv in LEVELS)
                     + f" | {_mean_pct(rows, recipe, 'facts', 'recall')} |")
    lines += ["", "Fact recall: share of the injected parametric facts whose canonical sentence the model "
              "completes correctly (e.g. \"X's boss is\" -> Y), a probe of the Mem prerequisite."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--metrics", required=True, nargs="+", type=Path)
    ap.add_argument("--csv", required=True, type=Path)
    ap.add_argument("--markdown", required=True, type=Path)
    args = ap.parse_args()
    cfg = load_params(args.params, args.preset)
    rows = collect(cfg, args.metrics)
    atomic_write_text(args.csv, to_csv(rows))
    atomic_write_text(args.markdown, to_markdown(cfg, rows))


if __name__ == "__main__":
    main()
