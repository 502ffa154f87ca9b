"""params.yaml validation: bad input is a clear error naming the key, before any compute."""
import pytest
import yaml

from src.params.check import ConfigError, load_params
from src.params.read import merge
from src.recipes import chain_slug, model_chains, parse_recipe, slug_steps

from .conftest import ROOT


def write_params(tmp_path, edit):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    edit(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_every_preset_loads():
    load_params(ROOT / "params.yaml")  # checks every preset
    for preset in ("default", "smoke", "paper", *yaml.safe_load((ROOT / "params.yaml").read_text())["sweep"]):
        assert load_params(ROOT / "params.yaml", preset, every_preset=False)["preset"] == preset


def test_preset_overlay_merges_dicts_and_replaces_the_rest():
    smoke = load_params(ROOT / "params.yaml", "smoke")
    default = load_params(ROOT / "params.yaml")
    assert smoke["world"]["parametric_people"] < default["world"]["parametric_people"]
    assert smoke["world"]["seed"] == default["world"]["seed"]  # untouched keys survive the overlay
    assert merge({"a": {"b": 1, "c": 2}, "l": [1, 2]}, {"a": {"b": 3}, "l": [9]}) == {"a": {"b": 3, "c": 2}, "l": [9]}


def test_recipes_take_one_spelling(tmp_path):
    """'SFT(Mem + Ctx)' and 'SFT(Ctx+Mem)' are SFT(Mem+Ctx): the tables find their rows, one model trains."""
    spelt = ["SFT(Mem + Ctx)", " SFT(Ctx+Mem) -> RL(Comp)", "SFT( Comp )"]
    cfg = load_params(write_params(tmp_path, lambda raw: raw.update(recipes=spelt)))
    assert cfg["recipes"] == ["SFT(Mem+Ctx)", "SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)"]
    assert model_chains(cfg["recipes"]) == ["sft-mem+ctx", "sft-mem+ctx__grpo-comp", "sft-comp"]


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="unknown preset 'huge'.*defines: default, smoke, .*paper"):
        load_params(ROOT / "params.yaml", "huge")
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")


def test_recipes_in_paper_notation():
    steps = parse_recipe("SFT(Mem+Ctx)->RL(Comp)")
    assert [(s.method, s.data) for s in steps] == [("sft", ("mem", "ctx")), ("grpo", ("comp",))]
    assert chain_slug(steps) == "sft-mem+ctx__grpo-comp"
    assert slug_steps("sft-mem+ctx__grpo-comp") == steps
    lora = parse_recipe("SFT(Mem+Ctx)->LoRA(Comp)")  # LoRA: an SFT stage that trains an adapter
    assert chain_slug(lora) == "sft-mem+ctx__lora-comp"


def test_a_share_of_the_atomic_data_before_rl(smoke_data):
    """SFT(Mem+Ctx@30%): the data-proportion sweep; the share is taken from each task, not the mix."""
    from src.recipes import chain_label
    from src.training.questions import qa_dataset
    steps = parse_recipe("SFT(Mem+Ctx@30%)->RL(Comp)")
    assert steps[0].share == 30 and chain_slug(steps) == "sft-mem+ctx@30__grpo-comp"
    assert chain_label(chain_slug(steps)) == "SFT(Mem+Ctx@30%)->RL(Comp)"
    for bad in ("RL(Comp@30%)", "SFT(Mem@0%)", "SFT(Mem@130%)"):
        with pytest.raises(ConfigError, match="a share must be 1% to 100%"):
            parse_recipe(bad)
    full, part = (qa_dataset(smoke_data, ["mem", "ctx"], 0.2, "sft", share) for share in (1.0, 0.3))
    for task in ("mem", "ctx"):
        n_full = sum(r["task"] == task for r in full)
        assert [r for r in part if r["task"] == task] == [r for r in full if r["task"] == task][: round(n_full * 0.3)]


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_paper_preset_compares_sft_lora_and_rl_on_the_same_questions(tmp_path):
    """After SFT(Mem+Ctx), the SFT(Comp) and LoRA(Comp) stages train on RL's questions, as many as RL
    takes (their settings read training.grpo.questions); a first-stage SFT does not."""
    from src.params.stages import settings

    from .conftest import run
    out = run(["snakemake", "-n", "-p", "--config", "preset=paper"], ROOT).stdout
    cmds = {line.split("--out ")[1].split()[0].rsplit("/", 1)[1]: line
            for line in out.splitlines() if "src.training.sft" in line}
    paper = load_params(ROOT / "params.yaml", "paper")
    assert settings("train_sft_rl_questions", paper).grpo_questions == paper["training"]["grpo"]["questions"]
    assert "--tasks comp --rl-questions --out" in cmds["sft-mem+ctx__sft-comp"]
    assert "--tasks comp --lora --rl-questions --out" in cmds["sft-mem+ctx__lora-comp"]
    assert "--rl-questions" not in cmds["sft-comp"] and "--lora" not in cmds["sft-comp"]
    # the data-share recipes make the report draw its figure; the default study has none
    assert "results/paper/figures/data_share.png" in out
    assert "data_share.png" not in (ROOT / "dvc.yaml").read_text()


