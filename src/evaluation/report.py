"""Entry point: results/<preset>/REPORT.md, the study at a glance.

The paper's four claims, each with our numbers beside the paper's and a verdict computed from the
numbers (the rules are in `verdicts`); pass@k curves, error localisation, and the speed of every
stage; then the command and the parameters that produced it. Also writes passk.csv,
passk_samples.csv, error_localisation.csv, atomic_errors.csv, speed.csv and the figures under figures/.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import yaml  # noqa: E402

from ..config import (ATOMIC_SFT, chain_label, chain_slug, load_params, rl_pairs,  # noqa: E402
                      same_questions_recipes, share_recipes)
from ..data.questions import LEVELS  # noqa: E402
from ..io import atomic_write_text, csv_text, read_jsonl  # noqa: E402
from .errors import error_kind, localise  # noqa: E402
from .paper_numbers import PAPER_COMP, PAPER_ERRORS  # noqa: E402
from .stats import mean_ci, paired_diff_ci, pass_at_k  # noqa: E402
from .tables import LEVEL_NAMES, accuracies, cell_text, read_csv  # noqa: E402
from .timing import speed_rows, speed_section, wall_span  # noqa: E402

log = logging.getLogger(__name__)
ATOMIC, COMP = "SFT(Mem+Ctx)", "SFT(Comp)"
SYNTH, AMPL = "SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)"


def _fmt(x, digits=1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


# ---------------------------------------------------------------- claims
def comp(rows, recipe, level) -> dict:
    return accuracies(rows, recipe, "comp", level)


def comp_cell(rows, recipe, level) -> str:
    """A table cell: the recipe's Comp accuracy at the level, 'mean ± 95% CI' over seeds."""
    return cell_text(list(comp(rows, recipe, level).values()))


def gain(rows, base: str, rl: str, level: str) -> tuple[float, float] | None:
    """Mean (RL - its base) over seeds, with its 95% half-width."""
    a, b = comp(rows, rl, level), comp(rows, base, level)
    seeds = sorted(set(a) & set(b))
    return paired_diff_ci([a[s] for s in seeds], [b[s] for s in seeds]) if seeds else None


def _seed_text(n: int) -> str:
    return "the first seed" if n == 1 else f"the first {n} seeds"


def cell_pm(m: float, half: float) -> str:
    """'+m ± half' in points; the bare value when there is no interval (one question or seed)."""
    return f"{m:+.1f}" if half != half else f"{m:+.1f} ± {half:.1f}"  # half != half: nan


