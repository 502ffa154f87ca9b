"""params.yaml `training.inject`: knowledge injection, causal LM on the parametric biographies."""
from __future__ import annotations

from .declare import param, section


@section
class Inject:
    epochs: float = param("passes over the corpus, at most 1000", exclusive_minimum=0, maximum=1000)
    learning_rate: float = param("peak AdamW learning rate (cosine schedule)", exclusive_minimum=0)
    batch_size: int = param("packed rows per step", minimum=1)
    max_length: int = param("tokens per packed row, at most 131072", minimum=1, maximum=131072)
