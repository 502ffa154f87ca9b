"""Non-finite numbers stop a job where they appear, naming it: a diverged run (a NaN loss) or damaged
weights would otherwise train on or evaluate to empty answers and exit 0 with accuracy 0."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from transformers import TrainerCallback


def require_finite(model, where: Path) -> None:
    """Stop, naming the folder, if any weight is NaN or infinite (a damaged file, or a run that diverged)."""
    bad = [n for n, p in model.named_parameters() if not torch.isfinite(p).all()]
    if bad:
        raise SystemExit(f"{where}: {len(bad)} weight tensor(s) hold NaN or infinity (e.g. {bad[0]}): the file is "
                         "damaged or its training diverged; delete the folder and rerun the stage that writes it "
                         "(with a lower learning rate if it diverged)")


class FiniteLoss(TrainerCallback):
    """Stop the job at the first logged loss or gradient norm that is NaN or infinite, naming the step:
    training on would only write a model of NaN weights, which evaluates to empty answers."""

    def __init__(self, out: Path):
        self.out = out

    def on_log(self, args, state, control, logs=None, **kwargs):
        for key in ("loss", "grad_norm"):
            value = (logs or {}).get(key)
            if isinstance(value, (int, float)) and not np.isfinite(value):
                raise SystemExit(f"{self.out}: {key} is {value} at step {state.global_step}: training diverged; "
                                 "lower the stage's learning_rate in params.yaml and rerun")
