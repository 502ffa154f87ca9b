rule generate_data:
    input:
        code=code("src.data.generate", stage="generate_data"),
    output:
        directory(f"{RESULTS}/data"),
    log:
        f"{RESULTS}/logs/generate_data.log",
    benchmark:
        f"{RESULTS}/benchmarks/generate_data.tsv"
    conda:
        ENV
    threads: threads_of("light")
    resources:
        **resources_of("light"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "generate_data"),  # what its script reads (src/params/stages.py); a change reruns it
    shell:
        "python -m src.data.generate --params params.yaml --preset {params.preset} --out {output} > {log} 2>&1"


rule build_tokenizer:
    input:
        **pretrained_inputs(),  # its tokenizer
        data=f"{RESULTS}/data",
        code=code("src.training.tokenizer", stage="build_tokenizer"),
    output:
        directory(f"{RESULTS}/tokenizer"),
    log:
        f"{RESULTS}/logs/build_tokenizer.log",
    benchmark:
        f"{RESULTS}/benchmarks/build_tokenizer.tsv"
    conda:
        ENV
    threads: threads_of("light")
    resources:
        **resources_of("light"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "build_tokenizer"),
    shell:
        "python -m src.training.tokenizer --params params.yaml --preset {params.preset} --data {input.data} --out {output} > {log} 2>&1"


rule check_lengths:  # refuses a max_length shorter than the data before any training compute
    input:
        data=f"{RESULTS}/data",
        tokenizer=f"{RESULTS}/tokenizer",
        code=code("src.data.lengths", stage="check_lengths"),
    output:
        f"{RESULTS}/checks/lengths.json",
    log:
        f"{RESULTS}/logs/check_lengths.log",
    benchmark:
        f"{RESULTS}/benchmarks/check_lengths.tsv"
    conda:
        ENV
    threads: threads_of("light")
    resources:
        **resources_of("light"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "check_lengths"),
    shell:
        "python -m src.data.lengths --params params.yaml --preset {params.preset} --data {input.data}"
        " --tokenizer {input.tokenizer} --out {output} > {log} 2>&1"
