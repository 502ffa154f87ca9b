"""A model's lineage, owned by src/models.py: its parent, its stage's flags, the folders loading it reads."""
import pytest

from src.models import BASE, Model, study_models


def test_a_chain_starts_from_its_prefix_and_a_first_stage_from_the_base():
    rl = Model("sft-mem+ctx__grpo-comp", 0)
    assert rl.parent == Model("sft-mem+ctx", 0) and rl.parent.parent == BASE and BASE.parent is None
    assert rl.tasks == ("comp",) and rl.parent.tasks == ("mem", "ctx")
    assert (rl.label, rl.path) == ("SFT(Mem+Ctx)->RL(Comp)", "seed0/sft-mem+ctx__grpo-comp")
    for m in study_models([0, 3], ["SFT(Mem+Ctx)->RL(Comp)", "SFT(Comp)"]):  # a folder reads back as its model
        assert Model.at(m.path) == m


def test_each_stage_reads_its_own_settings_and_flags():
    assert BASE.settings_stage == "inject_knowledge"
    assert Model("sft-comp", 1).settings_stage == "train_sft" and Model("sft-comp", 1).sft_flags == ""
    assert Model("sft-mem+ctx__grpo-comp", 1).settings_stage == "train_grpo"
    after = Model("sft-mem+ctx__sft-comp", 1)  # SFT after another stage: on RL's question set
    assert after.settings_stage == "train_sft_rl_questions" and after.sft_flags == " --rl-questions"
    assert Model("sft-mem+ctx@30", 0).sft_flags == " --share 0.3"
    assert Model("sft-mem+ctx__lora-comp", 0).sft_flags == " --lora --rl-questions"


@pytest.mark.parametrize("lora_everywhere", [False, True])
def test_loading_a_model_reads_every_adapter_down_to_full_weights(lora_everywhere):
    lora = Model("sft-mem+ctx__lora-comp", 0)
    grpo_after_lora = Model("sft-mem+ctx__lora-comp__grpo-comp", 0)
    if not lora_everywhere:  # only the LoRA stage saves an adapter: it is read over the model it started from
        assert lora.loads(False) == ([Model("sft-mem+ctx", 0)], False)
        assert grpo_after_lora.loads(False) == ([], False) and BASE.loads(False) == ([], False)
    else:  # every stage saves an adapter: down through the base to what the base was trained from
        assert grpo_after_lora.loads(True) == ([lora, Model("sft-mem+ctx", 0), BASE], True)
        assert BASE.loads(True) == ([], True)
