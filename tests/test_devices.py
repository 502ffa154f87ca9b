"""GPU claiming for `snakemake --resources gpu=N`, on simulated devices (PIPELINE_GPU_COUNT)."""
import os
import signal
import subprocess
import sys
import time

import pytest

from .conftest import ROOT

HOLD = ("import os, sys, time; from src.devices import claim_gpus; "
        "ids = claim_gpus(int(sys.argv[1]), wait_s=60, poll_s=0.05); "
        "print(os.environ['CUDA_VISIBLE_DEVICES'], flush=True); time.sleep(float(sys.argv[2]))")


def start(tmp_path, gpus=4, n=1, hold=3.0):
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT=str(gpus), GPU_LOCK_DIR=str(tmp_path))
    return subprocess.Popen([sys.executable, "-c", HOLD, str(n), str(hold)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)


def test_four_jobs_get_four_different_devices_and_a_fifth_waits(tmp_path):
    jobs = [start(tmp_path) for _ in range(4)]
    ids = [j.stdout.readline().strip() for j in jobs]
    assert sorted(ids) == ["0", "1", "2", "3"]
    t0 = time.monotonic()
    fifth = start(tmp_path, hold=0)
    got = fifth.stdout.readline().strip()  # blocks until one of the four exits
    assert got in ids and time.monotonic() - t0 > 1.0
    for j in jobs + [fifth]:
        j.wait()


def test_a_killed_job_releases_its_device(tmp_path):
    first = start(tmp_path, gpus=1, hold=60)
    assert first.stdout.readline().strip() == "0"
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = start(tmp_path, gpus=1, hold=0)
    assert second.stdout.readline().strip() == "0"
    second.wait()


def test_multi_gpu_jobs_and_cpu_machines(tmp_path, monkeypatch):
    two = start(tmp_path, gpus=4, n=2, hold=1)
    assert sorted(two.stdout.readline().strip().split(",")) == ["0", "1"]
    two.wait()
    from src.devices import claim_gpus
    monkeypatch.setenv("PIPELINE_GPU_COUNT", "0")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    assert claim_gpus() == [] and "CUDA_VISIBLE_DEVICES" not in os.environ
    monkeypatch.setenv("PIPELINE_GPU_COUNT", "2")
    with pytest.raises(RuntimeError, match="needs 3 GPUs but the machine has 2"):
        claim_gpus(3)


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_every_entry_point_claims_through_setup(tmp_path):
    """setup() is the first call of every training and evaluation entry point."""
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT="2", GPU_LOCK_DIR=str(tmp_path))
    code = "import os; from src.job import setup; setup(0); print(os.environ['CUDA_VISIBLE_DEVICES'])"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "0", out.stderr
    # and says in the job's first log line where it computes: here no CUDA torch, so the CPU, named
    assert "INFO runs on CPU " in out.stderr and "thread(s); precision fp32" in out.stderr, out.stderr
    entry_points = ["src/training/inject.py", "src/training/sft.py", "src/training/grpo.py",
                    "src/evaluation/evaluate.py", "src/evaluation/sample.py", "src/evaluation/benchmark.py",
                    "src/evaluation/hidden.py"]
    for path in entry_points:  # setup() directly, or through evaluate.start(), before anything else
        main = (ROOT / path).read_text().split("def main()")[1].split("\ndef ")[0]
        first = next(line.strip() for line in main.splitlines()
                     if "setup(" in line or "start(args" in line or "load_" in line or ".to(" in line)
        assert "setup(" in first or "start(args" in first, (path, first)


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_jobs_share_a_device_when_asked(tmp_path, monkeypatch):
    """PIPELINE_JOBS_PER_GPU=3 on 2 devices: six jobs, three per device, spread first; a seventh waits."""
    monkeypatch.setenv("PIPELINE_JOBS_PER_GPU", "3")
    jobs, ids = [], []
    for _ in range(6):  # one after another, so the order of claims is known
        jobs.append(start(tmp_path, gpus=2, hold=8.0))
        ids.append(jobs[-1].stdout.readline().strip())
    assert ids == ["0", "1", "0", "1", "0", "1"]
    t0 = time.monotonic()
    seventh = start(tmp_path, gpus=2, hold=0)
    assert seventh.stdout.readline().strip() in ("0", "1") and time.monotonic() - t0 > 1.0
    for j in jobs + [seventh]:
        j.wait()


