#!/usr/bin/env bash
# Creates .venv with pinned dependencies (requirements.txt: the jobs and the workflow; requirements-dev.txt:
# the tests and linters). Idempotent: a second run only checks.
# torch goes in first and alone, so nothing after it pulls another build: the CUDA build where
# PIPELINE_TORCH=cuda, or PIPELINE_TORCH is unset and `nvidia-smi -L` lists a GPU; else the CPU build (the
# rules' conda environment is chosen by the same rule: src/devices.py torch_build). PyPI's Linux wheel is
# the CUDA build (several GB), so the CPU build comes from PyTorch's CPU index where that answers within
# 5 s; a machine that cannot reach it takes the pin from its own configured index or wheel folder.
# TORCH_SPEC overrides the pin itself.
# --with-slurm also installs Debian's SLURM packages (root, apt-get) for the cluster test; without them
# that test is skipped, saying why.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
CPU_INDEX=https://download.pytorch.org/whl/cpu
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
build=${PIPELINE_TORCH:-$( (nvidia-smi -L 2>/dev/null || true) | grep -q '^GPU ' && echo cuda || echo cpu)}
stamp=.venv/.installed-$(cat requirements.txt requirements-dev.txt setup.sh | sha1sum | cut -c1-12)-$build
if [ ! -f "$stamp" ]; then
  pip() { .venv/bin/python -m pip install --quiet "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
  pip --upgrade pip
  index=()
  if [ "$build" = cpu ] && .venv/bin/python -c "import urllib.request as u; u.urlopen('$CPU_INDEX/torch/', timeout=5)" \
      2>/dev/null; then
    index=(--extra-index-url "$CPU_INDEX")
  fi
  echo "setup.sh: torch ($build build): $TORCH_SPEC ${index[*]+${index[*]}}"
  pip ${index[@]+"${index[@]}"} "$TORCH_SPEC"
  pip -r requirements.txt -r requirements-dev.txt
  .venv/bin/python -c "import torch, trl, snakemake, dvc" # fail here, not mid-study, if an install broke
  touch "$stamp"
fi
if [ "${1:-}" = "--with-slurm" ]; then
  scripts/install_slurm.sh || echo "setup.sh: SLURM's packages are not installed; the cluster test will be skipped"
fi
