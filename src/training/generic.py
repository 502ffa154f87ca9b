"""Entry point: the generic language stage, a deviation that is off unless `generic.enabled`.

What pretraining gave the paper's model, on a separate world (src/data/generic.py): a model built from
scratch first reads that world's biographies (causal LM, `generic.lm_epochs`, knowledge injection's
learning rate and batch), then answers its questions (SFT on the completion, `generic.sft_epochs`,
SFT's learning rate and batch). Knowledge injection of the study's world starts from the result.
"""
from __future__ import annotations

import logging
import shutil
import time
from typing import TYPE_CHECKING

import torch
from datasets import Dataset

from ..io import read_jsonl
from ..job import setup
from ..model_io import load_tokenizer, new_model, save_model
from ..params import stages
from ..text import completion_of, prompt_of
from .common import stage_args, throughput
from .configs import sft_config
from .packing import PackedSFTTrainer

if TYPE_CHECKING:  # annotations only: stages.load imports the declarations this stage reads
    from ..params.settings.inject import Inject
    from ..params.settings.sft import SFT

log = logging.getLogger(__name__)


def phase(model, tokenizer, data: Dataset, t: Inject | SFT, key: str, epochs: float, seed: int, out, **extra):
    """One trainer over `data` with a stage's learning rate, batch, length and warmup (`key` names them);
    returns (the trained model, its throughput stats)."""
    if not epochs or not len(data):
        return model, {"runtime_s": 0.0, "cpu_s": 0.0, "tokens": 0.0, "steps": 0}
    config = sft_config(t, key, seed, out, epochs=epochs, keep_scratch=False, **extra)
    trainer = PackedSFTTrainer(model=model, args=config, train_dataset=data, processing_class=tokenizer)
    cpu = time.process_time()
    stats = throughput(trainer, trainer.train().metrics, time.process_time() - cpu)
    shutil.rmtree(config.output_dir, ignore_errors=True)  # the trainer's scratch folder
    return trainer.model, stats


def main() -> None:
    args = stage_args(__doc__).parse_args()
    setup(args.seed)
    s = stages.load("train_generic", args.params, args.preset)
    g, folder = s.generic, args.data / "generic"
    if not g.enabled or not folder.exists():
        raise SystemExit(f"the generic language stage needs generic.enabled and its world in {folder}")
    tokenizer = load_tokenizer(args.tokenizer)
    model = new_model(s.model, tokenizer)
    bios = Dataset.from_list([{"text": r["text"]} for r in read_jsonl(folder / "biographies.jsonl")])
    model, lm = phase(model, tokenizer, bios, s.inject, "training.inject", g.lm_epochs, args.seed, args.out)
    rows = [r for task in ("mem", "ctx", "comp") for r in read_jsonl(folder / f"qa_{task}.jsonl")]
    log.info("generic stage: %d biographies, %d questions", len(bios), len(rows))
    qa = Dataset.from_list([{"prompt": prompt_of(r), "completion": completion_of(r)} for r in rows])
    model, sft = phase(model, tokenizer, qa, s.sft, "training.sft", g.sft_epochs, args.seed, args.out,
                       completion_only_loss=True)
    stats = {k: lm[k] + sft[k] for k in ("runtime_s", "cpu_s", "tokens", "steps")}
    params = sum(p.numel() for p in model.parameters())
    stats.update(parameters=params, device=str(model.device), threads=torch.get_num_threads(),
                 tokens_per_s=stats["tokens"] / max(stats["runtime_s"], 1e-9),
                 model_flops_per_s=6 * params * stats["tokens"] / max(stats["runtime_s"], 1e-9),
                 model_flops_per_cpu_s=6 * params * stats["tokens"] / max(stats["cpu_s"], 1e-9))
    save_model(model, tokenizer, args.out, stats)


if __name__ == "__main__":
    main()
