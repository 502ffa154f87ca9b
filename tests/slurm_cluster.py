"""A real single-node SLURM cluster on this machine, for the cluster test (tests/test_workflow.py).

Debian's packages (`setup.sh --with-slurm` installs them): munge authenticates, MariaDB holds the job
accounting that slurmdbd serves (the SLURM executor plugin asks `sacct` for job states), slurmctld
schedules and slurmd runs the jobs. The configs go to the standard places (/etc/slurm), where the jobs'
own `srun` finds them; whatever was there is put back afterwards. Everything else (database, state,
logs) lives in a temporary folder. `cluster()` stops every daemon it started, also when the test fails.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd", "sacctmgr", "sbatch", "sacct")
SLURM = ("slurmd", "slurmctld", "slurmdbd")  # none may run before the test: it stops them by name after
ETC = Path("/etc/slurm")
NAME = "pipeline"  # the cluster, its account and partition


def missing() -> str | None:
    """Why no cluster can start here, or None."""
    if os.geteuid() != 0:
        return "starting SLURM's daemons needs root"
    lacking = [d for d in DAEMONS if not shutil.which(d) and not Path(f"/usr/sbin/{d}").exists()]
    if lacking:
        return f"not installed: {', '.join(lacking)} (./setup.sh --with-slurm installs Debian's packages)"
    busy = [d for d in SLURM if running(d)]
    if busy:
        return f"a SLURM cluster already runs on this machine ({', '.join(busy)}); the test starts its own"
    return None


def running(daemon: str) -> bool:
    """Whether a live process of that name (not a zombie left to be reaped) runs on this machine."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, state = text[text.index("(") + 1:text.rindex(")")], text.rsplit(")", 1)[1].split()[0]
        if name == daemon and state not in "ZX":
            return True
    return False


def _exe(name: str) -> str:
    return shutil.which(name) or f"/usr/sbin/{name}"


def _wait(check, what: str, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if check():
            return
        time.sleep(0.5)
    raise RuntimeError(f"SLURM test cluster: {what} did not come up within {timeout:.0f} s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ok(cmd: list[str]) -> bool:
    return subprocess.run(cmd, capture_output=True, text=True).returncode == 0


def _configs(root: Path, db_port: int, cpus: int, memory_mb: int) -> dict[str, str]:
    host = socket.gethostname()
    run = root / "run"
    slurm = f"""ClusterName={NAME}
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation={root / "state"}
SlurmdSpoolDir={root / "spool"}
SlurmctldPidFile={run / "slurmctld.pid"}
SlurmdPidFile={run / "slurmd.pid"}
SlurmctldLogFile={root / "log/slurmctld.log"}
SlurmdLogFile={root / "log/slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
MinJobAge=600
AccountingStoreFlags=job_comment
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName={NAME} Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
    dbd = f"""AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
LogFile={root / "log/slurmdbd.log"}
PidFile={run / "slurmdbd.pid"}
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={db_port}
StorageUser=slurm
StoragePass=pipeline
StorageLoc=slurm_acct_db
"""
    return {"slurm.conf": slurm, "slurmdbd.conf": dbd}


@contextlib.contextmanager
def cluster(root: Path, cpus: int | None = None, memory_mb: int | None = None):
    """Start the cluster (one node with `cpus` CPUs and `memory_mb` MB); yield its node's size."""
    cpus = cpus or os.cpu_count()
    memory_mb = memory_mb or int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
    for d in ("db", "state", "spool", "log", "run"):
        (root / d).mkdir(parents=True, exist_ok=True)
    saved = {name: (ETC / name).read_bytes() for name in ("slurm.conf", "slurmdbd.conf") if (ETC / name).exists()}
    munge = None  # munged's pid file, if this test started it
    database = None  # MariaDB runs as this process's child
    try:
        # munge, as its own user on its standard socket (as root it refuses to decode Slurm's credentials)
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        if not _ok(["munge", "-n"]):
            subprocess.run(["runuser", "-u", "munge", "--", _exe("munged")], check=True)
            munge = Path("/run/munge/munged.pid")
        _wait(lambda: _ok(["munge", "-n"]), "munged")
        # the accounting database
        db_port, sock = _free_port(), root / "run/mysql.sock"
        subprocess.run(["mariadb-install-db", "--user=root", f"--datadir={root / 'db'}",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True)
        database = subprocess.Popen([_exe("mariadbd"), "--user=root", f"--datadir={root / 'db'}", f"--socket={sock}",
                                     f"--port={db_port}", "--bind-address=127.0.0.1",
                                     f"--pid-file={root / 'run/mysqld.pid'}", f"--log-error={root / 'log/mysqld.log'}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        sql = ["mariadb", "-S", str(sock), "-u", "root", "-e"]
        _wait(lambda: _ok(sql + ["SELECT 1"]), "MariaDB")
        subprocess.run(sql + ["CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'pipeline'; "
                              "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; FLUSH PRIVILEGES;"], check=True)
        # Slurm: accounting, then the cluster, its account and this user, then controller and node
        for name, text in _configs(root, db_port, cpus, memory_mb).items():
            (ETC / name).write_text(text)
        (ETC / "slurmdbd.conf").chmod(0o600)
        subprocess.run([_exe("slurmdbd")], check=True)
        _wait(lambda: _ok(["sacctmgr", "-n", "list", "cluster"]), "slurmdbd")
        for what in (["cluster", NAME], ["account", NAME, f"Cluster={NAME}"], ["user", "root", f"Account={NAME}"]):
            subprocess.run(["sacctmgr", "-i", "add", *what], check=True, capture_output=True)
        subprocess.run([_exe("slurmctld")], check=True)
        subprocess.run([_exe("slurmd")], check=True)
        _wait(lambda: "idle" in subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True).stdout,
              "the node")
        yield {"cpus": cpus, "memory_mb": memory_mb, "log": root / "log"}
    finally:  # stop everything started, whatever failed; put /etc/slurm back
        subprocess.run(["scancel", "--user=root"], capture_output=True)
        left = [name for name in SLURM if not _stop_all(name)]  # node, controller, accounting
        if database is not None:
            database.terminate()
            try:
                database.wait(timeout=60)
            except subprocess.TimeoutExpired:
                database.kill()
                left.append("mariadbd")
        if munge is not None:
            left += _stop(munge)
        for name in ("slurm.conf", "slurmdbd.conf"):
            if name in saved:
                (ETC / name).write_bytes(saved[name])
            else:
                (ETC / name).unlink(missing_ok=True)
        if left:
            raise RuntimeError(f"SLURM test cluster: could not stop {', '.join(left)}")


def _stop_all(name: str) -> bool:
    """SIGTERM to every process of that name, SIGKILL after 30 s; whether none is left."""
    subprocess.run(["pkill", "-TERM", "-x", name], capture_output=True)
    end = time.time() + 30
    while running(name) and time.time() < end:
        time.sleep(0.5)
    if running(name):
        subprocess.run(["pkill", "-KILL", "-x", name], capture_output=True)
        time.sleep(1)
    return not running(name)


def _stop(pid_file: Path) -> list[str]:
    """SIGTERM to a detached daemon, waiting until it is gone; SIGKILL after 30 s. Returns it if it stays."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return []
    end = time.time() + 30
    while _alive(pid) and time.time() < end:
        time.sleep(0.5)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(1)
    return [pid_file.stem] if _alive(pid) else []


def _alive(pid: int) -> bool:
    """Running: its /proc entry exists and it is not a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (FileNotFoundError, IndexError):
        return False
