#!/usr/bin/env bash
# Creates .venv with pinned dependencies. Idempotent: a second run only checks.
# CPU torch goes in first and alone; an unpinned torch would pull several GB of CUDA wheels.
# On a GPU machine set TORCH_SPEC (e.g. TORCH_SPEC="torch==2.13.0") to the build you want.
# --with-slurm also installs Debian's SLURM packages (root, apt-get) for the cluster test; without them
# that test is skipped, saying why.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat requirements.txt setup.sh | sha1sum | cut -c1-12)
if [ ! -f "$stamp" ]; then
  pip() { .venv/bin/python -m pip install --quiet "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
  pip --upgrade pip
  pip "$TORCH_SPEC"
  pip -r requirements.txt
  .venv/bin/python -c "import torch, trl, snakemake, dvc" # fail here, not mid-study, if an install broke
  touch "$stamp"
fi
if [ "${1:-}" = "--with-slurm" ]; then
  scripts/install_slurm.sh || echo "setup.sh: SLURM's packages are not installed; the cluster test will be skipped"
fi
