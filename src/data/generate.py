"""Entry point: build the world and the Mem / Ctx / Comp question sets of one preset.

Writes, into --out:
  facts.jsonl                one fact per line: subject, relation, object, group
  biographies.jsonl          the knowledge-injection corpus (parametric facts of parametric people)
  qa_mem.jsonl, qa_ctx.jsonl, qa_comp.jsonl   one question per line, all splits
  plan.json                  relation levels and the train/test relation paths per task
  stats.json                 counts per task and split; ctx/familiar: Ctx questions about injected people
  generic/                   with `generic.enabled`: the generic language stage's world (src/data/generic.py):
                             facts.jsonl, biographies.jsonl, qa_{mem,ctx,comp}.jsonl
"""
from __future__ import annotations

import argparse
import collections
import logging

from ..io import atomic_dir, write_json, write_jsonl
from ..params import stages
from .checks import check_dataset
from .generic import build_generic, check_generic
from .questions import TASK_GROUPS, build_questions
from .relations import BY_NAME
from .world import build_world, injection_corpus

log = logging.getLogger(__name__)


def generate(s: stages.GenerateData, out) -> dict:
    """The world, its questions (and the generic world, where enabled) from params' `world`, `questions`
    and `generic` sections, written to `out`; returns the question counts."""
    w = s.world
    world = build_world(w.seed, w.parametric_people, w.contextual_people, w.value_pool_size, w.relations, w.templates)
    plan, records = build_questions(world, s.questions)
    stats = collections.Counter(f"{r['task']}/{r['split']}" for r in records)
    injected = set(world.parametric_people)
    stats["ctx/familiar"] = sum(r["task"] == "ctx" and r["entities"][0] in injected for r in records)
    facts = [{"subject": s, "relation": r, "object": o, "group": BY_NAME[r].group}
             for (s, r), o in sorted(world.facts.items())]
    biographies = injection_corpus(world, w.bio_renderings, w.seed + 1)
    errors = check_dataset(facts, records, plan, biographies)
    generic = None
    if s.generic.enabled:
        g_world, g_bios, g_records = build_generic(s, world)
        g_facts = [{"subject": s, "relation": r, "object": o, "group": BY_NAME[r].group}
                   for (s, r), o in sorted(g_world.facts.items())]
        tasks = [t for t in ("mem", "ctx", "comp") if s.generic.train_questions[t]]
        asked = [r.name for r in world.relations if any(r.group in TASK_GROUPS[t] for t in tasks)]
        errors += check_generic(facts, g_facts, g_records, asked)
        generic = (g_facts, g_bios, g_records)
    log.info(summary(plan))
    if errors:  # a generator bug: refuse to write data that breaks the study's rules
        raise RuntimeError(f"{len(errors)} invariant violations, e.g.:\n" + "\n".join(errors[:10]))
    with atomic_dir(out) as tmp:
        write_jsonl(tmp / "facts.jsonl", facts)
        write_jsonl(tmp / "biographies.jsonl", biographies)
        for task in ("mem", "ctx", "comp"):
            write_jsonl(tmp / f"qa_{task}.jsonl", (r for r in records if r["task"] == task))
        write_json(tmp / "plan.json", plan)
        write_json(tmp / "stats.json", dict(sorted(stats.items())))
        if generic:
            g_facts, g_bios, g_records = generic
            (tmp / "generic").mkdir()
            write_jsonl(tmp / "generic" / "facts.jsonl", g_facts)
            write_jsonl(tmp / "generic" / "biographies.jsonl", g_bios)
            for task in ("mem", "ctx", "comp"):
                write_jsonl(tmp / "generic" / f"qa_{task}.jsonl", (r for r in g_records if r["task"] == task))
    return dict(stats)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    s = stages.load("generate_data", args.params, args.preset)  # the world's, questions' and generic sections
    stats = generate(s, args.out)
    log.info("wrote %s: %s", args.out, stats)


def summary(plan: dict) -> str:
    """The levels each task drew, and where the atomic tasks train Comp's zero-shot relations."""
    lines = [f"levels: {plan['level_split']}"]
    for task, t in plan["tasks"].items():
        held = len(t["test_paths"]["composition"])
        lines.append(f"  {task}: zero-shot {t['relations']['zero_shot']}, I.I.D. {t['relations']['iid']}, "
                     f"{len(t['relations']['composition'])} composition relations, {held} composition-test paths")
    lines.append(f"  Comp recalls {plan['comp_relation_pool']['parametric']}")
    lines.append("  each set's questions by path length (%) and about injected people (%):")
    for task, t in plan["tasks"].items():
        for part, m in t["mix"].items():
            n = m["questions"]
            hops = " / ".join(f"{h}: {100 * k / n:.0f}" for h, k in m["hops"].items())
            familiar = 100 * m["familiar"] / n
            lines.append(f"    {task} {part}: {n} questions; hops {hops}; injected people {familiar:.0f}")
    for rel, tasks in plan["comp_zero_shot_trained_in"].items():
        lines.append(f"  Comp zero-shot relation {rel}: trained in {' and '.join(tasks) or 'no atomic task'}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
