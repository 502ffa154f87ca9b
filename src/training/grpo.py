"""Entry point: RL with GRPO (TRL GRPOTrainer); reward 1 if the final answer matches exactly, else 0.

The RL questions are the first `training.grpo.questions` train questions of the given tasks, the
same for every recipe (the paper uses one fixed set of 12.8k Comp questions); for Mem and Ctx, the
share SFT left out (`training.sft.atomic_holdout`).
"""
from __future__ import annotations

import logging
import time

import torch
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer

from .. import stages
from ..text import is_correct, prompt_of
from .common import (
    common_trainer_kwargs,
    load_model,
    load_tokenizer,
    peft_config,
    per_device_batch,
    resume_point,
    setup,
    stage_args,
    train_and_save,
)
from .lengths import require_budget
from .sft import qa_dataset

log = logging.getLogger(__name__)


def exact_match_reward(prompts, completions, answer, **_) -> list[float]:
    return [float(is_correct(c, a)) for c, a in zip(completions, answer)]


class PipelineGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer, plus: it clocks its sampling phase (generation and scoring), so the speed
    table can split a step into generation and update (`generation_s` in train_stats.json); and on the
    CPU it scores completions from the model's full logits. TRL's fused LM head is a Triton kernel on
    GPUs; its torch fallback tiles a [4096 x 32768] buffer, so with this vocabulary of a few hundred
    words most of every update went into strided copies (measured: docs/design.md, "How training is fast")."""

    generation_s = 0.0

    def _generate_and_score_completions(self, inputs):
        start = time.perf_counter()
        try:
            return super()._generate_and_score_completions(inputs)
        finally:
            self.generation_s += time.perf_counter() - start

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                           batch_size=None, compute_entropy=False, **extra):
        if input_ids.is_cuda or any(v is not None and v is not False for v in extra.values()):
            return super()._get_per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep,
                                                              batch_size, compute_entropy, **extra)
        # what the fused head returns: log-probabilities (and entropies) of the completion tokens at the
        # sampling temperature, from the same inputs
        logits = model(input_ids=input_ids, attention_mask=attention_mask, logits_to_keep=logits_to_keep + 1,
                       use_cache=False).logits[:, :-1].float() / self.temperature
        logp = torch.log_softmax(logits, -1)
        kept = attention_mask[:, -logits_to_keep:]  # zero where the completion is padding, as TRL's
        token_logps = logp.gather(-1, input_ids[:, -logits_to_keep:, None]).squeeze(-1) * kept
        entropies = -(logp.exp() * logp).sum(-1) * kept if compute_entropy else None
        return token_logps, entropies, None


def main() -> None:
    args = stage_args(__doc__, from_model=True).parse_args()
    setup(args.seed)
    s = stages.load("train_grpo", args.params, args.preset)
    g = s.grpo
    tokenizer = load_tokenizer(args.tokenizer)
    require_budget(args.data, tokenizer, "training.grpo.max_completion_length", s.grpo.max_completion_length)
    tokenizer.padding_side = "left"  # generation pads on the left
    rows = qa_dataset(args.data, args.tasks, s.atomic_holdout, "rl")[: g.questions]
    data = Dataset.from_list([{"prompt": prompt_of(r), "answer": r["answer"]} for r in rows])
    log.info("GRPO on %s: %d questions, %d steps", "+".join(args.tasks), len(data), g.steps)
    resume = resume_point(args.out, args, s)
    kwargs = common_trainer_kwargs(args.seed, args.out, keep_scratch=True)
    kwargs["logging_steps"] = 1
    config = GRPOConfig(max_steps=g.steps, learning_rate=g.learning_rate,
                        per_device_train_batch_size=per_device_batch(g.batch_size, "training.grpo.batch_size"),
                        num_generations=g.num_generations,
                        temperature=g.temperature, beta=g.beta,
                        max_completion_length=g.max_completion_length, lr_scheduler_type="constant",
                        **kwargs)
    trainer = PipelineGRPOTrainer(model=load_model(args.model, tokenizer), reward_funcs=exact_match_reward,
                                  args=config, train_dataset=data, processing_class=tokenizer,
                                  peft_config=peft_config(s.model))
    train_and_save(trainer, tokenizer, args.out, resume, s.checkpoint_minutes)


if __name__ == "__main__":
    main()
