#!/usr/bin/env bash
# Runs several presets' studies side by side on one GPU machine, stops them at a time limit, and packs
# what they produced into $OUT/probes.tgz (a lent device returns only a few files).
#
#   scripts/gpu_probes.sh MINUTES PRESET [PRESET ...]
#
# TARGET=metrics.csv (the default) stops each study at its tables (every model trained and evaluated,
# which is what the sweep table reads); TARGET=REPORT.md runs it whole (pass@k, speed, the report).
# Every preset gets its own `snakemake --cores N --resources gpu=K`; their GPU jobs share the devices
# through src/devices.py (PIPELINE_JOBS_PER_GPU lock slots per device). $OUT/progress.log gets one line
# every 30 s: GPU utilisation and memory, CPU load, and each preset's jobs done. On a machine without
# the pipeline's packages (the device tool's image has CUDA torch but no snakemake or trl), they are
# installed from wheels in .whl/ (Python 3.12, see docs/operations.md).
set -u
minutes=$1
shift
presets=("$@")
out=${OUT:-results/gpu_probes}
logs=$(mktemp -d)  # one log per preset, packed with the results (a lent device returns at most 8 files)
mkdir -p "$out"
if ! python3 -c "import snakemake, trl" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "installing .whl/ failed" >&2; exit 1; }
  export PYTHONPATH=/tmp/site PATH=/tmp/site/bin:$PATH
fi
if ! command -v python >/dev/null; then  # the rules call `python`; a wrapper, not a link: a link loses a venv
  mkdir -p /tmp/pipeline-bin
  printf '#!/bin/sh\nexec %s "$@"\n' "$(command -v python3)" > /tmp/pipeline-bin/python
  chmod +x /tmp/pipeline-bin/python
  export PATH=/tmp/pipeline-bin:$PATH
fi
export PYTHONUNBUFFERED=1
python -c "import torch, transformers, trl, snakemake; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
 'transformers', transformers.__version__, 'trl', trl.__version__, 'snakemake', snakemake.__version__)" > "$out/versions.txt" \
  || { echo "the pipeline's packages do not import" >&2; exit 1; }
cat "$out/versions.txt"
nvidia-smi -L 2>/dev/null | tee -a "$out/versions.txt"

export PIPELINE_JOBS_PER_GPU=${PIPELINE_JOBS_PER_GPU:-24}
cores=$(( $(nproc) / ${#presets[@]} ))
[ "$cores" -ge 1 ] || cores=1
gpus=$(( (PIPELINE_JOBS_PER_GPU + ${#presets[@]} - 1) / ${#presets[@]} ))
pids=()
for p in "${presets[@]}"; do
  setsid snakemake --cores "$cores" --resources gpu="$gpus" --config preset="$p" --keep-going \
    -- "results/$p/${TARGET:-metrics.csv}" > "$logs/$p.log" 2>&1 &
  pids+=($!)
done
start=$(date +%s)
deadline=$(( start + minutes * 60 ))
running() { for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && return 0; done; return 1; }
while running && [ "$(date +%s)" -lt "$deadline" ]; do
  sleep 30
  line="$(( $(date +%s) - start ))s gpu $(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null | tr -d '\n') load $(cut -d' ' -f1 /proc/loadavg) |"
  for p in "${presets[@]}"; do
    line+=" $p $(grep -o '[0-9]* of [0-9]* steps' "$logs/$p.log" | tail -1 | cut -d' ' -f1,3)"
  done
  echo "$line" | tee -a "$out/progress.log"
done
for pid in "${pids[@]}"; do kill -- -"$pid" 2>/dev/null; done  # the time limit: stop what still runs
sleep 2
echo "stopped after $(( $(date +%s) - start ))s" | tee -a "$out/progress.log"
# everything but the data, the tokenizers and the weights
tar czf "$out/probes.tgz" --exclude='*/data' --exclude='*/tokenizer' --exclude='*.safetensors' \
  $(for p in "${presets[@]}"; do [ -d "results/$p" ] && echo "results/$p"; done) -C "$logs" .
ls -la "$out"
