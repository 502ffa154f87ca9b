"""Read params.yaml and merge the chosen preset over its top level: what every job does, with no checks.

Planning checks the file once (src/config.py: the schema from src/settings/, then the cross-key checks)
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
    Planning refuses a cycle or an unknown name (src/config.py check_presets)."""
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


def read_raw(path: str | Path) -> dict:
    return yaml.safe_load(Path(path).read_text()) or {}


def resolve(raw: dict, preset: str | None) -> dict:
    """The study of one preset (default: the file's `preset` key) from the file's contents."""
    raw = dict(raw)
    presets = raw.pop("presets", {}) or {}
    preset = preset or raw.get("preset", "default")
    return merge(raw, {**preset_overlay(presets, preset), "preset": preset})


def read_params(path: str | Path = "params.yaml", preset: str | None = None) -> dict:
    """params.yaml's chosen preset, merged; checked at planning, not here."""
    return resolve(read_raw(path), preset)
