"""The conda environment of the rules and setup.sh install the same pinned packages."""
import yaml

from .conftest import ROOT


def test_conda_env_pins_match_requirements():
    reqs = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")}
    env = yaml.safe_load((ROOT / "envs/pipeline.yaml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert set(pip) == reqs | {"torch==2.13.0"}
    assert all("==" in r for r in reqs), "every dependency is pinned"
    assert "torch==2.13.0" in (ROOT / "setup.sh").read_text()
