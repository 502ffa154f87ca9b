"""Entry point: knowledge injection, a causal LM trained on the parametric biographies.

Every rendering of every parametric biography is one training text; the loss is on all tokens.
The result is the base model every recipe starts from. With --init (the generic language stage, a
deviation that is off by default) it starts from that model instead of a new one.
"""
from __future__ import annotations

import logging
from pathlib import Path

from datasets import Dataset

from ..io import read_jsonl
from ..job import setup
from ..model_io import load_model, load_tokenizer, new_model, peft_config
from ..params import stages
from .common import resume_point, stage_args, train_and_save
from .configs import sft_config
from .packing import PackedSFTTrainer

log = logging.getLogger(__name__)


def main() -> None:
    ap = stage_args(__doc__)
    ap.add_argument("--init", type=Path, default=None,
                    help="start from this model (the generic language stage's) instead of a new one")
    args = ap.parse_args()
    setup(args.seed)
    s = stages.load("inject_knowledge", args.params, args.preset)
    t = s.inject
    tokenizer = load_tokenizer(args.tokenizer)
    texts = Dataset.from_list([{"text": r["text"]} for r in read_jsonl(args.data / "biographies.jsonl")])
    resume = resume_point(args.out, args, s)  # a killed run's last checkpoint, if any
    config = sft_config(t, "training.inject", args.seed, args.out)
    log.info("knowledge injection starts from %s", args.init or "a new model")
    model = load_model(args.init, tokenizer) if args.init else new_model(s.model, tokenizer)
    trainer = PackedSFTTrainer(model=model, args=config, train_dataset=texts, processing_class=tokenizer,
                               peft_config=peft_config(s.model))
    train_and_save(trainer, tokenizer, args.out, resume, s.checkpoint_minutes)


if __name__ == "__main__":
    main()
