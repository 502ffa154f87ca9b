"""The rules' conda environments install what the jobs import, at the pins setup.sh installs."""
import ast
import re
import sys
from importlib.metadata import packages_distributions

import yaml

from src.workflow.code_deps import _executed, module_files

from .conftest import ROOT

# needed by the jobs without an import of their own: transformers' Trainer (SFT, GRPO) requires accelerate
NOT_IMPORTED = {"accelerate"}


def pins(path) -> dict[str, str]:
    lines = [line.strip() for line in (ROOT / path).read_text().splitlines()]
    return dict(line.split("==") for line in lines if line and not line.startswith("#"))


def env_pins(path) -> tuple[dict[str, str], list[str]]:
    pip = next(d["pip"] for d in yaml.safe_load((ROOT / path).read_text())["dependencies"] if isinstance(d, dict))
    return dict(p.split("==") for p in pip if "==" in p), [p for p in pip if p.startswith("--")]


def job_imports() -> set[str]:
    """The distributions of every third-party module a job's code imports (its rules' `code(...)` entry
    points and what they import of this package, as src/workflow/code_deps.py finds them)."""
    rules = "".join(f.read_text() for f in (ROOT / "rules").glob("*.smk"))
    entry = {m for call in re.findall(r"code\(([^)]*)\)", rules) for m in re.findall(r'"(src\.[\w.]+)"', call)}
    assert {"src.training.grpo", "src.evaluation.evaluate", "src.analysis.report"} <= entry
    names = set()
    for f in {f for m in entry for f in module_files(m)}:
        for node in _executed(ast.parse((ROOT / f).read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names.add(node.module.split(".")[0])
    dists = packages_distributions()
    third = {n for n in names if n not in sys.stdlib_module_names and n != "src"}
    return {dists[n][0].lower() for n in third}


def test_the_conda_environments_install_what_the_jobs_import_and_nothing_else():
    reqs = {k.lower(): v for k, v in pins("requirements.txt").items()}
    imported = job_imports()
    for path, torch_index in (("envs/pipeline.yaml", ["--extra-index-url https://download.pytorch.org/whl/cpu"]),
                              ("envs/pipeline-cuda.yaml", [])):
        env, options = env_pins(path)
        env = {k.lower(): v for k, v in env.items()}
        assert options == torch_index, (path, options)  # the CPU build from PyTorch's CPU index; CUDA: PyPI's
        assert set(env) == imported | NOT_IMPORTED, f"{path}: missing {imported - set(env)}, " \
            f"not imported by any job {set(env) - imported - NOT_IMPORTED}"
        assert env.pop("torch") == "2.13.0" and "torch==2.13.0" in (ROOT / "setup.sh").read_text()
        assert {k: reqs[k] for k in env} == env, f"{path} and requirements.txt pin different versions"


def test_developer_tools_live_in_their_own_file():
    dev, reqs = pins("requirements-dev.txt"), pins("requirements.txt")
    assert {"pytest", "ruff", "snakefmt"} <= set(dev) and not set(dev) & set(reqs)
    assert all(v for v in {**dev, **reqs}.values()), "every dependency is pinned"
    assert "-r requirements.txt -r requirements-dev.txt" in (ROOT / "setup.sh").read_text()
