"""Small file helpers: outputs appear whole or not at all, and carry their content hash.

A folder written by `atomic_dir` holds MANIFEST (every file's SHA-256, written before the folder appears);
a file written with `checksum=True` gets a sidecar `.<name>.sha256`. `damaged` recomputes them, so a
finished output changed afterwards (a cut file, bytes overwritten) is named on the next run instead of
being read as if it were whole: Snakemake judges outputs by timestamps only.
"""
from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
from pathlib import Path

MANIFEST = ".manifest.json"


@contextlib.contextmanager
def atomic_dir(path: str | Path):
    """Yield a scratch folder that replaces `path` only if the block finishes.

    An interrupted run leaves no half-written output: the next run starts the stage afresh.
    """
    path = Path(path)
    for stale in path.parent.glob(path.name + ".partial-*"):  # left by a killed earlier run
        shutil.rmtree(stale, ignore_errors=True)
    tmp = path.with_name(path.name + f".partial-{os.getpid()}")
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    files = sorted(f for f in tmp.rglob("*") if f.is_file() and f.name != MANIFEST)
    write_json(tmp / MANIFEST, {f.relative_to(tmp).as_posix(): sha256(f) for f in files})
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def atomic_write_text(path: str | Path, text: str, checksum: bool = False) -> None:
    atomic_write_bytes(path, text.encode(), checksum)


def atomic_write_bytes(path: str | Path, data: bytes, checksum: bool = False) -> None:
    """Write `data` whole or not at all; with `checksum`, also its SHA-256 beside it (for `damaged`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + ".partial-*"):  # left by a killed earlier run
        stale.unlink(missing_ok=True)
    side = sidecar(path)
    side.unlink(missing_ok=True)  # a kill before the new one is written leaves none, never a stale one
    tmp = path.with_name(path.name + f".partial-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)
    if checksum:
        tmp.write_text(hashlib.sha256(data).hexdigest() + "\n")
        tmp.replace(side)


def sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def sidecar(path: Path) -> Path:
    """Where a file written with `checksum=True` keeps its SHA-256."""
    return path.with_name(f".{path.name}.sha256")


def damaged(root: str | Path) -> list[str]:
    """Every file under `root` whose content no longer matches the hash written when it was finished, as
    'file: what is wrong (delete what)'. Outputs without a hash (older runs, logs) are not judged."""
    root, found = Path(root), []
    for manifest in sorted(root.rglob(MANIFEST)):
        if ".partial-" in str(manifest):
            continue
        for rel, digest in json.loads(manifest.read_text()).items():
            f = manifest.parent / rel
            what = "missing" if not f.is_file() else "changed" if sha256(f) != digest else None
            if what:
                found.append(f"{f}: {what} since the job that wrote it finished (delete {manifest.parent})")
    for side in sorted(root.rglob(".*.sha256")):
        f = side.with_name(side.name[1:].removesuffix(".sha256"))
        if f.is_file() and sha256(f) != side.read_text().strip():
            found.append(f"{f}: changed since the job that wrote it finished (delete it)")
    return found


def check_folder(folder: str | Path) -> None:
    """Refuse to read a finished folder whose files changed since it was written, naming them."""
    bad = damaged(folder)
    if bad:
        raise ValueError(f"{folder} is damaged:\n  " + "\n  ".join(bad) + "\nand rerun the stage that writes "
                         "it (Snakemake or `dvc repro` then rebuilds it and what was made from it)")


def write_jsonl(path: str | Path, rows) -> None:
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")


def read_jsonl(path: str | Path) -> list[dict]:
    """The records of a JSON-lines file; a truncated or corrupted line is an error that names the file."""
    rows = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {n}: not valid JSON ({e.msg}): the file is truncated or corrupted; "
                                 f"delete its folder and rerun the stage that writes it") from None
    return rows


def write_json(path: str | Path, obj) -> None:
    Path(path).write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def csv_text(rows: list[dict], fields: list[str] | None = None) -> str:
    """Rows as CSV text with a header (columns: `fields`, else the first row's keys)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields or (list(rows[0]) if rows else ["empty"]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def source_digest() -> str:
    """A digest of the source of every module of this package the running process has imported: which code
    made a model, recorded beside it (train_stats.json `code`) so that runs can be compared by it later."""
    import sys
    package = Path(__file__).resolve().parent  # src/
    h = hashlib.sha256()
    # by file, not name: the entry point runs as __main__
    files = {Path(m.__file__).resolve() for m in list(sys.modules.values()) if getattr(m, "__file__", None)}
    for f in sorted(f for f in files if f.is_relative_to(package)):
        h.update(f.relative_to(package.parent).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]
