"""Accuracy by relation-path length, and each level's accuracy standardized to the I.I.D. length mix.

A level is meant to change whether a path, or a relation, was seen in training; it also moves the path
length (Comp Zero-shot holds more 4-5-hop questions than I.I.D., Ctx Composition no 4-hop ones), and long
paths are harder whatever was seen. The standardized accuracy of a level reweights its per-length
accuracies to the task's I.I.D. length mix: sum over lengths h of w_h * acc(level, h), with w_h the I.I.D.
test share of h-hop questions, renormalized over the lengths both have (a length that I.I.D. lacks,
such as Ctx's 5-hop Zero-shot questions, is left out of the standardized accuracy). The claims are judged on the
raw levels, as the paper's; the same claims on the standardized accuracies show how much of each is
path length.

Each row also says whom the question starts at: an injected person (every Mem and Comp question, a share of
Ctx's) or a new one. Reading a paragraph among distractors about other people needs the right name, and
names learned in injection may be matched where new ones are not: REPORT.md shows Ctx accuracy by start.
"""
from __future__ import annotations

from ..data.questions import LEVELS
from ..io import read_jsonl
from ..models import Model
from .claims import AMPL, ATOMIC, COMP, SYNTH, verdicts
from .intervals import mean_ci
from .tables import LEVEL_NAMES, TASK_NAMES

COLUMNS = ["model", "seed", "task", "level", "hops", "start", "n", "correct"]
# the cells the claims rest on: the atomic skills of SFT(Mem+Ctx), Comp of the claims' models
SHOWN = [(ATOMIC, "mem"), (ATOMIC, "ctx"), (COMP, "comp"), (ATOMIC, "comp"), (SYNTH, "comp"), (AMPL, "comp")]


def length_rows(data, predictions: dict) -> list[dict]:
    """Per evaluated model, seed, task, level, path length and start (an injected person or a new one):
    questions and correct answers. `predictions`: model path -> its predictions.jsonl."""
    injected = {b["person"] for b in read_jsonl(data / "biographies.jsonl")}
    cell = {r["id"]: (len(r["relation_path"]), "injected" if r["entities"][0] in injected else "new")
            for task in TASK_NAMES for r in read_jsonl(data / f"qa_{task}.jsonl") if r["split"] in LEVELS}
    rows = []
    for path, file in predictions.items():
        model, counts = Model.at(path), {}
        for p in read_jsonl(file):
            if p["task"] in TASK_NAMES:
                key = (p["task"], p["level"], *cell[p["id"]])
                n, c = counts.get(key, (0, 0))
                counts[key] = (n + 1, c + bool(p["correct"]))
        rows += [{"model": model.label, "seed": "" if model.seed is None else model.seed, "task": t, "level": lv,
                  "hops": h, "start": st, "n": n, "correct": c} for (t, lv, h, st), (n, c) in sorted(counts.items())]
    return rows


def _sum(rows: list[dict], key) -> dict[tuple, tuple[int, int]]:
    """(questions, correct) summed over the rows of each key(row)."""
    out: dict[tuple, tuple[int, int]] = {}
    for r in rows:
        n, c = out.get(key(r), (0, 0))
        out[key(r)] = (n + r["n"], c + r["correct"])
    return out


def standardized(rows: list[dict]) -> list[dict]:
    """metrics.csv-like rows (model, seed, task, level, accuracy, n) whose accuracy is the level's per-length
    accuracy reweighted to the task's I.I.D. length mix."""
    cells: dict[tuple, dict[int, tuple[int, int]]] = {}
    for (model, seed, task, level, hops), nc in _sum(rows, lambda r: (r["model"], r["seed"], r["task"], r["level"],
                                                                       r["hops"])).items():
        cells.setdefault((model, seed, task, level), {})[hops] = nc
    out = []
    for (model, seed, task, level), by_len in cells.items():
        iid = cells.get((model, seed, task, "iid"), {})
        weights = {h: iid[h][0] for h in by_len if h in iid}
        if not weights:
            continue
        acc = sum(w * by_len[h][1] / by_len[h][0] for h, w in weights.items()) / sum(weights.values())
        out.append({"model": model, "seed": seed, "task": task, "level": level, "accuracy": acc,
                    "n": sum(by_len[h][0] for h in weights)})
    return out


