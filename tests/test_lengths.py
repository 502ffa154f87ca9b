"""A length setting shorter than the data is refused before any training compute (check_lengths)."""
import subprocess
import sys

import pytest
import yaml

from src.data.lengths import length_errors, longest, require_budget
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
    assert length_errors(lengths, inject_max_length=90, sft_max_length=170) == []
    assert length_errors(lengths, inject_max_length=89, sft_max_length=120) == [
        "training.inject.max_length = 89: the longest biography has 90 tokens; use at least 90",
        "training.sft.max_length = 120: the longest question with its answer has 170 tokens; use at least 170"]


def test_a_generation_budget_shorter_than_an_answer_is_refused(smoke_data):
    tok = build_word_tokenizer(smoke_data)
    need = longest(smoke_data, tok)["answer"]
    require_budget(smoke_data, tok, "evaluation.max_new_tokens", need)  # fits: nothing raised
    with pytest.raises(SystemExit, match=f"evaluation.max_new_tokens = {need - 1}: the longest answer has {need} "
                                         f"tokens; use at least {need}"):
        require_budget(smoke_data, tok, "evaluation.max_new_tokens", need - 1)


@pytest.mark.slow  # runs Snakemake, DVC or a new Python process that imports torch
def test_the_check_refuses_and_writes_nothing(tmp_path, smoke_data):
    tok = build_word_tokenizer(smoke_data)
    tok.save_pretrained(tmp_path / "tokenizer")
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["presets"]["smoke"]["training"]["sft"] = {"epochs": 1, "max_length": 40}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    out = tmp_path / "checks" / "lengths.json"
    proc = subprocess.run([sys.executable, "-m", "src.data.lengths", "--params", str(tmp_path / "params.yaml"),
                           "--preset", "smoke", "--data", str(smoke_data), "--tokenizer", str(tmp_path / "tokenizer"),
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode != 0 and not out.exists()
    assert "training.sft.max_length = 40: the longest question with its answer has" in proc.stderr


def test_every_model_waits_for_the_check():
    """Knowledge injection, which every model starts from, depends on the check in both tools."""
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert "results/default/checks/lengths.json" in dvc["inject_knowledge"]["deps"]
    assert dvc["check_lengths"]["params"] == [{"dvc.params.yaml": ["preset", "training.inject.max_length",
                                                                   "training.sft.max_length"]}]


@pytest.mark.slow  # runs Snakemake
def test_a_short_setting_in_a_finished_study_is_refused_at_planning_and_deletes_nothing(tmp_path):
    """Once a study has its measured lengths, a max_length shorter than them is refused by Snakemake before
    it plans a job, so the check_lengths job never reruns and deletes lengths.json (after which reverting
    the value would replan every model)."""
    import json

    from .conftest import copy_workflow, run
    work = copy_workflow(tmp_path / "wf")
    checks = work / "results" / "smoke" / "checks"
    checks.mkdir(parents=True)
    (checks / "lengths.json").write_text(json.dumps({"biography": 90, "sft_example": 170, "answer": 50}))
    raw = yaml.safe_load((work / "params.yaml").read_text())
    raw["training"]["sft"]["max_length"] = 8
    (work / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    out = run(["snakemake", "-n", "--cores", "1", "--config", "preset=smoke"], work, check=False)
    said = out.stdout + out.stderr
    assert out.returncode != 0 and "training.sft.max_length = 8: the longest question with its answer has 170" in said
    assert "Error in params.yaml, nothing was run" in said
    assert (checks / "lengths.json").exists()
