"""Load params.yaml, merge the chosen preset, validate, and describe the recipes.

Both Snakemake (rules/common.smk) and every entry point call `load_params`, so a wrong key or
value stops the run before any compute, with a message naming the key and how to fix it.
"""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

SCHEMA = Path(__file__).with_name("params.schema.yaml")
METHODS = {"SFT": "sft", "LoRA": "lora", "RL": "grpo"}  # paper notation -> trainer; LoRA: SFT of an adapter
DATASETS = {"Mem": "mem", "Ctx": "ctx", "Comp": "comp"}


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Step:
    method: str  # "sft" | "lora" | "grpo"
    data: tuple[str, ...]  # ("mem", "ctx")
    share: int = 100  # percent of the stage's training questions it uses: SFT(Mem+Ctx@30%)

    @property
    def slug(self) -> str:
        return f"{self.method}-{'+'.join(self.data)}" + (f"@{self.share}" if self.share != 100 else "")


def parse_recipe(label: str) -> list[Step]:
    """'SFT(Mem+Ctx@30%)->RL(Comp)' -> [Step('sft', ('mem', 'ctx'), 30), Step('grpo', ('comp',))]."""
    steps = []
    for part in label.split("->"):
        m = re.fullmatch(r"\s*(\w+)\(([^()@]*)(?:@\s*(\d+)\s*%)?\)\s*", part)
        if not m:
            raise ConfigError(f"recipe {label!r}: cannot read {part!r}; write stages as "
                              f"METHOD(Data+Data) joined by '->', e.g. 'SFT(Mem+Ctx)->RL(Comp)', "
                              f"optionally with a share of the questions: 'SFT(Mem+Ctx@30%)'")
        method, data = m.group(1), [d.strip() for d in m.group(2).split("+")]
        share = int(m.group(3)) if m.group(3) else 100
        if method not in METHODS:
            raise ConfigError(f"recipe {label!r}: unknown method {method!r}; use one of {sorted(METHODS)}")
        bad = [d for d in data if d not in DATASETS]
        if bad or len(set(data)) != len(data):
            raise ConfigError(f"recipe {label!r}: bad training data {bad or data}; "
                              f"use distinct names from {sorted(DATASETS)}")
        if not 1 <= share <= 100 or (share != 100 and METHODS[method] == "grpo"):
            raise ConfigError(f"recipe {label!r}: a share must be 1% to 100% and belongs to an SFT or LoRA "
                              f"stage (RL always takes training.grpo.questions)")
        order = list(DATASETS)  # one spelling: Ctx+Mem is Mem+Ctx
        steps.append(Step(METHODS[method], tuple(DATASETS[d] for d in sorted(data, key=order.index)), share))
    return steps


def chain_slug(steps: list[Step]) -> str:
    """Directory name of the model a chain of stages produces, e.g. 'sft-mem+ctx__grpo-comp'."""
    return "__".join(s.slug for s in steps)


def slug_steps(slug: str) -> list[Step]:
    steps = []
    for part in slug.split("__"):
        method, data = part.split("-", 1)
        data, _, share = data.partition("@")
        steps.append(Step(method, tuple(data.split("+")), int(share or 100)))
    return steps


def chain_label(slug: str) -> str:
    """'sft-mem+ctx@30__grpo-comp' -> 'SFT(Mem+Ctx@30%)->RL(Comp)', the paper's notation."""
    method = {v: k for k, v in METHODS.items()}
    data = {v: k for k, v in DATASETS.items()}
    return "->".join(f"{method[s.method]}({'+'.join(data[d] for d in s.data)}"
                     f"{f'@{s.share}%' if s.share != 100 else ''})" for s in slug_steps(slug))


