"""params.yaml `training.inject`: knowledge injection, causal LM on the parametric biographies."""
from __future__ import annotations

from .declare import param, section


@section
class Inject:
    epochs: float = param("passes over the corpus", exclusive_minimum=0)
    learning_rate: float = param("peak AdamW learning rate (cosine schedule)", exclusive_minimum=0)
    batch_size: int = param("packed rows per step", minimum=1)
    max_length: int = param("tokens per packed row", minimum=1)
