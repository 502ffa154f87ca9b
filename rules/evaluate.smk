# Evaluation: greedy exact match of every model, pass@k samples of the RL models and their bases,
# speed benchmarks, then the tables and the report.


rule evaluate:
    input:
        data=f"{RESULTS}/data",
        model=f"{RESULTS}/models/{{model}}",
        bases=lambda w: loaded_with(w.model),
        code=code("src.evaluation.evaluate", stage="evaluate"),
    output:
        predictions=f"{RESULTS}/eval/{{model}}/predictions.jsonl",
        metrics=f"{RESULTS}/eval/{{model}}/metrics.json",
    log:
        f"{RESULTS}/logs/{{model}}/evaluate.log",
    benchmark:
        f"{RESULTS}/benchmarks/{{model}}/evaluate.tsv"
    conda:
        ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "evaluate"),
        identity=lambda w: MODELS[w.model].args,  # written into metrics.json: the tables read it there
    shell:
        "python -m src.evaluation.evaluate --params params.yaml --preset {params.preset} --data {input.data} --model {input.model}"
        " {params.identity} --predictions {output.predictions} --metrics {output.metrics} > {log} 2>&1"


rule sample_passk:
    input:
        data=f"{RESULTS}/data",
        model=f"{RESULTS}/models/{{model}}",
        bases=lambda w: loaded_with(w.model),
        code=code("src.evaluation.sample", stage="sample_passk"),
    output:
        f"{RESULTS}/passk/{{model}}/samples.json",
    log:
        f"{RESULTS}/logs/{{model}}/passk.log",
    benchmark:
        f"{RESULTS}/benchmarks/{{model}}/passk.tsv"
    conda:
        ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "sample_passk"),
    shell:
        "python -m src.evaluation.sample --params params.yaml --preset {params.preset} --data {input.data} --model {input.model}"
        " --out {output} > {log} 2>&1"


rule hidden_shifts:
    input:
        data=f"{RESULTS}/data",
        model=f"{RESULTS}/models/{{model}}",
        bases=lambda w: loaded_with(w.model),
        start=lambda w: f"{RESULTS}/models/{SHIFT_STARTS[w.model]}",
        start_bases=lambda w: loaded_with(SHIFT_STARTS[w.model]),
        code=code("src.evaluation.hidden", stage="hidden_shifts"),
    output:
        f"{RESULTS}/hidden/{{model}}/shifts.npz",
    log:
        f"{RESULTS}/logs/{{model}}/hidden_shifts.log",
    benchmark:
        f"{RESULTS}/benchmarks/{{model}}/hidden_shifts.tsv"
    conda:
        ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "hidden_shifts"),
    shell:
        "python -m src.evaluation.hidden --params params.yaml --preset {params.preset} --data {input.data}"
        " --model {input.model} --start {input.start} --out {output} > {log} 2>&1"


rule probe_reading:  # does an SFT model that learned Ctx read its prompt? (src/evaluation/reading.py)
    input:
        data=f"{RESULTS}/data",
        model=f"{RESULTS}/models/{{model}}",
        bases=lambda w: loaded_with(w.model),
        code=code("src.evaluation.reading", stage="probe_reading"),
    output:
        f"{RESULTS}/reading/{{model}}/reading.json",
    log:
        f"{RESULTS}/logs/{{model}}/probe_reading.log",
    benchmark:
        f"{RESULTS}/benchmarks/{{model}}/probe_reading.tsv"
    conda:
        ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "probe_reading"),
        slug=lambda w: MODELS[w.model].slug,
    shell:
        "python -m src.evaluation.reading --params params.yaml --preset {params.preset} --data {input.data}"
        " --model {input.model} --slug {params.slug} --out {output} > {log} 2>&1"


rule benchmark_generation:
    input:
        data=f"{RESULTS}/data",
        model=f"{RESULTS}/models/{BASE}",
        bases=loaded_with(BASE),
        code=code("src.evaluation.benchmark", stage="benchmark_generation"),
    output:
        f"{RESULTS}/speed/generation.json",
    log:
        f"{RESULTS}/logs/benchmark_generation.log",
    conda:
        ENV
    threads: threads_of("evaluate")
    resources:
        **resources_of("evaluate"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "benchmark_generation"),
    shell:
        "python -m src.evaluation.benchmark generation --params params.yaml --preset {params.preset} --data {input.data}"
        " --model {input.model} --out {output} > {log} 2>&1"