def rl_pairs(cfg: dict) -> list[tuple[str, str]]:
    """(model before the last RL stage, model after it) of every recipe that ends in RL."""
    out = {}
    for label in cfg["recipes"]:
        steps = parse_recipe(label)
        if steps[-1].method == "grpo" and len(steps) > 1:
            out[chain_slug(steps)] = chain_slug(steps[:-1])
    return [(base, rl) for rl, base in out.items()]


def merge(base: dict, overlay: dict) -> dict:
    """Dicts merge key by key; anything else in `overlay` replaces."""
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def preset_chain(presets: dict, name: str, where: str = "params.yaml") -> list[str]:
    """The preset and those it extends (`extends: NAME`), nearest first; 'default' is the file's top level."""
    chain = []
    while name and name != "default":
        if name in chain:
            raise ConfigError(f"{where}: presets extend each other in a cycle: {' -> '.join(chain + [name])}; "
                              "break it by removing one `extends:`")
        if name not in presets:
            named_by = f"preset {chain[-1]!r} extends" if chain else "the preset asked for is"
            raise ConfigError(f"{where}: {named_by} {name!r}, which is not under `presets:`; "
                              f"known: default, {', '.join(presets)}")
        chain.append(name)
        name = (presets[name] or {}).get("extends")
    return chain


def preset_overlay(presets: dict, name: str, where: str = "params.yaml") -> dict:
    """A preset's overlay on the top level: what it extends, deep-merged under its own keys."""
    out: dict = {}
    for n in reversed(preset_chain(presets, name, where)):
        out = merge(out, {k: v for k, v in (presets[n] or {}).items() if k != "extends"})
    return out


def _validate(cfg: dict, where: str) -> None:
    schema = yaml.safe_load(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(cfg), key=lambda e: list(e.path))
    if errors:  # one line per error, naming the key (src/params.schema.yaml says what each key is)
        raise ConfigError("\n".join(f"{where}: {'.'.join(str(p) for p in e.path) or '(top level)'}: {e.message}"
                                     for e in errors[:10]))
    for label in cfg["recipes"]:
        parse_recipe(label)
    _check_relations(cfg["world"]["relations"], where)
    q = cfg["questions"]
    if abs(sum(q["level_shares"].values()) - 1) > 1e-6:
        raise ConfigError(f"{where}: questions.level_shares must sum to 1, got {q['level_shares']}")
    g = cfg["training"]["grpo"]
    if g["batch_size"] % g["num_generations"]:
        raise ConfigError(f"{where}: training.grpo.batch_size = {g['batch_size']}: must be a multiple "
                          f"of training.grpo.num_generations ({g['num_generations']})")
    # config_checks imports the data generator's relations
    from .config_checks import batch_errors, level_errors, model_errors, world_errors
    errors = level_errors(cfg) + model_errors(cfg) + batch_errors(cfg) + world_errors(cfg)
    if errors:
        raise ConfigError("\n".join(f"{where}: {e}" for e in errors))


def _check_relations(names, where: str) -> None:
    if names == "all":
        return
    from .data.relations import BY_NAME, CONTEXTUAL, PARAMETRIC
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ConfigError(f"{where}: world.relations has unknown relations {unknown}; "
                          f"use 'all' or names from src/data/relations.py, e.g. {sorted(BY_NAME)[:4]}")
    for group in (PARAMETRIC, CONTEXTUAL):
        persons = [n for n in names if BY_NAME[n].group == group and BY_NAME[n].person]
        if len(persons) < 3:
            raise ConfigError(f"{where}: world.relations needs at least 3 person-to-person relations of the "
                              f"{group} group (multi-hop paths and three levels need them); it has {persons}")


