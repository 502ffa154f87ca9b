"""The paper's premise, checked on our models and data: before RL, SFT holds the atomic skills (Mem recalls,
Ctx reads), and a Comp question cannot be answered by copying one sentence of its prompt.

Three tables for REPORT.md and headline.json:
- atomic skills: each SFT model's Mem and Ctx accuracy per level beside the bar for "holds the skill";
- reading: whether each SFT model that learned Ctx reads its prompt (src/evaluation/reading.py's probes):
  on the questions it trained on, the I.I.D. ones, the same with the answer swapped, and without the context;
- the copy shortcut, per Comp test level, counted from the data alone: of the questions whose prompt
  prints the answer, those where the prompt states exactly one fact with the question's final relation and
  that fact's object is the answer (copying it is right without following the chain);
and, for "What the Comp verdicts rest on", each model's Comp accuracy apart by where the answer is (copyable,
printed but not to copy, recalled only) and RL(Comp)'s Zero-shot gain on each kind.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from ..data.questions import LEVELS, answer_in_prompt
from ..data.relations import BY_NAME
from ..io import read_jsonl
from ..models import Model
from ..recipes import chain_label, model_chains, slug_steps
from .claims import ATOMIC, fmt
from .intervals import mean_ci
from .tables import LEVEL_NAMES, accuracies, cell_text

# Issue 35's bar for "holds the skill" (the paper reports no atomic accuracies; it states its SFT(Mem+Ctx)
# model recalls and reads). Zero-shot is shown, not judged: no relation of it was trained in that task.
MASTERED = {"iid": 90.0, "composition": 80.0}
SHORTCUT_BAR = 10.0  # at most this share (%) of in-prompt answers may be copyable


def sft_models(recipes: list[str]) -> list[str]:
    """Labels of the study's models that RL has not touched, in training order."""
    return [chain_label(c) for c in model_chains(recipes) if all(s.method != "grpo" for s in slug_steps(c))]


def atomic_rows(rows: list[dict], recipes: list[str]) -> list[dict]:
    """Per SFT model and atomic task: its accuracy (%) per level over seeds, and whether it meets the bar."""
    out = []
    for label in sft_models(recipes):
        for task in ("mem", "ctx"):
            cells = {lv: list(accuracies(rows, label, task, lv).values()) for lv in LEVELS}
            if not any(cells.values()):
                continue
            met = all(cells[lv] and mean_ci(cells[lv])[0] >= bar for lv, bar in MASTERED.items())
            out.append({"model": label, "task": task, **{lv: cells[lv] for lv in LEVELS}, "mastered": met})
    return out


READING_HEAD = "Does each model read its prompt?"  # the README's premise block stops before this table
READING_PROBES = {"seen": "seen in training", "iid": "I.I.D.", "swapped": "I.I.D., answer swapped",
                  "no_context": "I.I.D., no context"}


def reading_rows(reading: dict[str, Path]) -> list[dict]:
    """Per model that learned Ctx: each reading probe's accuracy (%) per seed, and for the swap the share (%)
    that kept the old answer; in the order of the files (the study's model order)."""
    out: dict[str, dict] = {}
    for path, f in reading.items():
        probes = json.loads(Path(f).read_text())
        row = out.setdefault(Model.at(path).label, {"model": Model.at(path).label, "n": {}, "kept_old": [],
                                                     **{k: [] for k in READING_PROBES}})
        for k in READING_PROBES:
            row[k].append(100 * probes[k]["accuracy"])
            row["n"][k] = probes[k]["n"]
        row["kept_old"].append(100 * probes["swapped"]["kept_old"])
    return list(out.values())


def reading_diagnosis(row: dict) -> str:
    """What the probes say, against the I.I.D. bar: a reader that underfits, one that does not generalize
    past its training contexts, or one that reads."""
    bar, mean = MASTERED["iid"], lambda k: mean_ci(row[k])[0]
    if mean("seen") < bar:
        return f"underfits: below {bar:.0f} on the very questions it trained on"
    if mean("iid") < bar:
        return "learned its training questions but does not read new ones as well"
    return "reads"


def _stated(rel: str, subject: str, obj: str, context: str) -> bool:
    """Does the context state this fact, in any of its relation's sentence templates?"""
    return any(t.format(s=subject, o=obj) in context for t in BY_NAME[rel].templates)


def facts_by_relation(data: Path) -> dict[str, list[tuple[str, str]]]:
    """{relation: [(subject, object)]} of the world (facts.jsonl)."""
    by_rel = defaultdict(list)
    for f in read_jsonl(Path(data) / "facts.jsonl"):
        by_rel[f["relation"]].append((f["subject"], f["object"]))
    return by_rel


