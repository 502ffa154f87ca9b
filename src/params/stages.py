"""What each stage's script reads of params.yaml, parsed once into a frozen dataclass.

One list per rule: a stage's dataclass names the params.yaml keys it reads (each field's `key`). The
rule tracks exactly those keys (Snakemake `params: settings=tracked(CFG, rule)`, dvc.yaml's `params:`
from `keys(rule)`), and the script gets them, and only them, as the dataclass (`load`), so what
triggers a rerun and what the script reads cannot drift apart. As TRL's scripts parse their arguments
once into a dataclass, no script indexes nested dicts by string.

Types are the sections declared in src/params/settings/, named as 'module.Class' strings and imported only for
the stage asked for: a job runs the declarations of the sections it reads and no others, and its rule's
code inputs list exactly those (`section_modules`, src/workflow/code_deps.py), so editing how `training.grpo` is
described reruns the GRPO jobs and nothing else.
"""
from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from ..recipes import canonical_recipes
from .read import read_params
from .settings.declare import parse

if TYPE_CHECKING:  # the names of the annotations; a job imports only its own stage's (`_hints`)
    from .settings import evaluation, generic, grpo, inject, model, questions, sft, study, world


def key(dotted: str):
    """A field read from params.yaml at `dotted` (e.g. 'training.sft'); '' is the whole file."""
    return field(metadata={"key": dotted})


# ---- what each rule's script reads
@dataclass(frozen=True)
class GenerateData:
    world: world.World = key("world")
    questions: questions.Questions = key("questions")
    generic: generic.Generic = key("generic")


@dataclass(frozen=True)
class BuildTokenizer:
    pretrained: str | None = key("model.pretrained")


@dataclass(frozen=True)
class CheckLengths:  # the training lengths, against the data's longest sequences
    inject_max_length: int = key("training.inject.max_length")
    sft_max_length: int = key("training.sft.max_length")


@dataclass(frozen=True)
class TrainGeneric:
    model: model.Model = key("model")
    generic: generic.Generic = key("generic")
    inject: inject.Inject = key("training.inject")
    sft: sft.SFT = key("training.sft")


@dataclass(frozen=True)
class InjectKnowledge:
    model: model.Model = key("model")
    inject: inject.Inject = key("training.inject")
    checkpoint_minutes: float = key("resources.checkpoint_minutes")


@dataclass(frozen=True)
class TrainSFT:
    model: model.Model = key("model")
    sft: sft.SFT = key("training.sft")
    checkpoint_minutes: float = key("resources.checkpoint_minutes")


@dataclass(frozen=True)
class TrainSFTOnRLQuestions(TrainSFT):  # a second SFT or LoRA stage trains on RL's questions, as many as RL takes
    grpo_questions: int = key("training.grpo.questions")


@dataclass(frozen=True)
class TrainGRPO:
    model: model.Model = key("model")
    atomic_holdout: float = key("training.sft.atomic_holdout")  # picks the Mem/Ctx questions RL uses
    grpo: grpo.GRPO = key("training.grpo")
    checkpoint_minutes: float = key("resources.checkpoint_minutes")


@dataclass(frozen=True)
class Evaluate:
    batch_size: int = key("evaluation.batch_size")
    max_new_tokens: int = key("evaluation.max_new_tokens")


@dataclass(frozen=True)
class SamplePassk(Evaluate):
    passk: evaluation.PassK = key("evaluation.passk")


@dataclass(frozen=True)
class BenchmarkGeneration(Evaluate):
    speed_questions: int = key("evaluation.speed_questions")
    passk: evaluation.PassK = key("evaluation.passk")  # times pass@k sampling at `timed_samples`


@dataclass(frozen=True)
class ProbeReading(Evaluate):
    questions: int = key("evaluation.reading_questions")
    atomic_holdout: float = key("training.sft.atomic_holdout")  # which Ctx questions SFT saw


@dataclass(frozen=True)
class HiddenShifts:
    questions: int = key("evaluation.shift_questions")


@dataclass(frozen=True)
class Nothing:  # the matmul benchmark reads no parameter
    pass


@dataclass(frozen=True)
class Tables:  # the models in table order come from the recipes
    preset: str = key("preset")
    recipes: list[str] = key("recipes")


@dataclass(frozen=True)
class Report:  # the report reads the whole study and prints every parameter
    params: study.Params = key("")


STAGES = {"generate_data": GenerateData, "build_tokenizer": BuildTokenizer, "check_lengths": CheckLengths,
          "train_generic": TrainGeneric,
          "inject_knowledge": InjectKnowledge, "train_sft": TrainSFT, "train_sft_rl_questions": TrainSFTOnRLQuestions,
          "train_grpo": TrainGRPO,
          "evaluate": Evaluate, "sample_passk": SamplePassk, "benchmark_generation": BenchmarkGeneration,
          "probe_reading": ProbeReading,
          "benchmark_matmul": Nothing, "hidden_shifts": HiddenShifts, "tables": Tables, "report": Report}
ROOT = "src.params.settings.study"  # the declaration of the whole file


def section_modules(rule: str) -> list[str]:
    """The modules of src/params/settings/ that the rule's settings are declared in (its 'module.Class' types)."""
    names = {t.split(".")[0] for f in fields(STAGES[rule]) for t in _names(f.type)}
    return sorted(f"src.params.settings.{n}" for n in names)


def _names(annotation: str) -> list[str]:
    return [t.strip() for t in annotation.split("|") if "." in t]


def _hints(rule: str) -> dict:
    stage = STAGES[rule]
    mods = {m.rsplit(".", 1)[1]: importlib.import_module(m) for m in section_modules(rule)}
    return typing.get_type_hints(stage, localns=mods)


def _get(cfg: dict, dotted: str):
    for part in filter(None, dotted.split(".")):
        cfg = cfg[part]
    return cfg


def keys(rule: str) -> list[str]:
    """The params.yaml keys whose change reruns the rule: what its script reads, operational settings (their
    declaration says so, e.g. resources.checkpoint_minutes) aside; the report's are every top-level key."""
    from .settings.declare import declared
    root = importlib.import_module(ROOT).Params
    out = []
    for f in fields(STAGES[rule]):
        k = f.metadata["key"]
        if not k:
            out += [g.name for g in fields(root) if g.name != "preset" and not g.metadata["operational"]]
        elif not declared(root, k)[1].metadata["operational"]:
            out.append(k)
    return out


def tracked(cfg: dict, rule: str) -> dict:
    """{key: value} of what the rule's script reads: the rule's `params: settings=` (a change reruns it)."""
    return {k: _get(cfg, k) for k in keys(rule)}


def settings(rule: str, cfg: dict):
    """The rule's settings from the loaded params (a dict, validated at planning)."""
    hints = _hints(rule)
    return STAGES[rule](**{f.name: parse(hints[f.name], _get(cfg, f.metadata["key"])) for f in fields(STAGES[rule])})


def load(rule: str, params, preset: str | None):
    """What an entry point calls: params.yaml's chosen preset as the rule's settings. Planning validated
    the file (src/params/check.py); a job only reads it, so its code never runs the validator. Recipes come in
    the one spelling the tables use, as planning sees them."""
    cfg = read_params(params, preset)
    cfg["recipes"] = canonical_recipes(cfg["recipes"], str(params))
    return settings(rule, cfg)
