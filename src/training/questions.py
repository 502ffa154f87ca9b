"""Which training questions each stage trains on: the train split of its tasks, the atomic ones (Mem, Ctx)
cut in two between SFT and RL; shared by the SFT and GRPO stages and their benchmarks."""
from __future__ import annotations

from pathlib import Path

from ..io import read_jsonl

ATOMIC = ("mem", "ctx")


def qa_dataset(data: Path, tasks: list[str], atomic_holdout: float, part: str = "sft",
               share: float = 1.0) -> list[dict]:
    """Training questions of `tasks`. The atomic (Mem, Ctx) ones are cut in two, as in the paper's
    SFT(Mem+Ctx)->RL(Mem+Ctx): SFT ('sft') sees the first 1 - atomic_holdout of them, RL ('rl') the rest.
    `share` keeps the first part of each task's questions (the data-proportion sweep)."""
    rows = []
    for task in tasks:
        train = [r for r in read_jsonl(data / f"qa_{task}.jsonl") if r["split"] == "train"]
        if task in ATOMIC:
            cut = round(len(train) * (1 - atomic_holdout))
            train = train[:cut] if part == "sft" else train[cut:]
        rows += train[: round(len(train) * share)]
    return rows


