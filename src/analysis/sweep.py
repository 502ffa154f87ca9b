"""Entry point: the sweep table, results/sweep.md and results/sweep.csv, and what it shows, results/findings.md.

params.yaml's `sweep` lists presets; each differs from the default study in a few knobs (model size,
amount of atomic and composite data, RL steps and group size). Run each one's study first
(`snakemake --cores all --config preset=NAME`), then this: one row per preset with the knobs it
changes, the key numbers and the verdict on each of the paper's claims (the rules of
src/analysis/claims.py). A preset whose study has not run yet is listed as such, not guessed.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from ..data.draw import data_design
from ..io import atomic_write_text, csv_text
from ..params.read import preset_overlay
from . import findings, scaling
from .claims import verdicts
from .cost import cost
from .intervals import mean_ci
from .tables import accuracies, read_csv

# not knobs of the study: which recipes and seeds it trains (the status column counts seeds) and scheduling
NOT_KNOBS = {"recipes", "seeds", "resources", "extends"}


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


def describe(overlay: dict, changes: list[str]) -> str:
    """The knobs a preset changes: relative to the preset it extends, if any, else to the default study."""
    if overlay.get("extends"):
        return f"`{overlay['extends']}` and " + ("; ".join(changes) or "nothing else")
    return "; ".join(changes) or "(the default study)"


def sweep_rows(params: Path, results: Path) -> list[dict]:
    raw = yaml.safe_load(params.read_text())
    rows = []
    for preset in raw.get("sweep", []):
        own = raw["presets"].get(preset, {}) if preset != "default" else {}
        resolved = preset_overlay(raw["presets"], preset)
        split = resolved.get("questions", {}).get("level_split", raw["questions"]["level_split"])
        # the data design its results come from, so old and new rows never mix unseen (not run: today's)
        matched = resolved.get("questions", {}).get("length_matched_levels", raw["questions"]["length_matched_levels"])
        row = {"preset": preset, "design": data_design(split, True, matched), "changes": describe(own, flatten(own))}
        csv_path, headline = results / preset / "metrics.csv", results / preset / "headline.json"
        if not csv_path.exists() and (results / preset / "REPORT.md").exists():
            # a report without its metrics: results copied back in part, which would read as "not run"
            raise FileNotFoundError(f"{results / preset} has a REPORT.md but no metrics.csv: copy the study's "
                                    f"metrics.csv, results.md and summary.json beside it, or remove the folder")
        if not csv_path.exists():  # what it would be drawn with now
            rows.append({**row, "status": f"not run yet: snakemake --cores all --config preset={preset}"})
            continue
        # a headline.json without data_design comes from data drawn before the I.I.D. tests were stratified
        head = json.loads(headline.read_text()) if headline.exists() else {}
        row["design"] = head.get("data_design", data_design(split, False))
        m = read_csv(csv_path)
        row["status"] = f"seeds {len({r['seed'] for r in m if r['seed'] != ''})}"
        row["wall min (job min), machine"] = cost(results / preset)
        for task in ("mem", "ctx"):  # the atomic skills after SFT(Mem+Ctx)
            row[f"atomic {task.capitalize()} I.I.D./Composition"] = \
                f"{_mean(m, 'SFT(Mem+Ctx)', task, 'iid')} / {_mean(m, 'SFT(Mem+Ctx)', task, 'composition')}"
        # the copy shortcut (src/analysis/premise.py), counted from the data when the report was drawn
        shares = (head.get("premise") or {}).get("shortcut_share")
        row["copyable share of in-prompt Comp I.I.D./Composition/Zero-shot (%)"] = \
            " / ".join(f"{shares[lv]:.0f}" for lv in ("iid", "composition", "zero_shot")) if shares else "-"
        # does SFT(Mem+Ctx) read? (src/evaluation/reading.py): underfitting vs not generalizing vs recall
        reads = ((head.get("premise") or {}).get("reading") or {}).get("SFT(Mem+Ctx)")
        row["SFT(Mem+Ctx) Ctx seen / I.I.D. / answer swapped"] = \
            " / ".join(f"{reads[k]:.1f}" for k in ("seen", "iid", "swapped")) if reads else "-"
        row["SFT(Comp) Comp I.I.D./Zero-shot"] = f"{_mean(m, 'SFT(Comp)', 'comp', 'iid')} / " \
                                                 f"{_mean(m, 'SFT(Comp)', 'comp', 'zero_shot')}"
        for base in ("SFT(Mem+Ctx)", "SFT(Comp)"):  # what RL adds where the skills compose
            row[f"{base}->RL(Comp) Comp Composition"] = \
                f"{_mean(m, base, 'comp', 'composition')} -> {_mean(m, f'{base}->RL(Comp)', 'comp', 'composition')}"
        row["SFT(Mem+Ctx)->RL(Comp) Comp Zero-shot"] = _mean(m, "SFT(Mem+Ctx)->RL(Comp)", "comp", "zero_shot")
        for v in verdicts(m):
            row[f"claim {v['claim'].split('.')[0]}"] = v["verdict"]
        rows.append(row)
    return rows


def to_markdown(rows: list[dict]) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["# Sweep: in which regime does each claim hold?", "",
             "Claims (src/analysis/claims.py): 1 SFT paradox, 2 RL synthesizes, 3 atomic prerequisite, "
             "4 not explained by starting accuracy. Numbers: exact match (%), mean over seeds. Cost: the run's "
             "wall time (while at least one of its jobs ran), with the sum of its job times (jobs run side by "
             "side), and the machine it ran on. Copyable share: of the Comp test questions whose prompt prints the "
             "answer, those a reader answers by copying the only stated fact with the final relation "
             "(REPORT.md, \"The paper's premise\"); '-' where the report was drawn before it was counted. Ctx seen / "
             "I.I.D. / answer swapped: SFT(Mem+Ctx)'s reading probes (questions it trained on; test questions; the "
             "same with the answer replaced in the prompt), '-' where the study predates them.", "",
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
    atomic_write_text(args.results / "findings.md", findings.to_markdown(findings.findings(args.params, args.results)))
    sizes = scaling.scaling_rows(yaml.safe_load(args.params.read_text()).get("scaling", []), args.results)
    atomic_write_text(args.results / "scaling.csv", csv_text(sizes, list(dict.fromkeys(k for r in sizes for k in r))))
    atomic_write_text(args.results / "scaling.md", scaling.to_markdown(sizes))
    scaling.scaling_figure(sizes, args.results / "figures" / "scaling.png")
    print(to_markdown(rows))


if __name__ == "__main__":
    main()
