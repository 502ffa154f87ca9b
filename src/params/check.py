"""Check params.yaml before anything runs: the schema derived from src/params/settings/, then the cross-key checks.

Snakemake (rules/common.smk, at planning) and `python -m src.params.check` (dvc.yaml's first stages) call
`load_params`, so a wrong key or value stops the run before any compute, with a message naming the key
and how to fix it. Jobs read the file without checking it again (src/params/read.py).
"""
from __future__ import annotations

import math
from pathlib import Path

import jsonschema
import yaml

from ..recipes import canonical_recipes, parse_recipe
from .read import ConfigError, read_raw, resolve
from .settings.declare import declared, schema
from .settings.study import Params


def params_schema() -> dict:
    """params.yaml's JSON schema (after its preset is merged), from the declarations."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema(Params)}


def check_presets(presets: dict, where: str) -> None:
    """Every `extends:` names a preset, and no chain of them loops."""
    for start in presets:
        chain, name = [], start
        while name and name != "default":
            if name in chain:
                raise ConfigError(f"{where}: presets extend each other in a cycle: {' -> '.join(chain + [name])}; "
                                  "break it by removing one `extends:`")
            if name not in presets:
                raise ConfigError(f"{where}: preset {chain[-1]!r} extends {name!r}, which is not under `presets:`; "
                                  f"known: default, {', '.join(presets)}")
            chain.append(name)
            name = (presets[name] or {}).get("extends")


def _non_finite(value, key: str = "") -> list[str]:
    """Keys whose value is NaN or infinite (YAML's .nan, .inf): the schema's bounds let them through, since
    every comparison with NaN is false, and a NaN learning rate trains a model of NaN weights in silence."""
    if isinstance(value, float) and not math.isfinite(value):
        return [key or "(top level)"]
    if isinstance(value, dict):
        return [k for name, v in value.items() for k in _non_finite(v, f"{key}.{name}" if key else str(name))]
    if isinstance(value, list):
        return [k for i, v in enumerate(value) for k in _non_finite(v, f"{key}[{i}]")]
    return []


def _validate(cfg: dict, where: str) -> None:
    bad = _non_finite(cfg)
    if bad:
        raise ConfigError("\n".join(f"{where}: {k}: not a finite number (NaN or infinity); give a number" for k in bad))
    errors = sorted(jsonschema.Draft202012Validator(params_schema()).iter_errors(cfg), key=lambda e: list(e.path))
    if errors:  # one line per error, naming the key (src/params/settings/ declares what each key is)
        raise ConfigError("\n".join(f"{where}: {'.'.join(str(p) for p in e.path) or '(top level)'}: {e.message}"
                                     for e in errors[:10]))
    for label in cfg["recipes"]:
        parse_recipe(label)
    _check_relations(cfg["world"]["relations"], where)
    q = cfg["questions"]
    if abs(sum(q["level_shares"].values()) - 1) > 1e-6:
        raise ConfigError(f"{where}: questions.level_shares must sum to 1, got {q['level_shares']}")
    passk_seeds = cfg["evaluation"]["passk"]["seeds"]
    if passk_seeds > len(cfg["seeds"]):  # it would be cut to the seeds there are, without a word
        raise ConfigError(f"{where}: evaluation.passk.seeds = {passk_seeds}: the study has only {len(cfg['seeds'])} "
                          f"seed(s) ({cfg['seeds']}); use at most {len(cfg['seeds'])}")
    g = cfg["training"]["grpo"]
    if g["batch_size"] % g["num_generations"]:
        raise ConfigError(f"{where}: training.grpo.batch_size = {g['batch_size']}: must be a multiple "
                          f"of training.grpo.num_generations ({g['num_generations']})")
    # config_checks imports the data generator's relations
    from .cross import batch_errors, level_errors, model_errors, world_errors
    errors = level_errors(cfg) + model_errors(cfg) + batch_errors(cfg) + world_errors(cfg)
    if errors:
        raise ConfigError("\n".join(f"{where}: {e}" for e in errors))


def _check_relations(names, where: str) -> None:
    if names == "all":
        return
    from ..data.relations import BY_NAME, CONTEXTUAL, PARAMETRIC
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise ConfigError(f"{where}: world.relations has unknown relations {unknown}; "
                          f"use 'all' or names from src/data/relations.py, e.g. {sorted(BY_NAME)[:4]}")
    for group in (PARAMETRIC, CONTEXTUAL):
        persons = [n for n in names if BY_NAME[n].group == group and BY_NAME[n].person]
        if len(persons) < 3:
            raise ConfigError(f"{where}: world.relations needs at least 3 person-to-person relations of the "
                              f"{group} group (multi-hop paths and three levels need them); it has {persons}")


def _check_findings(findings: list[dict], presets: dict, where: str) -> None:
    """What the schema cannot say of a finding: its studies are presets, its knobs declared parameters."""
    for i, f in enumerate(findings):
        unknown = [p for p in f["studies"] if p != "default" and p not in presets]
        if unknown:
            raise ConfigError(f"{where}: findings[{i}] ({f['title']!r}) names unknown presets {unknown}; "
                              "add them under `presets:`")
        for knob in f["knobs"]:
            try:
                declared(Params, knob)
            except (KeyError, TypeError):
                raise ConfigError(f"{where}: findings[{i}] knob {knob!r} is not a parameter; name one as a dotted "
                                  "key of params.yaml (docs/parameters.md), e.g. training.sft.epochs") from None


def _check_pools(pools: list[dict], raw: dict, where: str) -> None:
    """A pool's parts are its study but for the seeds, and share out exactly its seeds, one seed to a part."""
    presets = raw.get("presets", {}) or {}
    for i, pool in enumerate(pools):
        unknown = [p for p in (pool["study"], *pool["parts"]) if p != "default" and p not in presets]
        if unknown:
            raise ConfigError(f"{where}: pools[{i}] names unknown presets {unknown}; add them under `presets:`")
        whole = resolve(raw, pool["study"])
        seeds: list[int] = []
        for part in pool["parts"]:
            cfg = resolve(raw, part)
            differ = sorted(k for k in set(whole) | set(cfg) if k not in ("preset", "seeds")
                            and whole.get(k) != cfg.get(k))
            if differ:
                raise ConfigError(f"{where}: pools[{i}]: part {part!r} differs from {pool['study']!r} in {differ}; "
                                  f"a part may change only `seeds` (give it `extends: {pool['study']}`)")
            seeds += cfg["seeds"]
        if sorted(seeds) != sorted(whole["seeds"]):
            raise ConfigError(f"{where}: pools[{i}]: the parts' seeds {sorted(seeds)} are not {pool['study']!r}'s "
                              f"{sorted(whole['seeds'])}, each once; give each part its own share of them")


def load_params(path: str | Path = "params.yaml", preset: str | None = None, every_preset: bool = True) -> dict:
    """The checked parameters of one preset (default: the file's `preset` key). Planning (Snakemake,
    `python -m src.params.check`) checks every preset, so a typo in any fails before a job starts."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path} not found; run from the repository root or pass --params")
    try:
        raw = read_raw(path)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{at}: not valid YAML: {getattr(e, 'problem', None) or e}; fix the line "
                          f"(an indent, a colon, a bracket)") from None
    presets = raw.get("presets", {}) or {}
    preset = preset or raw.get("preset", "default")
    if preset != "default" and preset not in presets:
        raise ConfigError(f"unknown preset {preset!r}; {path} defines: default, {', '.join(presets)}")
    check_presets(presets, str(path))
    cfg = resolve(raw, preset)
    _validate(cfg, f"{path} (preset {preset!r})")  # the study asked for first, then every other preset
    for name in presets if every_preset else ():  # a typo in any preset fails now
        if name != preset:
            _validate(resolve(raw, name), f"{path} (preset {name!r})")
    for key in ("sweep", "scaling"):
        unknown = [p for p in raw.get(key, []) if p != "default" and p not in presets]
        if unknown:
            raise ConfigError(f"{path}: {key} names unknown presets {unknown}; add them under `presets:`")
    _check_findings(raw.get("findings") or [], presets, str(path))
    _check_pools(raw.get("pools") or [], raw, str(path))
    cfg["recipes"] = canonical_recipes(cfg["recipes"], f"{path} (preset {preset!r})")
    return cfg


def study(path: str | Path = "params.yaml", preset: str | None = None, every_preset: bool = True) -> Params:
    """The checked parameters of one preset, typed (src/params/settings/study.py): what analyses and
    benchmarks read. Planning keeps the dict (`load_params`: Snakemake's config and `tracked`); a stage's
    script reads only its own settings (stages.load)."""
    from .settings.declare import parse
    return parse(Params, load_params(path, preset, every_preset))


def results_dir(preset: str) -> Path:
    """Where a preset's study writes: results/<preset>."""
    return Path("results") / preset


def main() -> None:
    """`python -m src.params.check [--preset NAME]`: check params.yaml, as `dvc repro` does before its first stage."""
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
