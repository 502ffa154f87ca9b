"""Entry point: results/<preset>/REPORT.md, the study at a glance, and the files behind it.

Reads the study's files (metrics.csv, the pass@k samples, the predictions, the RL models' training
statistics, the speed benchmarks), runs the analyses (claims.py, passk_stats.py, analyses.py, timing.py),
and writes, all here: REPORT.md (render.py), passk_samples.csv, passk.csv, error_localisation.csv,
atomic_errors.csv, speed.csv, zero_shot_relations.csv, passk_<level>.csv (one column per model), the figures (figures.py) and headline.json (the
claims' verdicts and the study's cost: what `dvc metrics show` and the sweep table read).
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..config import load_params, share_recipes
from ..io import atomic_write_text, csv_text
from . import figures
from .analyses import (atomic_error_rows, comp_test_sizes, error_rows, passk_samples, rl_signal_rows,
                       training_curves, zero_shot_relation_rows)
from .claims import verdicts
from ..data.questions import LEVELS
from .passk_stats import passk_advantages, passk_curves, passk_rows
from .render import report
from .tables import read_csv
from .timing import speed_rows, wall_span

log = logging.getLogger(__name__)


def headline(claims: list[dict], speed: list[dict], peak: dict, wall_s: float | None) -> dict:
    """The study in a few values: each claim's verdict and figures, and what the study cost on which machine."""
    return {"claims": {c["claim"].split(".")[0]: {"verdict": c["verdict"], "ours": c["ours"]} for c in claims},
            "wall_minutes": None if wall_s is None else round(wall_s / 60, 1),
            "job_minutes": round(sum(r["seconds"] for r in speed) / 60, 1),
            "machine": peak.get("machine", peak["device"]), "fp32_gflops": round(peak["fp32_gflops"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--results", required=True, type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    cfg, results = load_params(args.params, args.preset, every_preset=False), args.results

    # read and analyse
    rows = read_csv(results / "metrics.csv")
    samples = passk_samples(results, cfg)
    pk = passk_rows(samples)
    errs, atomic_errs = error_rows(results, cfg), atomic_error_rows(results, cfg)
    speed = speed_rows(results)
    zero_shot = zero_shot_relation_rows(results, cfg)
    gen = json.loads((results / "speed" / "generation.json").read_text())
    peak = json.loads((results / "speed" / "matmul_peak.json").read_text())
    wall = wall_span(results / "benchmarks") if (results / "benchmarks").exists() else None

    # write: tables, figures, then the report that links them
    for name, table in (("passk_samples", samples), ("passk", pk), ("error_localisation", errs),
                        ("atomic_errors", atomic_errs), ("speed", speed), ("zero_shot_relations", zero_shot)):
        atomic_write_text(results / f"{name}.csv", csv_text(table))
    for lv in LEVELS:  # one curve per model, for `dvc plots show`
        atomic_write_text(results / f"passk_{lv}.csv", csv_text(passk_curves(pk, lv)))
    figures.passk_figure(pk, results / "figures" / "passk.png")
    figures.comp_figure(rows, cfg["recipes"], results / "figures" / "comp_levels.png")
    figures.curves_figure(training_curves(results, cfg), results / "figures" / "training_curves.png")
    if share_recipes(cfg["recipes"]):
        figures.share_figure(rows, share_recipes(cfg["recipes"]), results / "figures" / "data_share.png")
    text = report(cfg, rows, verdicts(rows), passk_advantages(samples), errs, atomic_errs,
                  rl_signal_rows(results, cfg), speed, peak, gen, wall, zero_shot, comp_test_sizes(results))
    atomic_write_text(results / "REPORT.md", text)
    atomic_write_text(results / "headline.json", json.dumps(headline(verdicts(rows), speed, peak, wall), indent=2) + "\n")
    log.info("wrote %s", results / "REPORT.md")


if __name__ == "__main__":
    main()
