# The atomic-to-composite study: data -> tokenizer -> knowledge injection -> SFT -> GRPO -> evaluation -> tables.
# Parameters: params.yaml (one source of truth, shared with dvc.yaml). Preset: --config preset=NAME.
from snakemake.utils import min_version

min_version("9.0")


configfile: "params.yaml"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"


rule all:
    input:
        f"{RESULTS}/metrics.csv",
        f"{RESULTS}/results.md",
    default_target: True
