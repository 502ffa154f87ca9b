"""The paper's four claims as rules on metrics.csv's rows: each claim's numbers, target and verdict.

Pure functions of the rows (model, seed, task, level, accuracy); the targets are the issue's bars for the
laptop study, and 'partly' means the direction holds but not the size. Used by the report and the sweep.
"""
from __future__ import annotations

from ..data.questions import LEVELS
from .intervals import mean_ci, paired_diff_ci
from .tables import accuracies, cell_text

ATOMIC, COMP = "SFT(Mem+Ctx)", "SFT(Comp)"
SYNTH, AMPL = "SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)->RL(Comp)"
CLAIM_MODELS = {ATOMIC, COMP, SYNTH, AMPL}  # the models the claims compare (drawn bold in the curves)


def fmt(x, digits=1) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


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
        # one seed (a sweep probe) has no interval (half is nan): a margin of 10 points stands in for it,
        # as in claim 3; the default study's three seeds are judged by the interval
        excludes = d - half > 0 if half == half else d >= 10
        v = "reproduced" if d >= 20 and excludes else "partly" if excludes else "not reproduced"
        out.append({"claim": "2. RL synthesizes: SFT(Mem+Ctx)->RL(Comp) beats SFT(Comp) on Zero-shot",
                    "ours": f"difference {cell_pm(d, half)}" + ("" if half == half else " (one seed)"),
                    "paper": "50.9 vs 18.4 (+32.5)",
                    "target": ">= 20 points, CI excluding 0 (one seed: >= 10 for 'partly')", "verdict": v})
    g_syn = gain(rows, ATOMIC, SYNTH, "zero_shot")
    others = {base: gain(rows, base, f"{base}->RL(Comp)", "zero_shot") for base in (COMP, "SFT(Mem)", "SFT(Ctx)")}
    others = {k: g for k, g in others.items() if g is not None}
    if g_syn and others:
        parts = [f"from {ATOMIC}: {cell_pm(*g_syn)}"] + [f"from {k}: {g[0]:+.1f}" for k, g in others.items()]
        m, half = g_syn
        # the gain from atomic SFT must be real before others can be small beside it: its 95% interval
        # excludes 0 (one seed, no interval: at least 10 points); a gain within noise proves nothing
        if (m - half <= 0) if half == half else m < 10:
            v = "not reproduced"
        else:
            small = [g[0] <= g_syn[0] / 3 for g in others.values()]
            v = "reproduced" if all(small) else "partly" if any(small) else "not reproduced"
        out.append({"claim": "3. Atomic prerequisite: RL from SFT(Comp), SFT(Mem) or SFT(Ctx) gains far less",
                    "ours": "Zero-shot gain of RL(Comp) " + ", ".join(parts),
                    "paper": "only SFT(Mem+Ctx)->RL(Comp) passes Zero-shot",
                    "target": "a gain from SFT(Mem+Ctx) whose 95% CI excludes 0 (one seed: >= 10), each other "
                              "gain <= 1/3 of it", "verdict": v})
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


def claim_values(claims: list[dict]) -> dict:
    """headline.json's claims: {number: {verdict, ours}}."""
    return {c["claim"].split(".")[0]: {"verdict": c["verdict"], "ours": c["ours"]} for c in claims}
