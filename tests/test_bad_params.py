"""Bad parameters are refused at planning time, before any job: by the loader every entry point uses,
by `snakemake -n` and by `dvc repro`, each with one line that names the key and what would be valid."""
import re

import pytest
import yaml

from src.params.check import ConfigError, load_params

from .conftest import ROOT, copy_workflow, run


def edit(path: str, value):
    """A change to params.yaml: set the (dotted) key to the value."""
    def apply(raw):
        *parents, last = path.split(".")
        node = raw
        for p in parents:
            node = node[p]
        node[last] = value
    return apply


def no_config_folder(tmp_path):
    (tmp_path / "empty_checkpoint").mkdir(exist_ok=True)
    return edit("model.pretrained", str(tmp_path / "empty_checkpoint"))


def config_only_folder(tmp_path):
    """A checkpoint folder holding its config.json and nothing else (weights and tokenizer not copied)."""
    (tmp_path / "config_only").mkdir(exist_ok=True)
    (tmp_path / "config_only" / "config.json").write_text('{"max_position_embeddings": 4096}')
    return edit("model.pretrained", str(tmp_path / "config_only"))


NEEDS_FOLDER = (no_config_folder, config_only_folder)  # edits that make a folder in tmp_path first

# (what a new user might write, the words the refusal must contain)
BAD_EDITS = {
    "heads not dividing the hidden size": (edit("model.scratch.num_attention_heads", 3),
                                           "model.scratch.num_attention_heads = 3: must divide model.scratch.hidden_size"),
    "an odd head size": (lambda raw: raw["model"]["scratch"].update(hidden_size=120, num_attention_heads=40),
                         "the head size 3 must be even"),
    "positions shorter than the sequences": (edit("model.scratch.max_position_embeddings", 128),
                                             "model.scratch.max_position_embeddings = 128: shorter than"),
    "a checkpoint that does not exist": (edit("model.pretrained", "/nonexistent/model"),
                                         "model.pretrained = '/nonexistent/model': no such folder"),
    "a checkpoint folder with no config": (no_config_folder, "has no config.json"),
    "more paths than the world has": (edit("questions.paths.mem", 40000),
                                      "questions.paths.mem = 40000: the world has at most"),
    "more questions than the world has": (edit("questions.train_questions.mem", 80000),
                                          "questions.train_questions.mem = 80000:"),
    "more distractors than the world has people": (edit("questions.distractor_paragraphs", 10_000),
                                                   "questions.distractor_paragraphs = 10000: each paragraph"),
    "an unknown training set": (edit("recipes", ["SFT(Mem+Foo)"]), "bad training data ['Foo']"),
    "an unknown method": (edit("recipes", ["DPO(Mem)"]), "unknown method 'DPO'"),
    "a recipe twice in two spellings": (edit("recipes", ["SFT(Mem+Ctx)", "SFT(Ctx + Mem)"]),
                                        "recipes lists SFT(Mem+Ctx) more than once"),
    "a negative seed": (edit("seeds", [0, -1]), "seeds.1: -1 is less than the minimum of 0"),
    "no seeds": (edit("seeds", []), "seeds: [] should be non-empty"),
    "zero threads": (edit("resources.train.threads", 0), "resources.train.threads: 0 is less than the minimum of 1"),
    "a negative GPU count": (edit("resources.evaluate.gpus", -1), "resources.evaluate.gpus: -1 is less than"),
    "a GRPO batch that groups cannot fill": (edit("training.grpo.batch_size", 10),
                                             "training.grpo.batch_size = 10: must be a multiple"),
    "a batch that GPUs cannot share": (lambda raw: raw["resources"]["train"].update(gpus=3),
                                       "training.sft.batch_size = 32: the global batch does not divide among "
                                       "resources.train.gpus = 3 processes; use a multiple of 3, e.g. 33"),
    "level shares that do not sum to 1": (edit("questions.level_shares", {"iid": 0.5, "composition": 0.7, "zero_shot": 0.1}),
                                          "questions.level_shares must sum to 1"),
    "a level with no share": (edit("questions.level_shares", {"iid": 0.3, "composition": 0.7, "zero_shot": 0.0}),
                              "questions.level_shares.zero_shot = 0.0: every task needs relations at every level"),
    "test level ratios summing to zero": (edit("questions.test_level_ratio", {"iid": 0, "composition": 0, "zero_shot": 0}),
                                          "questions.test_level_ratio = {'iid': 0, 'composition': 0, 'zero_shot': 0}: "
                                          "the ratios sum to zero"),
    "too few relations for every level": (edit("world.relations", ["boss", "child", "classmate", "best_friend",
                                                                   "colleague", "mentored_by", "major"]),
                                          "world.relations: Comp recalls at most 2 parametric relations"),
    "an unknown level split": (edit("questions.level_split", "per_relation"),
                               "questions.level_split: 'per_relation' is not one of ['per_task', 'shared']"),
    "an unknown relation": (edit("world.relations", ["boss", "child", "classmate", "foo"]), "unknown relations ['foo']"),
    "too few person relations": (edit("world.relations", ["boss", "child", "pet", "hobby", "spouse", "rival",
                                                          "colleague", "major"]),
                                 "needs at least 3 person-to-person relations of the parametric group"),
    "a misspelt key": (lambda raw: raw["training"]["sft"].update(epoch=raw["training"]["sft"].pop("epochs")),
                       "training.sft: Additional properties are not allowed ('epoch' was unexpected)"),
    "a sweep of an unknown preset": (edit("sweep", ["default", "no_such_preset"]),
                                     "sweep names unknown presets ['no_such_preset']"),
    "a scaling study of an unknown preset": (edit("scaling", ["scale_small", "scale_huge"]),
                                             "scaling names unknown presets ['scale_huge']"),
    "a finding of an unknown preset": (lambda raw: raw["findings"][0].update(studies=["default", "rihc"]),
                                       "findings[0] ('What per-task levels change in the small world') names unknown "
                                       "presets ['rihc']"),
    "a pool part that differs beyond its seeds": (lambda raw: raw["presets"]["read_d1_q24k_s1"].update(
        questions={"seed": 7}), "pools[0]: part 'read_d1_q24k_s1' differs from 'read_d1_q24k' in ['questions']"),
    "pool parts that miss a seed": (lambda raw: raw["presets"]["read_d1_q24k_s2"].update(seeds=[1]),
                                    "pools[0]: the parts' seeds [0, 1, 1] are not 'read_d1_q24k''s [0, 1, 2]"),
    "a finding's knob that is no parameter": (lambda raw: raw["findings"][0].update(knobs=["training.sft.epoch"]),
                                              "findings[0] knob 'training.sft.epoch' is not a parameter"),
    "a finding's cell without a task and level": (lambda raw: raw["findings"][0].update(cells=["SFT(Comp) zero_shot"]),
                                                  "findings.0.cells.0: 'SFT(Comp) zero_shot' does not match"),
    "too many templates": (edit("world.templates", 5), "world.templates: 5 is greater than the maximum of 3"),
    "a negative learning rate": (edit("training.sft.learning_rate", -0.001),
                                 "training.sft.learning_rate: -0.001 is less than or equal to the minimum of 0"),
    "the generic stage asking more than its world has": (
        lambda raw: raw["generic"].update(enabled=True, train_questions={"mem": 10 ** 6, "ctx": 10, "comp": 0}),
        "generic.train_questions.mem = 1000000: its paths and people supply at most"),
    "an unknown preset": ("preset=no_such_preset", "unknown preset 'no_such_preset'"),
    "a word for a number": (edit("world.parametric_people", "many"),
                            "world.parametric_people: 'many' is not of type 'integer'"),
    "a typo in another preset": (lambda raw: raw["presets"]["smoke"]["world"].update(peple=3),
                                 "(preset 'smoke'): world: Additional properties are not allowed ('peple'"),
    "a recipe that cannot be read": (edit("recipes", ["SFT Mem"]), "cannot read 'SFT Mem'"),
    "a preset extending an unknown one": (lambda raw: raw["presets"]["smoke_generic"].update(extends="smok"),
                                          "preset 'smoke_generic' extends 'smok', which is not under `presets:`"),
    "presets extending each other": (lambda raw: raw["presets"]["smoke"].update(extends="smoke_generic"),
                                     "presets extend each other in a cycle: smoke -> smoke_generic -> smoke"),
    "an infinite learning rate": (edit("training.sft.learning_rate", float("inf")),
                                  "training.sft.learning_rate: not a finite number"),
    "a NaN learning rate": (edit("training.grpo.learning_rate", float("nan")),
                            "training.grpo.learning_rate: not a finite number"),
    "a NaN level share": (edit("questions.level_shares.zero_shot", float("nan")),
                          "questions.level_shares.zero_shot: not a finite number"),
    "a world too large to draw": (edit("world.parametric_people", 10 ** 8),
                                  "world.parametric_people: 100000000 is greater than the maximum of 100000"),
    "a model too wide to allocate": (edit("model.scratch.hidden_size", 10 ** 8),
                                     "model.scratch.hidden_size: 100000000 is greater than the maximum of 16384"),
    "an answer budget without end": (edit("evaluation.max_new_tokens", 10 ** 9),
                                     "evaluation.max_new_tokens: 1000000000 is greater than the maximum of 8192"),
    "a million epochs": (edit("training.sft.epochs", 10 ** 6),
                         "training.sft.epochs: 1000000 is greater than the maximum of 1000"),
    "pass@k on more seeds than trained": (edit("evaluation.passk.seeds", 5),
                                          "evaluation.passk.seeds = 5: the study has only 3 seed(s)"),
    "a checkpoint folder with only its config": (config_only_folder, "the folder has no weights"),
}
YAML_SYNTAX = ("seeds: [0, 1, 2]\n", "seeds: [0, 1, 2\n", "params.yaml:")


