"""Read params.yaml and merge the chosen preset over its top level: what every job does, with no checks.

Planning checks the file once (src/params/check.py: the schema from src/params/settings/, then the cross-key checks)
before any job starts; a job only reads it, so its code does not run the validator.
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml


class ConfigError(ValueError):
    pass


def merge(base: dict, overlay: dict) -> dict:
    """Dicts merge key by key; anything else in `overlay` replaces."""
    out = copy.deepcopy(base)
    for k, v in overlay.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


def preset_chain(presets: dict, name: str) -> list[str]:
    """The preset and those it extends (`extends: NAME`), nearest first; 'default' is the file's top level.
    Planning refuses a cycle or an unknown name (src/params/check.py check_presets)."""
    chain = []
    while name and name != "default" and name not in chain:
        chain.append(name)
        name = (presets.get(name) or {}).get("extends")
    return chain


def preset_overlay(presets: dict, name: str) -> dict:
    """A preset's overlay on the top level: what it extends, deep-merged under its own keys."""
    out: dict = {}
    for n in reversed(preset_chain(presets, name)):
        out = merge(out, {k: v for k, v in (presets.get(n) or {}).items() if k != "extends"})
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, but a key given twice in one mapping is an error (plain YAML keeps the last,
    so a second `seeds:` would silently win)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConfigError(f"line {key_node.start_mark.line + 1}: key {key!r} is given twice in one mapping "
                                  f"(first on line {seen[key] + 1}); keep one of them")
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def read_raw(path: str | Path) -> dict:
    try:
        return yaml.load(Path(path).read_text(), Loader=_UniqueKeyLoader) or {}
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def resolve(raw: dict, preset: str | None) -> dict:
    """The study of one preset (default: the file's `preset` key) from the file's contents."""
    raw = dict(raw)
    presets = raw.pop("presets", {}) or {}
    preset = preset or raw.get("preset", "default")
    return merge(raw, {**preset_overlay(presets, preset), "preset": preset})


def preset_names(path: str | Path = "params.yaml") -> list[str]:
    """The presets params.yaml defines under `presets:` (the default study aside)."""
    return list(read_raw(path).get("presets", {}) or {})


def read_params(path: str | Path = "params.yaml", preset: str | None = None) -> dict:
    """params.yaml's chosen preset, merged; checked at planning, not here."""
    return resolve(read_raw(path), preset)
