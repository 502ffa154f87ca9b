"""A study split by seed: one preset per seed run on its own (each fits a sitting), joined afterwards by
src/analysis/pool.py into the study they make together (its metrics, claims and report)."""
from __future__ import annotations

from .declare import param, section


@section
class Pool:
    study: str = param("the preset whose seeds the parts share out (results/STUDY/ receives the joined study)",
                       pattern="^[A-Za-z0-9_-]+$")
    parts: list[str] = param("presets identical to the study but for their seeds, which together are the study's "
                             "seeds, each seed in one part", min_items=2, unique=True)
