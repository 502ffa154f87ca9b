"""params.yaml `world`: the synthetic biography world."""
from __future__ import annotations

from typing import Literal

from .declare import param, section


@section
class World:
    seed: int = param("random seed of the world", minimum=0)
    parametric_people: int = param("people whose facts are injected into the weights, 8 to 100,000 (paper: "
                                   "10,000)", minimum=8, maximum=100_000)
    contextual_people: int = param("people only ever seen in prompts, 8 to 100,000 (paper: 5,000)", minimum=8,
                                   maximum=100_000)
    value_pool_size: int = param("distinct values per drawn attribute (cities, jobs, ...)", minimum=1)
    bio_renderings: int = param("renderings of each parametric biography in the injection corpus, 1-1000",
                                minimum=1, maximum=1000)
    relations: Literal["all"] | list[str] = param(
        "\"all\" (the paper's 39 relations) or a list of at least 4 relation names (src/data/relations.py)",
        min_items=4, unique=True)
    templates: int = param("sentence templates per relation in texts, 1-3 (paper: 3; 1 = the canonical one)",
                           minimum=1, maximum=3)
