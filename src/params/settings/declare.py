"""How a parameter of params.yaml is declared: once, as a typed dataclass field with its range and description.

A section of params.yaml is a frozen dataclass in src/params/settings/ (one module per section, so a stage's code
depends only on the sections it reads); each field is `param(description, constraints...)` and its type
annotation. From these declarations come the JSON schema that validates params.yaml (`schema`), the
parameter reference in docs/parameters.md (src/workflow/param_docs.py), the typed settings a stage's script gets
(`parse`), and which keys rerun a stage when they change (`operational`).
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field, fields, is_dataclass

section = dataclass(frozen=True)  # a section of params.yaml: every field is a param() or another section


def param(description: str, *, minimum=None, maximum=None, exclusive_minimum=None, exclusive_maximum=None,
          min_items=None, max_items=None, unique=False, pattern=None, operational=False):
    """A parameter: its description (unit or range in words where useful) and the constraints the schema
    checks. operational=True: a setting that cannot change a result (how often to checkpoint), read by its
    stage but never a reason to rerun it."""
    checks = {"minimum": minimum, "maximum": maximum, "exclusiveMinimum": exclusive_minimum,
              "exclusiveMaximum": exclusive_maximum, "minItems": min_items, "maxItems": max_items,
              "pattern": pattern, "uniqueItems": unique or None}
    return field(metadata={"description": description, "operational": operational,
                           "checks": {k: v for k, v in checks.items() if v is not None}})


def hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _type_schema(kind) -> dict:
    """The JSON schema of a Python type annotation (without description and checks)."""
    if is_dataclass(kind):
        return schema(kind)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        nullable = len(options) < len(args)
        if len(options) == 1 and not typing.get_origin(options[0]) and not is_dataclass(options[0]):
            base = _type_schema(options[0])
            return {**base, "type": [base["type"], "null"]} if nullable else base
        return {"oneOf": [_type_schema(a) for a in args]}
    if origin is typing.Literal:
        return {"const": args[0]} if len(args) == 1 else {"enum": list(args)}
    if origin is list:
        return {"type": "array", "items": _type_schema(args[0])}
    return {"type": {bool: "boolean", int: "integer", float: "number", str: "string"}[kind]}


def _items_checks(kind) -> bool:
    """Whether numeric and pattern checks apply to a list's items (list[float] with a minimum: each weight >= 0)."""
    return typing.get_origin(kind) is list


def schema(cls) -> dict:
    """The JSON schema of a section: an object with exactly its fields, each with its description."""
    props = {}
    for f in fields(cls):
        kind = hints(cls)[f.name]
        node = _type_schema(kind)
        checks = dict(f.metadata["checks"])
        item_checks = {k: checks.pop(k) for k in list(checks)
                       if _items_checks(kind)
                       and k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "pattern")}
        if item_checks:
            node["items"] = {**node["items"], **item_checks}
        props[f.name] = {**node, **checks, "description": f.metadata["description"]}
    return {"type": "object", "additionalProperties": False, "required": [f.name for f in fields(cls)],
            "properties": props}


def parse(kind, value):
    """A value of params.yaml (already validated against the schema) as the type that declares it."""
    if is_dataclass(kind):
        return kind(**{f.name: parse(hints(kind)[f.name], value[f.name]) for f in fields(kind)})
    if typing.get_origin(kind) in (typing.Union, types.UnionType):  # a section or a plain value
        for option in typing.get_args(kind):
            if is_dataclass(option) and isinstance(value, dict):
                return parse(option, value)
    if typing.get_origin(kind) is list and value is not None and not isinstance(value, str):
        return [parse(typing.get_args(kind)[0], v) for v in value]
    return value


def declared(cls, dotted: str):
    """The (type, field) that declares `dotted` (e.g. 'training.grpo.beta') under the section `cls`."""
    kind, f = cls, None
    for part in dotted.split("."):
        f = {x.name: x for x in fields(kind)}[part]
        kind = hints(kind)[part]
    return kind, f


def leaves(cls, prefix: str = ""):
    """(dotted key, type, field) of every parameter and section under `cls`, depth first, in order."""
    for f in fields(cls):
        kind = hints(cls)[f.name]
        yield prefix + f.name, kind, f
        if is_dataclass(kind):
            yield from leaves(kind, f"{prefix}{f.name}.")
        elif typing.get_origin(kind) is list and is_dataclass(typing.get_args(kind)[0]):  # a list of sections
            yield from leaves(typing.get_args(kind)[0], f"{prefix}{f.name}[].")


def as_dict(value):
    """A parsed section back to plain data (what params.yaml holds)."""
    if isinstance(value, list):
        return [as_dict(v) for v in value]
    return dataclasses.asdict(value) if is_dataclass(value) else value
