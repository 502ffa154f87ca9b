"""A length setting shorter than the data is refused before any training compute (check_lengths)."""
import subprocess
import sys

import yaml

from src.stages import CheckLengths
from src.training.lengths import longest, problems
from src.training.tokenizer import build_word_tokenizer

from .conftest import ROOT


def test_lengths_are_counted_in_the_presets_tokens(smoke_data):
    tok = build_word_tokenizer(smoke_data)
    got = longest(smoke_data, tok)
    bio = max(len(tok(line)["input_ids"]) for line in (smoke_data / "biographies.jsonl").read_text().splitlines())
    assert 0 < got["answer"] < got["sft_example"] and got["biography"] > 0
    assert got["biography"] < bio  # the JSON line is longer than its text


def test_a_short_setting_is_named_with_the_length_needed(smoke_data):
    lengths = {"biography": 90, "sft_example": 170, "answer": 50}
    ok = CheckLengths(inject_max_length=90, sft_max_length=170, max_completion_length=50, max_new_tokens=50)
    assert problems(lengths, ok) == []
    short = CheckLengths(inject_max_length=89, sft_max_length=120, max_completion_length=50, max_new_tokens=49)
    assert problems(lengths, short) == [
        "training.inject.max_length = 89: the longest biography has 90 tokens; use at least 90",
        "training.sft.max_length = 120: the longest question with its answer has 170 tokens; use at least 170",
        "evaluation.max_new_tokens = 49: the longest answer has 50 tokens; use at least 50"]


def test_the_check_refuses_and_writes_nothing(tmp_path, smoke_data):
    tok = build_word_tokenizer(smoke_data)
    tok.save_pretrained(tmp_path / "tokenizer")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["presets"]["smoke"]["training"]["sft"] = {"epochs": 1, "max_length": 40}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    out = tmp_path / "checks" / "lengths.json"
    proc = subprocess.run([sys.executable, "-m", "src.training.lengths", "--params", str(tmp_path / "params.yaml"),
                           "--preset", "smoke", "--data", str(smoke_data), "--tokenizer", str(tmp_path / "tokenizer"),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and not out.exists()
    assert "training.sft.max_length = 40: the longest question with its answer has" in proc.stderr


def test_every_model_waits_for_the_check():
    """Knowledge injection, which every model starts from, depends on the check in both tools."""
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert "results/default/checks/lengths.json" in dvc["inject_knowledge"]["deps"]
    assert dvc["check_lengths"]["params"] == ["preset"] + [
        "training.inject.max_length", "training.sft.max_length", "training.grpo.max_completion_length",
        "evaluation.max_new_tokens"]