def verdicts(rows: list[dict]) -> list[dict]:
    """The four claims. Targets are the issue's bars for the laptop study; 'partly' where the
    direction holds but the size does not."""
    out = []
    iid, zs = comp(rows, COMP, "iid"), comp(rows, COMP, "zero_shot")
    if iid and zs:
        m_iid, m_zs = mean_ci(list(iid.values()))[0], mean_ci(list(zs.values()))[0]
        drop = m_iid - m_zs
        v = "reproduced" if m_iid >= 80 and drop >= 40 else "partly" if drop >= 20 else "not reproduced"
        out.append({"claim": "1. SFT generalization paradox: SFT(Comp) near-perfect on I.I.D., collapses on Zero-shot",
                    "ours": f"I.I.D. {m_iid:.1f}, Zero-shot {m_zs:.1f} (drop {drop:.1f})",
                    "paper": "I.I.D. 90.3, Zero-shot 18.4 (drop 71.9)",
                    "target": "I.I.D. >= 80 and a drop >= 40", "verdict": v})
    a, b = comp(rows, SYNTH, "zero_shot"), comp(rows, COMP, "zero_shot")
    seeds = sorted(set(a) & set(b))
    if seeds:
        d, half = paired_diff_ci([a[s] for s in seeds], [b[s] for s in seeds])
        excludes = half == half and d - half > 0  # half is nan with one seed
        v = "reproduced" if d >= 20 and excludes else "partly" if excludes else "not reproduced"
        out.append({"claim": "2. RL synthesizes: SFT(Mem+Ctx)->RL(Comp) beats SFT(Comp) on Zero-shot",
                    "ours": f"difference {d:.1f} ± {_fmt(half)}", "paper": "50.9 vs 18.4 (+32.5)",
                    "target": ">= 20 points, CI excluding 0", "verdict": v})
    g_syn = gain(rows, ATOMIC, SYNTH, "zero_shot")
    others = {base: gain(rows, base, f"{base}->RL(Comp)", "zero_shot") for base in (COMP, "SFT(Mem)", "SFT(Ctx)")}
    others = {k: g for k, g in others.items() if g is not None}
    if g_syn and others:
        parts = [f"from {ATOMIC}: {g_syn[0]:+.1f}"] + [f"from {k}: {g[0]:+.1f}" for k, g in others.items()]
        if g_syn[0] <= 0:
            v = "not reproduced"  # no gain from atomic SFT to compare with
        else:
            small = [g[0] <= g_syn[0] / 3 for g in others.values()]
            v = "reproduced" if all(small) else "partly" if any(small) else "not reproduced"
        out.append({"claim": "3. Atomic prerequisite: RL from SFT(Comp), SFT(Mem) or SFT(Ctx) gains far less",
                    "ours": "Zero-shot gain of RL(Comp) " + ", ".join(parts),
                    "paper": "only SFT(Mem+Ctx)->RL(Comp) passes Zero-shot",
                    "target": "each other gain <= 1/3 of the gain from SFT(Mem+Ctx)", "verdict": v})
    # 4: compare bases by their overall Comp accuracy (mean of levels) and their RL gains
    bases = {}
    for base in (ATOMIC, COMP, "SFT(Mem)", "SFT(Ctx)"):
        g = [gain(rows, base, f"{base}->RL(Comp)", lv) for lv in LEVELS]
        start = [comp(rows, base, lv) for lv in LEVELS]
        if all(g) and all(start):
            bases[base] = (sum(mean_ci(list(s.values()))[0] for s in start) / 3, sum(x[0] for x in g) / 3)
    similar = [(x, y) for x in bases for y in bases if x < y and abs(bases[x][0] - bases[y][0]) <= 5]
    if bases:
        differ = [(x, y) for x, y in similar if abs(bases[x][1] - bases[y][1]) >= 10]
        v = "reproduced" if differ else "not reproduced" if similar else "not testable"
        out.append({"claim": "4. Not explained by starting accuracy: similar bases respond differently to RL",
                    "ours": "; ".join(f"{k}: start {s:.1f}, RL gain {g:+.1f}" for k, (s, g) in bases.items()),
                    "paper": "bases of similar accuracy gain very differently",
                    "target": "two bases within 5 points whose RL gains differ by >= 10", "verdict": v})
    return out


def save_figure(fig, out: Path) -> None:
    """PNG written under a temporary name, then renamed: never a half-written figure."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".partial.png")
    fig.savefig(tmp, dpi=120, metadata={"Software": None})  # no version stamp: same bytes on a rerun
    plt.close(fig)
    os.replace(tmp, out)


# ---------------------------------------------------------------- pass@k
def passk_samples(results: Path, cfg: dict) -> list[dict]:
    """One row per (RL recipe, side, seed, question): n samples, c correct. Saved as passk_samples.csv so
    the pass@k curves and verdicts can be recomputed from the committed results, without the models."""
    rows = []
    for base, rl in rl_pairs(cfg):
        for side, chain in (("base", base), ("rl", rl)):
            for f in sorted((results / "passk").glob(f"seed*/{chain}/samples.json")):
                seed = int(f.parent.parent.name.removeprefix("seed"))
                for q in json.loads(f.read_text())["questions"]:
                    rows.append({"recipe": chain_label(rl), "side": side, "model": chain_label(chain),
                                 "seed": seed, "level": q["level"], "id": q["id"], "n": q["n"], "c": q["c"]})
    return rows


def _groups(samples: list[dict]) -> dict[tuple, list[dict]]:
    """samples grouped by (recipe, level, side), in the order they come."""
    out: dict[tuple, list[dict]] = {}
    for s in samples:
        out.setdefault((s["recipe"], s["level"], s["side"]), []).append(s)
    return out


def passk_rows(samples: list[dict]) -> list[dict]:
    """pass@k for k = 1..n, averaged over a level's questions, per recipe, side and seed."""
    rows = []
    for (recipe, lv, side), qs in _groups(samples).items():
        for seed in sorted({q["seed"] for q in qs}):
            mine = [q for q in qs if q["seed"] == seed]
            for k in range(1, min(q["n"] for q in mine) + 1):
                rows.append({"recipe": recipe, "side": side, "model": mine[0]["model"], "seed": seed, "level": lv,
                             "k": k, "pass_at_k": round(sum(pass_at_k(q["n"], q["c"], k) for q in mine) / len(mine), 6)})
    return rows