def bad_params(tmp_path, name) -> tuple[str, str | None]:
    """Write the edited params.yaml into tmp_path; returns (the expected words, a preset to ask for)."""
    change, expected = BAD_EDITS[name]
    if isinstance(change, str):  # a bad --config value, not an edit
        (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
        return expected, change.split("=", 1)[1]
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    (change(tmp_path) if change in NEEDS_FOLDER else change)(raw)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return expected, None


def test_there_are_at_least_20_distinct_bad_edits():
    assert len(BAD_EDITS) + 1 >= 20


@pytest.mark.parametrize("name", list(BAD_EDITS))
def test_the_loader_refuses_a_bad_edit_with_one_line_naming_it(tmp_path, name):
    expected, preset = bad_params(tmp_path, name)
    with pytest.raises(ConfigError) as e:
        load_params(tmp_path / "params.yaml", preset)
    first = str(e.value).splitlines()[0]
    assert expected in first, first


def test_a_yaml_syntax_error_names_its_line_and_column(tmp_path):
    good, bad, expected = YAML_SYNTAX
    text = (ROOT / "params.yaml").read_text()
    assert good in text
    (tmp_path / "params.yaml").write_text(text.replace(good, bad))
    with pytest.raises(ConfigError, match=r"params\.yaml:\d+:\d+: not valid YAML"):
        load_params(tmp_path / "params.yaml")


def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path):
    """YAML keeps the last of two equal keys; params.yaml refuses them, at any depth, with both lines."""
    text = (ROOT / "params.yaml").read_text()
    at = text.index("\nseeds:") + 1  # the top-level key
    line = text[:at].count("\n") + 1
    (tmp_path / "params.yaml").write_text(text[:at] + "seeds: [0]\n" + text[at:])
    with pytest.raises(ConfigError, match=rf"line {line + 1}: key 'seeds' is given twice .*first on line {line}\)"):
        load_params(tmp_path / "params.yaml")
    nested = text.replace("    epochs: 5\n", "    epochs: 5\n    epochs: 50\n", 1)
    assert nested != text
    (tmp_path / "params.yaml").write_text(nested)
    with pytest.raises(ConfigError, match="key 'epochs' is given twice"):
        load_params(tmp_path / "params.yaml")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BAD_EDITS))
