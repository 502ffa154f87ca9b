rule generate_data:
    output:
        directory(f"{RESULTS}/data"),
    params:
        world=CFG["world"],
        questions=CFG["questions"],
    log:
        f"{RESULTS}/logs/generate_data.log",
    benchmark:
        f"{RESULTS}/benchmarks/generate_data.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        ENV
    shell:
        "python -m src.data.generate {ARGS} --out {output} > {log} 2>&1"


rule build_tokenizer:
    input:
        f"{RESULTS}/data",
    output:
        directory(f"{RESULTS}/tokenizer"),
    params:
        model=CFG["model"],
    log:
        f"{RESULTS}/logs/build_tokenizer.log",
    benchmark:
        f"{RESULTS}/benchmarks/build_tokenizer.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        ENV
    shell:
        "python -m src.training.tokenizer {ARGS} --data {input} --out {output} > {log} 2>&1"