def copyable(q: dict, by_rel: dict) -> bool:
    """The copy shortcut: the prompt states exactly one fact with the question's final relation, and its object
    is the answer, so copying it is right without following the chain."""
    ctx, rel = q.get("context", ""), q["relation_path"][-1]
    stated = [o for s, o in by_rel[rel] if s in ctx and o in ctx and _stated(rel, s, o, ctx)]
    return len(stated) == 1 and stated[0] == q["answer"]


def shortcut_rows(data: Path) -> list[dict]:
    """Per Comp test level: questions, those whose prompt prints the answer, and those of them answerable by
    copying the only stated fact with the final relation (facts.jsonl and qa_comp.jsonl alone)."""
    by_rel = facts_by_relation(data)
    counts = {lv: {"questions": 0, "in_prompt": 0, "copyable": 0} for lv in LEVELS}
    for q in read_jsonl(Path(data) / "qa_comp.jsonl"):
        if q["split"] not in counts:
            continue
        c = counts[q["split"]]
        c["questions"] += 1
        if not answer_in_prompt(q):
            continue
        c["in_prompt"] += 1
        c["copyable"] += copyable(q, by_rel)
    return [{"level": lv, **c, "share": round(100 * c["copyable"] / c["in_prompt"], 1) if c["in_prompt"] else 0.0}
            for lv, c in counts.items()]


def zero_shot_by_answer(sources: list[dict]) -> dict:
    """{model: {'in the prompt': %, 'recalled only': %, 'copyable': %, 'printed, not to copy': %}} at Comp
    Zero-shot, summed over seeds (the report's answer-source tables): whether a model's Zero-shot accuracy, and
    RL's gain, rest on the copy (None where a kind has no questions)."""
    out: dict = {}
    for r in sources:
        if r["level"] == "zero_shot":
            cell = out.setdefault(r["model"], {}).setdefault(r["answer"], [0, 0])
            cell[0], cell[1] = cell[0] + r["correct"], cell[1] + r["questions"]
    for kinds in out.values():  # copyable is a subset of in the prompt: the rest must follow the chain
        if "copyable" in kinds:
            kinds["printed, not to copy"] = [a - b for a, b in zip(kinds["in the prompt"], kinds["copyable"])]
    return {m: {k: round(100 * c / n, 1) if n else None for k, (c, n) in kinds.items()} for m, kinds in out.items()}


def answer_source_section(rows: list[dict]) -> list[str]:
    """Comp exact match by whether the prompt prints the answer, per model and level, summed over seeds."""
    if not rows:
        return []
    kinds = ("in the prompt", "recalled only")
    L = ["Comp exact match (%) by where the final answer is, summed over seeds: *in the prompt* where the "
         "context paragraph states it (reading alone can answer), *recalled only* where a parametric hop "
         "ends the chain.", "",
         "| model | " + " | ".join(f"{LEVEL_NAMES[lv]}, {k}" for lv in LEVELS for k in kinds) + " |",
         "|---|" + "---:|" * (len(LEVELS) * len(kinds))]
    for model in dict.fromkeys(r["model"] for r in rows):
        cells = []
        for lv in LEVELS:
            for k in kinds:
                rs = [r for r in rows if r["model"] == model and r["level"] == lv and r["answer"] == k]
                n = sum(r["questions"] for r in rs)
                cells.append(f"{fmt(100 * sum(r['correct'] for r in rs) / n if n else None)} (n={n})")
        L.append(f"| {model} | " + " | ".join(cells) + " |")
    return L + [""] + zero_shot_gain_by_kind(rows)


def rl_pairs(models) -> list[tuple[str, str]]:
    """(base, base->RL(Comp)) for every RL(Comp) model whose base is among `models`, in their order."""
    return [(m.rsplit("->", 1)[0], m) for m in models if m.endswith("->RL(Comp)") and m.rsplit("->", 1)[0] in models]


def zero_shot_gain_by_kind(rows: list[dict]) -> list[str]:
    """RL(Comp)'s Zero-shot gain apart by what the prompt gives: the answer to copy (the only stated fact with
    the final relation), the answer printed but not to copy (reading must follow the chain), or no answer (a
    recalled hop ends the chain). Summed over seeds."""
    def pct(model, kind):
        rs = [r for r in rows if r["model"] == model and r["level"] == "zero_shot" and r["answer"] == kind]
        return sum(r["correct"] for r in rs), sum(r["questions"] for r in rs)

    def cell(model, kind):
        if kind == "not copyable":  # in the prompt, minus the copyable ones
            (c1, n1), (c2, n2) = pct(model, "in the prompt"), pct(model, "copyable")
            return c1 - c2, n1 - n2
        return pct(model, kind)

    models = list(dict.fromkeys(r["model"] for r in rows))
    pairs = rl_pairs(models)
    kinds = {"copyable": "answer to copy", "not copyable": "answer printed, not to copy",
             "recalled only": "recalled only"}
    if not pairs or not any(r["answer"] == "copyable" for r in rows):
        return []
    L = ["Comp Zero-shot exact match (%) before -> after RL(Comp), apart by what the prompt gives: *answer to copy* "
         "(the prompt states one fact with the question's final relation, and it is the answer), *answer printed, "
         "not to copy* (the answer is printed, but beside other facts of that relation or as another relation's "
         "object: only following the chain finds it), *recalled only* (a recalled hop ends the chain). Summed "
         "over seeds.",
         "", "| RL | " + " | ".join(kinds.values()) + " |", "|---|" + "---:|" * len(kinds)]
    for base, rl in pairs:
        cells = []
        for k in kinds:
            (cb, n), (ca, _) = cell(base, k), cell(rl, k)
            cells.append(f"{fmt(100 * cb / n if n else None)} -> {fmt(100 * ca / n if n else None)} (n={n})")
        L.append(f"| {rl} | " + " | ".join(cells) + " |")
    return L + [""]


