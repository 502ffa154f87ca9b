"""Entry point: supervised fine-tuning on question sets (TRL SFTTrainer, loss on the completion only).

--model is the model to start from, --tasks the training data (e.g. mem ctx): the train split of
each task's QA file, shuffled together. --rl-questions trains instead on the questions RL takes
(training.grpo.questions of them: SFT(Mem+Ctx)->SFT(Comp) against ->RL(Comp) on the same questions),
--lora trains a LoRA adapter (the LoRA(...) stage); --share 0.3 keeps the first 30% of the questions
(SFT(Mem+Ctx@30%)). Prompt: context (if any) + question; completion: the
chain of thought ending in 'So, the answer is: X'.
"""
from __future__ import annotations

import logging

from datasets import Dataset

from ..job import setup
from ..model_io import load_model, load_tokenizer, peft_config
from ..params import stages
from ..text import completion_of, prompt_of
from .common import resume_point, stage_args, train_and_save
from .configs import sft_config
from .packing import PackedSFTTrainer
from .questions import qa_dataset

log = logging.getLogger(__name__)


def main() -> None:
    ap = stage_args(__doc__, from_model=True)
    ap.add_argument("--rl-questions", action="store_true",
                    help="train on RL's questions, as many as it takes (training.grpo.questions)")
    ap.add_argument("--share", type=float, default=1.0, help="train on this first share of the questions")
    ap.add_argument("--lora", action="store_true", help="train a LoRA adapter (model.lora's r, alpha, dropout)")
    args = ap.parse_args()
    setup(args.seed)
    s = stages.load("train_sft_rl_questions" if args.rl_questions else "train_sft", args.params, args.preset)
    t = s.sft
    tokenizer = load_tokenizer(args.tokenizer)
    if not 0 < args.share <= 1:
        ap.error(f"--share must be in (0, 1], not {args.share}")
    if not args.rl_questions:  # SFT(Mem+Ctx@30%): the first 30% of each task's questions
        rows = qa_dataset(args.data, args.tasks, t.atomic_holdout, "sft", args.share)
    else:  # the same questions src/training/grpo.py takes
        rows = qa_dataset(args.data, args.tasks, t.atomic_holdout, "rl", args.share)[: s.grpo_questions]
    data = Dataset.from_list([{"prompt": prompt_of(r), "completion": completion_of(r)} for r in rows])
    log.info("SFT on %s: %d questions", "+".join(args.tasks), len(data))
    resume = resume_point(args.out, args, s)  # a killed run's last checkpoint, if any
    # random batches, not train_sampling_strategy="group_by_length": grouping doubled tokens/s alone but made
    # batches single-task (Mem prompts are short, Ctx long) and cut SFT(Mem+Ctx)'s Mem I.I.D. from 38.7% to
    # 15.6% over 3 seeds (default study)
    config = sft_config(t, "training.sft", args.seed, args.out, completion_only_loss=True)
    trainer = PackedSFTTrainer(model=load_model(args.model, tokenizer), args=config, train_dataset=data,
                         processing_class=tokenizer, peft_config=peft_config(s.model, force=args.lora))
    train_and_save(trainer, tokenizer, args.out, resume, s.checkpoint_minutes)


if __name__ == "__main__":
    main()
