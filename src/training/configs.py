"""Every training stage's trainer settings, built in one place from its typed settings: TRL's SFTConfig for
knowledge injection, SFT and the generic stage's two phases, its GRPOConfig for RL."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from trl import GRPOConfig, SFTConfig

from ..job import precision_kwargs

if TYPE_CHECKING:  # annotations only: a stage's settings import the declarations it reads
    from ..params.settings.grpo import GRPO
    from ..params.settings.inject import Inject
    from ..params.settings.sft import SFT

INJECT_WARMUP = 0.05  # training.inject has no warmup key: the learning rate rises over 5% of its steps


def per_device_batch(batch: int, key: str) -> int:
    """The configured batch is the global batch of an optimizer step: each of the WORLD_SIZE data-parallel
    processes (accelerate sets it; 1 without) takes an equal share, so 1, 2 or 4 GPUs train alike."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if batch % world:  # src/params/cross.py refuses this at planning time; a hand-launched run lands here
        raise SystemExit(f"{key} = {batch}: the global batch does not divide among {world} processes; "
                         f"use a multiple of {world}")
    return batch // world


def common_trainer_kwargs(seed: int, out: Path, keep_scratch: bool = False) -> dict:
    """The trainer's settings shared by every stage. Its scratch folder (out + '.trainer') starts empty, even
    after a killed run left one behind, unless `keep_scratch` (resume_point has checked what is in it)."""
    if not keep_scratch:
        shutil.rmtree(str(out) + ".trainer", ignore_errors=True)
    # TRL turns gradient checkpointing on by default: recomputing the forward saves memory that these
    # models do not need and costs a third more arithmetic
    # checkpoints: TimedCheckpoints decides when (save_strategy "no" otherwise); the last one is all a resume needs
    return dict(output_dir=str(out) + ".trainer", seed=seed, data_seed=seed, report_to="none",
                save_strategy="no", save_total_limit=1, logging_steps=10, logging_first_step=True, disable_tqdm=False,
                dataloader_num_workers=0, gradient_checkpointing=False, **precision_kwargs())


def sft_config(t: Inject | SFT, key: str, seed: int, out: Path, epochs: float | None = None,
               keep_scratch: bool = True, **extra) -> SFTConfig:
    """An SFT-style stage's trainer settings: `t`'s epochs (or `epochs`), learning rate, global batch and row
    length, its warmup (injection's: INJECT_WARMUP), a cosine schedule; `key` names `t` in errors; `extra`
    passes stage-specific options (completion_only_loss for question answering)."""
    warmup = getattr(t, "warmup", INJECT_WARMUP)
    return SFTConfig(num_train_epochs=t.epochs if epochs is None else epochs, learning_rate=t.learning_rate,
                     per_device_train_batch_size=per_device_batch(t.batch_size, f"{key}.batch_size"),
                     max_length=t.max_length, lr_scheduler_type="cosine", warmup_steps=warmup, weight_decay=0.0,
                     packing=False, **extra, **common_trainer_kwargs(seed, out, keep_scratch=keep_scratch))


def grpo_config(g: GRPO, seed: int, out: Path) -> GRPOConfig:
    """RL's trainer settings: `training.grpo`'s steps, learning rate (constant), global batch, group size,
    temperature, KL weight and completion budget; every step logged (the reward curve)."""
    kwargs = common_trainer_kwargs(seed, out, keep_scratch=True)
    kwargs["logging_steps"] = 1
    return GRPOConfig(max_steps=g.steps, learning_rate=g.learning_rate,
                      per_device_train_batch_size=per_device_batch(g.batch_size, "training.grpo.batch_size"),
                      num_generations=g.num_generations, temperature=g.temperature, beta=g.beta,
                      max_completion_length=g.max_completion_length, lr_scheduler_type="constant", **kwargs)
