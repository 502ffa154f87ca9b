"""Each stage's settings (src/stages.py): the keys a rule tracks are the keys its script reads, parsed
into dataclasses that mirror the schema."""
import typing
from dataclasses import fields, is_dataclass

import yaml

from src import stages
from src.config import SCHEMA, load_params
from src.export_dvc import snakemake_jobs

from .conftest import ROOT


def _schema_at(schema: dict, dotted: str) -> dict:
    node = schema
    for part in dotted.split("."):
        node = node["properties"][part]
        if "$ref" in node:
            node = {**schema["$defs"][node["$ref"].rsplit("/", 1)[1]], **node}
    return node


def _mirror(kind, node: dict, where: str) -> None:
    """A settings dataclass has exactly the schema's keys at its place, recursively."""
    hints = typing.get_type_hints(kind)
    assert {f.name for f in fields(kind)} == set(node["properties"]), where
    for f in fields(kind):
        if is_dataclass(hints[f.name]):
            _mirror(hints[f.name], _schema_at({"properties": node["properties"], "$defs": SCHEMA_DEFS}, f.name),
                    f"{where}.{f.name}")


SCHEMA_DOC = yaml.safe_load(SCHEMA.read_text())
SCHEMA_DEFS = SCHEMA_DOC["$defs"]


def test_settings_mirror_the_schema():
    for rule, stage in stages.STAGES.items():
        hints = typing.get_type_hints(stage)
        for f in fields(stage):
            if is_dataclass(hints[f.name]):
                _mirror(hints[f.name], _schema_at(SCHEMA_DOC, f.metadata["key"]), f"{rule}: {f.metadata['key']}")


def test_every_preset_parses_into_every_stage():
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    for preset in ["default", *raw["presets"]]:
        cfg = load_params(ROOT / "params.yaml", preset, every_preset=False)
        for rule in stages.STAGES:
            s = stages.settings(rule, cfg)
            assert stages.tracked(cfg, rule).keys() == set(stages.keys(rule))
        assert s is not None


def test_each_rule_tracks_what_its_script_reads():
    """Snakemake's `params: settings=` of every job is exactly what the script gets (src/stages.py), so a
    change of any other key leaves the job alone and a change of these reruns it."""
    cfg = load_params(ROOT / "params.yaml", "smoke")
    jobs = snakemake_jobs("smoke", ROOT)
    assert {j["rule"] for j in jobs} >= set(stages.STAGES) - {"train_generic"} | {"report"}
    for job in jobs:
        assert job["settings"] == stages.tracked(cfg, job["rule"]), job["rule"]
    # what a script sees: the dataclass holds the tracked values and nothing else
    s = stages.settings("train_grpo", cfg)
    assert s.grpo.steps == cfg["training"]["grpo"]["steps"] and s.atomic_holdout == cfg["training"]["sft"]["atomic_holdout"]
    assert not hasattr(s, "sft") and not hasattr(s, "evaluation")
