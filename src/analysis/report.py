"""Entry point: results/<preset>/REPORT.md, the study at a glance, and the files behind it.

Reads the study's files (metrics.csv, the pass@k samples, the predictions, the RL models' training
statistics, the speed benchmarks), runs the analyses (claims.py, passk.py, per_model.py, cost.py,
path_length.py), and writes, all here: REPORT.md (render.py), passk_samples.csv, passk.csv,
error_localisation.csv, atomic_errors.csv, speed.csv, zero_shot_relations.csv, passk_<level>.csv (one
column per model), training_curves.csv (the curves' data), path_length.csv (accuracy by path length),
the figures (figures.py, curves.py) and headline.json (the claims' verdicts and the study's cost: what
`dvc metrics show` and the sweep table read).
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from ..data.questions import LEVELS
from ..io import atomic_write_text, csv_text
from ..models import BASE_LABEL, BASE_SLUG, Model
from ..params import stages
from ..recipes import share_recipes
from . import curves, figures, path_length, premise
from . import shifts as hidden
from .claims import AMPL, CLAIM_MODELS, SYNTH, claim_values, verdicts
from .cost import speed_rows, wall_span
from .outputs import at
from .passk import passk_advantages, passk_curves, passk_rows
from .per_model import (
    StudyFiles,
    answer_source_rows,
    atomic_error_rows,
    comp_test_sizes,
    error_rows,
    passk_samples,
    rl_signal_rows,
    training_curves,
    zero_shot_relation_rows,
)
from .render import report
from .tables import read_csv

log = logging.getLogger(__name__)


def parameter_count(model: Path) -> int | None:
    """The model's size as its trainer recorded it (train_stats.json); None where it was not trained here."""
    stats = model / "train_stats.json"
    return json.loads(stats.read_text()).get("parameters") if stats.exists() else None


def code_digests(models: dict[str, Path]) -> dict[str, str | None]:
    """Each trained model's code digest (train_stats.json `code`; None where it predates them)."""
    stats = {path: folder / "train_stats.json" for path, folder in models.items()}
    return {path: json.loads(f.read_text()).get("code") for path, f in stats.items() if f.exists()}