rule benchmark_matmul:
    input:
        code=code("src.evaluation.benchmark", stage="benchmark_matmul"),
    output:
        f"{RESULTS}/speed/matmul_peak.json",
    log:
        f"{RESULTS}/logs/benchmark_matmul.log",
    conda:
        ENV
    threads: threads_of("inject")  # the peak that knowledge injection, on as many cores, is compared with
    resources:  # the device the study trains on: one GPU where it has them (claimed like any GPU job), else the CPU
        **resources_of("evaluate"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "benchmark_matmul"),  # none: the peak depends on the machine only
    shell:
        "python -m src.evaluation.benchmark matmul --params params.yaml --preset {params.preset} --out {output} > {log} 2>&1"


rule tables:
    input:
        metrics=expand(f"{RESULTS}/eval/{{model}}/metrics.json", model=EVALUATED),
        code=code("src.analysis.tables", stage="tables"),
    output:
        csv=report(f"{RESULTS}/metrics.csv", caption="../report/metrics.rst", category="Tables"),
        markdown=report(f"{RESULTS}/results.md", caption="../report/results_md.rst", category="Tables"),
        summary=f"{RESULTS}/summary.json",
    log:
        f"{RESULTS}/logs/tables.log",
    conda:
        ENV
    threads: threads_of("light")
    resources:
        **resources_of("light"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "tables"),
    shell:
        "python -m src.analysis.tables --params params.yaml --preset {params.preset} --metrics {input.metrics} --csv {output.csv}"
        " --markdown {output.markdown} --summary {output.summary} > {log} 2>&1"


# every job's benchmark file, read by the report's speed section. Snakemake writes them; DVC does not,
# so src/workflow/export_dvc.py leaves them out of the DVC stage, and the report then falls back on train_stats.json.
BENCHMARKS = (
    [f"{RESULTS}/benchmarks/{name}.tsv" for name in ("generate_data", "build_tokenizer", "check_lengths", BASE)]
    + ([f"{RESULTS}/benchmarks/{GENERIC_MODEL}.tsv"] if GENERIC else [])
    + [f"{RESULTS}/benchmarks/{path}.tsv" for path, m in MODELS.items() if m != BASE_MODEL]
    + [f"{RESULTS}/benchmarks/{m}/evaluate.tsv" for m in EVALUATED]
    + [f"{RESULTS}/benchmarks/{m}/passk.tsv" for m in PASSK_MODELS]
    + [f"{RESULTS}/benchmarks/{m}/hidden_shifts.tsv" for m in SHIFT_STARTS]
    + [f"{RESULTS}/benchmarks/{m}/probe_reading.tsv" for m in READING]
)


rule report:
    input:
        benchmarks=BENCHMARKS,
        csv=f"{RESULTS}/metrics.csv",
        data=f"{RESULTS}/data",
        predictions=expand(f"{RESULTS}/eval/{{model}}/predictions.jsonl", model=EVALUATED),
        passk=expand(f"{RESULTS}/passk/{{model}}/samples.json", model=PASSK_MODELS),
        shifts=expand(f"{RESULTS}/hidden/{{model}}/shifts.npz", model=SHIFT_STARTS),
        reading=expand(f"{RESULTS}/reading/{{model}}/reading.json", model=READING),
        generation=f"{RESULTS}/speed/generation.json",
        matmul=f"{RESULTS}/speed/matmul_peak.json",
        models=expand(f"{RESULTS}/models/{{model}}", model=EVALUATED + ([GENERIC_MODEL] if GENERIC else [])),
        code=code("src.analysis.report", stage="report"),
    output:  # src/analysis/outputs.py declares them; report() shows one with its caption in `snakemake --report`
        **REPORT_OUTPUTS,
    log:
        f"{RESULTS}/logs/report.log",
    conda:
        ENV
    threads: threads_of("light")
    resources:
        **resources_of("light"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "report"),
        out=lambda wildcards, output: str(Path(output.report).parent),  # results/<preset>
    shell:
        "python -m src.analysis.report --params params.yaml --preset {params.preset} --metrics {input.csv}"
        " --data {input.data} --predictions {input.predictions} --samples {input.passk} --shifts {input.shifts}"
        " --reading {input.reading}"
        " --models {input.models}"
        " --generation {input.generation} --matmul {input.matmul} --benchmarks {input.benchmarks} --out {params.out}"
        " > {log} 2>&1"
