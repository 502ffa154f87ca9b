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