def passk_advantages(samples: list[dict]) -> list[dict]:
    """RL's pass@k advantage over its base at k=1 and at the largest k, in points, with a 95% interval
    over questions (paired: the same question and seed on both sides), and what it says.

    The advantage is significant when its interval excludes zero. Synthesis: RL still solves questions
    its base cannot sample at the largest k. Amplification: RL is better at k=1 only."""
    g = _groups(samples)
    out = []
    for recipe, lv in dict.fromkeys((r, lv) for r, lv, _ in g):
        base = {(q["seed"], q["id"]): q for q in g.get((recipe, lv, "base"), [])}
        rl = {(q["seed"], q["id"]): q for q in g.get((recipe, lv, "rl"), [])}
        keys = sorted(set(base) & set(rl))
        if not keys:
            continue
        kmax = min(min(base[x]["n"], rl[x]["n"]) for x in keys)

        def adv(k):
            m, h = paired_diff_ci([pass_at_k(rl[x]["n"], rl[x]["c"], k) for x in keys],
                                  [pass_at_k(base[x]["n"], base[x]["c"], k) for x in keys])
            return 100 * m, 100 * h
        (a1, h1), (am, hm) = adv(1), adv(kmax)
        verdict = ("persists (synthesis)" if am - hm > 0 else "vanishes (amplification)" if a1 - h1 > 0
                   else "no significant advantage")
        out.append({"recipe": recipe, "level": lv, "questions": len(keys), "k_max": kmax,
                    "adv_k1": a1, "ci_k1": h1, "adv_kmax": am, "ci_kmax": hm, "verdict": verdict})
    return out


def passk_figure(rows: list[dict], out: Path) -> None:
    recipes = list(dict.fromkeys(r["recipe"] for r in rows))
    fig, axes = plt.subplots(1, len(LEVELS), figsize=(5 * len(LEVELS), 5), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, lv in zip(axes, LEVELS):
        for i, recipe in enumerate(recipes):
            for side, style in (("base", "--"), ("rl", "-")):
                pts = [r for r in rows if r["recipe"] == recipe and r["side"] == side and r["level"] == lv
                       and r["seed"] == min(x["seed"] for x in rows)]
                if pts:
                    name = recipe if side == "rl" else f"base of {recipe}: {pts[0]['model']}"
                    ax.plot([p["k"] for p in pts], [100 * p["pass_at_k"] for p in pts], style,
                            color=colors[i % len(colors)], label=name)
        ax.set_xscale("log", base=2)
        ax.set_title(f"Comp {LEVEL_NAMES[lv]}")
        ax.set_xlabel("k")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("pass@k (%)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower center", ncol=4)
    fig.suptitle("pass@k: RL model (solid) vs the model it started from (dashed; same colour)")
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    save_figure(fig, out)


def comp_figure(rows: list[dict], recipes: list[str], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(11, 4.5))
    width = 0.8 / len(LEVELS)
    for j, lv in enumerate(LEVELS):
        stats = [mean_ci(list(comp(rows, r, lv).values())) if comp(rows, r, lv) else (0, 0) for r in recipes]
        ax.bar([i + j * width for i in range(len(recipes))], [m for m, _ in stats], width,
               yerr=[0 if h != h else h for _, h in stats], capsize=2, label=LEVEL_NAMES[lv])
    ax.set_xticks([i + width for i in range(len(recipes))])
    ax.set_xticklabels(recipes, rotation=25, ha="right", fontsize=7)
    ax.set_ylabel("Comp exact match (%)")
    ax.set_title("Comp task by recipe and generalization level (mean ± 95% CI over seeds)")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, out)


