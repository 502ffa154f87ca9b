"""Training stages run directly on smoke data, as the rules start them (through src.training.launch)."""
import os
import re
import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="module")
def smoke_base(smoke_data, tmp_path_factory):
    """The smoke world's tokenizer and injected model: (the stages' common arguments, the model's folder)."""
    out = tmp_path_factory.mktemp("base")
    subprocess.run([sys.executable, "-m", "src.training.tokenizer", "--params", "params.yaml", "--preset", "smoke",
                    "--data", str(smoke_data), "--out", str(out / "tok")], cwd=ROOT, check=True, capture_output=True)
    common = ["--data", smoke_data, "--tokenizer", out / "tok", "--seed", 0]
    stage("src.training.inject", *common, "--out", out / "base")
    return common, out / "base"


def test_a_lora_stage_saves_an_adapter_that_loads_over_its_base(smoke_base, tmp_path):
    """SFT(Mem+Ctx)->LoRA(Comp) as the paper preset runs it: an adapter on the RL question set (RL takes 48
    of the 60 here: two steps, the first of which is the warm-up at learning rate 0), saved in PEFT's
    format, which load_model (evaluation, a later stage) puts back over the model it started from."""
    import yaml

    from src.model_io import load_model
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["presets"]["smoke"]["training"]["grpo"]["questions"] = 48  # how many RL takes: the stage reads it
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    common, base = smoke_base
    common = [*common, "--params", tmp_path / "params.yaml"]  # the later --params wins
    log = stage("src.training.sft", *common, "--model", base, "--tasks", "comp", "--lora",
                "--rl-questions", "--out", tmp_path / "lora")
    assert "SFT on comp: 48 questions" in log
    saved = sorted(p.name for p in (tmp_path / "lora").iterdir())
    assert {"adapter_config.json", "adapter_model.safetensors"} <= set(saved) and "model.safetensors" not in saved
    assert (tmp_path / "lora/adapter_model.safetensors").stat().st_size < (base / "model.safetensors").stat().st_size
    before = load_file(base / "model.safetensors")
    tuned = load_model(tmp_path / "lora").state_dict()
    assert before.keys() <= tuned.keys()  # merged: no lora_A / lora_B left, the base's own weights
    changed = [k for k in before if not torch.equal(before[k], tuned[k])]
    assert changed and all("proj" in k for k in changed)  # LoRA touches the linear layers only
    # a stage trained from the LoRA model records that folder as its base
    rl = stage("src.training.sft", *common, "--model", tmp_path / "lora", "--tasks", "comp", "--lora",
               "--rl-questions", "--out", tmp_path / "lora2")
    assert "SFT on comp" in rl
    import json
    assert json.loads((tmp_path / "lora2/adapter_config.json").read_text())["base_model_name_or_path"] == \
        str(tmp_path / "lora")
    assert load_model(tmp_path / "lora2").state_dict().keys() == tuned.keys()


def test_data_parallel_keeps_the_global_batch(smoke_base, tmp_path):
    """Two CPU processes (accelerate, gloo: the multi-GPU code path without GPUs) take the optimizer steps
    and see the examples (counted in tokens, gathered over processes) of one process."""
    import json

    from src.training.launch import accelerate_command
    common, base = smoke_base
    sft = [*common, "--model", base, "--tasks", "comp"]
    stage("src.training.sft", *sft, "--out", tmp_path / "one")
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT="0", OMP_NUM_THREADS="1", MASTER_PORT="29517",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    cmd = accelerate_command(2, "src.training.sft", ["--params", "params.yaml", "--preset", "smoke",
                                                     *map(str, sft), "--out", str(tmp_path / "two")], cpu=True)
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    one, two = (json.loads((tmp_path / n / "train_stats.json").read_text()) for n in ("one", "two"))
    assert one["steps"] == two["steps"] == 2  # 60 questions, global batch 32: 32 + 28
    assert one["tokens"] == two["tokens"] > 0  # every example once, over both processes


def test_a_killed_training_job_resumes_from_its_last_checkpoint(smoke_base, tmp_path):
    """SFT killed (SIGKILL) mid-run, with a checkpoint after every step: the rerun of the same command resumes
    from the last complete checkpoint and ends with the weights of a run that was never interrupted (and
    never checkpointed: saving changes nothing)."""
    import time

    import yaml
    common, base = smoke_base
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["presets"]["smoke"]["training"]["sft"]["epochs"] = 100  # 60 questions, batch 32: 200 steps
    for name, minutes in (("never", 0), ("often", 1e-6)):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump({**raw, "resources": {**raw["resources"],
                                                                                    "checkpoint_minutes": minutes}}))
    sft = [*common, "--model", base, "--tasks", "comp"]
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT="0", OMP_NUM_THREADS="1")

    def cmd(params, out):
        return [sys.executable, "-m", "src.training.launch", "--gpus", "1", "src.training.sft", "--params", str(params),
                "--preset", "smoke", *map(str, sft), "--out", str(out)]
    killed = subprocess.Popen(cmd(tmp_path / "often.yaml", tmp_path / "resumed"), cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scratch = tmp_path / "resumed.trainer"
    # a complete checkpoint (its trainer_state.json written last) of step 20 or later, then a kill: it may
    # land mid-save, whose half-written checkpoint the rerun must pass over
    while not any(int(c.name.split("-")[1]) >= 20 and (c / "trainer_state.json").exists()
                  for c in scratch.glob("checkpoint-*")):
        assert killed.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)
    killed.kill()
    killed.wait()
    assert not (tmp_path / "resumed").exists()  # nothing half-written
    rerun = subprocess.run(cmd(tmp_path / "often.yaml", tmp_path / "resumed"), cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    step = int(re.search(r"resuming from \S+checkpoint-(\d+)", rerun.stderr)[1])
    assert 20 <= step < 200
    straight = subprocess.run(cmd(tmp_path / "never.yaml", tmp_path / "straight"), cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
    assert straight.returncode == 0 and "resuming" not in straight.stderr
    a, b = load_file(tmp_path / "resumed/model.safetensors"), load_file(tmp_path / "straight/model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not scratch.exists()  # the scratch folder goes once the model is saved


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
    st = throughput(trainer, {"train_runtime": 3.0}, cpu_s=2.0)
    assert (st["rl_steps_with_signal"], st["rl_logged_steps"], st["rl_mean_reward"]) == (1, 3, 0.25)
    assert st["tokens_per_s"] == 100 and st["parameters"] == 6
    # per CPU-second as per wall second: 6 x 6 parameters x 300 tokens over 2 CPU-seconds
    assert st["cpu_s"] == 2.0 and st["model_flops_per_cpu_s"] == 6 * 6 * 300 / 2.0
    trainer.state.log_history = [{"num_tokens": 10}]
    sft = throughput(trainer, {"train_runtime": 1.0}, cpu_s=1.0)
    assert "rl_logged_steps" not in sft  # SFT logs no rewards
