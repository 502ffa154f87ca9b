import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from src.data.generate import generate
from src.io import read_jsonl
from src.params.check import load_params
from src.params.stages import settings

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ["Snakefile", "rules", "report", "src", "envs", "profiles", "params.yaml", "dvc.yaml", "requirements.txt",
                  ".dvcignore", "dvc.params.yaml"]


@pytest.fixture(scope="session")
def smoke_cfg():
    return load_params(ROOT / "params.yaml", "smoke")


@pytest.fixture(scope="session")
def smoke_data(tmp_path_factory, smoke_cfg):
    out = tmp_path_factory.mktemp("data") / "smoke"
    generate(settings("generate_data", smoke_cfg), out)
    return out


def load_data(folder: Path):
    """(facts, records, plan, biographies) of a data folder."""
    import json
    records = [r for t in ("mem", "ctx", "comp") for r in read_jsonl(folder / f"qa_{t}.jsonl")]
    return (read_jsonl(folder / "facts.jsonl"), records, json.loads((folder / "plan.json").read_text()),
            read_jsonl(folder / "biographies.jsonl"))


def copy_workflow(dest: Path) -> Path:
    """A clean copy of the workflow (no results), so tests never touch the working tree's results/."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, dest / name)
    return dest


def use_preset(work: Path, name: str) -> None:
    """Name `name` as the study in a workflow copy's params.yaml (its `preset:` line), as a user would edit it."""
    path = work / "params.yaml"
    text, n = re.subn(r"^preset: \S+", f"preset: {name}", path.read_text(), count=1, flags=re.M)
    assert n == 1
    path.write_text(text)


def run(cmd: list[str], cwd: Path, check: bool = True, timeout: int = 900,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a tool of this environment (snakemake, dvc) with the venv's bin first on PATH (and `env` set)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               DVC_NO_ANALYTICS="1", **(env or {}))
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc
