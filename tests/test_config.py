"""params.yaml validation: bad input is a clear error naming the key, before any compute."""
import pytest
import yaml

from src.config import ConfigError, chain_slug, load_params, merge, model_chains, parse_recipe, slug_steps

from .conftest import ROOT


def write_params(tmp_path, edit):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_every_preset_loads():
    for preset in ("default", "smoke", "paper"):
        assert load_params(ROOT / "params.yaml", preset)["preset"] == preset


def test_preset_overlay_merges_dicts_and_replaces_the_rest():
    smoke = load_params(ROOT / "params.yaml", "smoke")
    default = load_params(ROOT / "params.yaml")
    assert smoke["world"]["parametric_people"] < default["world"]["parametric_people"]
    assert smoke["world"]["seed"] == default["world"]["seed"]  # untouched keys survive the overlay
    assert merge({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": 3}, "l": [9]}) == {"a": {"b": 3, "c": 2}, "l": [9]}


@pytest.mark.parametrize("edit,needle", [
    (lambda p: p["training"]["sft"].update(epoch=3), "training.sft: Additional properties are not allowed ('epoch'"),
    (lambda p: p["world"].update(parametric_people="many"), "world.parametric_people: 'many' is not of type 'integer'"),
    (lambda p: p.update(seeds=[]), "seeds: [] should be non-empty"),
    (lambda p: p["presets"]["smoke"]["world"].update(peple=3), "preset 'smoke'"),
    (lambda p: p.update(recipes=["SFT(Mem+Ctx)->PPO(Comp)"]), "unknown method 'PPO'"),
    (lambda p: p.update(recipes=["SFT(Mem+Context)"]), "bad training data ['Context']"),
    (lambda p: p.update(recipes=["SFT Mem"]), "cannot read 'SFT Mem'"),
    (lambda p: p["training"]["grpo"].update(batch_size=6, num_generations=4), "must be a multiple"),
    (lambda p: p["questions"]["level_shares"].update(iid=0.5), "must sum to 1"),
])
def test_bad_params_name_the_problem(tmp_path, edit, needle):
    with pytest.raises(ConfigError) as err:
        load_params(write_params(tmp_path, edit))
    assert needle in str(err.value)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'huge'.*defines: default, smoke, paper"):
        load_params(ROOT / "params.yaml", "huge")
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_recipes_in_paper_notation():
    steps = parse_recipe("SFT(Mem+Ctx)->RL(Comp)")
    assert [(s.method, s.data) for s in steps] == [("sft", ("mem", "ctx")), ("grpo", ("comp",))]
    assert chain_slug(steps) == "sft-mem+ctx__grpo-comp"
    assert slug_steps("sft-mem+ctx__grpo-comp") == steps


def test_shared_prefixes_are_trained_once():
    cfg = {"recipes": ["SFT(Mem+Ctx)", "SFT(Mem+Ctx)->RL(Comp)", "SFT(Mem+Ctx)->RL(Mem+Ctx)->RL(Comp)"]}
    assert model_chains(cfg) == ["sft-mem+ctx", "sft-mem+ctx__grpo-comp", "sft-mem+ctx__grpo-mem+ctx",
                                 "sft-mem+ctx__grpo-mem+ctx__grpo-comp"]
