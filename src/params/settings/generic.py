"""params.yaml `generic`: the generic language stage, a deviation off by default."""
from __future__ import annotations

from .declare import param, section
from .questions import PerTaskOrNone


@section
class Generic:
    enabled: bool = param("run the stage (from-scratch models only)")
    seed: int = param("random seed of its world (no person shared with the study's)", minimum=0)
    parametric_people: int = param("its people with biographies (at least 8)", minimum=8)
    contextual_people: int = param("its people seen only in prompts (at least 8)", minimum=8)
    bio_renderings: int = param("renderings of each of its biographies", minimum=1)
    paths: PerTaskOrNone = param("its relation paths per task, over every relation")
    train_questions: PerTaskOrNone = param("its training questions per task")
    lm_epochs: float = param("passes over its biographies (causal LM, training.inject's rate and batch), at "
                                 "most 1000", minimum=0, maximum=1000)
    sft_epochs: float = param("passes over its questions (training.sft's rate and batch), at most 1000", minimum=0,
                                  maximum=1000)
