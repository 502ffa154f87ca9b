"""dvc.yaml is the Snakemake DAG, command for command: it cannot drift from the Snakefile."""
import pytest
import yaml

from src.params.check import load_params
from src.workflow.dvc_params import RESOLVED, resolved_text
from src.workflow.export_dvc import build, snakemake_jobs

from .conftest import ROOT


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_dvc_yaml_is_current():
    assert (ROOT / "dvc.yaml").read_text() == build(), \
        "dvc.yaml is stale: run `python -m src.workflow.export_dvc` and commit the result"
    assert (ROOT / RESOLVED).read_text() == resolved_text(load_params(ROOT / "params.yaml")), \
        f"{RESOLVED} is stale: run `python -m src.workflow.export_dvc` and commit the result"


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_every_snakemake_job_is_a_dvc_stage_with_the_same_command_and_files():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    stages.pop("check_params")  # DVC's own first stage (src/workflow/dvc_params.py): Snakemake checks at planning
    by_cmd = {}
    for name, stage in stages.items():
        cmd = stage["cmd"][-1] if isinstance(stage["cmd"], list) else stage["cmd"]
        threads, cmd = cmd.split(" ", 1)  # the job's threads, as Snakemake sets them, then its command
        assert threads.startswith("OMP_NUM_THREADS="), cmd
        by_cmd[cmd] = stage
    jobs = snakemake_jobs(None, ROOT)
    assert len(jobs) == len(stages)
    for job in jobs:
        stage = by_cmd[job["cmd"]]
        outs = [o if isinstance(o, str) else next(iter(o)) for o in stage["outs"]]
        assert sorted(outs) == job["outs"]
        # the same inputs, code files included, but the benchmark files: only Snakemake writes them
        # (and the first stages wait for check_params's stamp)
        assert {d for d in job["deps"] if "/benchmarks/" not in d} == \
            {d for d in stage["deps"] if not d.endswith("/checks/dvc_params.json")}
        assert any(d.startswith("src/") for d in stage["deps"])


def test_the_committed_lock_is_the_committed_default_study():
    """dvc.lock ties results/default to the hashes that made it: one entry per stage, and each of its
    files that git tracks (the report, the tables, the figures) is the file the lock hashed."""
    import hashlib
    import subprocess

    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]
    assert set(lock) == set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]), \
        "dvc.lock is not the default study's: after its Snakemake run, `dvc commit -f`, and commit dvc.lock"
    tracked = set(subprocess.run(["git", "ls-files", "results/default"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.split())
    outs = {o["path"]: o["md5"] for s in lock.values() for o in s.get("outs", []) if o["path"] in tracked}
    assert len(outs) >= 10, sorted(outs)
    stale = [p for p, md5 in outs.items() if hashlib.md5((ROOT / p).read_bytes()).hexdigest() != md5]
    assert not stale, f"committed results differ from dvc.lock's hashes: {stale}; `dvc commit -f` the study"


def test_the_report_promises_only_the_figures_a_study_has():
    """A study without RL(Comp) has no hidden-state shifts to draw: its report rule must not declare that
    figure (Snakemake would fail the finished report as incomplete); smoke, with RL(Comp), declares it."""
    from src.analysis.outputs import OUTPUTS

    def report_outs(preset):
        return next(j["outs"] for j in snakemake_jobs(preset, ROOT) if j["rule"] == "report")

    atomic_only = report_outs("probe_read_d1")  # recipes: SFT(Mem+Ctx) only
    assert not any(o.endswith("hidden_shifts.png") for o in atomic_only)
    assert len(atomic_only) == sum(o.needs is None for o in OUTPUTS)
    assert any(o.endswith("hidden_shifts.png") for o in report_outs("smoke"))
