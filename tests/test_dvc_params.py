"""DVC's view of the parameters (src/workflow/dvc_params.py): the exported preset's resolved values, and the
first stage's refusal of a preset or values other than the exported ones, each naming the fix."""
import shutil

import pytest

from src.params.check import load_params
from src.params.read import ConfigError
from src.workflow.dvc_params import changed_keys, resolved_text, verify

from .conftest import ROOT, use_preset


@pytest.fixture
def exported(tmp_path):
    """A workflow's params.yaml naming smoke, exported as export_dvc writes it."""
    shutil.copy(ROOT / "params.yaml", tmp_path / "params.yaml")
    use_preset(tmp_path, "smoke")
    (tmp_path / "dvc.params.yaml").write_text(resolved_text(load_params(tmp_path / "params.yaml")))
    return tmp_path


def test_the_resolved_values_are_the_presets_own(exported):
    assert verify(exported / "params.yaml", exported / "dvc.params.yaml")["seeds"] == [0, 1]
    text = (exported / "dvc.params.yaml").read_text()
    assert "presets:" not in text and "hidden_size: 32" in text  # smoke's model, merged; no other preset


@pytest.mark.parametrize("edit, expected", [
    (lambda w: use_preset(w, "quick"), "exported for preset 'smoke' but params.yaml names 'quick'"),
    (lambda w: use_preset(w, "nosuch"), "unknown preset 'nosuch'"),
    (lambda w: (w / "params.yaml").write_text((w / "params.yaml").read_text().replace(  # a seed added to smoke
        "    seeds: [0, 1]  ", "    seeds: [0, 1, 2]", 1)), "changed since dvc.yaml was exported (seeds)"),
])
def test_a_preset_or_values_other_than_the_exported_are_refused(exported, edit, expected):
    edit(exported)
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(").replace(")", r"\)")) as err:
        verify(exported / "params.yaml", exported / "dvc.params.yaml")
    assert "python -m src.workflow.export_dvc" in str(err.value) or "unknown preset" in str(err.value)


def test_changed_keys_are_named_by_their_dotted_path():
    assert changed_keys({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"b": 1, "c": 5}}) == ["a.c", "d"]