def test_snakemake_refuses_before_any_job(tmp_path, name):
    work = copy_workflow(tmp_path / "wf")
    expected, preset = bad_params(work, name)
    out = run(["snakemake", "-n", "--cores", "1"] + (["--config", f"preset={preset}"] if preset else []), work,
              check=False)
    said = out.stdout + out.stderr
    assert out.returncode != 0 and expected in said, said[-2000:]
    assert "Error in params.yaml, nothing was run" in said
    assert "Traceback" not in said and "ConfigError in file" not in said  # the message, not a stack
    assert not (work / "results").exists()
    # refused while the Snakefile is read, before any job is planned (was a wall-clock bound: flaky under load)
    assert "Building DAG of jobs" not in said


@pytest.mark.slow
def test_snakemake_names_the_line_of_a_yaml_error_or_a_key_given_twice(tmp_path):
    """Under Snakemake too, a YAML syntax error names its line and column and a duplicate key both lines
    (Snakemake's own `configfile:` reader said only "Config file is not valid JSON or YAML")."""
    good, bad, _ = YAML_SYNTAX
    work = copy_workflow(tmp_path / "wf")
    text = (work / "params.yaml").read_text()
    for edited, expected in ((text.replace(good, bad), r"params\.yaml:\d+:\d+: not valid YAML"),
                             (text.replace("    epochs: 5\n", "    epochs: 5\n    epochs: 50\n", 1),
                              r"line \d+: key 'epochs' is given twice in one mapping \(first on line \d+\)")):
        (work / "params.yaml").write_text(edited)
        out = run(["snakemake", "-n", "--cores", "1"], work, check=False)
        said = out.stdout + out.stderr
        assert out.returncode != 0 and re.search(expected, said), said[-2000:]
        assert "Error in params.yaml, nothing was run" in said and "Traceback" not in said