# ---------------------------------------------------------------- error localisation
def error_rows(results: Path, cfg: dict) -> list[dict]:
    records = {r["id"]: r for r in read_jsonl(results / "data" / "qa_comp.jsonl") if r["split"] in LEVELS}
    rows = []
    for base, rl in rl_pairs(cfg):
        if not rl.endswith("grpo-comp"):
            continue
        for f in sorted((results / "eval").glob(f"seed*/{rl}/predictions.jsonl")):
            seed_dir = f.parent.parent
            before = {p["id"]: p for p in read_jsonl(seed_dir / base / "predictions.jsonl") if p["task"] == "comp"}
            after = {p["id"]: p for p in read_jsonl(f) if p["task"] == "comp"}
            loc = localise(records, before, after)
            rows.append({"recipe": chain_label(rl), "base": chain_label(base), "seed": seed_dir.name,
                         "questions": loc["questions"],
                         **{f"{k}_{side}": None if loc[side][k] is None else round(100 * loc[side][k], 2)
                            for k in ("contextual_share", "mean_position") for side in ("before", "after")}})
    return rows


# ---------------------------------------------------------------- why the atomic skills fail
ERROR_KINDS = ("value", "step", "answer")


def atomic_error_rows(results: Path) -> list[dict]:
    """SFT(Mem+Ctx) on the Mem and Ctx tests, per seed, task and level: how many answers are wrong,
    and where and how each wrong chain first goes wrong (src/evaluation/errors.py:error_kind)."""
    slug = chain_slug([ATOMIC_SFT])
    rows = []
    for task in ("mem", "ctx"):
        records = {r["id"]: r for r in read_jsonl(results / "data" / f"qa_{task}.jsonl") if r["split"] in LEVELS}
        for f in sorted((results / "eval").glob(f"seed*/{slug}/predictions.jsonl")):
            preds = [p for p in read_jsonl(f) if p["task"] == task and p["id"] in records]
            for lv in LEVELS:
                mine = [p for p in preds if p["level"] == lv]
                errs = [error_kind(records[p["id"]], p["generation"]) for p in mine if not p["correct"]]
                rows.append({"seed": f.parent.parent.name, "task": task, "level": lv, "questions": len(mine),
                             "wrong": len(errs), "first_hop": sum(h == 0 for h, _ in errs),
                             **{k: sum(kind == k for _, kind in errs) for k in ERROR_KINDS}})
    return rows


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
            share = lambda k: _fmt(100 * sum(r[k] for r in rs) / wrong if wrong else None)  # noqa: E731
            L.append(f"| {task.capitalize()} | {LEVEL_NAMES[lv]} | {n} | {wrong} | {share('first_hop')} | "
                     + " | ".join(share(k) for k in ERROR_KINDS) + " |")
    return L + ["", "Per seed: [atomic_errors.csv](atomic_errors.csv).", ""]


