"""Before anything is submitted to a SLURM cluster: does every kind of job fit on one of its nodes?

A job that asks for more CPUs, memory or GPUs than any node has stays pending forever, with no error.
rules/common.smk asks the cluster (`sinfo`) when Snakemake runs with the SLURM executor and refuses,
naming the params.yaml key to change, before the first submission.
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass

KINDS = ("inject", "train", "evaluate", "light")


@dataclass(frozen=True)
class Node:
    name: str
    cpus: int
    memory_mb: int
    gpus: int


def _gpus(gres: str) -> int:
    """'gpu:a100:4,shard:2' -> 4; '(null)' -> 0."""
    return sum(int(m.group(2) or 1) for m in re.finditer(r"\bgpu(:[^:,(]+)?:(\d+)", gres))


def slurm_nodes() -> list[Node]:
    """The cluster's nodes, as `sinfo` reports them."""
    out = subprocess.run(["sinfo", "-h", "-N", "-o", "%n %c %m %G"], capture_output=True, text=True, check=True)
    nodes = {}
    for line in out.stdout.splitlines():
        name, cpus, memory, gres = line.split(None, 3)
        nodes[name] = Node(name, int(cpus.rstrip("+")), int(memory.rstrip("+")), _gpus(gres))
    return list(nodes.values())


def unsatisfiable(cfg: dict, threads: dict[str, int], nodes: list[Node]) -> list[str]:
    """One line per kind of job no node can run, naming the key and what would fit; `threads` is what
    each kind asks after `resources.max_threads` (rules/common.smk: threads_of)."""
    res, out = cfg["resources"], []
    if not nodes:
        return ["the cluster reports no nodes (sinfo)"]
    most = Node("", max(n.cpus for n in nodes), max(n.memory_mb for n in nodes), max(n.gpus for n in nodes))
    for kind in KINDS:
        job, gpus = res[kind], res[kind]["gpus"] if res["use_gpus"] else 0
        if any(n.cpus >= threads[kind] and n.memory_mb >= job["mem_mb"] and n.gpus >= gpus for n in nodes):
            continue
        found = len(out)
        if threads[kind] > most.cpus:
            out.append(f"resources.{kind}.threads = {threads[kind]}: no node has more than {most.cpus} CPUs; "
                       f"set resources.max_threads: {most.cpus} (or lower resources.{kind}.threads)")
        if job["mem_mb"] > most.memory_mb:
            out.append(f"resources.{kind}.mem_mb = {job['mem_mb']}: no node has more than {most.memory_mb} MB; "
                       f"lower resources.{kind}.mem_mb")
        if gpus > most.gpus:
            out.append(f"resources.{kind}.gpus = {gpus}: " + ("no node has a GPU; on a CPU-only cluster set "
                       "resources.use_gpus: false" if not most.gpus else
                       f"no node has more than {most.gpus} GPUs; lower resources.{kind}.gpus"))
        if len(out) == found:  # each fits on some node, but not all three on the same one
            out.append(f"resources.{kind}: {threads[kind]} threads, {job['mem_mb']} MB and {gpus} GPUs together "
                       "fit on no single node; lower one of them")
    return out
