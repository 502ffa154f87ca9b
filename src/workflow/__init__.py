"""Workflow tooling, not part of any job: the code inputs of each rule (code_deps.py), dvc.yaml exported
from the Snakemake DAG (export_dvc.py), docs/parameters.md from the settings (param_docs.py) and the SLURM
cluster's view of the resources (cluster.py)."""
