"""The study's speed: job times, training throughput against the machine's peak, and the targets.

Job times come from Snakemake's per-job benchmark files (`benchmark:` in the rules); `dvc repro` writes
none, so the report falls back on each model's train_stats.json. Throughput is in model FLOP/s
(6 x parameters x real tokens, padding excluded) per CPU-second of the job (`time.process_time`, all its
threads), compared with the matmul peak per thread in GFLOP per CPU-second measured on the same machine
(`src/evaluation/benchmark.py matmul`). CPU time, unlike the wall clock, does not move when other jobs
share the cores, so the same job reads the same share of the peak alone or beside a competing load.
"""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from statistics import median

from ..models import BASE_SLUG, Model

# Targets of the default study on the 2-core laptop (issue 34, "The whole default study in one sitting"),
# each a share of the per-thread fp32 peak in CPU time.
INJECT_SHARE = 0.45  # knowledge injection
SFT_SHARE = 0.45  # an SFT job
GRPO_SHARE = 0.25  # a GRPO job (sampling included in its time, counted as 6 x parameters x tokens)
BATCHED_SPEEDUP = 10.0  # batched generation over one question at a time
STUDY_MINUTES = 150.0  # wall time of the whole default study on 2 quiet cores


def job_name(tsv: Path) -> str:
    """A benchmark file's job: its path under benchmarks/, e.g. 'seed0/sft-comp' or 'seed0/sft-comp/evaluate'."""
    parts = Path(tsv).with_suffix("").parts
    return "/".join(parts[len(parts) - parts[::-1].index("benchmarks"):])


def _records(benchmarks: list[Path]):
    """(benchmark file, its one record) for every job's file that exists (`dvc repro` writes none); an empty
    one (`snakemake --touch` makes them for outputs that DVC never writes) is skipped."""
    for tsv in sorted(map(Path, benchmarks)):
        if not tsv.exists():
            continue
        with open(tsv) as f:
            record = next(csv.DictReader(f, delimiter="\t"), None)
        if record:
            yield tsv, record


def _number(x: str | None) -> float | None:
    return None if x in (None, "", "NA", "-") else float(x)


def summarise(benchmarks: list[Path]) -> list[tuple[str, float, float, float | None]]:
    """(job, wall-clock seconds, peak RSS in MiB, CPU seconds) per benchmark file, in the order of the files'
    paths."""
    return [(job_name(tsv), float(rec["s"]), _number(rec["max_rss"]) or 0.0, _number(rec.get("cpu_time")))
            for tsv, rec in _records(benchmarks)]


def wall_span(benchmarks: list[Path]) -> float | None:
    """The study's wall time: seconds during which at least one of its jobs ran (the union of the jobs'
    intervals). Snakemake writes a benchmark file when its job ends, so a job ran from (file time - its
    seconds) to the file time. For a study run in one go this is its first job's start to its last job's
    end; a study resumed later, or one that reused another's finished jobs, does not count the idle gap."""
    spans = sorted((tsv.stat().st_mtime - float(rec["s"]), tsv.stat().st_mtime) for tsv, rec in _records(benchmarks))
    if not spans:
        return None
    total, (start, end) = 0.0, spans[0]
    for s, e in spans[1:]:
        if s > end:  # a gap: close the busy stretch
            total, start = total + end - start, s
        end = max(end, e)
    return total + end - start


def speed_rows(models: dict[str, Path], benchmarks: list[Path]) -> list[dict]:
    """One row per job (speed.csv): seconds and peak RSS; for training jobs (each model folder's
    train_stats.json) also tokens/s, model GFLOP/s, threads and, for GRPO, completions per second and the
    share of time spent sampling them."""
    bench = {name: (s, rss, cpu) for name, s, rss, cpu in summarise(benchmarks)}
    rows = []
    for name, folder in sorted(models.items(), key=lambda kv: Path(kv[0])):
        if not (folder / "train_stats.json").exists():
            continue
        st = json.loads((folder / "train_stats.json").read_text())
        seconds, rss, cpu = bench.get(name, (st["runtime_s"], 0, st.get("cpu_s")))
        rows.append({"job": name, "seconds": round(seconds, 1), "cpu_s": None if cpu is None else round(cpu, 1),
                     "peak_rss_mib": round(rss), "train_s": round(st["runtime_s"], 1),
                     "threads": st.get("threads"), "tokens_per_s": round(st["tokens_per_s"]),
                     "model_gflops": round(st["model_flops_per_s"] / 1e9, 2),
                     "model_gflops_per_cpu_s": (round(st["model_flops_per_cpu_s"] / 1e9, 2)
                                                if "model_flops_per_cpu_s" in st else None),
                     "samples_per_s": round(st["samples_per_s"], 2) if "samples_per_s" in st else None,
                     "generation_share": (round(st["generation_cpu_s"] / st["cpu_s"], 3) if "generation_cpu_s" in st
                                          else round(st["generation_s"] / st["runtime_s"], 3)
                                          if "generation_s" in st else None)})
    trained = {r["job"] for r in rows}
    for name, (s, rss, cpu) in bench.items():
        if name not in trained:
            rows.append({"job": name, "seconds": round(s, 1), "cpu_s": None if cpu is None else round(cpu, 1),
                         "peak_rss_mib": round(rss), "train_s": None, "threads": None, "tokens_per_s": None,
                         "model_gflops": None, "model_gflops_per_cpu_s": None, "samples_per_s": None,
                         "generation_share": None})
    return rows


