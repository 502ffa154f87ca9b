rule evaluate:
    input:
        data=f"{RESULTS}/data",
        model=f"{RESULTS}/models/seed{{seed}}/{{chain}}",
    output:
        predictions=f"{RESULTS}/eval/seed{{seed}}/{{chain}}/predictions.jsonl",
        metrics=f"{RESULTS}/eval/seed{{seed}}/{{chain}}/metrics.json",
    wildcard_constraints:
        chain=f"inject|{CHAIN}",  # every recipe's model, and their common base
    params:
        preset=PRESET,
        evaluation=CFG["evaluation"],
    log:
        f"{RESULTS}/logs/seed{{seed}}/eval_{{chain}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/seed{{seed}}/eval_{{chain}}.tsv"
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        ENV
    shell:
        "python -m src.evaluation.evaluate --params params.yaml --preset {params.preset} --data {input.data} --model {input.model}"
        " --predictions {output.predictions} --metrics {output.metrics} > {log} 2>&1"


rule tables:
    input:
        expand(f"{RESULTS}/eval/seed{{seed}}/{{chain}}/metrics.json", seed=SEEDS, chain=EVALUATED_MODELS),
    output:
        csv=f"{RESULTS}/metrics.csv",
        markdown=f"{RESULTS}/results.md",
    params:
        preset=PRESET,
        recipes=CFG["recipes"],
    log:
        f"{RESULTS}/logs/tables.log",
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        ENV
    shell:
        "python -m src.evaluation.tables --params params.yaml --preset {params.preset} --metrics {input} --csv {output.csv}"
        " --markdown {output.markdown} > {log} 2>&1"
