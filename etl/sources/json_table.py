"""Source reader: district tables delivered as JSON, flattened into rows for
:mod:`etl.sources.long_table` (``json_keys`` in its profile entry).

Open-data portals publish district statistics nested by year and indicator::

    {"2023": {"Einwohner": {"0101": 1200, "0102": 800},
              "Ausländer": {"0101": 200, "0102": 150}}}

``json_keys: [Jahr, Merkmal, Stadtteil]`` names the nesting levels; each leaf becomes one
row ``Jahr, Merkmal, Stadtteil, <value_column>``. A leaf may instead be an object of
values (``{"2023": {"0101": {"Einwohner": 1200, "Ausländer": 200}}}`` with ``json_keys:
[Jahr, Stadtteil]``): its keys are columns, as ``value_columns`` of a wide table. Without
``json_keys`` the document is a list of flat records (``[{"Jahr": 2023, "Stadtteil":
"0101", "Einwohner": 1200}, …]``). ``json_root`` (``daten.stadtteile``) is the member the
table sits in.

Leaves are numbers, text (a number or a value symbol such as ``.``) or null (empty).
Anything else is an error naming the JSON path of the value (``$["2023"]["Einwohner"]
["0101"]``); so are values found by the table's checks later (:func:`path_of`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from etl.errors import InputError
from etl.text import decode_file


def read(
    path: Path, keys: list[str], root: str | None, value_column: str, encoding: str | None
) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, rows (text) and the JSON path of each row of ``path``."""
    node, where = _root(path, _load(path, encoding), root)
    leaves = list(_leaves(path, node, keys, where, [])) if keys else _records(path, node, where)
    if not leaves:
        raise InputError(path, f"no values at {where}; expected the table there")
    columns = list(
        dict.fromkeys(c for _, leaf, _ in leaves if isinstance(leaf, dict) for c in leaf)
    )
    scalar = [at for _, leaf, at in leaves if not isinstance(leaf, dict)]
    if columns and scalar:
        raise InputError(
            path,
            f"at {scalar[0]}: a single value where other leaves are objects of values; "
            "expected the same nesting depth throughout",
        )
    header = [*keys, *(columns or [value_column])]
    rows = [
        [*found, *([_text(path, leaf.get(c), f"{w}[{key(c)}]") for c in columns]
                   if columns else [_text(path, leaf, w)])]
        for found, leaf, w in leaves
    ]  # fmt: skip
    return header, rows, [w for _, _, w in leaves]


def _load(path: Path, encoding: str | None) -> Any:
    try:
        return json.loads(decode_file(path, encoding or "utf-8").removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise InputError(
            path, f"not valid JSON ({exc.msg}, column {exc.colno})", line=exc.lineno
        ) from exc


def _root(path: Path, data: Any, root: str | None) -> tuple[Any, str]:
    where = "$"
    for member in root.split(".") if root else []:
        if not isinstance(data, dict) or member not in data:
            found = ", ".join(map(str, data)) if isinstance(data, dict) else type(data).__name__
            raise InputError(
                path, f"no member '{member}' at {where} (json_root '{root}'); found: {found}"
            )
        data, where = data[member], f"{where}[{key(member)}]"
    return data, where


def _leaves(path: Path, node: Any, keys: list[str], where: str, found: list[str]):
    """(key values, leaf, JSON path) below ``node``, one per leaf at depth len(keys)."""
    if len(found) == len(keys):
        yield found, node, where
        return
    if not isinstance(node, dict) or not node:
        raise InputError(
            path,
            f"at {where}: found {_kind(node)}, expected an object whose keys are the "
            f"values of '{keys[len(found)]}' (json_keys {keys})",
        )
    for name, child in node.items():
        yield from _leaves(path, child, keys, f"{where}[{key(name)}]", [*found, name])


def _records(path: Path, node: Any, where: str) -> list[tuple[list[str], dict, str]]:
    if not isinstance(node, list):
        raise InputError(
            path,
            f"at {where}: found {_kind(node)}; expected a list of records, or json_keys "
            "naming the levels of the nesting (e.g. json_keys: [Jahr, Merkmal, Stadtteil])",
        )
    leaves = []
    for i, record in enumerate(node):
        if not isinstance(record, dict):
            raise InputError(path, f"at {where}[{i}]: found {_kind(record)}, expected a record")
        leaves.append(([], record, f"{where}[{i}]"))
    return leaves


def _text(path: Path, value: Any, where: str) -> str:
    """A leaf as the CSV would write it: whole numbers without ".0", decimals with "."."""
    if value is None:
        return ""
    if isinstance(value, bool | dict | list):
        raise InputError(
            path, f"at {where}: found {_kind(value)}, expected a number, a text or null"
        )
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def key(name: str) -> str:
    """A member name as a JSON path writes it: ``"2023"``."""
    return json.dumps(name, ensure_ascii=False)


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object" if value else "an empty object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    return f"{json.dumps(value, ensure_ascii=False)[:40]}"
