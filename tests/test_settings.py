"""Each parameter is declared once (src/params/settings/) and each stage's settings (src/params/stages.py) are the keys
its rule tracks and its script reads; a job's code depends on the declarations of what it reads only."""
import pytest
import yaml

from src.params import stages
from src.params.check import load_params, params_schema
from src.params.settings.declare import leaves
from src.params.settings.study import Params
from src.workflow.code_deps import code
from src.workflow.export_dvc import snakemake_jobs
from src.workflow.param_docs import keys as documented_keys

from .conftest import ROOT


def test_every_key_of_params_yaml_is_declared_with_a_description():
    declared = {k: f for k, _, f in leaves(Params)}
    assert [k for k, f in declared.items() if not f.metadata["description"].strip()] == []

    def keys_of(d, prefix=""):
        for k, v in d.items():
            yield prefix + k
            if isinstance(v, dict):
                yield from keys_of(v, f"{prefix}{k}.")
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):  # a list of sections
                for x in v:
                    yield from keys_of(x, f"{prefix}{k}[].")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw.pop("presets")
    assert set(keys_of(raw)) == set(declared)  # no default without a declaration, nor the reverse
    # the schema and the parameter reference are made from the same declarations
    assert [k for k, _ in documented_keys(params_schema())] == list(declared)


def test_every_preset_parses_into_every_stage():
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    for preset in ["default", *raw["presets"]]:
        cfg = load_params(ROOT / "params.yaml", preset, every_preset=False)
        for rule in stages.STAGES:
            assert stages.settings(rule, cfg) is not None
            assert stages.tracked(cfg, rule).keys() == set(stages.keys(rule))


def test_an_operational_setting_reruns_nothing_but_a_result_setting_does():
    assert "resources.checkpoint_minutes" not in stages.keys("train_grpo")  # declared operational
    assert "training.grpo" in stages.keys("train_grpo")
    assert stages.settings("train_grpo", load_params(ROOT / "params.yaml", "smoke")).checkpoint_minutes == 10


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_each_rule_tracks_what_its_script_reads():
    """Snakemake's `params: settings=` of every job is exactly what the script gets (src/params/stages.py), so a
    change of any other key leaves the job alone and a change of these reruns it."""
    cfg = load_params(ROOT / "params.yaml", "smoke")
    jobs = snakemake_jobs("smoke", ROOT)
    assert {j["rule"] for j in jobs} >= set(stages.STAGES) - {"train_generic", "train_sft_rl_questions"}
    for job in jobs:
        assert job["settings"] == stages.tracked(cfg, job["rule"]), job["rule"]
    # what a script sees: the dataclass holds the tracked values and nothing else
    s = stages.settings("train_grpo", cfg)
    assert s.grpo.steps == cfg["training"]["grpo"]["steps"] and s.atomic_holdout == cfg["training"]["sft"]["atomic_holdout"]
    assert not hasattr(s, "sft") and not hasattr(s, "evaluation")
    # a second SFT stage also reads how many questions RL takes, and only it
    assert stages.settings("train_sft_rl_questions", cfg).grpo_questions == cfg["training"]["grpo"]["questions"]
    assert "training.grpo.questions" not in stages.keys("train_sft")


def test_a_job_runs_the_declarations_it_reads_and_never_the_validator():
    """Validation runs once at planning; a job's code inputs are what its script executes."""
    grpo = code("src.training.launch", "src.training.grpo", stage="train_grpo")
    assert {"src/params/settings/grpo.py", "src/params/settings/model.py", "src/params/stages.py"} <= set(grpo)
    assert not {"src/params/settings/sft.py", "src/params/settings/world.py", "src/params/check.py", "src/params/cross.py",
                "src/data/questions.py"} & set(grpo)
    data = code("src.data.generate", stage="generate_data")
    assert "src/params/settings/questions.py" in data and "src/params/settings/grpo.py" not in data
    assert "src/params/settings/evaluation.py" not in code("src.evaluation.evaluate", stage="evaluate")


def test_every_sft_style_stage_gets_its_warmup_from_one_builder(tmp_path):
    """src/training/configs.py builds every SFT-style trainer: a stage with a warmup key (training.sft, also
    the generic stage's question phase) uses it; knowledge injection, which has none, warms up over 5%."""
    import dataclasses

    from src.training.configs import INJECT_WARMUP, sft_config

    smoke = stages.settings("train_generic", load_params(ROOT / "params.yaml", "smoke"))
    sft = dataclasses.replace(smoke.sft, warmup=0.2)
    assert sft_config(sft, "training.sft", 0, tmp_path / "m", keep_scratch=False).warmup_steps == 0.2
    inject = sft_config(smoke.inject, "training.inject", 0, tmp_path / "m", epochs=2, keep_scratch=False)
    assert inject.warmup_steps == INJECT_WARMUP == 0.05 and inject.num_train_epochs == 2