def load_params(path: str | Path = "params.yaml", preset: str | None = None, every_preset: bool = True) -> dict:
    """The validated parameters of one preset (default: the file's `preset` key). Planning (Snakemake,
    `python -m src.config`) validates every preset, so a typo in any fails before a job starts; a job's
    entry point (`every_preset=False`) validates only its own."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} not found; run from the repository root or pass --params")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{at}: not valid YAML: {getattr(e, 'problem', None) or e}; fix the line "
                          f"(an indent, a colon, a bracket)") from None
    presets = raw.pop("presets", {}) or {}
    preset = preset or raw.get("preset", "default")
    if preset != "default" and preset not in presets:
        raise ConfigError(f"unknown preset {preset!r}; {path} defines: default, {', '.join(presets)}")
    cfg = merge(raw, {**preset_overlay(presets, preset, str(path)), "preset": preset})
    _validate(cfg, f"{path} (preset {preset!r})")  # the study asked for first, then every other preset
    for name in presets if every_preset else ():  # a typo in any preset fails now
        if name != preset:
            _validate(merge(raw, {**preset_overlay(presets, name, str(path)), "preset": name}),
                      f"{path} (preset {name!r})")
    unknown = [p for p in raw.get("sweep", []) if p != "default" and p not in presets]
    if unknown:
        raise ConfigError(f"{path}: sweep names unknown presets {unknown}; add them under `presets:`")
    cfg["recipes"] = canonical_recipes(cfg["recipes"], f"{path} (preset {preset!r})")
    return cfg


def canonical_recipes(labels: list[str], where: str) -> list[str]:
    """Each recipe in the one spelling the tables use ('SFT(Mem + Ctx)' -> 'SFT(Mem+Ctx)'); two
    spellings of one recipe are an error."""
    out = [chain_label(chain_slug(parse_recipe(label))) for label in labels]
    twice = sorted({c for c in out if out.count(c) > 1})
    if twice:
        raise ConfigError(f"{where}: recipes lists {twice[0]} more than once (in different spellings); keep one")
    return out


def model_chains(cfg: dict) -> list[str]:
    """Every model the recipes need, prefixes included, each once (shared prefixes train once)."""
    out: dict[str, None] = {}
    for label in cfg["recipes"]:
        steps = parse_recipe(label)
        for i in range(1, len(steps) + 1):
            out[chain_slug(steps[:i])] = None
    return list(out)


def results_dir(cfg: dict) -> Path:
    return Path("results") / cfg["preset"]


# ---- the paper's other experiments: which recipes belong to them (src/evaluation/report.py)
ATOMIC_SFT = Step("sft", ("mem", "ctx"))


def _label(steps: list[Step]) -> str:
    return chain_label(chain_slug(steps))  # the label metrics.csv uses, however the recipe was spelled


def same_questions_recipes(recipes: list[str]) -> list[str]:
    """SFT, LoRA or RL on Comp from SFT(Mem+Ctx): the paper's comparison on the same 12.8k questions."""
    out = []
    for r in recipes:
        steps = parse_recipe(r)
        if len(steps) == 2 and steps[0] == ATOMIC_SFT and steps[1].data == ("comp",):
            out.append(_label(steps))
    return out


def share_recipes(recipes: list[str]) -> dict[int, tuple[str, str]]:
    """{percent of the atomic data: (SFT base, recipe)} for SFT(Mem+Ctx@N%)->RL(Comp), 100% included;
    empty unless at least two shares are declared."""
    out = {}
    for r in recipes:
        steps = parse_recipe(r)
        if (len(steps) == 2 and steps[0].method == "sft" and steps[0].data == ATOMIC_SFT.data
                and steps[1] == Step("grpo", ("comp",))):
            out[steps[0].share] = (_label(steps[:1]), _label(steps))
    return dict(sorted(out.items())) if len(out) > 1 else {}


def main() -> None:
    """`python -m src.config [--preset NAME]`: check params.yaml, as `dvc repro` does before its first stage."""
    import argparse
    import sys
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--preset", default=None)
    args = ap.parse_args()
    try:
        load_params(args.params, args.preset)
    except ConfigError as e:
        sys.exit(f"Error in {args.params}, nothing was run:\n{e}")


if __name__ == "__main__":
    main()
