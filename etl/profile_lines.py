"""Profile errors a newcomer can act on: each names the line of the profile, the key and,
for a key the section does not know, the keys it allows.

:func:`describe` turns a pydantic ``ValidationError`` of a profile into that message; the
line comes from the YAML node at the error's location (the nearest enclosing one for a
missing key), the allowed keys from the model of that section.
"""

from __future__ import annotations

import types
import typing

import yaml
from pydantic import BaseModel, ValidationError


def describe(exc: ValidationError, text: str, model: type[BaseModel]) -> str:
    """``line N, field 'a.b': message`` for every error of ``exc`` ("; "-separated)."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        root = None
    parts = []
    for err in exc.errors():
        loc = err["loc"]
        field = ".".join(str(p) for p in loc)
        line = _line(root, loc)
        where = f"line {line}, " if line else ""
        allowed = ""
        if err["type"] == "extra_forbidden":
            keys = _keys(model, loc[:-1])
            allowed = f" (allowed here: {', '.join(keys)})" if keys else ""
        parts.append(f"{where}field '{field}': {err['msg']}{allowed}")
    return "; ".join(parts)


def _line(node: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the node at ``loc`` (keys not in the YAML, such as a union's
    tag, are skipped; a missing key gives its mapping's line)."""
    if node is None:
        return None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            found = [v for k, v in node.value if k.value == str(key)]
            if found:
                node = found[0]
            elif not isinstance(key, str) or key not in _TAGS:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                break
            node = node.value[key]
    return node.start_mark.line + 1


_TAGS = {"area_table", "long_table", "genesis_csv", "area_list", "code_hierarchy"}


def _keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """The keys allowed in the section at ``loc`` (by its model), or [] if unknown."""
    current: object = model
    for key in loc:
        if isinstance(key, int):
            continue
        models = _models(current)
        tagged = [m for m in models if key in _TAGS and _tag(m) == key]
        if tagged:
            current = tagged[0]
            continue
        model_here = next((m for m in models if key in m.model_fields), None)
        if model_here is None:
            return []
        current = model_here.model_fields[key].annotation
    models = _models(current)
    if len(models) != 1:
        return []
    fields = models[0].model_fields
    return [f.alias or name for name, f in fields.items() if name != "path"]


def _models(annotation: object) -> list[type[BaseModel]]:
    """The BaseModel classes inside ``annotation`` (lists, unions, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return []
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def _tag(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("adapter")
    if field is None:
        return None
    literal = typing.get_args(field.annotation)
    return literal[0] if literal else field.default if isinstance(field.default, str) else None
