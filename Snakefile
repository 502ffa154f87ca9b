# The atomic-to-composite study: data -> tokenizer -> knowledge injection -> SFT -> GRPO -> evaluation -> tables.
# Parameters: params.yaml (one source of truth, shared with dvc.yaml). Preset: --config preset=NAME.
from snakemake.utils import min_version

min_version("9.0")


# params.yaml is read by rules/common.smk (src/params/check.py), not by `configfile:`: Snakemake's own reader says
# only "Config file is not valid JSON or YAML" and keeps the last of two equal keys; ours names the line.
report: "report/workflow.rst"  # `snakemake --report report.html`: the study's tables and figures, captioned


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"


rule all:
    default_target: True
    input:
        f"{RESULTS}/REPORT.md",
        f"{RESULTS}/results.md",
        f"{RESULTS}/summary.json",  # the DVC metrics file
        # the tables and report of the default study are committed; asking for the (uncommitted)
        # evaluations too makes a fresh clone rerun the study instead of finding them present and stopping
        expand(f"{RESULTS}/eval/{{model}}/metrics.json", model=EVALUATED),
