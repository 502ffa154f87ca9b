"""Read Snakemake's per-job benchmark files (`benchmark:` in the rules) for the report's speed table.

Snakemake writes them; `dvc repro` does not, so the report falls back on each model's train_stats.json.
"""
from __future__ import annotations

import csv
from pathlib import Path


def _records(bench_dir: Path):
    """(benchmark file, its one record) for every job's file."""
    for tsv in sorted(bench_dir.rglob("*.tsv")):
        with open(tsv) as f:
            yield tsv, next(csv.DictReader(f, delimiter="\t"))


def summarise(bench_dir: Path) -> list[tuple[str, float, float]]:
    """(job, wall-clock seconds, peak RSS in MiB) per benchmark file, job named by its path."""
    return [(tsv.relative_to(bench_dir).with_suffix("").as_posix(), float(rec["s"]),
             float(rec["max_rss"]) if rec["max_rss"] != "NA" else 0.0) for tsv, rec in _records(bench_dir)]


def wall_span(bench_dir: Path) -> float | None:
    """Seconds from the first job's start to the last job's end. Snakemake writes a benchmark file when
    its job ends, so a job started at (file time - its seconds). Meaningful for a study run in one go."""
    spans = [(tsv.stat().st_mtime - float(rec["s"]), tsv.stat().st_mtime) for tsv, rec in _records(bench_dir)]
    return max(e for _, e in spans) - min(s for s, _ in spans) if spans else None
