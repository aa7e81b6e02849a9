"""Area names -> area codes through an id map the office keeps next to its profile.

Some offices key their tables by area **names**. The profile then names a CSV with the
columns ``name`` and ``code`` (``,`` or ``;`` separated, UTF-8), e.g. ``gebiete.csv``::

    name;code
    Altstadt;01
    St. Georg;0101

Names are matched after :func:`normalise` (case, umlauts and ß, hyphens and other
punctuation, "St." = "Sankt", spaces). A name not in the map is an error that names the
file, line and column and, where one is close, the map entry it may mean — never a silent
fuzzy match.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from pathlib import Path

import pandas as pd

from etl.errors import InputError
from etl.text import decode_file

UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_./,;:|()'\"]+")
ABBREVIATIONS = {"st": "sankt"}


def normalise(name: str) -> str:
    """``"St.-Georg-Süd"`` -> ``"sankt georg sued"``: case-folded, umlauts and ß spelled
    out, other accents dropped, punctuation and hyphens as spaces, ``St.`` as ``Sankt``."""
    text = unicodedata.normalize("NFC", name).casefold().translate(UMLAUTS)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    words = [ABBREVIATIONS.get(w, w) for w in SEPARATORS.split(text) if w]
    return " ".join(words)


def read_id_map(path: Path) -> dict[str, tuple[str, str]]:
    """normalised name -> (code, name as written in the map)."""
    if not path.is_file():
        raise InputError(path, "id map not found (a CSV with the columns name and code)")
    text = decode_file(path, "utf-8", bounded=True)
    first = text.splitlines()[0] if text.strip() else ""
    rows = list(csv.reader(io.StringIO(text), delimiter=";" if ";" in first else ","))
    header = [h.strip().casefold() for h in rows[0]] if rows else []
    if "name" not in header or "code" not in header:
        raise InputError(
            path, f"expected a header with the columns name and code, found {rows[:1]}", line=1
        )
    at_name, at_code = header.index("name"), header.index("code")
    entries: dict[str, tuple[str, str, int]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(at_name, at_code) or not row[at_code].strip():
            raise InputError(path, "expected a name and a code", line=line)
        name, code = row[at_name].strip(), row[at_code].strip()
        key = normalise(name)
        if key in entries and entries[key][0] != code:
            raise InputError(
                path,
                f"'{name}' (code {code}) and '{entries[key][1]}' on line {entries[key][2]} "
                f"(code {entries[key][0]}) are the same name once normalised ('{key}'); "
                "the map must tell them apart",
                line=line,
                column="name",
            )
        entries[key] = (code, name, line)
    return {key: (code, name) for key, (code, name, _) in entries.items()}


def codes_for(
    path: Path, rows: pd.DataFrame, column: str, map_path: Path, keep: set[str] = frozenset()
) -> pd.Series:
    """The codes of the names in ``rows[column]`` (``rows`` has a ``line`` column);
    values in ``keep`` (e.g. the city's own row) pass unchanged."""
    mapping = read_id_map(map_path)
    codes = []
    for name, line in zip(rows[column], rows["line"], strict=True):
        if name in keep:
            codes.append(name)
            continue
        found = mapping.get(normalise(name))
        if found is None:
            raise InputError(path, _unknown(name, mapping, map_path), line=int(line), column=column)
        codes.append(found[0])
    return pd.Series(codes, index=rows.index, dtype=object)


def _unknown(name: str, mapping: dict[str, tuple[str, str]], map_path: Path) -> str:
    close = difflib.get_close_matches(normalise(name), list(mapping), n=1, cutoff=0.5)
    hint = (
        f"; the closest entry is '{mapping[close[0]][1]}' (code {mapping[close[0]][0]}) — "
        "if it is the same area, add the name as written here to the map"
        if close
        else "; add it with its code"
    )
    return (
        f"area name '{name}' is not in the id map {map_path.name}{hint} "
        "(names are never matched approximately)"
    )
