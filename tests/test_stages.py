"""Training stages run directly on smoke data, as the rules start them (through src.training.launch)."""
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from .conftest import ROOT

pytestmark = pytest.mark.slow


def stage(module: str, *args) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT="0", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "src.training.launch", "--gpus", "1", module,
           "--params", "params.yaml", "--preset", "smoke", *map(str, args)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stderr


def test_a_lora_stage_trains_on_rls_questions_and_saves_a_merged_model(smoke_data, tmp_path):
    """SFT(Mem+Ctx)->LoRA(Comp) as the paper preset runs it: an adapter on the RL question set (48 of
    the 60: two steps, the first of which is the warm-up at learning rate 0)."""
    subprocess.run([sys.executable, "-m", "src.training.tokenizer", "--params", "params.yaml", "--preset", "smoke",
                    "--data", str(smoke_data), "--out", str(tmp_path / "tok")], cwd=ROOT, check=True,
                   capture_output=True)
    common = ["--data", smoke_data, "--tokenizer", tmp_path / "tok", "--seed", 0]
    stage("src.training.inject", *common, "--out", tmp_path / "base")
    log = stage("src.training.sft", *common, "--model", tmp_path / "base", "--tasks", "comp", "--lora",
                "--rl-questions", 48, "--out", tmp_path / "lora")
    assert "SFT on comp: 48 questions" in log
    saved = sorted(p.name for p in (tmp_path / "lora").iterdir())
    assert "model.safetensors" in saved and "adapter_config.json" not in saved  # merged, loads plainly
    base, tuned = load_file(tmp_path / "base/model.safetensors"), load_file(tmp_path / "lora/model.safetensors")
    assert base.keys() == tuned.keys()  # no lora_A / lora_B left: the adapter is merged into the weights
    changed = [k for k in base if not torch.equal(base[k], tuned[k])]
    assert changed and all("proj" in k for k in changed)  # LoRA touches the linear layers only


def test_throughput_counts_grpo_steps_with_a_learning_signal():
    """frac_reward_zero_std = 1 means every group had equal rewards: zero advantages, nothing learned."""
    from types import SimpleNamespace

    from src.training.common import throughput
    logs = [{"num_tokens": "100", "reward": "0", "frac_reward_zero_std": "1"},
            {"num_tokens": "200", "reward": "0.25", "frac_reward_zero_std": "0.5"},
            {"num_tokens": "300", "reward": "0.5", "frac_reward_zero_std": "1"},
            {"train_runtime": 3.0}]
    trainer = SimpleNamespace(state=SimpleNamespace(log_history=logs, global_step=3),
                              model=torch.nn.Linear(2, 2), args=SimpleNamespace(device="cpu"))
    st = throughput(trainer, {"train_runtime": 3.0})
    assert (st["rl_steps_with_signal"], st["rl_logged_steps"], st["rl_mean_reward"]) == (1, 3, 0.25)
    assert st["tokens_per_s"] == 100 and st["parameters"] == 6
    trainer.state.log_history = [{"num_tokens": 10}]
    sft = throughput(trainer, {"train_runtime": 1.0})
    assert "rl_logged_steps" not in sft  # SFT logs no rewards
