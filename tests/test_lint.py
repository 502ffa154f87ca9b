"""The linters' settings (pyproject.toml) hold for the whole repository."""
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

BIN = Path(sys.executable).parent  # the linters are installed beside this interpreter (requirements.txt)


def test_ruff_passes():
    out = subprocess.run([BIN / "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_snakefmt_passes():
    out = subprocess.run([BIN / "snakefmt", "--check", "Snakefile", "rules"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
