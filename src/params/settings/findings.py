"""A finding of the sweep: which studies to compare and what to show of each, as data (results/findings.md,
copied into the README, is written from these by src/analysis/findings.py; no preset name is in code)."""
from __future__ import annotations

from .declare import param, section

# "MODEL TASK LEVEL" or "BASE => MODEL TASK LEVEL" (the pair: before -> after, e.g. what RL adds)
CELL = r"^\S.* (mem|ctx|comp) (iid|composition|zero_shot)$"


@section
class Finding:
    title: str = param("the finding in words, a headline; every number beside it is computed from the studies",
                       pattern=r"\S")
    studies: list[str] = param("presets compared, in this order ('default': the default study); those not run yet "
                               "are left out, and the finding too while fewer than two (one, if it names one) ran",
                               min_items=1, unique=True)
    cells: list[str] = param("what is shown of each study: 'MODEL TASK LEVEL', exact match (%) mean over seeds, "
                             "e.g. 'SFT(Mem+Ctx) ctx iid'; 'BASE => MODEL TASK LEVEL' shows the pair, "
                             "e.g. 'SFT(Comp) => SFT(Comp)->RL(Comp) comp zero_shot'", min_items=1, pattern=CELL)
    knobs: list[str] = param("parameters shown with each study's value, as dotted keys (e.g. training.sft.epochs)",
                             unique=True)
    verdicts: bool = param("show each study's verdicts on claims 1 / 2 / 3")
    cost: bool = param("show each study's wall minutes (job minutes), as it ran")
