"""The parameter reference of docs/parameters.md, generated from the declarations in src/params/settings/.

Every key of params.yaml is declared once with a description (tests/test_settings.py fails on one
without); this module lists them with their type or range and the default study's value, between the
page's `<!-- BEGIN parameters -->` / `<!-- END parameters -->` markers. Run `python -m src.workflow.param_docs`
after declaring a key or changing a default; tests/test_readme.py fails while the copy is stale.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from ..analysis.readme import extract, replace_block
from ..io import atomic_write_text
from ..params.check import params_schema

MARKER = "parameters"


def _resolve(node: dict, defs: dict) -> dict:
    """The node with its `$ref` merged in (the node's own keys win: its description)."""
    ref = node.get("$ref")
    return {**defs[ref.rsplit("/", 1)[1]], **{k: v for k, v in node.items() if k != "$ref"}} if ref else node


def keys(schema: dict) -> list[tuple[str, dict]]:
    """(dotted key, its resolved schema) for every key, depth first, in the schema's order."""
    defs, out = schema.get("$defs", {}), []

    def walk(prefix: str, node: dict) -> None:
        for name, sub in node.get("properties", {}).items():
            sub = _resolve(sub, defs)
            out.append((prefix + name, sub))
            walk(f"{prefix}{name}.", sub)
            if sub.get("type") == "array" and "properties" in _resolve(sub.get("items", {}), defs):
                walk(f"{prefix}{name}[].", _resolve(sub["items"], defs))  # a list of sections: each one's keys
    walk("", schema)
    return out


def _kind(node: dict, defs: dict) -> str:
    """'integer >= 1', 'number > 0, < 1', 'list of string', ... from the schema's constraints."""
    node = _resolve(node, defs)
    if "oneOf" in node:
        return " or ".join(_kind(o, defs) for o in node["oneOf"])
    if "const" in node:
        return repr(node["const"])
    kind = node.get("type", "")
    kind = (" or ".join(kind) if isinstance(kind, list) else kind).replace("object", "section")
    bounds = [f"{op} {node[key]}" for key, op in (("minimum", ">="), ("exclusiveMinimum", ">"),
                                                   ("maximum", "<="), ("exclusiveMaximum", "<")) if key in node]
    if node.get("type") == "array" and "items" in node:
        kind = f"list of {_kind(node['items'], defs)}"
    bounds = ", ".join(bounds)
    return f"{kind} {bounds}".strip() if bounds else kind


def _value(cfg: dict, key: str):
    for part in key.split("."):
        if part.endswith("[]"):  # a key of a list's sections: the first one's value
            cfg = cfg[part[:-2]][0] if cfg[part[:-2]] else {}
        else:
            cfg = cfg.get(part) if isinstance(cfg, dict) else None
    return cfg


def _short(value) -> str:
    """A value as YAML on one line, cut to fit a table cell."""
    text = yaml.safe_dump(value, default_flow_style=True, width=1000).strip().removesuffix("...").strip()
    return f"`{text if len(text) <= 60 else text[:55] + ' ...'}`"


def reference(params: Path = Path("params.yaml")) -> str:
    """The Markdown table: key, type or range, the default study's value, description."""
    raw, schema = yaml.safe_load(params.read_text()), params_schema()
    lines = ["| key | type or range | default | description |", "|---|---|---|---|"]
    for key, node in keys(schema):
        value = _value(raw, key)
        shown = "" if isinstance(value, dict) else _short(value)
        kind, text = _kind(node, schema.get("$defs", {})), node["description"].replace("|", "/")
        lines.append(f"| `{key}` | {kind} | {shown} | {text} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params.yaml", type=Path)
    ap.add_argument("--readme", default="docs/parameters.md", type=Path, help="the page holding the reference")
    args = ap.parse_args()
    text = args.readme.read_text()
    if extract(text, MARKER) is None:
        raise SystemExit(f"{args.readme} has no '<!-- BEGIN {MARKER} -->' ... '<!-- END {MARKER} -->' block")
    atomic_write_text(args.readme, replace_block(text, MARKER, reference(args.params)))


if __name__ == "__main__":
    main()
