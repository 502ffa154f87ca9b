"""pass@k from the sampled completions: curves per model and RL's advantage over its base, with a verdict.

Pure functions of passk_samples.csv's rows (recipe, side, model, seed, level, id, n, c). If RL's advantage
persists at the largest k, RL solves questions its base cannot sample (synthesis); if only the k=1
advantage is significant, RL re-weighted what the base could already do (amplification).
"""
from __future__ import annotations

from .intervals import paired_diff_ci, pass_at_k


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
                             "k": k,
                             "pass_at_k": round(sum(pass_at_k(q["n"], q["c"], k) for q in mine) / len(mine), 6)})
    return rows


def passk_curves(rows: list[dict], level: str) -> list[dict]:
    """One level's pass@k as one column per model (mean over seeds, in %) and one row per k: the wide
    table `dvc plots show` draws as one curve per model. A model that is the base of several RL recipes
    (SFT(Mem+Ctx)) appears once."""
    mine = [r for r in rows if r["level"] == level]
    models = list(dict.fromkeys(r["model"] for r in mine))
    out = []
    for k in sorted({r["k"] for r in mine}):
        row = {"k": k}
        for m in models:
            vals = {(r["seed"], r["recipe"]): r["pass_at_k"] for r in mine if r["model"] == m and r["k"] == k}
            seeds = {}
            for (seed, _), v in vals.items():  # one value per seed, whichever recipe sampled it
                seeds.setdefault(seed, v)
            row[m] = round(100 * sum(seeds.values()) / len(seeds), 3) if seeds else None
        out.append(row)
    return out


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
        out.append({"recipe": recipe, "level": lv, "questions": len(keys), "distinct": len({x[1] for x in keys}),
                    "k_max": kmax,
                    "adv_k1": a1, "ci_k1": h1, "adv_kmax": am, "ci_kmax": hm, "verdict": verdict})
    return out
