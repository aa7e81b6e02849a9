"""``imon init`` on a JSON table: the names of its nesting levels (``json_keys``).

A document nested by year, variable and area (``{"2023": {"Einwohner": {"0101": 1200}}}``)
is read level by level down to the values: a level whose keys are all years is ``Jahr``,
one whose keys are all codes (digits) is ``Gebiet``, one whose keys the vocabulary maps
(Einwohner, Ausländer, …) is ``Merkmal``, and any other level is ``Gebiet`` (area names)
if no level is yet, else ``Merkmal``. A list of flat records needs no keys. The rows are
then those the build reads (:mod:`etl.sources.json_table`), so the table's shape is found
as for a CSV.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from etl.errors import InputError
from etl.onboarding.vocabulary import classify
from etl.sources import json_table

YEAR = re.compile(r"^(?:19|20)\d\d$")
VALUE = "Wert"


def json_keys(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    """The nesting levels' names, the header and the rows of the JSON table ``path``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"not a readable JSON document: {exc}") from exc
    keys = [] if isinstance(data, list) else _level_names(path, data)
    header, rows, _ = json_table.read(path, keys, None, VALUE, None)
    return keys, header, rows


def _level_names(path: Path, data: Any) -> list[str]:
    names: list[str] = []
    level = [data]
    while level and all(isinstance(node, dict) for node in level):
        keys = list(dict.fromkeys(k for node in level for k in node))
        if not keys:
            raise InputError(
                path,
                "an empty JSON object; expected objects nested by year, variable and area "
                "down to the values, or a list of records",
            )
        names.append(_name(keys, names))
        level = [child for node in level for child in node.values()]
        if all(not isinstance(node, dict | list) for node in level):
            return names
    raise InputError(
        path,
        "expected objects nested down to the values (year, variable, area) or a list of "
        "records; the nesting is uneven",
    )


def _name(keys: list[str], taken: list[str]) -> str:
    if all(YEAR.match(k) for k in keys) and "Jahr" not in taken:
        return "Jahr"
    if all(k.isdigit() for k in keys) and "Gebiet" not in taken:
        return "Gebiet"
    mapped = sum(1 for k in keys if classify(k).terms or classify(k).reason.startswith("not a"))
    if mapped >= len(keys) / 2 and "Merkmal" not in taken:
        return "Merkmal"
    if "Gebiet" not in taken:
        return "Gebiet"
    return "Merkmal" if "Merkmal" not in taken else f"Ebene {len(taken) + 1}"
