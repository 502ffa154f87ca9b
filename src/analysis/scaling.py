"""The claims against model size: results/scaling.md, results/scaling.csv and results/figures/scaling.png.

params.yaml's `scaling` lists presets that differ from one another in the model's size (the same world,
questions and regime, the claims' recipes at least; the paper's 0.5B/1.5B/3B). Run each one's study
first; then `python -m src.analysis.sweep` writes this beside the sweep. Per preset: the model's parameter
count (the study's headline.json), its seeds and, for each claim, the figures its verdict rests on, as
mean and 95% interval over seeds: claim 1 SFT(Comp)'s Comp I.I.D. and Zero-shot, claim 2 the Zero-shot
difference of SFT(Mem+Ctx)->RL(Comp) over SFT(Comp), claim 3 RL(Comp)'s Zero-shot gain from each base.
A preset that has not run is listed as such.
"""
from __future__ import annotations

import json
from pathlib import Path

from .claims import AMPL, ATOMIC, COMP, SYNTH, comp, gain, verdicts
from .cost import cost
from .figures import plt, save_figure
from .intervals import mean_ci, paired_diff_ci
from .tables import read_csv

# figure -> (what it measures, how it is computed from metrics.csv's rows: (mean, 95% half-width) or None)
FIGURES = {
    "SFT(Comp) I.I.D.": lambda m: _level(m, COMP, "iid"),
    "SFT(Comp) Zero-shot": lambda m: _level(m, COMP, "zero_shot"),
    "RL from SFT(Mem+Ctx) minus SFT(Comp), Zero-shot": lambda m: _difference(m, SYNTH, COMP),
    "RL gain from SFT(Mem+Ctx), Zero-shot": lambda m: gain(m, ATOMIC, SYNTH, "zero_shot"),
    "RL gain from SFT(Comp), Zero-shot": lambda m: gain(m, COMP, AMPL, "zero_shot"),
}
CLAIM_OF = {"SFT(Comp) I.I.D.": 1, "SFT(Comp) Zero-shot": 1, "RL from SFT(Mem+Ctx) minus SFT(Comp), Zero-shot": 2,
            "RL gain from SFT(Mem+Ctx), Zero-shot": 3, "RL gain from SFT(Comp), Zero-shot": 3}


def _level(rows, recipe, level):
    vals = list(comp(rows, recipe, level).values())
    return mean_ci(vals) if vals else None


def _difference(rows, a, b):
    x, y = comp(rows, a, "zero_shot"), comp(rows, b, "zero_shot")
    seeds = sorted(set(x) & set(y))
    return paired_diff_ci([x[s] for s in seeds], [y[s] for s in seeds]) if seeds else None


def _cell(v) -> str:
    if v is None:
        return "-"
    m, half = v
    return f"{m:.1f}" if half != half else f"{m:.1f} ± {half:.1f}"  # half != half: one seed, no interval


def scaling_rows(presets: list[str], results: Path) -> list[dict]:
    rows = []
    for preset in presets:
        folder = results / preset
        if not (folder / "metrics.csv").exists() or not (folder / "headline.json").exists():
            rows.append({"preset": preset, "status": f"not run yet: snakemake --cores all --config preset={preset}"})
            continue
        m, head = read_csv(folder / "metrics.csv"), json.loads((folder / "headline.json").read_text())
        row = {"preset": preset, "parameters": head.get("parameters"),
               "seeds": len({r["seed"] for r in m if r["seed"] != ""}), "status": "run"}
        for name, figure in FIGURES.items():
            v = figure(m)
            row[name], row[f"{name} ±"] = (None, None) if v is None else (round(v[0], 2), round(v[1], 2))
        for v in verdicts(m):
            row[f"claim {v['claim'].split('.')[0]}"] = v["verdict"]
        row["wall min (job min), machine"] = cost(folder)
        rows.append(row)
    return rows


def to_markdown(rows: list[dict]) -> str:
    L = ["# The claims against model size", "",
         "The `scaling` presets of params.yaml: one world and regime, models of different sizes. Comp "
         "exact match (%), mean ± 95% interval over seeds (one seed: the value). Claims: 1 SFT paradox, 2 RL "
         "synthesizes, 3 atomic prerequisite (src/analysis/claims.py). The figure, once two sizes have run: "
         "`results/figures/scaling.png`.", "",
         "| preset | parameters | seeds | " + " | ".join(f"{n} (claim {CLAIM_OF[n]})" for n in FIGURES)
         + " | claims 1/2/3 | wall min (job min), machine |", "|---|---:|---:|" + "---:|" * len(FIGURES) + "---|---|"]
    for r in rows:
        if r["status"] != "run":
            L.append(f"| {r['preset']} | - | - | " + "- | " * len(FIGURES) + f"{r['status']} | - |")
            continue
        size = "-" if r["parameters"] is None else f"{r['parameters'] / 1e6:.2f}M"
        cells = [_cell(None if r[n] is None else (r[n], r[f"{n} ±"])) for n in FIGURES]
        verdict = " / ".join(str(r.get(f"claim {c}", "-")) for c in (1, 2, 3))
        L.append(f"| {r['preset']} | {size} | {r['seeds']} | " + " | ".join(cells)
                 + f" | {verdict} | {r['wall min (job min), machine']} |")
    return "\n".join(L) + "\n"


def scaling_figure(rows: list[dict], out: Path) -> bool:
    """One panel per claim: its figures against the parameter count (log scale), with their intervals.
    False (and no file) where fewer than two sizes have run."""
    done = sorted((r for r in rows if r["status"] == "run" and r["parameters"]), key=lambda r: r["parameters"])
    if len(done) < 2:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for claim, ax in zip((1, 2, 3), axes):
        for name in (n for n in FIGURES if CLAIM_OF[n] == claim):
            pts = [(r["parameters"], r[name], r[f"{name} ±"]) for r in done if r[name] is not None]
            if pts:
                x, y, err = zip(*pts)
                ax.errorbar(x, y, yerr=[0 if e != e else e for e in err], marker="o", capsize=3, label=name)
        ax.set_xscale("log")
        ax.set_xlabel("parameters")
        ax.set_title(f"claim {claim}", fontsize=10)
        ax.axhline(0, color="gray", lw=0.5)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("Comp exact match (%) / points")
    fig.suptitle("The claims' figures against model size (mean ± 95% CI over seeds)")
    fig.tight_layout()
    save_figure(fig, out)
    return True