# ---------------------------------------------------------------- RL's learning signal
def rl_signal_rows(results: Path, cfg: dict) -> list[dict]:
    """Per RL model and seed: mean exact-match reward during GRPO, and how many steps had a learning
    signal (a group whose rewards differ; with all-equal rewards GRPO's advantages are all zero)."""
    rows = []
    for _, rl in rl_pairs(cfg):
        for path in sorted((results / "models").glob(f"seed*/{rl}/train_stats.json")):
            st = json.loads(path.read_text())
            if "rl_logged_steps" in st:  # written by src/training/common.py:throughput for GRPO
                rows.append({"recipe": chain_label(rl), "seed": path.parent.parent.name,
                             "mean_reward": st["rl_mean_reward"], "steps_with_signal": st["rl_steps_with_signal"],
                             "steps": st["rl_logged_steps"]})
    return rows


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


# ---------------------------------------------------------------- the paper's other experiments
def share_figure(rows: list[dict], shares: dict[int, tuple[str, str]], out: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4))
    for lv, colour in zip(LEVELS, ("C0", "C1", "C2")):
        for side, style, name in ((0, "--", "SFT base"), (1, "-", "after RL(Comp)")):
            values = [list(comp(rows, pair[side], lv).values()) for pair in shares.values()]
            ys = [mean_ci(v)[0] if v else float("nan") for v in values]
            ax.plot(list(shares), ys, style, color=colour, marker="o", label=f"{LEVEL_NAMES[lv]}, {name}")
    ax.set_xlabel("share of the atomic (Mem+Ctx) SFT data (%)")
    ax.set_ylabel("Comp exact match (%)")
    ax.set_title("Atomic data before RL")
    ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, out)


def other_experiments(rows: list[dict], cfg: dict, results: Path) -> list[str]:
    """Sections for the paper's other experiments, where the preset declares their recipes."""
    L = []
    head = ["| recipe | " + " | ".join(LEVEL_NAMES[lv] for lv in LEVELS) + " |", "|---|" + "---:|" * len(LEVELS)]
    same = same_questions_recipes(cfg["recipes"])
    if len(same) > 1:
        L += ["## SFT, LoRA and RL on the same Comp questions, from SFT(Mem+Ctx)", "",
              f"Each second stage trains on the {cfg['training']['grpo']['questions']} Comp questions of RL "
              "(`training.grpo.questions`). Comp exact match (%), mean ± 95% CI over seeds:", ""] + head
        for r in [ATOMIC] + same:
            L.append(f"| {r} | " + " | ".join(comp_cell(rows, r, lv) for lv in LEVELS) + " |")
        L.append("")
    shares = share_recipes(cfg["recipes"])
    if shares:
        share_figure(rows, shares, results / "figures" / "data_share.png")
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


