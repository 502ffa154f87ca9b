"""params.yaml `training.grpo`: reinforcement learning (TRL GRPOTrainer), reward = exact match of the answer."""
from __future__ import annotations

from .declare import param, section


@section
class GRPO:
    questions: int = param("training questions RL draws its prompts from", minimum=1)
    steps: int = param("optimizer steps, at most 100,000", minimum=1, maximum=100_000)
    learning_rate: float = param("AdamW learning rate (constant)", exclusive_minimum=0)
    batch_size: int = param("completions per step; a multiple of num_generations", minimum=1)
    num_generations: int = param("completions sampled per prompt (the group, at least 2)", minimum=2)
    temperature: float = param("sampling temperature", exclusive_minimum=0)
    beta: float = param("KL coefficient against the starting model (0: none)", minimum=0)
    max_completion_length: int = param("longest completion, tokens, at most 8192", minimum=1, maximum=8192)
    precision: str = param("arithmetic of the update's forward and backward on the CPU: fp32; bf16 (autocast); auto: "
                           "bf16 where the CPU multiplies bf16 natively (AVX512-BF16 or AMX), else fp32. Sampling "
                           "stays fp32 (slower under autocast, measured by src.training.bench_grpo). On a GPU the "
                           "trainer uses bf16 where the GPU supports it, whatever this says",
                           pattern="^(fp32|bf16|auto)$")
