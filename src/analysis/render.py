"""REPORT.md's text from the study's rows and analyses: the claims beside the paper, pass@k, error
localisation, the atomic skills' errors, RL's learning signal, the paper's other experiments, speed, and
the command and parameters. Formatting, and the sums and means over seeds that a table shows; the
analyses come in computed (src/analysis/report.py)."""
from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING

import yaml

from ..data.questions import LEVELS
from ..params.settings.declare import as_dict
from ..recipes import ATOMIC_SFT, chain_label, chain_slug, rl_pairs, same_questions_recipes, share_recipes
from . import path_length
from .claims import ATOMIC, cell_pm, comp_cell, fmt, gain
from .cost import speed_section
from .errors import VALUE_SOURCES
from .paper import PAPER_ERRORS
from .per_model import ERROR_KINDS
from .premise import answer_source_section
from .tables import LEVEL_NAMES, comp_beside_paper

if TYPE_CHECKING:
    from ..params.settings.study import Params


def _seed_text(n: int) -> str:
    return "the first seed" if n == 1 else f"the first {n} seeds"


def atomic_error_section(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    L = [f"## Where the atomic skills fail ({chain_label(chain_slug([ATOMIC_SFT]))})", "",
         "Wrong answers on the Mem and Ctx tests, summed over seeds, by the first hop of the chain that "
         "goes wrong: a *wrong value* names the right person and relation but another value (the fact "
         "was not recalled, or not read from the context); a *wrong step* follows another relation or "
         "person; a *wrong answer* has every hop right. Shares of the wrong answers (%):", "",
         "| task | level | questions | wrong | first error at hop 1 | wrong value | wrong step | wrong answer |",
         "|---|---|---:|---:|---:|---:|---:|---:|"]
    for task in dict.fromkeys(r["task"] for r in rows):
        for lv in LEVELS:
            rs = [r for r in rows if r["task"] == task and r["level"] == lv]
            n, wrong = sum(r["questions"] for r in rs), sum(r["wrong"] for r in rs)
            share = lambda k: fmt(100 * sum(r[k] for r in rs) / wrong if wrong else None)  # noqa: E731
            L.append(f"| {task.capitalize()} | {LEVEL_NAMES[lv]} | {n} | {wrong} | {share('first_hop')} | "
                     + " | ".join(share(k) for k in ERROR_KINDS) + " |")
    ctx = [r for r in rows if r["task"] == "ctx" and f"value: {VALUE_SOURCES[0]}" in r]
    if any(r["value"] for r in ctx):
        L += ["", "Where a wrong value read from the prompt (Ctx) comes from: *not in the prompt* (made up or "
              "recalled), *another hop's fact* (a fact of another person of the chain: the wrong hop was read), "
              "*same relation, another person* (someone outside the chain, e.g. a distractor paragraph: the name "
              "was not matched), *another fact*. Shares of the wrong values (%):", "",
              "| level | wrong values | " + " | ".join(VALUE_SOURCES) + " |",
              "|---|---:|" + "---:|" * len(VALUE_SOURCES)]
        for lv in LEVELS:
            rs = [r for r in ctx if r["level"] == lv]
            n = sum(r["value"] for r in rs)
            L.append(f"| {LEVEL_NAMES[lv]} | {n} | " + " | ".join(
                fmt(100 * sum(r[f"value: {k}"] for r in rs) / n if n else None) for k in VALUE_SOURCES) + " |")
    return L + ["", "Per seed: [atomic_errors.csv](atomic_errors.csv).", ""]


def zero_shot_section(rows: list[dict], sizes: dict) -> list[str]:
    """Comp Zero-shot accuracy per zero-shot relation and model, summed over seeds."""
    paths = sizes["paths"]
    L = ["## What the Comp verdicts rest on", "",
         f"Data: {sizes['design']}. "
         f"Comp test paths: {paths['iid']} I.I.D., {paths['composition']} Composition, {paths['zero_shot']} Zero-shot, "
         f"over {len(sizes['zero_shot_relations'])} zero-shot relations.", ""]
    if not rows:
        return L
    relations = list(dict.fromkeys(r["relation"] for r in rows))
    trained = {r["relation"]: r["trained_in"] for r in rows}
    L += ["Comp Zero-shot exact match (%) by the zero-shot relation a question holds, summed over seeds "
          "(a question with two such relations counts under both); *trained in*: the atomic tasks whose "
          "training questions ask it.", "",
          "| model | " + " | ".join(f"{rel} (trained in {trained[rel]})" for rel in relations) + " |",
          "|---|" + "---:|" * len(relations)]
    for model in dict.fromkeys(r["model"] for r in rows):
        cells = []
        for rel in relations:
            rs = [r for r in rows if r["model"] == model and r["relation"] == rel]
            n = sum(r["questions"] for r in rs)
            cells.append(f"{fmt(100 * sum(r['correct'] for r in rs) / n if n else None)} (n={n})")
        L.append(f"| {model} | " + " | ".join(cells) + " |")
    return L + ["", "Per seed: [zero_shot_relations.csv](zero_shot_relations.csv).", ""]


def rl_signal_section(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    L = ["## RL's learning signal", "",
         "GRPO learns only from groups whose rewards differ. Mean exact-match reward of the sampled completions "
         "during RL, and the steps with at least one such group, summed over seeds:", "",
         "| recipe | seeds | mean reward (%) | steps with a learning signal |", "|---|---:|---:|---:|"]
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        rs = [r for r in rows if r["recipe"] == recipe]
        L.append(f"| {recipe} | {len(rs)} | {100 * sum(r['mean_reward'] for r in rs) / len(rs):.1f} | "
                 f"{sum(r['steps_with_signal'] for r in rs)} of {sum(r['steps'] for r in rs)} |")
    return L + [""]


def other_experiments(rows: list[dict], p: Params) -> list[str]:
    """Sections for the paper's other experiments, where the preset declares their recipes (the data-share
    section shows figures/data_share.png, drawn by the report when `share_recipes` is not empty)."""
    L = []
    head = ["| recipe | " + " | ".join(LEVEL_NAMES[lv] for lv in LEVELS) + " |", "|---|" + "---:|" * len(LEVELS)]
    same = same_questions_recipes(p.recipes)
    if len(same) > 1:
        L += ["## SFT, LoRA and RL on the same Comp questions, from SFT(Mem+Ctx)", "",
              f"Each second stage trains on the {p.training.grpo.questions} Comp questions of RL "
              "(`training.grpo.questions`). Comp exact match (%), mean ± 95% CI over seeds:", ""] + head
        for r in [ATOMIC] + same:
            L.append(f"| {r} | " + " | ".join(comp_cell(rows, r, lv) for lv in LEVELS) + " |")
        L.append("")
    shares = share_recipes(p.recipes)
    if shares:
        L += ["## Share of the atomic data before RL", "", "![data share](figures/data_share.png)", "",
              "SFT(Mem+Ctx@N%) trains on the first N% of each atomic task's questions, then RL(Comp). "
              "Comp exact match (%) of the SFT base and after RL, and RL's Zero-shot gain (paired over seeds):", "",
              "| share | " + " | ".join(f"{LEVEL_NAMES[lv]} base -> RL" for lv in LEVELS) + " | Zero-shot gain |",
              "|---:|" + "---|" * len(LEVELS) + "---:|"]
        for pct, (base, r) in shares.items():
            g = gain(rows, base, r, "zero_shot")
            g_text = "-" if g is None else cell_pm(*g)
            cells = [f"{comp_cell(rows, base, lv)} -> {comp_cell(rows, r, lv)}" for lv in LEVELS]
            L.append(f"| {pct}% | " + " | ".join(cells) + f" | {g_text} |")
        L.append("")
    return L


def sampling_cost(p: Params, gen: dict) -> list[str]:
    """What a larger n costs: the generation benchmark's timing of pass@k sampling, scaled to this study's
    pass@k (every model of the RL pairs, the first seeds, the questions of every level)."""
    t = gen.get("passk_sampling")
    if not t:
        return []
    pk = p.evaluation.passk
    models = pk.seeds * len({m for pair in rl_pairs(p.recipes) for m in pair})
    minutes = t["seconds_per_question"] * pk.questions * len(LEVELS) * models / 60
    return ["### What a larger n costs", "",
            f"Drawing n = {t['samples']} completions took {t['seconds_per_question']:.1f} s "
            f"per question (the generation benchmark, {t['questions']} questions, the base model, whose answers run "
            f"longest); this study's pass@k at n = {t['samples']} ({pk.questions} questions x {len(LEVELS)} levels "
            f"x {models} models) would take about {minutes:.0f} job-minutes. Set `evaluation.passk.samples` "
            f"to {t['samples']} to run it: only the sampling jobs and the report rerun.", ""]


def passk_section(p: Params, advantages: list[dict], gen: dict) -> list[str]:
    L = ["## pass@k: synthesis or amplification?", "", "![pass@k](figures/passk.png)", "",
          f"Unbiased pass@k from n = {p.evaluation.passk.samples} samples per question "
          f"(temperature {p.evaluation.passk.temperature}), {p.evaluation.passk.questions} "
          "Comp test questions per level, "
          f"{_seed_text(p.evaluation.passk.seeds)} (the figure: the first). "
          "RL advantage = pass@k(RL) - pass@k(its base), in points:", "",
          "| recipe | level | questions | advantage at k=1 | at k=max | verdict |", "|---|---|---:|---:|---:|---|"]
    for a in advantages:
        L.append(f"| {a['recipe']} | {LEVEL_NAMES[a['level']]} | {a['questions']} | "
                 f"{cell_pm(a['adv_k1'], a['ci_k1'])} | "
                 f"{cell_pm(a['adv_kmax'], a['ci_kmax'])} (k={a['k_max']}) | {a['verdict']} |")
    L += ["", "± is the 95% interval over questions (paired); a verdict needs an interval that excludes zero: "
          "*persists* if the advantage at the largest k does, *vanishes* if only the one at k=1 does.", ""]
    return L + passk_shortfall(p, advantages) + sampling_cost(p, gen)


def passk_shortfall(p: Params, advantages: list[dict]) -> list[str]:
    """A line per level whose test set holds fewer Comp questions than `evaluation.passk.questions` asks:
    the sampler takes the ones there are (and says so in its log), the report says so here."""
    asked = p.evaluation.passk.questions
    have = {a["level"]: a["distinct"] for a in advantages if a["distinct"] < asked}
    return [f"Fewer questions than asked: `evaluation.passk.questions` = {asked}, but the {LEVEL_NAMES[lv]} "
            f"level has only {n} Comp test questions; its pass@k uses those {n}." for lv, n in have.items()] + (
        [""] if have else [])


def localisation_section(errs: list[dict]) -> list[str]:
    L = ["## Error localisation (Comp, questions wrong before and after RL)", "",
          "First wrong hop found by matching the generated chain with the gold one. Share of first errors "
          "at a contextual hop, and their mean normalised position (0 = first hop, 100 = last), "
          "before -> after RL.", "",
          "| recipe | seeds | questions | contextual share ours | paper | mean position ours | paper |",
          "|---|---:|---:|---|---|---|---|"]
    for recipe in dict.fromkeys(e["recipe"] for e in errs):
        es = [e for e in errs if e["recipe"] == recipe]
        base = es[0]["base"]

        def avg(key):
            vals = [e[key] for e in es if e[key] is not None]
            return sum(vals) / len(vals) if vals else None
        paper = PAPER_ERRORS.get(base, {})
        pc = paper.get("contextual_share")
        pp = paper.get("mean_position")
        L.append(f"| {recipe} | {len(es)} | {sum(e['questions'] for e in es)} | "
                 f"{fmt(avg('contextual_share_before'))} -> {fmt(avg('contextual_share_after'))} | "
                 f"{f'{pc[0]} -> {pc[1]}' if pc else '-'} | "
                 f"{fmt(avg('mean_position_before'))} -> {fmt(avg('mean_position_after'))} | "
                 f"{f'{pp[0]} -> {pp[1]}' if pp else '-'} |")
    return L + ["", "Per seed: [error_localisation.csv](error_localisation.csv).", ""]


def shifts_section(summary: dict | None, sentence: str | None) -> list[str]:
    """Where RL moves the hidden states: the figure, and the numbers beside it."""
    if not summary or not summary["models"]:
        return []
    L = ["## Where RL moves the hidden states", "", "![hidden-state shifts](figures/hidden_shifts.png)", "",
         f"The first two components explain {', '.join(f'{100 * e:.1f}%' for e in summary['explained'])} of "
         "the variance of the last layer's shifts (all models together). Hop shift: the mean norm of RL's "
         "shift at the hops' first tokens over the start's mean state norm, last layer; separation: the "
         "distance between the mean recalled-hop and read-hop shifts over their spread (above 1: the two "
         "kinds of hops move apart).", "",
         "| RL model | positions | hop shift | recalled vs read separation |", "|---|---:|---:|---:|"]
    for label, m in summary["models"].items():
        sep = "-" if m["separation"] is None else f"{m['separation']:.2f}"
        L.append(f"| {label} | {m['points']} | {m['hop_shift']:.3f} | {sep} |")
    L += ["", *([sentence, ""] if sentence else []),
          "Per layer and position kind: [hidden_shifts.csv](hidden_shifts.csv).", ""]
    return L


def study_values(p: Params) -> dict:
    """The study's parameters, without the top-level lists that only choose what the sweep compares."""
    return {f.name: as_dict(getattr(p, f.name)) for f in fields(p) if not f.metadata["operational"]}


def claims_table(claims: list[dict]) -> list[str]:
    """The claims' section: each claim, our figures, the paper's, the target and the verdict."""
    return ["## The paper's claims", "", "| claim | ours | paper | target | verdict |", "|---|---|---|---|---|",
            *(f"| {v['claim']} | {v['ours']} | {v['paper']} | {v['target']} | **{v['verdict']}** |" for v in claims)]


def report(p: Params, rows: list[dict], claims: list[dict], advantages: list[dict], errs: list[dict],
           atomic_errs: list[dict], rl_signal: list[dict], speed: list[dict], peak: dict, gen: dict,
           wall: float | None, zero_shot: list[dict], sizes: dict, shifts: dict | None = None,
           shift_sentence: str | None = None, sources: list[dict] | None = None,
           lengths: list[dict] | None = None, premise: list[str] | None = None) -> str:
    """REPORT.md: `rows` are metrics.csv's, `claims` claims.verdicts', the rest the analyses of
    per_model.py, passk.py and cost.py."""
    seeds = sorted({r["seed"] for r in rows if r["seed"] != ""})
    cmd = "snakemake --cores all" + ("" if p.preset == "default" else f" --config preset={p.preset}")
    L = [f"# Report: does RL synthesize a composite skill, or only amplify? (preset `{p.preset}`)", "",
         f"Generated by the pipeline (`{cmd}`, or `dvc repro`); seeds {', '.join(map(str, seeds))}. "
         "Paper: Qwen2.5-1.5B at paper scale; ours: the model and world of this preset (parameters at the end).", "",
         *claims_table(claims)]
    L += ["", "## Comp exact match (%), mean ± 95% CI over seeds", "", "![Comp by recipe](figures/comp_levels.png)", "",
          *comp_beside_paper(rows, p.recipes)]
    L += ["", "Every task (Mem, Ctx, Comp), every model and the fact-recall probe: [results.md](results.md); "
          "per seed: [metrics.csv](metrics.csv).", ""]
    L += premise or []
    L += path_length.section(lengths or [], rows)
    L += zero_shot_section(zero_shot, sizes)
    L += answer_source_section(sources or [])
    L += passk_section(p, advantages, gen)
    L += localisation_section(errs)
    L += atomic_error_section(atomic_errs)
    L += rl_signal_section(rl_signal)
    L += shifts_section(shifts, shift_sentence)
    L += ["## Training curves", "", "![training curves](figures/training_curves.png)", "",
          f"Seed {seeds[0] if seeds else 0}'s models and the base: loss per optimizer step of knowledge injection "
          "and of SFT (the claims' models bold), GRPO's reward as a rolling mean with its 95% interval "
          "(dvclive's files in each model's `curves/`, collected in [training_curves.csv](training_curves.csv); "
          "`dvc plots show` draws them too).", ""]
    L += other_experiments(rows, p)
    L += speed_section(speed, peak, gen, wall)
    L += ["## How this was produced", "", f"Command: `{cmd}` (or `dvc repro` with `preset: {p.preset}` "
          "in params.yaml). Parameters after the preset is merged:", "", "```yaml",
          yaml.safe_dump(study_values(p), sort_keys=False, width=110).rstrip(), "```"]
    return "\n".join(L) + "\n"