def _cell(rows: list[dict], model: str, task: str, level: str, **where) -> str:
    """Mean over seeds of the accuracy of the rows matching `where` (hops=, start=), with the first seed's
    question count."""
    got = [r for r in rows if (r["model"], r["task"], r["level"]) == (model, task, level)
           and all(r[k] == v for k, v in where.items())]
    per_seed = _sum(got, lambda r: (r["seed"],))
    if not per_seed:
        return "-"
    mean = mean_ci([100 * c / n for n, c in per_seed.values()])[0]
    return f"{mean:.1f} ({next(iter(per_seed.values()))[0]})"


def section(rows: list[dict], metrics: list[dict]) -> list[str]:
    """REPORT.md's section: the claims' cells by path length, then the claims on standardized accuracies."""
    if not rows:
        return []
    lengths = sorted({r["hops"] for r in rows})
    std = standardized(rows)
    L = ["## Accuracy by path length", "",
         "Exact match (%) by the number of hops, mean over seeds (questions per seed); *standardized*: the "
         "level's accuracy reweighted to its task's I.I.D. length mix (over the lengths both have), so "
         "that levels differ in what was seen in training, not in path length.", "",
         "| model | task | level | " + " | ".join(f"{h} hops" for h in lengths) + " | all | standardized |",
         "|---|---|---|" + "---:|" * (len(lengths) + 2)]
    for model, task in SHOWN:
        for lv in LEVELS:
            raw = [100 * r["accuracy"] for r in metrics if (r["model"], r["task"], r["level"]) == (model, task, lv)]
            st = [100 * r["accuracy"] for r in std if (r["model"], r["task"], r["level"]) == (model, task, lv)]
            if not raw:
                continue
            st_text = f"{mean_ci(st)[0]:.1f}" if st else "-"
            L.append(f"| {model} | {TASK_NAMES[task]} | {LEVEL_NAMES[lv]} | "
                     + " | ".join(_cell(rows, model, task, lv, hops=h) for h in lengths)
                     + f" | {mean_ci(raw)[0]:.1f} | {st_text} |")
    raw_v = {v["claim"]: v for v in verdicts(metrics)}
    L += ["", "The claims on the standardized accuracies (the verdicts above stay on the raw levels, as the "
          "paper's):", "", "| claim | ours, raw | verdict | ours, standardized | verdict |", "|---|---|---|---|---|"]
    for v in verdicts(std):
        r = raw_v.get(v["claim"], {})
        L.append(f"| {v['claim']} | {r.get('ours', '-')} | {r.get('verdict', '-')} | {v['ours']} | {v['verdict']} |")
    return L + [""] + start_section(rows)


def start_section(rows: list[dict]) -> list[str]:
    """Ctx accuracy of the models that read, by whom the question starts at: an injected person, whose name
    the model met in injection, or a new one (paragraphs about other people make reading a matter of names)."""
    readers = [m for m in (ATOMIC, "SFT(Ctx)") if any(r["model"] == m and r["task"] == "ctx" for r in rows)]
    if not readers:
        return []
    L = ["### Reading about injected and new people", "",
         "Ctx exact match (%) by the question's first person, mean over seeds (questions per seed): *injected*: "
         "a person of the knowledge-injection corpus (`questions.ctx_familiar_share` of the questions), *new*: "
         "one the model meets only in prompts.", "",
         "| model | level | injected | new |", "|---|---|---:|---:|"]
    for model in readers:
        for lv in LEVELS:
            L.append(f"| {model} | {LEVEL_NAMES[lv]} | {_cell(rows, model, 'ctx', lv, start='injected')} | "
                     f"{_cell(rows, model, 'ctx', lv, start='new')} |")
    return L + [""]
