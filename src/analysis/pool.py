"""Entry point: join a study run one seed per preset (params.yaml `pools`) into the study the parts make.

    python -m src.analysis.pool            # every pool whose parts have all run

A study too long for one sitting runs as parts, presets identical but for their seeds (src/params/check.py
refuses any other difference), each a whole Snakemake run whose report is committed. What is joined here
is what the committed files hold: the parts' metrics.csv (rows are per seed: joining them is the study's
metrics.csv), their headline.json (the copy shortcut's counts, the same data in every part; the reading
probes' means and Comp Zero-shot apart by where the answer is, one seed each) and their cost.
results/<study>/ receives metrics.csv, results.md, summary.json, headline.json, figures/comp_levels.png
and a REPORT.md with the claims over all seeds, the Comp table beside the paper's, the premise, Zero-shot
by where the answer is and the cost; pass@k, error localisation and the rest stay in each part's own
report (their first seed), linked from it.
"""
from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import yaml

from ..io import atomic_write_text
from ..models import Model
from ..params.check import results_dir, study
from . import premise
from .claims import claim_values, fmt, verdicts
from .figures import comp_figure
from .render import claims_table, study_values
from .tables import comp_beside_paper, read_csv, summary, to_csv, to_markdown

log = logging.getLogger(__name__)


def part_reading(heads: list[dict]) -> list[dict]:
    """premise.reading_rows' shape from the parts' headline means (one seed per part, to 0.1 points)."""
    out: dict[str, dict] = {}
    for head in heads:
        for model, r in ((head.get("premise") or {}).get("reading") or {}).items():
            row = out.setdefault(model, {"model": model, "n": {}, "kept_old": [],
                                         **{k: [] for k in premise.READING_PROBES}})
            for k in (*premise.READING_PROBES, "kept_old"):
                row[k].append(r[k])
    return list(out.values())


def part_answers(heads: list[dict]) -> dict:
    """premise.zero_shot_by_answer over the parts: each kind's mean over parts. The parts test the same questions
    (the same data), so each kind has the same count in every part and the mean is the pooled share (to 0.1
    points, as the parts round); None where a part has no such question."""
    bys = [(h.get("premise") or {}).get("zero_shot_by_answer") or {} for h in heads]
    out = {}
    for model, kinds in bys[0].items():
        out[model] = {}
        for k in kinds:
            values = [by.get(model, {}).get(k) for by in bys]
            out[model][k] = None if None in values else round(sum(values) / len(values), 1)
    return out


def answers_section(by: dict) -> list[str]:
    """RL(Comp)'s Zero-shot before -> after, apart by where the answer is (the parts' REPORT.md, pooled)."""
    kinds = ("copyable", "printed, not to copy", "recalled only")
    pairs = premise.rl_pairs(list(by))
    if not pairs:
        return []
    L = ["## What the Comp verdicts rest on", "",
         "Comp Zero-shot exact match (%) before -> after RL(Comp), apart by what the prompt gives (each part's "
         "REPORT.md defines the kinds), mean over the parts: '-' where no test question is of that kind.", "",
         "| RL | answer to copy | answer printed, not to copy | recalled only |", "|---|---:|---:|---:|"]
    for base, rl in pairs:
        L.append(f"| {rl} | " + " | ".join(f"{fmt(by[base].get(k))} -> {fmt(by[rl].get(k))}" for k in kinds) + " |")
    return L + [""]


def cost(heads: list[dict]) -> dict:
    """The joined study's cost: the parts' minutes added (they ran one after another), and their machines."""
    def total(key):
        values = [h.get(key) for h in heads]
        return None if None in values else round(sum(values), 1)
    return {"wall_minutes": total("wall_minutes"), "job_minutes": total("job_minutes"),
            "cpu_minutes": total("cpu_minutes"), "machine": " + ".join(dict.fromkeys(h["machine"] for h in heads))}


def same_code(parts: list[str], heads: list[dict]) -> str:
    """Refuse parts whose models of one stage chain were trained by different code (train_stats.json `code`,
    gathered into each part's headline.json); the sentence REPORT.md gives: checked, or not checkable."""
    older = [part for part, h in zip(parts, heads) if not h.get("code")]
    if older:
        return (f"That the parts ran the same code is not checked: {', '.join(older)} predate the code digest "
                "each model records (train_stats.json `code`).")
    seen: dict[str, tuple[str, str]] = {}  # stage chain (seed dropped) -> (its digest, the part it came from)
    unknown = set()
    for part, h in zip(parts, heads):
        for path, digest in h["code"].items():
            chain = Model.at(path).slug  # the stage chain, whichever the seed
            if digest is None:
                unknown.add(chain)
                continue
            first = seen.setdefault(chain, (digest, part))
            if digest != first[0]:
                raise SystemExit(f"pool: {chain} was trained by different code in {first[1]} and {part}; rerun the "
                                 "parts from one commit")
    unknown = sorted(unknown)
    if unknown:  # models reused from runs before the digest: the same jobs, but their code is not on record
        return ("The parts' models were trained by the same code where it is recorded (train_stats.json `code`); "
                f"not recorded for {', '.join(unknown)}.")
    return "Every part's models were trained by the same code (each model's train_stats.json `code`)."


