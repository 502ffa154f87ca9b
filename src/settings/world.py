"""params.yaml `world`: the synthetic biography world."""
from __future__ import annotations

from typing import Literal

from .declare import param, section


@section
class World:
    seed: int = param("random seed of the world", minimum=0)
    parametric_people: int = param("people whose facts are injected into the weights (at least 8)", minimum=8)
    contextual_people: int = param("people only ever seen in prompts (at least 8)", minimum=8)
    value_pool_size: int = param("distinct values per drawn attribute (cities, jobs, ...)", minimum=1)
    bio_renderings: int = param("renderings of each parametric biography in the injection corpus", minimum=1)
    relations: Literal["all"] | list[str] = param(
        "\"all\" (the paper's 39 relations) or a list of at least 4 relation names (src/data/relations.py)",
        min_items=4, unique=True)
    templates: int = param("sentence templates per relation in texts, 1-3 (paper: 3; 1 = the canonical one)",
                           minimum=1, maximum=3)
