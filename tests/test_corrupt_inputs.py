"""Corrupted inputs are named, never read as silent garbage."""
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from src.io import read_jsonl
from src.training.common import load_model, load_tokenizer, save_model
from src.training.tokenizer import build_word_tokenizer


def test_a_truncated_jsonl_file_is_named_with_its_line(smoke_data, tmp_path):
    text = (smoke_data / "qa_comp.jsonl").read_text()
    cut = tmp_path / "qa_comp.jsonl"
    cut.write_text(text[: len(text) // 2])  # a copy or a write that stopped half way
    lines = text[: len(text) // 2].count("\n") + 1
    with pytest.raises(ValueError, match=rf"qa_comp.jsonl, line {lines}: not valid JSON .* truncated or corrupted"):
        read_jsonl(cut)


@pytest.fixture(scope="module")
def saved(smoke_data, tmp_path_factory):
    """A tiny model saved as the stages save one, with its tokenizer."""
    tokenizer = build_word_tokenizer(smoke_data)
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, pad_token_id=tokenizer.pad_token_id)
    out = tmp_path_factory.mktemp("saved") / "model"
    save_model(LlamaForCausalLM(config), tokenizer, out)
    return out, tokenizer


def test_a_model_folder_without_its_weights_is_named(saved, tmp_path):
    out, tokenizer = saved
    broken = tmp_path / "model"
    broken.mkdir()
    for f in out.iterdir():
        if f.name != "model.safetensors":
            (broken / f.name).write_bytes(f.read_bytes())
    with pytest.raises(SystemExit, match=rf"{broken}: the model's weights are missing"):
        load_model(broken)
    with pytest.raises(SystemExit, match="no config.json"):
        load_model(tmp_path)
    assert load_model(out, tokenizer) is not None  # the intact folder loads


def test_a_tokenizer_of_another_world_is_refused(saved, tmp_path, smoke_cfg):
    out, tokenizer = saved
    from src.data.generate import generate
    from src.stages import settings
    other = dict(smoke_cfg, world={**smoke_cfg["world"], "seed": 99})  # other people, other names
    generate(settings("generate_data", other), tmp_path / "other")
    theirs = build_word_tokenizer(tmp_path / "other")
    assert theirs.get_vocab() != tokenizer.get_vocab()
    with pytest.raises(SystemExit, match="another tokenizer|embeddings"):
        load_model(out, theirs)
    with pytest.raises(SystemExit, match="not a saved tokenizer"):
        load_tokenizer(tmp_path)
