"""params.yaml `evaluation`: evaluation of every model, pass@k sampling, the generation benchmark."""
from __future__ import annotations

from .declare import param, section


@section
class PassK:
    seeds: int = param("how many of the seeds (the first ones) get pass@k", minimum=1)
    questions: int = param("Comp test questions per level", minimum=1)
    samples: int = param("samples n per question; pass@k for k = 1..n", minimum=1)
    temperature: float = param("sampling temperature", exclusive_minimum=0)
    timed_samples: int = param("samples per question the generation benchmark times on one question per level: "
                               "what a larger n (the paper's 512) would cost, before anyone sets `samples` to it",
                               minimum=1)


@section
class Evaluation:
    batch_size: int = param("questions decoded together", minimum=1)
    max_new_tokens: int = param("longest answer, tokens (greedy), at most 8192", minimum=1, maximum=8192)
    passk: PassK = param("pass@k of every RL model and the model it started from, on the Comp test")
    speed_questions: int = param("Comp test questions decoded batched and one at a time (speed benchmark)", minimum=1)
    shift_questions: int = param("Comp test questions per level (the first ones) run with their gold chain through "
                                 "each RL model and its start, for the hidden-state shifts", minimum=1)
    reading_questions: int = param("Ctx questions per probe of whether each SFT model that learned Ctx reads its "
                                   "prompt: seen in training, I.I.D., I.I.D. with the answer swapped, I.I.D. "
                                   "without context", minimum=1)
