"""The generic language stage (a deviation, off by default): its world keeps the study's rules."""
import copy
import json
import os
import subprocess
import sys

import pytest

from src.data.checks import check_dataset
from src.data.generate import generate
from src.data.generic import check_generic
from src.params.check import load_params
from src.params.stages import settings

from .conftest import ROOT, load_data


@pytest.fixture(scope="module")
def generic_data(tmp_path_factory):
    out = tmp_path_factory.mktemp("generic") / "data"
    generate(settings("generate_data", load_params(ROOT / "params.yaml", "smoke_generic")), out)
    return out


def read(folder, name):
    with open(folder / name) as f:
        return [json.loads(line) for line in f]


def test_the_generic_world_shares_no_person_and_asks_about_every_relation(generic_data):
    study, generic = read(generic_data, "facts.jsonl"), read(generic_data / "generic", "facts.jsonl")
    assert {f["subject"] for f in study}.isdisjoint({f["subject"] for f in generic})
    plan = json.loads((generic_data / "plan.json").read_text())
    levels = {t: plan["tasks"][t]["relation_levels"] for t in ("mem", "ctx", "comp")}
    asked = {r for t in ("mem", "ctx") for q in read(generic_data / "generic", f"qa_{t}.jsonl") for r in q["relation_path"]}
    assert asked == set(levels["mem"]) | set(levels["ctx"])  # every relation word, the zero-shot ones included
    # ... while the study's own training questions still never ask a task's zero-shot relation
    facts, records, plan, bios = load_data(generic_data)
    assert check_dataset(facts, records, plan, bios) == []
    assert not any(levels[r["task"]].get(x) == "zero_shot" for r in records if r["split"] == "train"
                   for x in r["relation_path"])
    assert not (generic_data / "generic" / "qa_comp.jsonl").read_text()  # smoke_generic asks no Comp questions


def test_check_generic_fails_on_a_shared_person_or_an_unasked_relation(generic_data):
    study, generic = read(generic_data, "facts.jsonl"), read(generic_data / "generic", "facts.jsonl")
    questions = [q for t in ("mem", "ctx") for q in read(generic_data / "generic", f"qa_{t}.jsonl")]
    relations = sorted({r for q in questions for r in q["relation_path"]})
    assert check_generic(study, generic, questions, relations) == []
    shared = copy.deepcopy(generic)
    shared[0]["subject"] = study[0]["subject"]
    assert "also live in the study's world" in check_generic(study, shared, questions, relations)[0]
    dropped = [q for q in questions if relations[0] not in q["relation_path"]]
    assert f"no question asks about ['{relations[0]}']" in check_generic(study, generic, dropped, relations)[0]


def test_the_default_study_has_no_generic_world(smoke_data):
    assert not (smoke_data / "generic").exists()


@pytest.mark.slow
def test_knowledge_injection_starts_from_the_generic_stage(generic_data, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env.update(PIPELINE_GPU_COUNT="0", OMP_NUM_THREADS="1")

    def run(module, *args):
        cmd = [sys.executable, "-m", module, "--params", "params.yaml", "--preset", "smoke_generic", *map(str, args)]
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-3000:]
        return out.stderr
    run("src.training.tokenizer", "--data", generic_data, "--out", tmp_path / "tok")
    vocab = json.loads((tmp_path / "tok" / "tokenizer.json").read_text())["model"]["vocab"]
    generic_person = read(generic_data / "generic", "facts.jsonl")[0]["subject"]
    assert all(word in vocab for word in generic_person.split())  # the tokenizer knows both worlds
    common = ["--data", generic_data, "--tokenizer", tmp_path / "tok", "--seed", 0]
    log = run("src.training.generic", *common, "--out", tmp_path / "generic")
    assert "generic stage:" in log
    log = run("src.training.inject", *common, "--init", tmp_path / "generic", "--out", tmp_path / "inject")
    assert f"knowledge injection starts from {tmp_path / 'generic'}" in log
    from safetensors.torch import load_file
    start, base = load_file(tmp_path / "generic/model.safetensors"), load_file(tmp_path / "inject/model.safetensors")
    assert start.keys() == base.keys() and any((start[k] != base[k]).any() for k in start)
    stats = json.loads((tmp_path / "generic/train_stats.json").read_text())
    assert stats["steps"] > 0 and stats["tokens"] > 0
