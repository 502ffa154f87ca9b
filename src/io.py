"""Small file helpers: outputs appear whole or not at all."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
from pathlib import Path


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
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(path.name + ".partial-*"):  # left by a killed earlier run
        stale.unlink(missing_ok=True)
    tmp = path.with_name(path.name + f".partial-{os.getpid()}")
    tmp.write_bytes(data)
    tmp.replace(path)


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
