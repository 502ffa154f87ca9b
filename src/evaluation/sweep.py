"""Entry point: the sweep table, results/sweep.md and results/sweep.csv.

params.yaml's `sweep` lists presets; each differs from the default study in a few knobs (model size,
amount of atomic and composite data, RL steps and group size). Run each one's study first
(`snakemake --cores all --config preset=NAME`), then this: one row per preset with the knobs it
changes, the key numbers and the verdict on each of the paper's claims (the rules of
src/evaluation/report.py). A preset whose study has not run yet is listed as such, not guessed.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from ..io import atomic_write_text
from ..io import csv_text
from .report import verdicts
from .stats import mean_ci
from .tables import accuracies, read_csv


# not knobs of the study: which recipes and seeds it trains (the status column counts seeds) and scheduling
NOT_KNOBS = {"recipes", "seeds", "resources"}


def flatten(overlay: dict, prefix: str = "") -> list[str]:
    out = []
    for k, v in overlay.items():
        if not prefix and k in NOT_KNOBS:
            continue
        if isinstance(v, dict) and len(v) > 1 and not any(isinstance(x, dict) for x in v.values()):
            out.append(f"{prefix}{k}={{" + ", ".join(f"{a}: {b}" for a, b in v.items()) + "}")  # a leaf group
        elif isinstance(v, dict):
            out += flatten(v, f"{prefix}{k}.")
        else:
            out.append(f"{prefix}{k}={v}")
    return out


def _mean(rows, recipe, task, level) -> str:
    vals = list(accuracies(rows, recipe, task, level).values())
    return f"{mean_ci(vals)[0]:.1f}" if vals else "-"


def sweep_rows(params: Path, results: Path) -> list[dict]:
    raw = yaml.safe_load(params.read_text())
    rows = []
    for preset in raw.get("sweep", []):
        overlay = raw["presets"].get(preset, {}) if preset != "default" else {}
        row = {"preset": preset, "changes": "; ".join(flatten(overlay)) or "(the default study)"}
        csv_path = results / preset / "metrics.csv"
        if not csv_path.exists():
            rows.append({**row, "status": f"not run yet: snakemake --cores all --config preset={preset}"})
            continue
        m = read_csv(csv_path)
        row["status"] = f"seeds {len({r['seed'] for r in m if r['seed'] != ''})}"
        row["atomic Mem/Ctx I.I.D."] = f"{_mean(m, 'SFT(Mem+Ctx)', 'mem', 'iid')} / {_mean(m, 'SFT(Mem+Ctx)', 'ctx', 'iid')}"
        for recipe in ("SFT(Comp)", "SFT(Mem+Ctx)->RL(Comp)"):
            row[f"{recipe} Comp I.I.D./Zero-shot"] = \
                f"{_mean(m, recipe, 'comp', 'iid')} / {_mean(m, recipe, 'comp', 'zero_shot')}"
        for v in verdicts(m):
            row[f"claim {v['claim'].split('.')[0]}"] = v["verdict"]
        rows.append(row)
    return rows


def to_markdown(rows: list[dict]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["# Sweep: in which regime does each claim hold?", "",
             "Claims (src/evaluation/report.py): 1 SFT paradox, 2 RL synthesizes, 3 atomic prerequisite, "
             "4 not explained by starting accuracy. Numbers: exact match (%), mean over seeds.", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "-")) for c in cols) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml", type=Path)
    ap.add_argument("--results", default="results", type=Path)
    args = ap.parse_args()
    rows = sweep_rows(args.params, args.results)
    atomic_write_text(args.results / "sweep.csv", csv_text(rows))
    atomic_write_text(args.results / "sweep.md", to_markdown(rows))
    print(to_markdown(rows))


if __name__ == "__main__":
    main()
