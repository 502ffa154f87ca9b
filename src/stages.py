"""What each stage's script reads of params.yaml, parsed once into a frozen dataclass.

One list per rule: a stage's dataclass names the params.yaml keys it reads (each field's `key`). The
rule tracks exactly those keys (Snakemake `params: settings=tracked(CFG, rule)`, dvc.yaml's `params:`
from `keys(rule)`), and the script gets them, and only them, as the dataclass (`settings(rule, ...)`),
so what triggers a rerun and what the script reads cannot drift apart. As TRL's scripts parse their
arguments once into a dataclass, no script indexes nested dicts by string.
"""
from __future__ import annotations

import typing
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path


def key(dotted: str, rerun: bool = True):
    """A field read from params.yaml at `dotted` (e.g. 'training.sft'). rerun=False: an operational setting
    that cannot change a result (how often to checkpoint), read by the script but never a reason to rerun."""
    return field(metadata={"key": dotted, "rerun": rerun})


# ---- sections of params.yaml (src/params.schema.yaml describes each key)
@dataclass(frozen=True)
class Scratch:
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int


@dataclass(frozen=True)
class Lora:
    enabled: bool
    r: int
    alpha: int
    dropout: float


@dataclass(frozen=True)
class ModelSettings:
    pretrained: str | None
    scratch: Scratch
    lora: Lora


@dataclass(frozen=True)
class Inject:
    epochs: float
    learning_rate: float
    batch_size: int
    max_length: int


@dataclass(frozen=True)
class SFT(Inject):
    atomic_holdout: float


@dataclass(frozen=True)
class GRPO:
    questions: int
    steps: int
    learning_rate: float
    batch_size: int
    num_generations: int
    temperature: float
    beta: float
    max_completion_length: int


@dataclass(frozen=True)
class PassK:
    seeds: int
    questions: int
    samples: int
    temperature: float


# ---- what each rule's script reads
@dataclass(frozen=True)
class GenerateData:  # the generator takes the world's and questions' sections as they are
    world: dict = key("world")
    questions: dict = key("questions")
    generic: dict = key("generic")


@dataclass(frozen=True)
class BuildTokenizer:
    pretrained: str | None = key("model.pretrained")


@dataclass(frozen=True)
class CheckLengths:  # the training lengths, against the data's longest sequences
    inject_max_length: int = key("training.inject.max_length")
    sft_max_length: int = key("training.sft.max_length")


@dataclass(frozen=True)
class TrainGeneric:
    model: ModelSettings = key("model")
    generic: dict = key("generic")
    inject: Inject = key("training.inject")
    sft: SFT = key("training.sft")


@dataclass(frozen=True)
class InjectKnowledge:
    model: ModelSettings = key("model")
    inject: Inject = key("training.inject")
    checkpoint_minutes: float = key("resources.checkpoint_minutes", rerun=False)


@dataclass(frozen=True)
class TrainSFT:
    model: ModelSettings = key("model")
    sft: SFT = key("training.sft")
    checkpoint_minutes: float = key("resources.checkpoint_minutes", rerun=False)


@dataclass(frozen=True)
class TrainGRPO:
    model: ModelSettings = key("model")
    atomic_holdout: float = key("training.sft.atomic_holdout")  # picks the Mem/Ctx questions RL uses
    grpo: GRPO = key("training.grpo")
    checkpoint_minutes: float = key("resources.checkpoint_minutes", rerun=False)


@dataclass(frozen=True)
class Evaluate:
    batch_size: int = key("evaluation.batch_size")
    max_new_tokens: int = key("evaluation.max_new_tokens")


@dataclass(frozen=True)
class SamplePassk(Evaluate):
    passk: PassK = key("evaluation.passk")


@dataclass(frozen=True)
class BenchmarkGeneration(Evaluate):
    speed_questions: int = key("evaluation.speed_questions")


@dataclass(frozen=True)
class Nothing:  # the matmul benchmark reads no parameter
    pass


@dataclass(frozen=True)
class Tables:  # the models in table order come from the recipes
    recipes: list = key("recipes")


STAGES = {"generate_data": GenerateData, "build_tokenizer": BuildTokenizer, "check_lengths": CheckLengths,
          "train_generic": TrainGeneric,
          "inject_knowledge": InjectKnowledge, "train_sft": TrainSFT, "train_grpo": TrainGRPO,
          "evaluate": Evaluate, "sample_passk": SamplePassk, "benchmark_generation": BenchmarkGeneration,
          "benchmark_matmul": Nothing, "tables": Tables}
# the report reads the whole study and prints every parameter, so it tracks every section of params.yaml
EVERYTHING = {"report": ("seeds", "recipes", "sweep", "world", "questions", "generic", "model", "training",
                         "evaluation", "resources")}


def keys(rule: str) -> list[str]:
    """The params.yaml keys whose change reruns the rule: what its script reads, operational settings aside."""
    if rule in EVERYTHING:
        return list(EVERYTHING[rule])
    return [f.metadata["key"] for f in fields(STAGES[rule]) if f.metadata["rerun"]]


def _get(cfg: dict, dotted: str):
    for part in dotted.split("."):
        cfg = cfg[part]
    return cfg


def tracked(cfg: dict, rule: str) -> dict:
    """{key: value} of what the rule's script reads: the rule's `params: settings=` (a change reruns it)."""
    return {k: _get(cfg, k) for k in keys(rule)}


def _parse(kind, value):
    """A value of params.yaml as the dataclass that describes it (the schema has checked it already)."""
    if is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        return kind(**{f.name: _parse(hints[f.name], value[f.name]) for f in fields(kind)})
    return value


def settings(rule: str, cfg: dict):
    """The rule's settings, from the loaded params."""
    stage = STAGES[rule]
    hints = typing.get_type_hints(stage)
    return stage(**{f.name: _parse(hints[f.name], _get(cfg, f.metadata["key"])) for f in fields(stage)})


def load(rule: str, params: str | Path, preset: str | None):
    """What an entry point calls: params.yaml's chosen preset, validated, as the rule's settings."""
    from .config import load_params
    return settings(rule, load_params(params, preset, every_preset=False))