def join(pool, params_path: Path, results: Path) -> bool:
    """Write results/<study>/ from its parts; False (nothing written) while a part has not run."""
    missing = [p for p in pool.parts if not (results / p / "metrics.csv").exists()
               or not (results / p / "headline.json").exists()]
    if missing:
        log.info("pool %s: parts not run yet: %s", pool.study, ", ".join(missing))
        return False
    p = study(params_path, pool.study)
    rows = [r for part in pool.parts for r in read_csv(results / part / "metrics.csv")]
    order = {m: i for i, m in enumerate(dict.fromkeys(r["model"] for r in rows))}
    base: dict[tuple, dict] = {}  # the base model: one for all seeds, evaluated in every part
    for r in (r for r in rows if r["seed"] == ""):
        if base.setdefault((r["task"], r["level"]), r)["accuracy"] != r["accuracy"]:
            raise SystemExit(f"pool {pool.study}: the parts' base models differ; rerun the parts from one commit")
    rows = list(base.values()) + sorted(
        (r for r in rows if r["seed"] != ""), key=lambda r: (order[r["model"]], int(r["seed"])))
    heads = [json.loads((results / part / "headline.json").read_text()) for part in pool.parts]
    shortcuts = [(h.get("premise") or {}).get("shortcut") for h in heads]
    old = [part for part, s in zip(pool.parts, shortcuts) if s is None]
    if old:
        raise SystemExit(f"pool {pool.study}: the headline.json of {old} predates the copy-shortcut counts; redraw "
                         "each part's report where its outputs are (snakemake --cores all --forcerun report "
                         "--config preset=PART)")
    if any(s != shortcuts[0] for s in shortcuts):  # one world and question set: the parts must agree
        raise SystemExit(f"pool {pool.study}: the parts' copy-shortcut counts differ, so their data differ; "
                         "rerun the parts from one commit")
    code = same_code(pool.parts, heads)
    out = results / pool.study
    claims = verdicts(rows)
    atomic = premise.atomic_rows(rows, p.recipes)
    reading = part_reading(heads)
    for r in reading:
        r["n"] = {k: p.evaluation.reading_questions for k in premise.READING_PROBES}
    atomic_write_text(out / "metrics.csv", to_csv(rows))
    atomic_write_text(out / "results.md", to_markdown(p, rows))
    atomic_write_text(out / "summary.json", json.dumps(summary(p.recipes, rows), indent=2) + "\n")
    comp_figure(rows, p.recipes, out / "figures" / "comp_levels.png")
    spent = cost(heads)
    answers = part_answers(heads)
    head = {"claims": claim_values(claims), "data_design": heads[0].get("data_design"),
            "parameters": heads[0].get("parameters"),
            "premise": {**premise.headline(atomic, shortcuts[0], None, reading), "zero_shot_by_answer": answers},
            "parts": pool.parts, **spent}
    atomic_write_text(out / "headline.json", json.dumps(head, indent=2) + "\n")
    seeds = sorted({r["seed"] for r in rows if r["seed"] != ""})
    L = [f"# Report: does RL synthesize a composite skill, or only amplify? (preset `{pool.study}`, joined)", "",
         f"Joined by `python -m src.analysis.pool` from {len(pool.parts)} studies run one after another, "
         f"identical but for their seeds (seeds {', '.join(seeds)}): "
         + ", ".join(f"[{part}](../{part}/REPORT.md)" for part in pool.parts)
         + ". Each ran as `snakemake --cores all --config preset=PART`; pass@k, error localisation, hidden states "
           "and training curves are in each part's report (its seed). " + code, ""]
    L += claims_table(claims)
    L += ["", "## Comp exact match (%), mean ± 95% CI over seeds", "", "![Comp by recipe](figures/comp_levels.png)",
          "", *comp_beside_paper(rows, p.recipes), "",
          "Every task, model and seed: [results.md](results.md), [metrics.csv](metrics.csv).", ""]
    L += premise.section(atomic, shortcuts[0], reading)
    L += answers_section(answers)
    L += ["## Cost", "", "| part | seeds | wall min | job min | CPU min | machine |", "|---|---|---:|---:|---:|---|"]
    for part, h in zip(pool.parts, heads):
        part_seeds = sorted({r["seed"] for r in read_csv(results / part / "metrics.csv") if r["seed"] != ""})
        L.append(f"| {part} | {', '.join(part_seeds)} | {h.get('wall_minutes')} | {h.get('job_minutes')} | "
                 f"{h.get('cpu_minutes')} | {h['machine']} |")
    L += [f"| all | {', '.join(seeds)} | {spent['wall_minutes']} | {spent['job_minutes']} | {spent['cpu_minutes']} "
          f"| {spent['machine']} |", "", "## Parameters", "", "```yaml",
          yaml.safe_dump(study_values(p), sort_keys=False, width=110).rstrip(), "```", ""]
    atomic_write_text(out / "REPORT.md", "\n".join(L))
    log.info("wrote %s", out / "REPORT.md")
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml", type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for pool in study(args.params).pools:
        join(pool, args.params, results_dir(pool.study).parent)


if __name__ == "__main__":
    main()