def headline(claims: list[dict], speed: list[dict], peak: dict, wall_s: float | None, parameters: int | None,
             design: str, premise_values: dict | None = None, code: dict | None = None) -> dict:
    """The study in a few values: each claim's verdict and figures, its data design and premise (atomic skills,
    copy shortcut), the model's size, and what the study cost on which machine."""
    return {"claims": claim_values(claims),
            "data_design": design, "premise": premise_values, "parameters": parameters,
            "wall_minutes": None if wall_s is None else round(wall_s / 60, 1),
            "job_minutes": round(sum(r["seconds"] for r in speed) / 60, 1),
            "cpu_minutes": (round(sum(r["cpu_s"] for r in speed) / 60, 1)
                            if speed and all(r.get("cpu_s") is not None for r in speed) else None),
            "machine": peak.get("machine", peak["device"]), "fp32_gflops": round(peak["fp32_gflops"]),
            "fp32_gflops_per_cpu_s": (round(peak["fp32_gflops_per_cpu_s"])
                                      if "fp32_gflops_per_cpu_s" in peak else None),
            "code": code or {}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    # what the report rule declares as its inputs, and nothing else is read
    ap.add_argument("--metrics", required=True, type=Path, help="metrics.csv")
    ap.add_argument("--data", required=True, type=Path, help="the data folder")
    ap.add_argument("--predictions", nargs="+", required=True, help="every evaluated model's predictions.jsonl")
    ap.add_argument("--samples", nargs="*", default=[], help="the pass@k samples.json files")
    ap.add_argument("--shifts", nargs="*", default=[], help="the RL models' hidden-state shifts (.npz)")
    ap.add_argument("--reading", nargs="*", default=[], help="the reading probes of the SFT models that learned Ctx")
    ap.add_argument("--models", nargs="+", required=True, help="the trained models' folders")
    ap.add_argument("--generation", required=True, type=Path, help="the generation benchmark's json")
    ap.add_argument("--matmul", required=True, type=Path, help="the matmul peak's json")
    ap.add_argument("--benchmarks", nargs="*", default=[], help="Snakemake's job benchmark files (if written)")
    ap.add_argument("--out", required=True, type=Path, help="the folder of REPORT.md and the files beside it")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    p, results = stages.load("report", args.params, args.preset).params, args.out
    files = StudyFiles.of(args.metrics, args.data, args.predictions, args.samples, args.shifts, args.reading,
                          args.models, args.generation, args.matmul, args.benchmarks)

    # read and analyse
    rows = read_csv(files.metrics)
    samples = passk_samples(files, p)
    pk = passk_rows(samples)
    errs, atomic_errs = error_rows(files, p), atomic_error_rows(files, p)
    speed = speed_rows(files.models, files.benchmarks)
    zero_shot = zero_shot_relation_rows(files, p)
    gen = json.loads(files.generation.read_text())
    peak = json.loads(files.matmul.read_text())
    wall = wall_span(files.benchmarks)
    shifts = {Model.at(path).label: hidden.load(f) for path, f in files.shifts.items()}
    shift_summary = hidden.summary(shifts) if shifts else None

    # write: tables, figures, then the report that links them
    for name, table in (("passk_samples_csv", samples), ("passk_csv", pk), ("errors_csv", errs),
                        ("atomic_errors_csv", atomic_errs), ("speed_csv", speed), ("zero_shot_csv", zero_shot),
                        ("shifts_csv", [r for label, s in shifts.items() for r in hidden.layer_rows(label, s)])):
        atomic_write_text(at(results, name), csv_text(table))
    for lv in LEVELS:  # one curve per model, for `dvc plots show`
        atomic_write_text(at(results, f"passk_{lv}_csv"), csv_text(passk_curves(pk, lv)))
    figures.passk_figure(pk, at(results, "passk_png"))
    figures.comp_figure(rows, p.recipes, at(results, "comp_png"))
    lengths = path_length.length_rows(files.data, files.predictions)
    atomic_write_text(at(results, "path_length_csv"), csv_text(lengths, path_length.COLUMNS))
    training = training_curves(files, p)  # the curves' data beside the figure: redrawn without retraining
    atomic_write_text(at(results, "curves_csv"), csv_text(curves.to_rows(training), list(curves.COLUMNS)))
    curves.curves_figure(training, CLAIM_MODELS, BASE_LABEL, at(results, "curves_png"))
    if shifts:
        projected, explained = hidden.pca(shifts)
        figures.shifts_figure(projected, shifts, explained, at(results, "shifts_png"))
    if share_recipes(p.recipes):
        figures.share_figure(rows, share_recipes(p.recipes), at(results, "share_png"))
    sizes = comp_test_sizes(files)
    atomic, shortcut = premise.atomic_rows(rows, p.recipes), premise.shortcut_rows(files.data)
    reading = premise.reading_rows(files.reading)
    sources = answer_source_rows(files, p)
    text = report(p, rows, verdicts(rows), passk_advantages(samples), errs, atomic_errs,
                  rl_signal_rows(files, p), speed, peak, gen, wall, zero_shot, sizes,
                  shift_summary, shift_summary and hidden.contrast(shift_summary["models"], SYNTH, AMPL),
                  sources, lengths, premise.section(atomic, shortcut, reading))
    atomic_write_text(at(results, "report"), text)
    size = parameter_count(files.models[BASE_SLUG]) if BASE_SLUG in files.models else None
    premise_values = premise.headline(atomic, shortcut, sources, reading)
    atomic_write_text(at(results, "headline"), json.dumps(
        headline(verdicts(rows), speed, peak, wall, size, sizes["design"], premise_values,
                 code_digests(files.models)), indent=2) + "\n")
    log.info("wrote %s", at(results, "report"))


if __name__ == "__main__":
    main()