def peak_share(row: dict, peak: dict) -> float:
    """A training job's share of the peak: on the CPU its model GFLOP per CPU-second over the per-thread peak
    in GFLOP per CPU-second (a run older than CPU timing: wall-clock FLOP/s over the peak scaled to the job's
    threads); a GPU job: its FLOP/s over the GPU's peak."""
    if peak["device"] == "cpu" and row.get("model_gflops_per_cpu_s") and peak.get("fp32_gflops_per_cpu_s"):
        return row["model_gflops_per_cpu_s"] / peak["fp32_gflops_per_cpu_s"]
    scale = 1.0 if peak["device"] != "cpu" else (row["threads"] or peak["threads"]) / peak["threads"]
    return row["model_gflops"] / (peak["fp32_gflops"] * scale)


def _kind(job: str) -> str:
    """A training job's method (inject, sft, lora, grpo), from its model's folder; 'other' for the generic model."""
    if job == BASE_SLUG:
        return "inject"
    return Model.at(job).step.method if job.startswith("seed") else "other"


def targets(rows: list[dict], peak: dict, generation: dict, wall_s: float | None) -> list[dict]:
    """The speed targets, each with what was measured and whether it is met (None: nothing to judge)."""
    out = []
    trained = [r for r in rows if r["model_gflops"] is not None]
    inject = next((r for r in trained if r["job"] == BASE_SLUG), None)
    if inject:
        share = peak_share(inject, peak)
        out.append({"what": "knowledge injection", "target": f">= {INJECT_SHARE:.0%} of the peak",
                    "measured": f"{inject['tokens_per_s']} tokens/s ({inject['threads'] or peak['threads']} threads), "
                                f"{share:.0%} of the peak",
                    "met": share >= INJECT_SHARE})
    sft = [r for r in trained if _kind(r["job"]) in ("sft", "lora")]
    if sft:
        shares = [peak_share(r, peak) for r in sft]
        threads = sorted({r["threads"] or peak["threads"] for r in sft})
        out.append({"what": f"SFT ({len(sft)} jobs, {'/'.join(map(str, threads))} thread(s) each)",
                    "target": f">= {SFT_SHARE:.0%} of the peak",
                    "measured": f"median {median(r['tokens_per_s'] for r in sft):.0f} tokens/s, {median(shares):.0%} "
                                f"of the peak (lowest {min(shares):.0%})",
                    "met": median(shares) >= SFT_SHARE})
    unit = " of CPU time" if generation.get("clock") == "cpu" else ""
    out.append({"what": f"batched generation ({generation['questions']} Comp questions, "
                        f"batch {generation['batch_size']})",
                "target": f">= {BATCHED_SPEEDUP:.0f}x one question at a time",
                "measured": f"{generation['speedup']:.1f}x ({generation['batched_s']:.1f} s vs "
                            f"{generation['one_at_a_time_s']:.1f} s{unit}); transformers' `generate`, batched: "
                            f"{generation['library_batched_s']:.1f} s",
                "met": generation["speedup"] >= BATCHED_SPEEDUP})
    grpo = [r for r in trained if r["samples_per_s"] is not None]
    if grpo:
        shares = [peak_share(r, peak) for r in grpo]
        out.append({"what": f"GRPO ({len(grpo)} jobs)", "target": f">= {GRPO_SHARE:.0%} of the peak",
                    "measured": f"median {median(r['samples_per_s'] for r in grpo):.1f} completions/s, "
                                f"{median(shares):.0%} of the peak (lowest {min(shares):.0%}); a step is "
                                f"{median(r['generation_share'] for r in grpo):.0%} sampling and scoring, "
                                f"{1 - median(r['generation_share'] for r in grpo):.0%} update",
                    "met": median(shares) >= GRPO_SHARE})
    if wall_s is not None:
        out.append({"what": "the whole study, wall time", "target": f"<= {STUDY_MINUTES:.0f} min (default study)",
                    "measured": f"{wall_s / 60:.1f} min", "met": wall_s / 60 <= STUDY_MINUTES})
    return out


