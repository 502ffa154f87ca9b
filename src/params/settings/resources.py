"""params.yaml `resources`: how each kind of job is scheduled, locally and under SLURM (profiles/slurm)."""
from __future__ import annotations

from .declare import param, section


@section
class Job:
    gpus: int = param("GPUs the job claims (Snakemake resource `gpu`; under SLURM, gres)", minimum=0)
    threads: int = param("CPU threads (capped at --cores; under SLURM, cpus per task)", minimum=1)
    runtime_min: int = param("wall-time limit under SLURM, minutes", minimum=1)
    mem_mb: int = param("memory request, MB", minimum=1)


@section
class Resources:
    use_gpus: bool = param("false on a CPU-only cluster: no job asks for a GPU (each kind's gpus is ignored)")
    max_threads: int | None = param("cap on the threads any job asks for, e.g. the CPUs of a small cluster's nodes "
                                    "(null: no cap)", minimum=1)
    checkpoint_minutes: float = param("a training job (injection, SFT, GRPO) saves a checkpoint this often; a rerun "
                                      "after a kill or a time limit resumes from the last one (0: never). Changing "
                                      "it reruns nothing", minimum=0, operational=True)
    account: str | None = param("SLURM account (null: the cluster's default)")
    partition: str | None = param("SLURM partition of CPU jobs (null: the default)")
    gpu_partition: str | None = param("SLURM partition of GPU jobs (null: the default)")
    gpu_model: str | None = param("GPU type asked of SLURM, e.g. a100 (null: any)")
    inject: Job = param("knowledge injection (and the generic language stage)")
    train: Job = param("SFT and GRPO jobs")
    evaluate: Job = param("evaluation, pass@k sampling, the generation benchmark")
    light: Job = param("data, tokenizer, tables, report")