def test_shared_prefixes_are_trained_once():
    cfg = {"recipes": ["SFT(Mem+Ctx)", "SFT(Mem+Ctx)->RL(Comp)", "SFT(Mem+Ctx)->RL(Mem+Ctx)->RL(Comp)"]}
    assert model_chains(cfg["recipes"]) == ["sft-mem+ctx", "sft-mem+ctx__grpo-comp", "sft-mem+ctx__grpo-mem+ctx",
                                 "sft-mem+ctx__grpo-mem+ctx__grpo-comp"]


def test_rl_pairs_and_labels():
    from src.recipes import chain_label, rl_pairs
    cfg = {"recipes": ["SFT(Mem+Ctx)", "SFT(Mem+Ctx)->RL(Comp)", "SFT(Mem+Ctx)->RL(Mem+Ctx)->RL(Comp)"]}
    assert rl_pairs(cfg["recipes"]) == [("sft-mem+ctx", "sft-mem+ctx__grpo-comp"),
                             ("sft-mem+ctx__grpo-mem+ctx", "sft-mem+ctx__grpo-mem+ctx__grpo-comp")]
    assert chain_label("sft-mem+ctx__grpo-mem+ctx__grpo-comp") == "SFT(Mem+Ctx)->RL(Mem+Ctx)->RL(Comp)"


def test_atomic_questions_are_split_between_sft_and_rl(smoke_data, smoke_cfg):
    from src.training.questions import qa_dataset
    h = smoke_cfg["training"]["sft"]["atomic_holdout"]
    sft = qa_dataset(smoke_data, ["mem", "ctx"], h, "sft")
    rl = qa_dataset(smoke_data, ["mem", "ctx"], h, "rl")
    assert not {r["id"] for r in sft} & {r["id"] for r in rl}
    n = len(sft) + len(rl)
    assert len(rl) == pytest.approx(h * n, abs=2)
    comp_sft, comp_rl = (qa_dataset(smoke_data, ["comp"], h, part) for part in ("sft", "rl"))
    assert comp_sft == comp_rl  # Comp is not split: RL(Comp) takes its first training.grpo.questions


def test_a_preset_extends_another_by_deep_merge(tmp_path):
    """`extends: NAME` starts from the other preset's overlay; a nested key replaces only itself, so the
    parent's sibling keys stay (a YAML merge key `<<:` would have replaced the whole block)."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["presets"]["child"] = {"extends": "smoke_generic", "world": {"bio_renderings": 3},
                               "training": {"grpo": {"steps": 5}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    smoke, child = (load_params(tmp_path / "params.yaml", p) for p in ("smoke", "child"))
    assert child["world"] == {**smoke["world"], "bio_renderings": 3}
    assert child["training"]["grpo"] == {**smoke["training"]["grpo"], "steps": 5}
    assert child["generic"] == {**smoke["generic"], "enabled": True}  # from smoke_generic, over smoke's
    assert child["recipes"] == smoke["recipes"] and child["preset"] == "child"
