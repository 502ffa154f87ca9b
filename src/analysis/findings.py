"""What the sweep shows, in sentences written from its results (results/findings.md, copied into the
README by src/analysis/readme.py), so that no number in the README's prose is typed by hand.

Each finding names the presets it reads; a finding whose presets have not run is left out.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..params.check import study
from ..params.read import preset_names
from .claims import verdicts
from .cost import cost
from .intervals import mean_ci
from .tables import accuracies, read_csv

ATOMIC, COMP = "SFT(Mem+Ctx)", "SFT(Comp)"


class Metrics:
    """Mean exact match (%) over seeds of one preset's metrics.csv."""

    def __init__(self, path: Path):
        self.rows = read_csv(path)

    def __call__(self, recipe: str, task: str, level: str) -> float:
        vals = list(accuracies(self.rows, recipe, task, level).values())
        return mean_ci(vals)[0] if vals else float("nan")


def _f(x: float) -> str:
    return f"{x:.1f}"


def _world(params: Path, preset: str) -> str:
    q = study(params, preset).questions
    return f"{q.paths.mem} Mem paths, {q.train_questions.mem} questions"


def _rl(params: Path, preset: str) -> str:
    g = study(params, preset, every_preset=False).training.grpo
    return (f"{g.steps} steps of {g.batch_size} completions in groups of {g.num_generations}, "
            f"lr {g.learning_rate:g}, {g.questions} questions")


def _verdicts(x: Metrics) -> dict[str, str]:
    """{'1': verdict, ...} of a study's claims."""
    return {c["claim"].split(".")[0]: c["verdict"] for c in verdicts(x.rows)}


