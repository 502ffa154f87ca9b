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
from trl import GRPOTrainer
from trl.models import unwrap_model_for_generation

from ..data.lengths import require_budget
from ..decode import decode
from ..job import cpu_bf16, setup
from ..model_io import load_model, load_tokenizer, peft_config
from ..params import stages
from ..text import is_correct, prompt_of
from .common import resume_point, stage_args, train_and_save
from .configs import grpo_config
from .packing import packed_token_logps
from .questions import qa_dataset

log = logging.getLogger(__name__)


def exact_match_reward(prompts, completions, answer, **_) -> list[float]:
    return [float(is_correct(c, a)) for c, a in zip(completions, answer)]


class PipelineGRPOTrainer(GRPOTrainer):
    """TRL's GRPOTrainer, faster where it spends its time on small models (docs/design.md, "How training
    is fast"; `python -m src.training.bench_grpo` measures each change in CPU time):
    - sampling with the pipeline's decoder instead of `generate`: a group's prompt is read once, the KV
      cache is preallocated, finished completions leave the batch;
    - on the CPU, the update scores completions on packed rows (no padding slots), in bf16 autocast if
      asked, and reads log-probabilities off the LM head at completion positions only. TRL's fused LM
      head is a Triton kernel on GPUs; its torch fallback tiles a [4096 x 32768] buffer, which with a
      vocabulary of a few hundred words spent most of every update in strided copies.
    It clocks its sampling phase (generation and scoring), in wall and CPU seconds, so the speed table can
    split a step into sampling and update (`generation_s`, `generation_cpu_s` in train_stats.json)."""

    generation_s = 0.0
    generation_cpu_s = 0.0
    bf16_update = False  # the update's forward and backward on the CPU under bf16 autocast (training.grpo.precision)

    def _generate_and_score_completions(self, inputs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return super()._generate_and_score_completions(inputs)
        finally:
            self.generation_s += time.perf_counter() - start
            self.generation_cpu_s += time.process_time() - cpu

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        if self.use_vllm or self.use_transformers_continuous_batching or images or multimodal_fields:
            return super()._generate_single_turn(prompt_ids, images, multimodal_fields, num_generations,
                                                 has_tool_images)
        # the pipeline's decoder: each group's prompt read once, finished completions leave the batch
        # (src/decode.py); the same distribution as `generate` with top_k=0, top_p=1
        with unwrap_model_for_generation(self.model_wrapped, self.accelerator) as model:
            completion_ids = decode(model, prompt_ids, self.max_completion_length, self._tokenizer.eos_token_id,
                                    self._tokenizer.pad_token_id, self.temperature)
        return completion_ids, None

    def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, logits_to_keep,
                                           batch_size=None, compute_entropy=False, **extra):
        if input_ids.is_cuda or any(v is not None and v is not False for v in extra.values()):
            return super()._get_per_token_logps_and_entropies(model, input_ids, attention_mask, logits_to_keep,
                                                              batch_size, compute_entropy, **extra)
        # what the fused head returns: log-probabilities (and entropies) of the completion tokens at the
        # sampling temperature, from the same tokens, packed (no arithmetic on padding)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16_update):
            token_logps, entropies = packed_token_logps(model, input_ids, attention_mask, logits_to_keep,
                                                        self.temperature, compute_entropy)
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
    config = grpo_config(g, args.seed, args.out)
    trainer = PipelineGRPOTrainer(model=load_model(args.model, tokenizer), reward_funcs=exact_match_reward,
                                  args=config, train_dataset=data, processing_class=tokenizer,
                                  peft_config=peft_config(s.model))
    trainer.bf16_update = not torch.cuda.is_available() and cpu_bf16(g.precision)
    log.info("device %s, %d thread(s); the update in %s, sampling in fp32", trainer.args.device,
             torch.get_num_threads(), "bf16 autocast" if trainer.bf16_update else "fp32")
    train_and_save(trainer, tokenizer, args.out, resume, s.checkpoint_minutes)


if __name__ == "__main__":
    main()
