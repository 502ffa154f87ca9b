"""Read Snakemake's per-job benchmark files (`benchmark:` in the rules) for the report's speed table.

Snakemake writes them; `dvc repro` does not, so the report falls back on each model's train_stats.json.
"""
from __future__ import annotations

import csv
from pathlib import Path


def summarise(bench_dir: Path) -> list[tuple[str, float, float]]:
    """(job, wall-clock seconds, peak RSS in MiB) per benchmark file, job named by its path."""
    rows = []
    for tsv in sorted(bench_dir.rglob("*.tsv")):
        with open(tsv) as f:
            rec = next(csv.DictReader(f, delimiter="\t"))
        name = tsv.relative_to(bench_dir).with_suffix("").as_posix()
        rows.append((name, float(rec["s"]), float(rec["max_rss"]) if rec["max_rss"] != "NA" else 0.0))
    return rows


def wall_span(bench_dir: Path) -> float | None:
    """Seconds from the first job's start to the last job's end. Snakemake writes a benchmark file when
    its job ends, so a job started at (file time - its seconds). Meaningful for a study run in one go."""
    spans = []
    for tsv in bench_dir.rglob("*.tsv"):
        with open(tsv) as f:
            seconds = float(next(csv.DictReader(f, delimiter="\t"))["s"])
        end = tsv.stat().st_mtime
        spans.append((end - seconds, end))
    return max(e for _, e in spans) - min(s for s, _ in spans) if spans else None