@pytest.mark.slow
def test_dvc_names_the_line_of_a_yaml_error_or_a_key_given_twice(tmp_path):
    """`dvc repro` reads params.yaml itself (ruamel) before any stage: both errors come with their line and
    column there too, and nothing is written."""
    good, bad, _ = YAML_SYNTAX
    work = copy_workflow(tmp_path / "dvc")
    run(["dvc", "init", "--no-scm", "-q"], work)
    text = (work / "params.yaml").read_text()
    for edited, expected in ((text.replace(good, bad), r"line \d+, column \d+"),
                             (text.replace("    epochs: 5\n", "    epochs: 5\n    epochs: 50\n", 1),
                              r'found duplicate key "epochs"[\s\S]*line \d+, column \d+')):
        (work / "params.yaml").write_text(edited)
        out = run(["dvc", "repro"], work, check=False)
        said = out.stdout + out.stderr
        assert out.returncode != 0 and re.search(expected, said), said[-2000:]
        assert "YAML file structure is corrupted" in said and not (work / "results").exists()


@pytest.mark.slow
def test_dvc_repro_refuses_before_any_stage_writes(tmp_path):
    work = copy_workflow(tmp_path / "dvc")
    run(["dvc", "init", "--no-scm", "-q"], work)
    for name in ("heads not dividing the hidden size", "more questions than the world has"):
        expected, _ = bad_params(work, name)
        out = run(["dvc", "repro"], work, check=False)
        said = out.stdout + out.stderr
        assert out.returncode != 0 and expected in said, said[-2000:]
        assert not (work / "results").exists()  # its first stage refused: no stage wrote anything
