"""Give each GPU job its own device.

`snakemake --resources gpu=4` bounds how many GPU-tagged jobs run at once but, for local jobs, says
nothing about *which* device each should use. So every entry point calls `claim_gpus()` first: it
takes an exclusive lock on one lock file per device (fcntl.flock) and exports CUDA_VISIBLE_DEVICES
for the devices it got. The kernel drops a flock when its process ends, crash or kill included, so a
device is never leaked. Where a scheduler already chose the devices (SLURM sets
CUDA_VISIBLE_DEVICES) or there is no GPU, nothing happens.

Devices are counted with `nvidia-smi -L`, not torch: once torch has initialised CUDA, a later change
of CUDA_VISIBLE_DEVICES is ignored. PIPELINE_GPU_COUNT overrides the count (tests simulate devices
with it); GPU_LOCK_DIR moves the lock files (default: the system temp folder).

PIPELINE_JOBS_PER_GPU=K lets K jobs share each device (K lock slots per device): the small models of
the default and sweep presets use a fraction of a modern GPU, so e.g. one H100 runs six of them at
once with `PIPELINE_JOBS_PER_GPU=6 snakemake --cores all --resources gpu=6`.
"""
from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)
_held: list = []  # open lock files: the claim lasts as long as the process


def gpu_count() -> int:
    if "PIPELINE_GPU_COUNT" in os.environ:
        return int(os.environ["PIPELINE_GPU_COUNT"])
    if shutil.which("nvidia-smi") is None:
        return 0
    out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True)
    return sum(line.startswith("GPU ") for line in out.stdout.splitlines()) if out.returncode == 0 else 0


def jobs_per_gpu() -> int:
    k = int(os.environ.get("PIPELINE_JOBS_PER_GPU", "1"))
    if k < 1:
        raise ValueError(f"PIPELINE_JOBS_PER_GPU must be at least 1, not {k}")
    return k


def torch_build() -> str:
    """'cuda' or 'cpu': which torch build setup.sh installs and which conda environment the rules use
    (envs/pipeline-cuda.yaml or envs/pipeline.yaml): PIPELINE_TORCH if set, else cuda where a GPU is listed."""
    build = os.environ.get("PIPELINE_TORCH") or ("cuda" if gpu_count() > 0 else "cpu")
    if build not in ("cpu", "cuda"):
        raise ValueError(f"PIPELINE_TORCH must be cpu or cuda, not {build!r}")
    return build


def gpu_plan_note(asked: int | None) -> str | None:
    """What `--resources gpu=N` will mean on this machine, where it has fewer device slots than asked
    (said once, at planning: without it a CPU fallback looks exactly like a GPU run)."""
    if not asked:
        return None
    have, per = gpu_count(), jobs_per_gpu()
    if have == 0:
        return (f"--resources gpu={asked}, but this machine has no GPU (`nvidia-smi -L` finds none): the GPU-tagged "
                f"jobs run on the CPU, up to {asked} at once within --cores")
    if have * per < asked:
        return (f"--resources gpu={asked}, but this machine has {have} GPU(s) x PIPELINE_JOBS_PER_GPU={per} = "
                f"{have * per} device slot(s): up to {asked} GPU jobs start, and each beyond the slots waits "
                "for a free device (src/devices.py)")
    return None


def describe_device() -> str:
    """The device this process computes on, for the first lines of a job's log."""
    import torch

    if torch.cuda.is_available():
        return (f"GPU {torch.cuda.get_device_name(0)} (CUDA_VISIBLE_DEVICES="
                f"{os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})")
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), "unknown")
    return f"CPU {model} (no GPU visible)"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:  # not Linux
        return []


def lock_dir() -> Path:
    """The lock files' folder: private to this user (mode 0700, named after the uid), so on a shared host
    another user can neither hold our devices' locks nor plant a link where a lock file goes."""
    path = Path(os.environ.get("GPU_LOCK_DIR", tempfile.gettempdir())) / f"pipeline-gpu-locks-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise RuntimeError(f"{path}: the GPU lock folder must be a directory owned by this user with mode 0700 "
                           "(it is not: another user's folder or a link); remove it or set GPU_LOCK_DIR to a "
                           "private folder")
    return path


def _open_lock(path: Path):
    """The lock file, opened for writing without following a symbolic link (O_NOFOLLOW)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    return os.fdopen(fd, "w")


def claim_gpus(n: int = 1, wait_s: float = 24 * 3600, poll_s: float = 0.5, warn_after_s: float = 60) -> list[int]:
    """Lock `n` free devices and make them this process's CUDA_VISIBLE_DEVICES; [] on a CPU machine
    or when the devices were already chosen by the scheduler. A job still waiting after `warn_after_s`
    says why, once, in its log."""
    if _held or ("CUDA_VISIBLE_DEVICES" in os.environ and "PIPELINE_GPU_COUNT" not in os.environ):
        return []  # this process (src.training.launch) or the scheduler already chose the devices
    total = gpu_count()
    if total == 0:
        return []
    if n > total:
        raise RuntimeError(f"this job needs {n} GPUs but the machine has {total}")
    start = time.monotonic()
    deadline, warned = start + wait_s, False
    slots = jobs_per_gpu()
    while True:
        got = []  # (device, open lock file): one slot on each of n distinct devices
        for slot in range(slots):  # first slots first, so jobs spread over the devices
            for i in range(total):
                if len(got) == n or any(i == d for d, _ in got):
                    continue
                f = _open_lock(lock_dir() / (f"gpu{i}.lock" if slot == 0 else f"gpu{i}.slot{slot}.lock"))
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    f.close()
                    continue
                got.append((i, f))
        if len(got) == n:
            _held.extend(f for _, f in got)
            ids = [i for i, _ in got]
            os.environ["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, ids))
            log.info("claimed GPU %s", os.environ["CUDA_VISIBLE_DEVICES"])
            return ids
        for _, f in got:  # not enough free: give back what we took, so two jobs cannot deadlock
            f.close()
        if not warned and time.monotonic() - start >= warn_after_s:
            warned = True
            log.warning("waiting %.0f s for %d free GPU(s): all %d device(s) x %d slot(s) are held by other jobs "
                        "(locks in %s). If Snakemake starts more GPU jobs than the machine has devices, run it with "
                        "--resources gpu=%d; to let small models share a device, PIPELINE_JOBS_PER_GPU=K with "
                        "--resources gpu=%d*K", time.monotonic() - start, n, total, slots, lock_dir(), total, total)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {n} free GPU(s) of {total} in {wait_s:.0f}s (locks in {lock_dir()})")
        time.sleep(poll_s)


def release_gpus() -> None:
    while _held:
        _held.pop().close()
