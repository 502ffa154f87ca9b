"""Summarise Snakemake's per-job benchmark files into results/<preset>/timing.md.

Run after a study: `python -m src.evaluation.timing --preset default`. (Snakemake writes the
benchmarks; `dvc repro` does not, so this is a report helper rather than a DAG stage.)
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

from ..config import load_params, results_dir
from ..io import atomic_write_text


def summarise(bench_dir: Path) -> list[tuple[str, float, float]]:
    rows = []
    for tsv in sorted(bench_dir.rglob("*.tsv")):
        with open(tsv) as f:
            rec = next(csv.DictReader(f, delimiter="\t"))
        name = tsv.relative_to(bench_dir).with_suffix("").as_posix()
        rows.append((name, float(rec["s"]), float(rec["max_rss"]) if rec["max_rss"] != "NA" else 0.0))
    return rows


def to_markdown(preset: str, rows) -> str:
    total = sum(s for _, s, _ in rows)
    lines = [f"# Stage times: preset `{preset}`", "",
             "Wall-clock seconds and peak resident memory of each job, from Snakemake's `benchmark:` files.", "",
             "| job | seconds | peak RSS (MiB) |", "|---|---:|---:|"]
    lines += [f"| {name} | {s:.0f} | {rss:.0f} |" for name, s, rss in rows]
    lines += [f"| **all jobs** | **{total:.0f}** ({total / 60:.1f} min) | **{max((r for *_, r in rows), default=0):.0f}** |"]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    args = ap.parse_args()
    cfg = load_params(args.params, args.preset)
    out = results_dir(cfg)
    atomic_write_text(out / "timing.md", to_markdown(cfg["preset"], summarise(out / "benchmarks")))


if __name__ == "__main__":
    main()