def speed_section(rows: list[dict], peak: dict, generation: dict, wall_s: float | None) -> list[str]:
    """REPORT.md's speed section: the machine, the targets, then every job."""
    total = sum(r["seconds"] for r in rows)
    cpu = sum(r.get("cpu_s") or 0 for r in rows)
    rss = max((r["peak_rss_mib"] for r in rows), default=0)
    per_cpu_s = (f" per thread: {peak['fp32_gflops_per_cpu_s']:.0f} GFLOP per CPU-second fp32, "
                 f"{peak['bf16_gflops_per_cpu_s']:.0f} bf16 (the yardstick of the shares below; by the wall clock "
                 f"with {peak['threads']} threads: {peak['fp32_gflops']:.0f} GFLOP/s fp32)"
                 if "fp32_gflops_per_cpu_s" in peak else
                 f" ({peak['threads']} threads): {peak['fp32_gflops']:.0f} GFLOP/s fp32, {peak['bf16_gflops']:.0f} "
                 "GFLOP/s bf16")
    L = ["## Speed", "",
         f"Machine: {peak.get('machine', peak['device'])}; measured matmul peak ({peak['device']}){per_cpu_s}.",
         f"Wall time of the study: {'-' if wall_s is None else f'{wall_s / 60:.1f} min'} (while at least one job "
         f"ran); sum of job times: {total:.0f} s ({total / 60:.1f} min; jobs run side by side as `--cores` "
         f"allows); CPU time of all jobs: {cpu / 60:.1f} min; largest peak RSS of a job: {rss / 1024:.2f} GiB "
         "(Snakemake's `benchmark:` files; absent under `dvc repro`). Model FLOPs = 6 x parameters x real tokens "
         "(padding excluded); a job's share of the peak is its model GFLOP per CPU-second over the peak's.", "",
         "| what | measured | target | met |", "|---|---|---|---|"]
    for t in targets(rows, peak, generation, wall_s):
        met = "-" if t["met"] is None else ("yes" if t["met"] else "**no**")
        L.append(f"| {t['what']} | {t['measured']} | {t['target']} | {met} |")
    L += ["", "| job | seconds | CPU seconds | peak RSS (MiB) | threads | tokens/s | model GFLOP/s | "
          "model GFLOP per CPU-s | share of the peak | GRPO completions/s | GRPO sampling share |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def cell(x, fmt="{}"):
        return "-" if x is None else fmt.format(x)
    for r in rows:
        share = peak_share(r, peak) if r["model_gflops"] is not None else None
        L.append(f"| {r['job']} | {r['seconds']:.0f} | {cell(r.get('cpu_s'), '{:.0f}')} | {r['peak_rss_mib']} | "
                 f"{cell(r['threads'])} | {cell(r['tokens_per_s'])} | {cell(r['model_gflops'])} | "
                 f"{cell(r.get('model_gflops_per_cpu_s'))} | {cell(share, '{:.0%}')} | {cell(r['samples_per_s'])} | "
                 f"{cell(r['generation_share'], '{:.0%}')} |")
    return L + [""]


def cost(folder: Path) -> str:
    """'wall minutes (job minutes), machine' of a study's run: its headline.json, or for a run older than
    that file, the Speed section of its REPORT.md; '-' where neither was written (e.g. runs copied back
    from a GPU machine without their benchmarks)."""
    if (folder / "headline.json").exists():
        h = json.loads((folder / "headline.json").read_text())
        wall, job, machine = h["wall_minutes"], h["job_minutes"], h["machine"]
    elif (folder / "REPORT.md").exists():
        text = (folder / "REPORT.md").read_text()
        w = re.search(r"Wall time of the study: ([\d.]+) min", text)
        j = re.search(r"sum of job times: \d+ s \(([\d.]+) min", text)
        m = re.search(r"^Machine: ([^;]+);", text, re.M) or re.search(r"peak of this machine \(([^)]+)\)", text)
        wall, job, machine = (float(w[1]) if w else None), (float(j[1]) if j else None), (m[1] if m else "?")
    else:
        return "-"
    if wall is None:
        return "-"
    return f"{wall:.1f} ({job:.1f}), {machine}" if job is not None else f"{wall:.1f}, {machine}"
