"""params.yaml `questions`: the Mem, Ctx and Comp question sets (read by the data generator)."""
from __future__ import annotations

from typing import Literal

from .declare import param, section


@section
class PerTask:
    mem: int = param("for the Mem task, at most 10 million", minimum=1, maximum=10_000_000)
    ctx: int = param("for the Ctx task, at most 10 million", minimum=1, maximum=10_000_000)
    comp: int = param("for the Comp task, at most 10 million", minimum=1, maximum=10_000_000)

    def __getitem__(self, task: str) -> int:  # the generator loops over tasks by name
        return getattr(self, task)


@section
class PerTaskOrNone(PerTask):
    mem: int = param("for the Mem task (0: none), at most 10 million", minimum=0, maximum=10_000_000)
    ctx: int = param("for the Ctx task (0: none), at most 10 million", minimum=0, maximum=10_000_000)
    comp: int = param("for the Comp task (0: none), at most 10 million", minimum=0, maximum=10_000_000)


@section
class PerLevel:
    iid: float = param("I.I.D. level", minimum=0)
    composition: float = param("Composition level", minimum=0)
    zero_shot: float = param("Zero-shot level", minimum=0)

    def __getitem__(self, level: str) -> float:
        return getattr(self, level)

    def items(self):
        return ((lv, getattr(self, lv)) for lv in ("iid", "composition", "zero_shot"))

    def values(self):
        return [v for _, v in self.items()]


@section
class Questions:
    seed: int = param("random seed of the questions", minimum=0)
    hop_weights: list[float] = param("relative weights of 2, 3, 4 and 5-hop questions", min_items=1, max_items=4,
                                     minimum=0)
    level_split: Literal["per_task", "shared"] = param(
        "per_task: each task draws its own relation levels and Comp recalls only relations Mem trains (the "
        "authors' design); shared: one level per relation for all tasks (a stricter deviation)")
    level_shares: PerLevel = param("share of a task's relations (per group) at each generalization level; at least "
                                   "one relation each")
    paths: PerTask = param("distinct relation paths drawn per task")
    heldout_composition_share: float = param("share of Composition-level paths kept for the test set, in (0, 1)",
                                             exclusive_minimum=0, exclusive_maximum=1)
    train_questions: PerTask = param("training questions per task")
    test_questions: PerTask = param("test questions per task")
    test_level_ratio: PerLevel = param("how the test questions split over the levels (relative weights)")
    paragraph_facts: int = param("facts per context paragraph, the needed ones plus distractors (0: all of a "
                                 "person's)", minimum=0)
    distractor_paragraphs: int = param(
        "paragraphs about other people added per needed paragraph, stating the same relations, so that the "
        "answer cannot be read off the only paragraph without knowing whose it is (0: none, the authors' "
        "prompts; a deviation)", minimum=0)
    ctx_familiar_share: float = param("share of Ctx questions that start from and pass through injected people, "
                                      "reading their contextual facts (authors: 0.5), 0-1; where fewer such "
                                      "chains exist, all of them (plan.json's mix gives the share drawn); every "
                                      "test level gets the training's share", minimum=0, maximum=1)
    ctx_counterfactual_share: float = param(
        "share of the Ctx training questions whose chain, after its first person, is renamed to other people and "
        "values in prompt, chain of thought and answer (src/data/counterfactual.py): their facts hold in that "
        "prompt only, so reading is the one way to answer them (0: none, the authors'; a deviation; tests are "
        "never renamed), 0-1", minimum=0, maximum=1)
    length_matched_levels: bool = param(
        "draw the Composition and Zero-shot tests with the I.I.D. test's path-length mix too (over the lengths "
        "their paths have), so that levels differ in relations only, not in length (a deviation; false: the "
        "authors' levels, whose lengths follow from how levels are assigned)")
