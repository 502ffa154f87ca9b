"""Clusters: the SLURM profile plans the study with the resources params.yaml gives each kind of job."""
import yaml

from .conftest import copy_workflow, run


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
    assert "train_grpo" in text and "report" in text