# ---------------------------------------------------------------- the report
def build(cfg: dict, results: Path) -> str:
    rows = read_csv(results / "metrics.csv")
    recipes = cfg["recipes"]
    samples = passk_samples(results, cfg)
    pk = passk_rows(samples)
    errs = error_rows(results, cfg)
    atomic_errs = atomic_error_rows(results)
    speed = speed_rows(results)
    gen = json.loads((results / "speed" / "generation.json").read_text())
    peak = json.loads((results / "speed" / "matmul_peak.json").read_text())
    atomic_write_text(results / "passk_samples.csv", csv_text(samples))
    atomic_write_text(results / "passk.csv", csv_text(pk))
    atomic_write_text(results / "error_localisation.csv", csv_text(errs))
    atomic_write_text(results / "atomic_errors.csv", csv_text(atomic_errs))
    atomic_write_text(results / "speed.csv", csv_text(speed))
    passk_figure(pk, results / "figures" / "passk.png")
    comp_figure(rows, recipes, results / "figures" / "comp_levels.png")

    seeds = sorted({r["seed"] for r in rows if r["seed"] != ""})
    cmd = "snakemake --cores all" + ("" if cfg["preset"] == "default" else f" --config preset={cfg['preset']}")
    L = [f"# Report: does RL synthesize a composite skill, or only amplify? (preset `{cfg['preset']}`)", "",
         f"Generated by the pipeline (`{cmd}`, or `dvc repro`); seeds {', '.join(map(str, seeds))}. "
         "Paper: Qwen2.5-1.5B at paper scale; ours: the model and world of this preset (parameters at the end).", "",
         "## The paper's claims", "", "| claim | ours | paper | target | verdict |", "|---|---|---|---|---|"]
    for v in verdicts(rows):
        L.append(f"| {v['claim']} | {v['ours']} | {v['paper']} | {v['target']} | **{v['verdict']}** |")
    L += ["", "## Comp exact match (%), mean ± 95% CI over seeds", "", "![Comp by recipe](figures/comp_levels.png)", "",
          "| recipe | " + " | ".join(f"{LEVEL_NAMES[lv]} ours | paper" for lv in LEVELS) + " |",
          "|---|" + "---:|---:|" * len(LEVELS)]
    for r in recipes:
        paper = PAPER_COMP.get(r)
        L.append(f"| {r} | " + " | ".join(f"{comp_cell(rows, r, lv)} | "
                                          f"{paper[i] if paper else '-'}" for i, lv in enumerate(LEVELS)) + " |")
    L += ["", "Every task (Mem, Ctx, Comp), every model and the fact-recall probe: [results.md](results.md); "
          "per seed: [metrics.csv](metrics.csv).", ""]

    L += ["## pass@k: synthesis or amplification?", "", "![pass@k](figures/passk.png)", "",
          f"Unbiased pass@k from n = {cfg['evaluation']['passk']['samples']} samples per question "
          f"(temperature {cfg['evaluation']['passk']['temperature']}), {cfg['evaluation']['passk']['questions']} "
          "Comp test questions per level, "
          f"{_seed_text(cfg['evaluation']['passk']['seeds'])} (the figure: the first). RL advantage = pass@k(RL) - pass@k(its base), in points:", "",
          "| recipe | level | questions | advantage at k=1 | at k=max | verdict |", "|---|---|---:|---:|---:|---|"]
    for a in passk_advantages(samples):
        L.append(f"| {a['recipe']} | {LEVEL_NAMES[a['level']]} | {a['questions']} | {cell_pm(a['adv_k1'], a['ci_k1'])} | "
                 f"{cell_pm(a['adv_kmax'], a['ci_kmax'])} (k={a['k_max']}) | {a['verdict']} |")
    L += ["", "± is the 95% interval over questions (paired); a verdict needs an interval that excludes zero: "
          "*persists* if the advantage at the largest k does, *vanishes* if only the one at k=1 does."]
    L += ["", "## Error localisation (Comp, questions wrong before and after RL)", "",
          "First wrong hop found by matching the generated chain with the gold one. Share of first errors "
          "at a contextual hop, and their mean normalised position (0 = first hop, 100 = last), before -> after RL.", "",
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
                 f"{_fmt(avg('contextual_share_before'))} -> {_fmt(avg('contextual_share_after'))} | "
                 f"{f'{pc[0]} -> {pc[1]}' if pc else '-'} | "
                 f"{_fmt(avg('mean_position_before'))} -> {_fmt(avg('mean_position_after'))} | "
                 f"{f'{pp[0]} -> {pp[1]}' if pp else '-'} |")
    L += ["", "Per seed: [error_localisation.csv](error_localisation.csv).", ""]
    L += atomic_error_section(atomic_errs)
    L += rl_signal_section(rl_signal_rows(results, cfg))
    L += other_experiments(rows, cfg, results)

    wall = wall_span(results / "benchmarks") if (results / "benchmarks").exists() else None
    L += speed_section(speed, peak, gen, wall)
    L += ["## How this was produced", "", f"Command: `{cmd}` (or `dvc repro` with `preset: {cfg['preset']}` "
          "in params.yaml). Parameters after the preset is merged:", "", "```yaml",
          yaml.safe_dump({k: v for k, v in cfg.items()}, sort_keys=False, width=110).rstrip(), "```"]
    return "\n".join(L) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--results", required=True, type=Path)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    cfg = load_params(args.params, args.preset)
    atomic_write_text(args.results / "REPORT.md", build(cfg, args.results))


if __name__ == "__main__":
    main()
