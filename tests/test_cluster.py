"""Clusters: the SLURM profile plans the study with the resources params.yaml gives each kind of job."""
import re

import pytest
import yaml

from .conftest import copy_workflow, run


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_slurm_profile_plans_the_study_with_resources_from_params(tmp_path):
    work = copy_workflow(tmp_path / "slurm")
    params = work / "params.yaml"
    raw = yaml.safe_load(params.read_text())
    raw["resources"].update(account="lab42", partition="cpu", gpu_partition="gpu", gpu_model="a100")
    raw["resources"]["train"].update(runtime_min=600, gpus=2, threads=8)
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    out = run(["snakemake", "-n", "-p", "--workflow-profile", "profiles/slurm", "--config", "preset=smoke"], work)
    text = out.stdout + out.stderr
    blocks = text.split("\nrule ")
    train = next(b for b in blocks if b.startswith("train_sft:"))
    data = next(b for b in blocks if b.startswith("generate_data:"))
    for needle in ("slurm_account=lab42", "slurm_partition=gpu", "gpu=2", "gpu_model=a100", "runtime=600",
                   "src.training.launch --gpus 2 src.training.sft"):  # 2 GPUs: data parallel
        assert needle in train, needle
    assert "slurm_partition=cpu" in data and "gpu=" not in data
    matmul = next(b for b in blocks if b.startswith("benchmark_matmul:"))  # measures the device training uses
    assert "slurm_partition=gpu" in matmul and "gpu=1" in matmul
    assert "train_grpo" in text and "report" in text


def test_jobs_no_node_can_run_are_named_before_submission():
    """src/workflow/cluster.py: each kind of job must fit on one node; what does not is named with the key to change."""
    from src.params.check import load_params
    from src.workflow.cluster import Node, _gpus, unsatisfiable

    from .conftest import ROOT
    cfg = load_params(ROOT / "params.yaml", "smoke")
    threads = {"inject": 4, "train": 1, "evaluate": 1, "light": 1}
    small = [Node("n1", 2, 20000, 0)]
    problems = unsatisfiable(cfg, threads, small)
    assert "resources.inject.threads = 4: no node has more than 2 CPUs; set resources.max_threads: 2" in problems[0]
    assert sum("set resources.use_gpus: false" in p for p in problems) == 3  # inject, train, evaluate ask a GPU
    cpu_only = {**cfg, "resources": {**cfg["resources"], "use_gpus": False}}
    assert unsatisfiable(cpu_only, {**threads, "inject": 2}, small) == []
    # enough CPUs on one node and a GPU on another: nothing fits both
    split = [Node("cpu", 8, 20000, 0), Node("gpu", 2, 20000, 1)]
    assert unsatisfiable(cfg, threads, split) == [
        "resources.inject: 4 threads, 8000 MB and 1 GPUs together fit on no single node; lower one of them"]
    assert _gpus("gpu:a100:4,shard:2") == 4 and _gpus("(null)") == 0 and _gpus("gpu:2") == 2


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_gpu_profile_bounds_gpu_jobs_by_the_machines_devices(tmp_path):
    """profiles/gpu: one multi-GPU machine; `resources: gpu` bounds how many GPU jobs run at once (a real
    run of the first job, which is when Snakemake states what it was given)."""
    work = copy_workflow(tmp_path / "gpu")
    out = run(["snakemake", "results/smoke/data", "--workflow-profile", "profiles/gpu", "--config", "preset=smoke"],
              work)
    text = out.stdout + out.stderr
    assert re.search(r'Provided resources: gpu=(4|Resource\("gpu", 4\))', text), text[-2000:]
    assert (work / "results/smoke/data/plan.json").exists()
