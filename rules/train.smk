# Training stages. The base (models/inject) is trained once; every recipe model is a folder named
# after its chain of stages, e.g. models/seed0/sft-mem+ctx__grpo-comp is SFT(Mem+Ctx)->RL(Comp);
# recipes sharing a prefix share its model.


if GENERIC:

    rule train_generic:  # the generic language stage, a deviation that is off unless generic.enabled
        input:
            **pretrained_inputs(),
            data=f"{RESULTS}/data",
            tokenizer=f"{RESULTS}/tokenizer",
            lengths=f"{RESULTS}/checks/lengths.json",  # the max_length check comes first
            code=code("src.training.launch", "src.training.generic", stage="train_generic"),
        output:
            directory(f"{RESULTS}/models/{GENERIC_MODEL}"),
        log:
            f"{RESULTS}/logs/{GENERIC_MODEL}.log",
        benchmark:
            f"{RESULTS}/benchmarks/{GENERIC_MODEL}.tsv"
        conda:
            ENV
        threads: threads_of("inject")
        resources:
            **resources_of("inject"),
        params:
            preset=PRESET,
            settings=tracked(CFG, "train_generic"),
        shell:
            f"python -m src.training.launch --gpus {LAUNCH_GPUS['inject']} src.training.generic"
            " --params params.yaml --preset {params.preset} --data {input.data} --tokenizer {input.tokenizer}"
            " --seed 0 --out {output} > {log} 2>&1"


rule inject_knowledge:
    input:
        **({"init": f"{RESULTS}/models/{GENERIC_MODEL}"} if GENERIC else pretrained_inputs()),
        data=f"{RESULTS}/data",
        tokenizer=f"{RESULTS}/tokenizer",
        lengths=f"{RESULTS}/checks/lengths.json",  # the max_length check comes first
        code=code("src.training.launch", "src.training.inject", stage="inject_knowledge"),
    output:
        directory(f"{RESULTS}/models/{BASE}"),
    log:
        f"{RESULTS}/logs/{BASE}.log",
    benchmark:
        f"{RESULTS}/benchmarks/{BASE}.tsv"
    conda:
        ENV
    threads: threads_of("inject")
    resources:
        **resources_of("inject"),
    params:
        preset=PRESET,
        settings=tracked(CFG, "inject_knowledge"),
        init=lambda wildcards, input: f" --init {input.init}" if GENERIC else "",
    shell:
        f"python -m src.training.launch --gpus {LAUNCH_GPUS['inject']} src.training.inject"
        " --params params.yaml --preset {params.preset} --data {input.data} --tokenizer {input.tokenizer}"
        " --seed 0{params.init} --out {output} > {log} 2>&1"


rule train_sft:  # SFT and LoRA stages; train_grpo is this rule with GRPO's entry point and settings
    input:
        data=f"{RESULTS}/data",
        tokenizer=f"{RESULTS}/tokenizer",
        model=parent_dir,
        bases=lambda w: loaded_with(model_of(w).parent),
        code=code("src.training.launch", "src.training.sft", stage="train_sft"),
    output:
        directory(f"{RESULTS}/models/seed{{seed}}/{{chain}}"),
    log:
        f"{RESULTS}/logs/seed{{seed}}/{{chain}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/seed{{seed}}/{{chain}}.tsv"
    wildcard_constraints:
        chain=rf"({STAGE}__)*(sft|lora)-[a-z+]+(@\d+)?",
    conda:
        ENV
    threads: threads_of("train")
    resources:
        **resources_of("train"),
    params:
        preset=PRESET,
        entry="src.training.sft",
        tasks=lambda w: " ".join(model_of(w).tasks),
        options=lambda w: model_of(w).sft_flags,
        settings=lambda w: tracked(CFG, model_of(w).settings_stage),
    shell:
        f"python -m src.training.launch --gpus {LAUNCH_GPUS['train']} {{params.entry}}"
        " --params params.yaml --preset {params.preset} --data {input.data} --tokenizer {input.tokenizer}"
        " --seed {wildcards.seed} --model {input.model} --tasks {params.tasks}{params.options} --out {output}"
        " > {log} 2>&1"


use rule train_sft as train_grpo with:
    input:
        data=f"{RESULTS}/data",
        tokenizer=f"{RESULTS}/tokenizer",
        model=parent_dir,
        bases=lambda w: loaded_with(model_of(w).parent),
        code=code("src.training.launch", "src.training.grpo", stage="train_grpo"),
    wildcard_constraints:
        chain=rf"({STAGE}__)*grpo-[a-z+]+",
    params:
        preset=PRESET,
        entry="src.training.grpo",
        tasks=lambda w: " ".join(model_of(w).tasks),
        options="",
        settings=tracked(CFG, "train_grpo"),
