"""Corrupted inputs are named, never read as silent garbage."""
import json

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from src.io import MANIFEST, atomic_write_text, damaged, read_jsonl, sidecar
from src.model_io import load_model, load_tokenizer, save_model
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
    for f in out.iterdir():  # without the manifest too: a folder of an older run, or a pretrained checkpoint
        if f.name not in ("model.safetensors", MANIFEST):
            (broken / f.name).write_bytes(f.read_bytes())
    with pytest.raises(SystemExit, match=rf"{broken}: the model's weights are missing"):
        load_model(broken)
    with pytest.raises(SystemExit, match="no config.json"):
        load_model(tmp_path)
    assert load_model(out, tokenizer) is not None  # the intact folder loads


def test_a_tokenizer_of_another_world_is_refused(saved, tmp_path, smoke_cfg):
    out, tokenizer = saved
    from src.data.generate import generate
    from src.params.stages import settings
    other = dict(smoke_cfg, world={**smoke_cfg["world"], "seed": 99})  # other people, other names
    generate(settings("generate_data", other), tmp_path / "other")
    theirs = build_word_tokenizer(tmp_path / "other")
    assert theirs.get_vocab() != tokenizer.get_vocab()
    with pytest.raises(SystemExit, match="another tokenizer|embeddings"):
        load_model(out, theirs)
    with pytest.raises(SystemExit, match="not a saved tokenizer"):
        load_tokenizer(tmp_path)


def copy_of(out, tmp_path, manifest=False):
    """A copy of a saved model folder; without its manifest unless asked (as a pretrained checkpoint)."""
    copy = tmp_path / "model"
    copy.mkdir()
    for f in out.iterdir():
        if manifest or f.name != MANIFEST:
            (copy / f.name).write_bytes(f.read_bytes())
    return copy


def test_a_finished_folder_changed_afterwards_is_named_before_it_is_read(saved, tmp_path):
    """A stage's folder carries every file's SHA-256 (written before the folder appears): bytes overwritten
    inside the weights, which would load as a quietly different model, or a file gone, are named with the
    folder to delete; the intact folder passes."""
    out, tokenizer = saved
    assert json.loads((out / MANIFEST).read_text()).keys() >= {"model.safetensors", "config.json"}
    assert damaged(out) == []
    copy = copy_of(out, tmp_path, manifest=True)
    weights = bytearray((copy / "model.safetensors").read_bytes())
    weights[-8:] = b"\x01" * 8  # inside the last tensor: the header still parses
    (copy / "model.safetensors").write_bytes(bytes(weights))
    (copy / "config.json").unlink()
    with pytest.raises(SystemExit, match=rf"{copy} is damaged:\n  {copy}/config.json: missing since .*\n  "
                                         rf"{copy}/model.safetensors: changed since .*\(delete {copy}\)"):
        load_model(copy)


def test_a_checksummed_file_names_its_damage_and_a_rewrite_clears_it(tmp_path):
    """Files a later stage reads (evaluations, samples, lengths) carry a sidecar hash; rewriting the file
    without one removes the old hash first, so no stale hash can accuse a good file."""
    f = tmp_path / "eval" / "metrics.json"
    atomic_write_text(f, '{"accuracy": 0.5}\n', checksum=True)
    assert sidecar(f).exists() and damaged(tmp_path) == []
    f.write_text('{"accuracy": 0.9}\n')
    assert damaged(tmp_path) == [f"{f}: changed since the job that wrote it finished (delete it)"]
    atomic_write_text(f, '{"accuracy": 0.9}\n')
    assert not sidecar(f).exists() and damaged(tmp_path) == []


def test_damaged_weights_are_named_with_their_folder(saved, tmp_path):
    """A garbled safetensors header is an error naming the folder (was a traceback that named neither), and
    weights holding NaN (random bytes over the tensors) stop evaluation before it writes accuracy 0."""
    from src.training.finite import require_finite

    out, _ = saved
    garbled = copy_of(out, tmp_path)
    data = (garbled / "model.safetensors").read_bytes()
    (garbled / "model.safetensors").write_bytes(b"\xff" * 16 + data[16:])  # the header's length, then its JSON
    with pytest.raises(SystemExit, match=rf"{garbled}: the model cannot be loaded .* damaged"):
        load_model(garbled)
    model = load_model(out)
    assert require_finite(model, out) is None  # the intact model passes
    with torch.no_grad():
        next(model.parameters())[0, 0] = float("nan")
    with pytest.raises(SystemExit, match=rf"{out}: 1 weight tensor\(s\) hold NaN or infinity"):
        require_finite(model, out)


def test_a_diverged_loss_stops_training_naming_the_step(tmp_path):
    """A NaN or infinite loss (e.g. from `learning_rate: .inf`) stops the job at the step it appears, instead
    of saving a model of NaN weights that evaluates to empty answers with exit 0."""
    from types import SimpleNamespace

    from src.training.finite import FiniteLoss

    check = FiniteLoss(tmp_path / "seed0" / "sft-comp")
    state = SimpleNamespace(global_step=7)
    check.on_log(None, state, None, logs={"loss": 1.5, "grad_norm": 0.3})  # finite: goes on
    for bad in ({"loss": float("nan")}, {"grad_norm": float("inf")}):
        with pytest.raises(SystemExit, match=r"sft-comp: (loss|grad_norm) is (nan|inf) at step 7: training diverged"):
            check.on_log(None, state, None, logs=bad)


def test_evaluation_refuses_an_empty_test_set_and_empty_answers(saved, smoke_data, tmp_path):
    """A qa_*.jsonl cut at a line boundary (no test question left) and a model that answers nothing are
    errors naming the file or the model, not accuracy 0 with exit 0."""
    from src.evaluation.evaluate import evaluate

    out, tokenizer = saved
    data = tmp_path / "data"
    data.mkdir()
    for f in smoke_data.iterdir():
        if f.is_file():
            (data / f.name).write_bytes(f.read_bytes())
    text = (data / "qa_comp.jsonl").read_text()
    kept = [line for line in text.splitlines(keepends=True) if '"split": "train"' in line]
    (data / "qa_comp.jsonl").write_text("".join(kept))  # every test question gone, whole lines cut
    model = load_model(out).eval()
    with pytest.raises(SystemExit, match=r"qa_comp.jsonl: no test questions"):
        evaluate(model, tokenizer, data, 8, 4)

    class Silent(torch.nn.Module):  # answers EOS at once, as a model of NaN weights effectively does
        def __init__(self, model):
            super().__init__()
            self.model, self.config, self.name_or_path = model, model.config, "silent-model"

        def forward(self, **kw):
            out = self.model(**kw)
            out.logits[..., :] = -1e9
            out.logits[..., tokenizer.eos_token_id] = 0
            return out

    with pytest.raises(SystemExit, match="silent-model: the model answered nothing"):
        evaluate(Silent(model), tokenizer, smoke_data, 8, 4)