def findings(params: Path, results: Path) -> list[str]:
    m = {p.name: Metrics(p / "metrics.csv") for p in sorted(results.iterdir()) if (p / "metrics.csv").exists()}
    out = []
    if {"small", "default_shared"} <= set(m):  # the same small world under both designs
        new, old = m["small"], m["default_shared"]
        parts = [f"{x} {_f(old(x, 'comp', 'zero_shot'))} -> {_f(new(x, 'comp', 'zero_shot'))}"
                 for x in (ATOMIC, COMP, ATOMIC + "->RL(Comp)", COMP + "->RL(Comp)")]
        out.append("*What per-task levels change in the small world* (`default_shared` -> `small`). Comp "
                   "Zero-shot: " + "; ".join(parts) + ". SFT(Mem+Ctx)'s Mem I.I.D. / Composition: "
                   f"{_f(old(ATOMIC, 'mem', 'iid'))} / {_f(old(ATOMIC, 'mem', 'composition'))} -> "
                   f"{_f(new(ATOMIC, 'mem', 'iid'))} / {_f(new(ATOMIC, 'mem', 'composition'))}; Ctx I.I.D. "
                   f"{_f(old(ATOMIC, 'ctx', 'iid'))} -> {_f(new(ATOMIC, 'ctx', 'iid'))}.")
    if {"default_shared", "rich"} <= set(m):
        d, r = m["default_shared"], m["rich"]
        out.append(f"*A rich world teaches recall hop by hop* (shared split). SFT(Mem+Ctx)'s Mem accuracy, I.I.D. / "
                   f"Composition: {_f(d(ATOMIC, 'mem', 'iid'))} / {_f(d(ATOMIC, 'mem', 'composition'))} in the "
                   f"default world (`default_shared`: {_world(params, 'default_shared')}), "
                   f"{_f(r(ATOMIC, 'mem', 'iid'))} / "
                   f"{_f(r(ATOMIC, 'mem', 'composition'))} in `rich` ({_world(params, 'rich')}): the model now "
                   "follows relation paths it was never trained on.")
    ctx = [(p, label) for p, label in (("rich", "5 SFT epochs"), ("rich_sft8", "8 epochs"),
                                       ("rich_q3000", "half the questions"),
                                       ("rich_pf1", "context paragraphs with the needed facts only"),
                                       ("rich_19m", "a 19M-parameter model")) if p in m]
    if len(ctx) >= 2:
        parts = [f"{_f(m[p](ATOMIC, 'ctx', 'iid'))} ({label}, `{p}`)" for p, label in ctx]
        out.append("*Reading from the prompt (Ctx) is what the 1.2M-parameter model lacks.* Ctx I.I.D. after "
                   "SFT(Mem+Ctx): " + ", ".join(parts) + ". The bar is 90.")
    if "rich_19m" in m:
        b = m["rich_19m"]
        out.append("*Where the atomic skills hold, RL synthesizes on new compositions (`rich_19m`, one seed).* "
                   f"Comp Composition goes {_f(b(ATOMIC, 'comp', 'composition'))} -> "
                   f"{_f(b(ATOMIC + '->RL(Comp)', 'comp', 'composition'))} with RL from SFT(Mem+Ctx), but "
                   f"{_f(b(COMP, 'comp', 'composition'))} -> {_f(b(COMP + '->RL(Comp)', 'comp', 'composition'))} "
                   f"from SFT(Comp); and SFT(Comp) shows the paradox: Comp I.I.D. {_f(b(COMP, 'comp', 'iid'))}, "
                   f"Zero-shot {_f(b(COMP, 'comp', 'zero_shot'))}.")
    rich = [p for p in m if p.startswith("rich")]
    if rich:
        mem_zs = max(m[p](ATOMIC, "mem", "zero_shot") for p in rich)
        best = max(rich, key=lambda p: m[p](ATOMIC + "->RL(Comp)", "comp", "zero_shot"))
        text = (f"*Under the shared split, Zero-shot is the wall.* SFT(Mem+Ctx)'s Mem Zero-shot is at most "
                f"{_f(mem_zs)} in every rich "
                f"preset, and Comp Zero-shot after RL from it at most "
                f"{_f(m[best](ATOMIC + '->RL(Comp)', 'comp', 'zero_shot'))} (`{best}`).")
        if "rich_generic" in m:
            g = m["rich_generic"]
            text += (" The generic language stage (`rich_generic`: another world's Mem and Ctx questions about "
                     f"every relation first) leaves Mem Zero-shot at {_f(g(ATOMIC, 'mem', 'zero_shot'))} and costs "
                     f"reading: Ctx I.I.D. {_f(g(ATOMIC, 'ctx', 'iid'))} against {_f(m['rich'](ATOMIC, 'ctx', 'iid'))} "
                     "without it.")
        out.append(text)
    probes = [p for p in m if p.startswith("probe_")]
    if probes:
        parts = []
        for p in probes:
            x, v = m[p], _verdicts(m[p])
            parts.append(f"`{p}` ({cost(results / p)}: wall min (job min), machine): claims 1 / 2 / 3 "
                         f"{v.get('1', '-')} / "
                         f"{v.get('2', '-')} / {v.get('3', '-')}; SFT(Comp) Comp I.I.D. {_f(x(COMP, 'comp', 'iid'))}, "
                         f"Zero-shot {_f(x(COMP, 'comp', 'zero_shot'))}; Comp Zero-shot after RL from SFT(Mem+Ctx) "
                         f"{_f(x(ATOMIC, 'comp', 'zero_shot'))} -> "
                         f"{_f(x(ATOMIC + '->RL(Comp)', 'comp', 'zero_shot'))}, "
                         f"from SFT(Comp) {_f(x(COMP, 'comp', 'zero_shot'))} -> "
                         f"{_f(x(COMP + '->RL(Comp)', 'comp', 'zero_shot'))}; atomic Mem / Ctx I.I.D. "
                         f"{_f(x(ATOMIC, 'mem', 'iid'))} / {_f(x(ATOMIC, 'ctx', 'iid'))}")
        out.append("*Under per-task levels (the authors' design), the rich world shows the claims on the 2-core "
                   "machine (one seed each; claim 2 'partly' needs a 10-point lead, 'reproduced' 20).* "
                   + "; ".join(parts) + ".")
    rl = [p for p in ("probe_rich_pf1", "probe_rich_pf1_lr2e4", "probe_rich_pf1_rl200_g4", "probe_rich_pf1_rl200")
          if p in m]
    if len(rl) >= 2:
        parts = [f"{_f(m[p](ATOMIC + '->RL(Comp)', 'comp', 'zero_shot'))} ({_rl(params, p)}, `{p}`, "
                 f"{cost(results / p).split(',')[0]} wall (job) min)" for p in rl]
        out.append("*What RL needs to synthesize: steps on many questions, not a larger step* (the same SFT "
                   "models, one seed). Comp Zero-shot after RL from SFT(Mem+Ctx), from "
                   f"{_f(m[rl[0]](ATOMIC, 'comp', 'zero_shot'))}: " + ", ".join(parts) + ".")
    if {"probe_rich_pf1_rl200", "probe_rich_pf1_world43"} <= set(m):
        out.append(_second_world(m, results))
    if any(p.startswith("probe_distract") for p in m) and {"probe_rich_pf1_rl200", "default"} <= set(m):
        out.append(_distractors(m, params, results))
    if "default" in m:
        out.append(_default(m["default"], results))
    curve = _cost_curve(params, results, m)
    if curve:
        out.append(curve)
    return out


def _test_sizes(report: Path) -> str:
    """'Comp test paths ... zero-shot relations', as the study's REPORT.md states them."""
    found = re.search(r"Comp test paths: (.+? zero-shot relations)", report.read_text()) if report.exists() else None
    return found[1] if found else "test sizes not reported"