def headline(atomic: list[dict], shortcut: list[dict], sources: list[dict] | None = None,
             reading: list[dict] | None = None) -> dict:
    """The premise in headline.json: SFT(Mem+Ctx)'s atomic cells, the shortcut share per level, each
    model's Zero-shot accuracy apart by where the answer is, and the reading probes' means."""
    mine = [r for r in atomic if r["model"] == ATOMIC]
    cells = {f"{r['task']}_{lv}": round(mean_ci(r[lv])[0], 1) for r in mine for lv in LEVELS if r[lv]}
    return {"sft_mem_ctx": cells, "sft_mem_ctx_mastered": all(r["mastered"] for r in mine) if mine else None,
            "shortcut_share": {r["level"]: r["share"] for r in shortcut},
            "shortcut": shortcut,  # the counts behind the shares (a joined study redraws the table from them)
            "zero_shot_by_answer": zero_shot_by_answer(sources or []),
            "reading": {r["model"]: {k: round(mean_ci(r[k])[0], 1) for k in (*READING_PROBES, "kept_old")}
                        for r in reading or []}}


def section(atomic: list[dict], shortcut: list[dict], reading: list[dict] | None = None) -> list[str]:
    bar = ", ".join(f"{LEVEL_NAMES[lv]} >= {v:.0f}" for lv, v in MASTERED.items())
    L = ["## The paper's premise on our models", "",
         f"Atomic skills after SFT, exact match (%), mean ± 95% CI over seeds. The argument starts from models "
         f"that recall (Mem) and read (Ctx) before RL; our bar for holding a skill: {bar} (the paper gives no "
         "atomic accuracies). Zero-shot is shown, not judged.", "",
         "| model | task | " + " | ".join(LEVEL_NAMES[lv] for lv in LEVELS) + " | holds the skill |",
         "|---|---|" + "---:|" * len(LEVELS) + "---|"]
    for r in atomic:
        L.append(f"| {r['model']} | {r['task'].capitalize()} | " + " | ".join(cell_text(r[lv]) for lv in LEVELS)
                 + f" | {'yes' if r['mastered'] else 'no'} |")
    L += ["", f"The copy shortcut, from the data: of the Comp test questions whose prompt prints the answer, those "
          "where the prompt states exactly one fact with the question's final relation and its object is the answer "
          f"(copying it is right without following the chain). Bar: at most {SHORTCUT_BAR:.0f}% of the in-prompt ones.",
          "", "| level | questions | answer in the prompt | copyable | copyable share of in-prompt (%) |",
          "|---|---:|---:|---:|---:|"]
    for r in shortcut:
        L.append(f"| {LEVEL_NAMES[r['level']]} | {r['questions']} | {r['in_prompt']} | {r['copyable']} | "
                 f"{r['share']:.1f} |")
    open_at = [LEVEL_NAMES[r["level"]] for r in shortcut if r["share"] > SHORTCUT_BAR]
    L += ["", f"The shortcut is open (above {SHORTCUT_BAR:.0f}%) at: {', '.join(open_at)}." if open_at
          else "The shortcut is closed at every level.", ""]
    if reading:
        L += [f"{READING_HEAD} Ctx exact match (%), mean ± 95% CI over seeds, on "
              f"{reading[0]['n']['iid']} questions per probe and seed (src/evaluation/reading.py): questions its SFT "
              "trained on; I.I.D. test questions; the same with every mention of the answer in the context replaced "
              "by another value of the final relation (a reader answers the new value; *kept old*: the share that "
              "gave the replaced one); the same without the context (from the weights alone).", "",
              "| model | " + " | ".join(READING_PROBES.values()) + " | kept old | what it says |",
              "|---|" + "---:|" * (len(READING_PROBES) + 1) + "---|"]
        for r in reading:
            L.append(f"| {r['model']} | " + " | ".join(cell_text(r[k]) for k in READING_PROBES)
                     + f" | {cell_text(r['kept_old'])} | {reading_diagnosis(r)} |")
        L.append("")
    return L