def test_launch_trains_data_parallel_on_the_devices_it_claims(tmp_path, monkeypatch):
    """A rule asking for 2 GPUs: the launcher locks two devices, then runs the stage under accelerate."""
    from src.devices import release_gpus
    from src.training import launch
    monkeypatch.setenv("PIPELINE_GPU_COUNT", "4")
    monkeypatch.setenv("GPU_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    calls = []
    monkeypatch.setattr(launch.subprocess, "run", lambda cmd: calls.append(cmd) or subprocess.CompletedProcess(cmd, 0))
    try:
        assert launch.main(["--gpus", "2", "src.training.sft", "--seed", "3"]) == 0
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "0,1"
        cmd = calls[0]
        assert cmd[1:3] == ["launch", "--multi_gpu"] and cmd[cmd.index("--num_processes") + 1] == "2"
        assert cmd[-4:] == ["--module", "src.training.sft", "--seed", "3"]
    finally:
        release_gpus()
    with pytest.raises(SystemExit):  # only training stages are launched this way
        launch.main(["--gpus", "1", "src.evaluation.evaluate"])


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_launch_runs_a_one_device_stage_in_process(tmp_path):
    """One device (or none): the stage runs in the launcher's process, its arguments passed through."""
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT="1", GPU_LOCK_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-m", "src.training.launch", "--gpus", "1", "src.training.tokenizer", "--help"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0 and "--data" in out.stdout, out.stderr


def test_a_job_waiting_for_a_gpu_says_why(tmp_path, monkeypatch, caplog):
    """Every device held by another job: after warn_after_s the waiting job names the cause and the fix."""
    import fcntl
    import logging

    from src.devices import claim_gpus, lock_dir
    monkeypatch.setenv("PIPELINE_GPU_COUNT", "1")
    monkeypatch.setenv("GPU_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    held = open(lock_dir() / "gpu0.lock", "w")
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with caplog.at_level(logging.WARNING, logger="src.devices"), pytest.raises(TimeoutError):
        claim_gpus(1, wait_s=0.5, poll_s=0.05, warn_after_s=0.1)
    held.close()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "held by other jobs" in said[0] and "--resources gpu=1" in said[0]


def test_device_locks_live_in_a_private_folder_and_follow_no_link(tmp_path, monkeypatch):
    """The lock folder is this user's (named after the uid, mode 0700) and a lock file is opened without
    following a link, so on a shared /tmp nobody can hold our devices or point a lock file elsewhere."""
    import os
    import stat

    from src.devices import claim_gpus, lock_dir
    monkeypatch.setenv("PIPELINE_GPU_COUNT", "1")
    monkeypatch.setenv("GPU_LOCK_DIR", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    folder = lock_dir()
    assert folder.name == f"pipeline-gpu-locks-{os.getuid()}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    target = tmp_path / "elsewhere"
    (folder / "gpu0.lock").symlink_to(target)  # a planted link where the lock file goes
    with pytest.raises(OSError):
        claim_gpus(1, wait_s=0.2, poll_s=0.05)
    assert not target.exists()  # nothing was created through the link
    (folder / "gpu0.lock").unlink()
    folder.chmod(0o777)  # a folder others may write to is refused, with the fix
    with pytest.raises(RuntimeError, match="must be a directory owned by this user with mode 0700"):
        lock_dir()


def test_asking_for_more_gpus_than_the_machine_has_is_said_at_planning(monkeypatch):
    """`--resources gpu=N` on a machine with fewer device slots: one line says what the jobs will use."""
    from src.devices import gpu_plan_note

    monkeypatch.setenv("PIPELINE_GPU_COUNT", "0")
    assert "no GPU" in gpu_plan_note(4) and "run on the CPU, up to 4 at once" in gpu_plan_note(4)
    monkeypatch.setenv("PIPELINE_GPU_COUNT", "2")
    assert "has 2 GPU(s) x PIPELINE_JOBS_PER_GPU=1 = 2 device slot(s)" in gpu_plan_note(4)
    assert gpu_plan_note(2) is None and gpu_plan_note(None) is None
    monkeypatch.setenv("PIPELINE_JOBS_PER_GPU", "2")
    assert gpu_plan_note(4) is None  # 2 devices x 2 jobs each