def _second_world(m: dict, results: Path) -> str:
    """The chosen regime's one-seed probe in two worlds: do the verdicts rest on one split's accident?"""
    parts = []
    for p in ("probe_rich_pf1_rl200", "probe_rich_pf1_world43"):
        x, v = m[p], _verdicts(m[p])
        parts.append(f"`{p}` ({_test_sizes(results / p / 'REPORT.md')}): claims 1 / 2 / 3 {v.get('1', '-')} / "
                     f"{v.get('2', '-')} / {v.get('3', '-')}; SFT(Comp) Comp I.I.D. {_f(x(COMP, 'comp', 'iid'))}, "
                     f"Zero-shot {_f(x(COMP, 'comp', 'zero_shot'))}; Comp Zero-shot after RL(Comp) from SFT(Mem+Ctx) "
                     f"{_f(x(ATOMIC, 'comp', 'zero_shot'))} -> {_f(x(ATOMIC + '->RL(Comp)', 'comp', 'zero_shot'))}, "
                     f"from SFT(Comp) {_f(x(COMP, 'comp', 'zero_shot'))} -> "
                     f"{_f(x(COMP + '->RL(Comp)', 'comp', 'zero_shot'))}")
    return ("*A second world and question seed* (seed 43 against 42, the chosen regime, one seed each): "
            + "; ".join(parts) + ".")


def _gains(x: Metrics, bases: tuple[str, ...]) -> str:
    """'from SFT(Mem+Ctx) +23.6, ...': Comp Zero-shot gained by RL(Comp) from each base."""
    return ", ".join(f"from {b} {x(b + '->RL(Comp)', 'comp', 'zero_shot') - x(b, 'comp', 'zero_shot'):+.1f}"
                     for b in bases)


def _distractors(m: dict, params: Path, results: Path) -> str:
    """Other people's paragraphs in every context, one study per count: does SFT(Ctx)->RL(Comp) lose the
    answer-in-prompt shortcut, and what does reading pay for it?"""
    bases, parts = (ATOMIC, COMP, "SFT(Ctx)"), []
    for p in sorted(q for q in m if q.startswith("probe_distract")):
        x, v = m[p], _verdicts(m[p])
        cfg = study(params, p)
        n, epochs = cfg.questions.distractor_paragraphs, cfg.training.sft.epochs
        parts.append(f"`{p}` ({n} per needed paragraph; {cost(results / p).split(',')[0]} wall (job) min; "
                     f"{epochs} SFT epochs): Comp "
                     f"Zero-shot gained by RL(Comp) {_gains(x, bases)}; Ctx I.I.D. after SFT(Mem+Ctx) "
                     f"{_f(x(ATOMIC, 'ctx', 'iid'))}; SFT(Comp) Comp I.I.D. {_f(x(COMP, 'comp', 'iid'))}, Zero-shot "
                     f"{_f(x(COMP, 'comp', 'zero_shot'))}; claims 1 / 2 / 3 {v.get('1', '-')} / {v.get('2', '-')} / "
                     f"{v.get('3', '-')}")
    return ("*Distractor paragraphs against the answer-in-prompt shortcut* (paragraphs about other people "
            "stating the same relations beside each needed one; one seed each. Without "
            f"them: Comp Zero-shot gained by RL(Comp) {_gains(m['default'], bases)} in `default`; Ctx I.I.D. "
            f"after SFT(Mem+Ctx) {_f(m['probe_rich_pf1_rl200'](ATOMIC, 'ctx', 'iid'))} in "
            "`probe_rich_pf1_rl200`). " + "; ".join(parts) + ".")


def _default(x: Metrics, results: Path) -> str:
    """The chosen regime with three seeds and every recipe: its verdicts and claim 3's four gains."""
    v = _verdicts(x)
    return ("*The chosen regime with every recipe and three seeds* (`default`, "
            f"{cost(results / 'default')}: wall min (job min), machine). Claims 1 / 2 / 3 / 4: "
            + " / ".join(v[k] for k in "1234" if k in v)
            + f". SFT(Comp) Comp I.I.D. {_f(x(COMP, 'comp', 'iid'))} (the bar: 80), Zero-shot "
            f"{_f(x(COMP, 'comp', 'zero_shot'))}; Comp Zero-shot gained by RL(Comp): "
            + _gains(x, (ATOMIC, COMP, "SFT(Mem)", "SFT(Ctx)"))
            + " (claim 3 asks each other gain to stay under a third of the first).")


def _cost_curve(params: Path, results: Path, m: dict) -> str | None:
    """Claims 1-3 against the wall time of every per-task-levels study that ran, cheapest first."""
    rows, known = [], {"default", *preset_names(params)}
    for p in m:  # a results folder of a preset no longer in params.yaml is left out
        if p not in known or study(params, p).questions.level_split != "per_task":
            continue
        c = cost(results / p)
        if c == "-":
            continue
        v = _verdicts(m[p])
        rows.append((float(c.split()[0]), f"`{p}` {c.split(',')[0]}: {v.get('1', '-')} / {v.get('2', '-')} / "
                                          f"{v.get('3', '-')}"))
    if len(rows) < 2:
        return None
    return ("*Claims 1 / 2 / 3 against cost* (per-task levels; wall min (job min) as each study ran, some "
            "beside other work on the same cores): " + "; ".join(r for _, r in sorted(rows)) + ".")


def to_markdown(items: list[str]) -> str:
    return "# What the sweep shows\n\n" + "".join(f"- {x}\n" for x in items)
