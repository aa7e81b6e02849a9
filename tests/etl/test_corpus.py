"""A corpus of broken deliveries (#20 item 8): small mutations of real files (a GENESIS
export and two Berlin LOR tables from ../shared/data) and of the hand-made fixtures (a
district table, a register extract), each delivered with ``imon refresh`` into a small
instance whose earlier delivery is published. Every one must stop with exit status 2 and
one message naming the file, the line and column where they apply, and what was
expected - and leave the published snapshot, the history and the raw folder byte for
byte as they were (and nothing staged).

Four small instances, each built once per module (a few seconds together):

* ``tables``: tests/fixtures/district_tables (adapter area_table, comma-separated), the
  2024-12-31 table delivered again;
* ``lor``: Berlin planning areas (code hierarchy city > district > planning area, no
  boundary files) from the real LOR tables t1 (citizenship) and t2 (age) of 2019-06-30 and
  2019-12-31; the 2019-12-31 tables delivered again;
* ``genesis``: Rhineland-Palatinate's Kreise from the real GENESIS export 13111
  (employees at place of residence, 2012-2015, all of Germany), delivered again;
* ``register``: the refresh tests' small city (tests/etl/refresh_city.py), its register
  extract of 2024-12-31 delivered again.

Lines longer than :data:`LIMIT` bytes count as giant here (the real limit,
``etl.text.MAX_LINE_BYTES``, is 1 MiB: :func:`test_a_giant_line_at_the_real_limit`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from etl import deliveries, text, warehouse
from etl.build import build
from etl.errors import MAX_MESSAGE_CHARS, InputError
from etl.profile import load_profile
from imon.cli import main
from tests.conftest import REPO, SHARED_DATA
from tests.etl.refresh_city import make_city

LIMIT = 4096  # bytes per line in the corpus; every line of the files mutated is shorter
GIANT = 10_000  # bytes of a giant line's extra cell
GENESIS_13111 = "genesis_13111-02-02-4_svb-beschaeftigte_wohnort_nationalitaet_kreise_2012-2015.csv"
LOR = "berlin-lor-population-2019-{part}-{table}-planning-areas.csv"
REGISTER_BASE = {"11": (10, 1), "12": (25, 5), "21": (10, 3)}  # district: (residents, foreign)


# --- the instances ------------------------------------------------------------------------


@dataclass(frozen=True)
class Instance:
    profile: Path
    raw: Path
    curated: Path
    delivered: str  # the raw file (relative) a case mutates unless it names another
    pristine: Path  # a copy of the raw folder as published, the source of every mutation


def _catalogue(folder: Path, keep: list[str]) -> Path:
    """indicators.yaml reduced to ``keep`` without random-allocation draws (fast builds)."""
    spec = yaml.safe_load((REPO / "indicators.yaml").read_text(encoding="utf-8"))
    spec["indicators"] = [i for i in spec["indicators"] if i["id"] in keep]
    if "random_allocation" in spec:
        spec["random_allocation"] = {**spec["random_allocation"], "draws": 0}
    path = folder / "indicators.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _write(folder: Path, profile: dict) -> Path:
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


NOTHING_WITHHELD = {"min_denominator": 1, "min_count": 1, "group_disclosure_below": 0}


def _tables(folder: Path) -> Made:
    fixture = REPO / "tests" / "fixtures" / "district_tables"
    shutil.copytree(fixture / "raw", folder / "raw")
    profile = yaml.safe_load((fixture / "profile.yaml").read_text(encoding="utf-8"))
    profile.update(
        raw_dir=str(folder / "raw"),
        curated_dir=str(folder / "curated"),
        indicators=str(_catalogue(folder, ["population", "foreigner_share"])),
    )
    return _write(folder, profile), folder / "raw", "tabellen/bevoelkerung_2024-12-31.csv"


def _lor(folder: Path) -> Made:
    raw = folder / "raw"
    (raw / "population").mkdir(parents=True)
    for part in ("01", "02"):
        for table in ("t1", "t2"):
            name = LOR.format(part=part, table=table)
            shutil.copy(SHARED_DATA / "berlin-lor" / "population" / name, raw / "population")
    berlin = yaml.safe_load((REPO / "profiles" / "berlin.yaml").read_text(encoding="utf-8"))
    profile = {
        "instance": "corpus-lor",
        "title": "Berlin (Korpus)",
        "raw_dir": str(raw),
        "curated_dir": str(folder / "curated"),
        "indicators": str(
            _catalogue(folder, ["population", "foreigner_share", "age_under_18_share"])
        ),
        "levels": [berlin["levels"][0], berlin["levels"][1], berlin["levels"][-1]],
        "geography": {
            "adapter": "code_hierarchy",
            "root": {"id": "BE", "name": "Berlin"},
            "code_lengths": {"district": 2, "planning_area": 8},
            "absent_units": "zero",
            "vintages": [{"id": "lor-2006", "valid_from": "2006-01-01"}],
        },
        "tables": [t for t in berlin["tables"] if t["id"] in ("lor_t1", "lor_t2")],
        "disclosure": NOTHING_WITHHELD,
    }
    return _write(folder, profile), raw, "population/" + LOR.format(part="02", table="t1")


def _genesis(folder: Path) -> Made:
    raw = folder / "raw"
    (raw / "genesis").mkdir(parents=True)
    shutil.copy(SHARED_DATA / "genesis" / GENESIS_13111, raw / "genesis")
    rlp = yaml.safe_load((REPO / "profiles" / "rlp-kreise.yaml").read_text(encoding="utf-8"))
    profile = {
        "instance": "corpus-genesis",
        "title": "Rheinland-Pfalz (Korpus)",
        "raw_dir": str(raw),
        "curated_dir": str(folder / "curated"),
        "indicators": str(_catalogue(folder, ["employees_foreigner_share"])),
        "levels": rlp["levels"],
        "geography": {
            "adapter": "code_hierarchy",
            "root": {"id": "07", "name": "Rheinland-Pfalz"},
            "code_lengths": {"kreis": 5},
            "member_prefix": "07",
            "vintages": [{"id": "v", "valid_from": "1990-01-01"}],
        },
        "tables": [t for t in rlp["tables"] if t["id"] == "genesis_13111"],
        "disclosure": NOTHING_WITHHELD,
    }
    return _write(folder, profile), raw, "genesis/" + GENESIS_13111


def _register(folder: Path) -> Made:
    path = make_city(folder, {"2024-12-31": REGISTER_BASE})
    return path, folder / "raw", "melderegister/2024-12-31/melderegister_2024-12-31.csv"


Made = tuple[Path, Path, str]  # profile, raw folder, the file delivered again
MAKERS: dict[str, Callable[[Path], Made]] = {
    "tables": _tables,
    "lor": _lor,
    "genesis": _genesis,
    "register": _register,
}


@pytest.fixture(scope="module")
def instances(tmp_path_factory) -> Callable[[str], Instance]:
    """The instance of a name, built (published) at its first use in this module."""
    built: dict[str, Instance] = {}

    def get(name: str) -> Instance:
        if name not in built:
            folder = tmp_path_factory.mktemp(f"corpus-{name}")
            profile, raw, delivered = MAKERS[name](folder)
            build(load_profile(profile))
            shutil.copytree(raw, folder / "pristine")
            built[name] = Instance(profile, raw, folder / "curated", delivered, folder / "pristine")
        return built[name]

    return get


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def state(instance: Instance) -> dict:
    """What must not change: the raw folder, the published snapshot and its files, the
    history, and that nothing is staged or left in the curated folder."""
    current = warehouse.published(instance.curated)
    return {
        "raw": {
            str(p.relative_to(instance.raw)): _sha256(p)
            for p in sorted(instance.raw.rglob("*"))
            if p.is_file()
        },
        "published": current.name if current else None,
        "snapshot": {
            str(p.relative_to(current)): _sha256(p)
            for p in sorted(current.rglob("*"))
            if p.is_file()
        },
        "history": (instance.curated / warehouse.HISTORY).read_text(encoding="utf-8"),
        "staged": warehouse.staged(instance.curated),
        "curated": sorted(p.name for p in instance.curated.iterdir()),
    }


# --- mutations (bytes -> bytes) ---------------------------------------------------------


Mutation = Callable[[bytes], bytes]


def replace(old: bytes, new: bytes) -> Mutation:
    """The first ``old`` (which must occur) replaced by ``new``."""

    def mutate(data: bytes) -> bytes:
        assert old in data, old
        return data.replace(old, new, 1)

    return mutate


def on_line(number: int, edit: Callable[[bytes], bytes]) -> Mutation:
    """``edit`` applied to file line ``number`` (1-based, without its line break)."""

    def mutate(data: bytes) -> bytes:
        lines = data.split(b"\n")
        lines[number - 1] = edit(lines[number - 1])
        return b"\n".join(lines)

    return mutate


def cell(number: int, field: int, value: bytes, sep: bytes = b",") -> Mutation:
    """Field ``field`` (1-based) of line ``number`` set to ``value``."""

    def edit(line: bytes) -> bytes:
        fields = line.split(sep)
        fields[field - 1] = value
        return sep.join(fields)

    return on_line(number, edit)


def drop_line(number: int) -> Mutation:
    def mutate(data: bytes) -> bytes:
        lines = data.split(b"\n")
        return b"\n".join(lines[: number - 1] + lines[number:])

    return mutate


def repeat_line(number: int) -> Mutation:
    def mutate(data: bytes) -> bytes:
        lines = data.split(b"\n")
        return b"\n".join(lines[:number] + [lines[number - 1]] + lines[number:])

    return mutate


def swap_fields(number: int, a: int, b: int, sep: bytes = b",") -> Mutation:
    """Fields ``a`` and ``b`` (1-based) of line ``number`` swapped (a header: the columns'
    names swapped, their values not)."""

    def edit(line: bytes) -> bytes:
        fields = line.split(sep)
        fields[a - 1], fields[b - 1] = fields[b - 1], fields[a - 1]
        return sep.join(fields)

    return on_line(number, edit)


def drop_field(field: int, sep: bytes = b",") -> Mutation:
    """Field ``field`` (1-based) removed from every line."""

    def mutate(data: bytes) -> bytes:
        out = []
        for line in data.split(b"\n"):
            fields = line.split(sep)
            out.append(sep.join(fields[: field - 1] + fields[field:]) if line else line)
        return b"\n".join(out)

    return mutate


def then(*mutations: Mutation) -> Mutation:
    def mutate(data: bytes) -> bytes:
        for m in mutations:
            data = m(data)
        return data

    return mutate


def every_line(edit: Callable[[int, bytes], bytes], first: int = 2) -> Mutation:
    """``edit(number, line)`` on every non-empty line from ``first`` on."""

    def mutate(data: bytes) -> bytes:
        lines = data.split(b"\n")
        return b"\n".join(
            edit(n, line) if n >= first and line else line for n, line in enumerate(lines, start=1)
        )

    return mutate


def reencode(encoding: str) -> Mutation:
    return lambda data: data.decode("utf-8").encode(encoding)


EMPTY: Mutation = lambda data: b""  # noqa: E731
BOM: Mutation = lambda data: text.UTF8_BOM + data  # noqa: E731
ONE_LINE: Mutation = lambda data: data.replace(b"\n", b" ")  # noqa: E731
GIANT_CELL = b"x" * GIANT


def append_cell(number: int, cell_text: bytes, sep: bytes) -> Mutation:
    return on_line(number, lambda line: line + sep + cell_text)


# --- the corpus ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    instance: str
    mutate: Mutation
    expected: str  # a regular expression the message must contain
    line: int | None = None  # the line the message must name (None: it names none)
    column: str | None = None  # the column it must name
    file: str | None = None  # the raw file mutated (default: the instance's ``delivered``)
    name: str | None = None  # the delivered file's name (default: the raw file's)
    names: str | None = None  # the raw file the message names (default: the delivered one)


NUMBER_TABLE = r"expected a count \(a number such as 1480"
T = "tables"  # gebiet,name,total,germans,foreigners,under_18,foreigners_under_18; 0101 line 2
TABLE_CASES = [
    Case(
        "thousands point",
        T,
        cell(3, 3, b"1.200"),
        r"found '1\.200', expected a count, a whole number",
        3,
        "total",
    ),
    Case("thousands comma", T, cell(3, 4, b"1,140"), r"8 fields where the header has 7", 3),
    Case(
        "decimal fraction",
        T,
        cell(2, 6, b"30.5"),
        r"found '30\.5', expected a count, a whole number",
        2,
        "under_18",
    ),
    Case(
        "negative count",
        T,
        cell(4, 5, b"-30"),
        r"found '-30', expected a count, found a negative number",
        4,
        "foreigners",
    ),
    Case("empty count", T, cell(5, 6, b""), r"found '', " + NUMBER_TABLE, 5, "under_18"),
    Case(
        "word in a count",
        T,
        cell(5, 3, b"vierhundert"),
        r"found 'vierhundert', " + NUMBER_TABLE,
        5,
        "total",
    ),
    Case(
        "NUL in a name",
        T,
        cell(3, 2, b"M\x00hlenviertel"),
        r"control character NUL \(U\+0000\)",
        3,
        "name",
    ),
    Case(
        "vertical tab in a code",
        T,
        cell(4, 1, b"02\x0b01"),
        r"control character VT \(U\+000B\)",
        4,
        "gebiet",
    ),
    Case("NUL in a count", T, cell(2, 3, b"1\x0000"), r"control character NUL", 2, "total"),
    Case(
        "latin-1 umlaut",
        T,
        replace("Mühlenviertel".encode(), "Mühlenviertel".encode("latin-1")),
        r"byte 0xfc at byte column 7 is not valid utf-8",
        3,
    ),
    Case(
        "windows-1252 file",
        T,
        then(replace(b"Am Markt", "„Am Markt“".encode()), reencode("cp1252")),
        r"byte 0x84 at byte column 6 is not valid utf-8",
        2,
    ),
    Case(
        "utf-16 file",
        T,
        lambda d: d.decode().encode("utf-16"),
        r"byte 0xff at byte column 1 is not valid utf-8",
        1,
    ),
    Case(
        "BOM inside a code",
        T,
        cell(3, 1, "\ufeff0102".encode()),
        r"unknown area code '\ufeff0102': expected a 4-digit code of level 'quarter'",
        3,
        "gebiet",
    ),
    Case(
        "giant line",
        T,
        cell(4, 2, GIANT_CELL),
        r"line is longer than 4\.096 bytes, the limit for one line",
        4,
    ),
    Case(
        "file on one line",
        T,
        lambda d: d.replace(b"\n", b",") * 40,
        r"line is longer than 4\.096 bytes",
        1,
    ),
    Case("empty file", T, EMPTY, r"empty file: expected a header row naming the columns", 1),
    Case(
        "header only", T, lambda d: d.split(b"\n")[0] + b"\n", r"no data rows below the header", 2
    ),
    Case(
        "semicolon separated",
        T,
        lambda d: d.replace(b",", b";"),
        r"missing column 'gebiet' \(the profile's table 'bevoelkerung' needs it",
        1,
        "gebiet",
    ),
    Case(
        "tab separated",
        T,
        lambda d: d.replace(b",", b"\t"),
        r"missing column 'gebiet'",
        1,
        "gebiet",
    ),
    Case(
        "total and under-18 values swapped",
        T,
        swap_fields(3, 3, 6),
        r"total = 50 but the sum of germans \+ foreigners is 200",
        3,
        "total",
    ),
    Case(
        "header names swapped",
        T,
        swap_fields(1, 3, 4),
        r"total = 80 but the sum of germans \+ foreigners is 120",
        2,
        "total",
    ),
    Case("column missing", T, drop_field(5), r"missing column 'foreigners'", 1, "foreigners"),
    Case(
        "extra field in a row", T, append_cell(4, b"7", b","), r"8 fields where the header has 7", 4
    ),
    Case(
        "truncated last row",
        T,
        lambda d: d.rstrip(b"\n")[:-12],
        r"fields where the header has 7",
        5,
    ),
    Case(
        "row given twice",
        T,
        repeat_line(3),
        r"area '0102' occurs twice \(lines 3 and 4\)",
        4,
        "gebiet",
    ),
    Case(
        "mistyped code in a known district",  # 0102 typed 0199 in 2024: the 2023 table
        T,  # has no row for 0199 (a gap is found before an unknown code, see the report)
        cell(3, 1, b"0199"),
        r"no row for area\(s\) 0199 of vintage 'v2020' on 2023-12-31",
        None,
        "gebiet",
        names="tabellen/bevoelkerung_2023-12-31.csv",
    ),
    Case(
        "code too short",
        T,
        cell(5, 1, b"202"),
        r"unknown area code '202': expected a 4-digit code",
        5,
        "gebiet",
    ),
    Case("empty code", T, cell(2, 1, b""), r"empty area code", 2, "gebiet"),
    Case("formula as code", T, cell(2, 1, b"=0101"), r"unknown area code '=0101'", 2, "gebiet"),
    Case(
        "unbalanced quote",
        T,
        cell(3, 2, b'"M\xc3\xbchlenviertel'),
        r"control character LF \(U\+000A\) at character 31 of the field, a line break: a "
        r"quote \(\"\) opened in the field and not closed\?",
        3,
        "name",
    ),
    Case(
        "impossible date in the name",
        T,
        lambda d: d,
        r"file name gives no valid reference date",
        name="bevoelkerung_2024-13-31.csv",
    ),
    Case(
        "name of no source",
        T,
        lambda d: d,
        r"matches no source of the profile",
        name="einwohner_2024-12-31.csv",
    ),
]

L = "lor"  # id,inhabitants,…; 01011101 on line 2 (t1: 3445 = 2040 germans + 1405 foreigners)
LOR_T2 = "population/" + LOR.format(part="02", table="t2")
LOR_CASES = [
    # two tables of the same residents: which one is wrong cannot be told; the error names
    # the row one of them lacks (tests/etl/test_consistency.py)
    Case(
        "mistyped planning area",
        L,
        cell(2, 1, b"01011199"),
        r"area '01011101' on 2019-12-31 is in table 'lor_t2' but not in table 'lor_t1'; table "
        r"'lor_t2' has no row for 01011199 — a mistyped or extra code\?",
        2,
        "id",
        names=LOR_T2,
    ),
    Case(
        "planning area dropped",
        L,
        drop_line(3),
        r"area '01011102' on 2019-12-31 is in table 'lor_t2' but not in table 'lor_t1'",
        3,
        "id",
        names=LOR_T2,
    ),
    Case(
        "thousands point",
        L,
        cell(2, 2, b"3.445"),
        r"found '3\.445', expected a count, a whole number",
        2,
        "inhabitants",
    ),
    Case(
        "thousands point in t2",
        L,
        cell(4, 2, b"5.159"),
        r"found '5\.159', expected a count, a whole number",
        4,
        "inhabitants",
        file=LOR_T2,
    ),
    Case(
        "total not the sum",
        L,
        cell(2, 2, b"3446"),
        r"inhabitants = 3446 but the sum of inhabitants_germans \+ inhabitants_foreigners is 3445",
        2,
        "inhabitants",
    ),
    Case(
        "total disagreeing with t2",
        L,
        then(cell(2, 2, b"3446"), cell(2, 4, b"2041"), cell(2, 5, b"1371")),
        r"inhabitants = 3446 for area 01011101, but berlin-lor-population-2019-02-t2-planning-"
        r"areas\.csv line 2 \(inhabitants\) gives 3445 for the same count 'total'",
        2,
        "inhabitants",
    ),
    Case("NUL in a code", L, cell(3, 1, b"0101\x001102"), r"control character NUL", 3, "id"),
    Case(
        "leading zero lost",
        L,
        cell(2, 1, b"1011101"),
        r"unknown area code '1011101': expected a 8-digit code",
        2,
        "id",
    ),
    Case("formula as code", L, cell(2, 1, b"=01011101"), r"unknown area code '=01011101'", 2, "id"),
    Case(
        "negative count",
        L,
        cell(5, 7, b"-1"),
        r"found '-1', expected a count, found a negative number",
        5,
        "inhabitants_foreigners",
    ),
    Case(
        "foreigners and total swapped",
        L,
        swap_fields(1, 2, 7),
        r"but the sum of inhabitants_germans \+ inhabitants_foreigners",
        2,
        "inhabitants",
    ),
    Case(
        "column missing",
        L,
        drop_field(7),
        r"missing column 'inhabitants_foreigners'",
        1,
        "inhabitants_foreigners",
    ),
    Case(
        "semicolon separated", L, lambda d: d.replace(b",", b";"), r"missing column 'id'", 1, "id"
    ),
    Case("empty file", L, EMPTY, r"empty file", 1),
    Case("giant line", L, append_cell(6, GIANT_CELL, b","), r"line is longer than 4\.096 bytes", 6),
    Case(
        "latin-1 byte",
        L,
        cell(7, 1, b"\xe40101104"),
        r"byte 0xe4 at byte column 1 is not valid utf-8",
        7,
    ),
    Case("row given twice", L, repeat_line(9), r"occurs twice \(lines 9 and 10\)", 10, "id"),
    Case(
        "age band missing in t2",
        L,
        drop_field(3),
        r"missing column 'inhabitants_age_below_6'",
        1,
        "inhabitants_age_below_6",
        file=LOR_T2,
    ),
]

G = "genesis"  # 13111: line 176 Land 07, 177 region 071, 178 Kreis 07111 (30.06.2015)
VAR = r"Nationalität \| Insgesamt \| Geschlecht \| Insgesamt"
GENESIS_CASES = [
    Case(
        "Kreis value changed",
        G,
        cell(178, 4, b"38233", b";"),
        r"the total of region 07 \(Rheinland-Pfalz\) for 30\.06\.2015, '"
        + VAR
        + r"' is 1479055, but its 36 area rows \(07111, 07131, 07132, …\) sum to 1479056",
        176,
        "4",
    ),
    Case(  # 07111 of 2014: line 704 of the real file, 703 once line 178 is dropped
        "Kreis row dropped",
        G,
        drop_line(178),
        r"period 30\.06\.2015 has no line for region 07111 \(Koblenz, Kreisfreie Stadt\), which "
        r"period 30\.06\.2014 has in line 703; expected the same regions and rows in every "
        r"period: a line dropped\?",
        178,
    ),
    Case(  # 37 lines a period: Rhineland-Palatinate and its 36 Kreise (the instance's)
        "mistyped period in one line",
        G,
        cell(178, 1, b"30.06.2016", b";"),
        r"period '30\.06\.2016' is given in 1 data line\(s\) only \(line 178\), period "
        r"30\.06\.2014 in 37; expected every period with the same regions and rows \(the "
        r"file's periods: 30\.06\.2015, 30\.06\.2016, 30\.06\.2014, 30\.06\.2013, 30\.06\.2012\): "
        r"a mistyped period\?",
        178,
        "1",
    ),
    Case(
        "Kreis code mistyped as another valid code",
        G,
        cell(178, 2, b"07112", b";"),
        r"region 07112 \(Koblenz, Kreisfreie Stadt\) is given for period 30\.06\.2015 but for 3 "
        r"of the file's 4 periods not; expected the same regions and rows in every period: a "
        r"mistyped region code\?",
        178,
        "2",
    ),
    Case(
        "Land total changed",
        G,
        cell(176, 7, b"120569", b";"),
        r"region 07 \(Rheinland-Pfalz\) .*Ausländer\(innen\) .* is 120569, but its 36 area rows "
        r"\(07111, 07131, 07132, …\) sum to 120568",
        176,
        "7",
    ),
    Case(
        "last Kreis of 2012 changed",
        G,
        cell(1793, 7, b"642", b";"),
        r"region 07 \(Rheinland-Pfalz\) for 30\.06\.2012, .* is 91089, but its 36 area rows "
        r"\(07111, 07131, 07132, …\) sum to 91107",
        1754,
        "7",
    ),
    Case(  # no unit row: the title's '(Anzahl)' (line 6) makes every column a count
        "decimal comma in a count",
        G,
        cell(178, 7, b"3647,5", b";"),
        r"found '3647,5' in 'Nationalität \| Ausländer\(innen\) \| Geschlecht \| Insgesamt' "
        r"\(unit Anzahl\), expected a count, a whole number",
        178,
        "7",
    ),
    Case(
        "thousands point",
        G,
        cell(178, 4, b"38.232", b";"),
        r"found '38\.232' in '" + VAR + r"', expected a number in German format",
        178,
        "4",
    ),
    Case(
        "word in a value",
        G,
        cell(178, 5, b"k.A.", b";"),
        r"found 'k\.A\.' in .*expected a number in German format",
        178,
        "5",
    ),
    Case(
        "empty value",
        G,
        cell(178, 6, b"", b";"),
        r"found an empty cell in .*expected a number",
        178,
        "6",
    ),
    Case(
        "mistyped Kreis code",
        G,
        cell(178, 2, b"0711", b";"),
        r"region code '0711' is not 'DG' \(Germany\), an AGS of 2, 3, 5, 8 digits",
        178,
        "2",
    ),
    Case(
        "impossible period",
        G,
        cell(178, 1, b"31.06.2015", b";"),
        r"period '31\.06\.2015' is not a date DD\.MM\.YYYY or a year YYYY",
        178,
        "1",
    ),
    Case(
        "NUL in a name",
        G,
        cell(179, 3, b"      Ahrweiler,\x00Landkreis", b";"),
        r"control character NUL",
        179,
        "3",
    ),
    Case(
        "escape in a header",
        G,
        on_line(8, lambda line: line.replace(b"Insgesamt", b"Insg\x1besamt", 1)),
        r"control character ESC",
        8,
        "4",
    ),
    Case(
        "latin-1 line in a UTF-8 file",
        G,
        on_line(207, lambda line: line.decode().encode("latin-1")),
        r"byte 0xfc at byte column 29 is not valid UTF-8, but the file has UTF-8 text in line 2: "
        r"mixed encodings",
        207,
    ),
    Case(
        "windows-1252 file",
        G,
        then(replace(b"Ohne Angabe", "„Ohne Angabe“".encode()), reencode("cp1252")),
        r"is a control code in ISO-8859-1 .*declare encoding: cp1252",
        2120,
    ),
    Case(
        "first line missing",
        G,
        lambda d: d.split(b"\n", 1)[1],
        r"expected 'GENESIS-Tabelle: <table id>'",
        1,
    ),
    Case(
        "another table's id",
        G,
        replace(b"13111-02-02-4", b"13111-02-02-5"),
        r"found GENESIS table 13111-02-02-5, expected table 13111-02-02-4: the file name "
        r"fits source 'genesis_13111' \('genesis_13111-02-02-4_\*\.csv'\)",
        1,
    ),
    Case(
        "a table the profile does not read",
        G,
        replace(b"13111-02-02-4", b"13211-02-05-4"),
        r"found GENESIS table 13211-02-05-4, which the profile .* does not read; expected one "
        r"of its GENESIS tables 13111-02-02-4 \(genesis_13111\)",
        1,
        name="13211-02-05-4.csv",
    ),
    Case(
        "footer missing",
        G,
        lambda d: d[: d.index(b"\n__________")] + b"\n",
        r"no footer line '__________' after the last data line",
        2114,
    ),
    Case(
        "field missing",
        G,
        on_line(178, lambda line: line.rsplit(b";", 1)[0]),
        r"data line has 8 fields, expected 9 like the header",
        178,
        "8",
    ),
    Case(
        "extra field",
        G,
        append_cell(178, b"1", b";"),
        r"data line has 10 fields, expected 9",
        178,
        "10",
    ),
    Case("line given twice", G, repeat_line(178), r"was already given in line 178", 179),
    Case("empty file", G, EMPTY, r"file is empty; expected a GENESIS table export", None),
    Case(
        "comma separated", G, lambda d: d.replace(b";", b","), r"no column-header lines found", None
    ),
    Case(
        "header lines missing",
        G,
        lambda d: b"\n".join(d.split(b"\n")[:6] + d.split(b"\n")[10:]),
        r"no column-header lines found",
        None,
    ),
    Case(
        "giant line",
        G,
        append_cell(178, GIANT_CELL, b";"),
        r"line is longer than 4\.096 bytes",
        178,
    ),
    Case("file without line breaks", G, ONE_LINE, r"line is longer than 4\.096 bytes", 1),
]

R = "register"  # personen_id;stadtteil;geburtsjahr;geschlecht;…; line 2 a foreigner (TR)
REGISTER_CASES = [
    Case(
        "NUL in a household id",
        R,
        cell(4, 11, b"HP11\x000002", b";"),
        r"control character NUL \(U\+0000\) at character 5",
        4,
        "haushalt_id",
    ),
    Case(
        "escape in a position",
        R,
        cell(5, 12, b"H\x1bV", b";"),
        r"control character ESC",
        5,
        "stellung_im_haushalt",
    ),
    Case(
        "unknown district",
        R,
        cell(3, 2, b"13", b";"),
        r"found '13', expected an area id of the finest level valid on 2024-12-31",
        3,
        "stadtteil",
    ),
    Case(
        "word as birth year",
        R,
        cell(3, 3, b"neunzehn", b";"),
        r"found 'neunzehn', expected a whole number",
        3,
        "geburtsjahr",
    ),
    Case(
        "thousands point in a year",
        R,
        cell(3, 3, b"1.980", b";"),
        r"found '1\.980', expected a whole number",
        3,
        "geburtsjahr",
    ),
    Case(
        "birth year in the future",
        R,
        cell(3, 3, b"2030", b";"),
        r"found '2030', expected year of birth, not after the reference year",
        3,
        "geburtsjahr",
    ),
    Case(
        "unknown sex",
        R,
        cell(2, 4, b"q", b";"),
        r"found 'q', expected one of m, w, d, x",
        2,
        "geschlecht",
    ),
    Case(
        "mistyped country",  # TR typed TU (XX is listed: unknown)
        R,
        cell(2, 5, b"TU", b";"),
        r"found 'TU', expected an ISO 3166-1 alpha-2 country code",
        2,
        "staatsangehoerigkeit_1",
    ),
    Case(
        "flag not 0 or 1",
        R,
        cell(3, 9, b"2", b";"),
        r"found '2', expected 0 or 1",
        3,
        "eingebuergert",
    ),
    Case(
        "person given twice",
        R,
        repeat_line(5),
        r"expected a value not used in an earlier row",
        6,
        "personen_id",
    ),
    Case(
        "birth and arrival columns swapped",
        R,
        swap_fields(1, 3, 8, b";"),
        r"found '1980', expected year of arrival, between the year of birth",
        2,
        "zuzugsjahr",
    ),
    Case(
        "latin-1 byte",
        R,
        cell(4, 1, b"P\xe4110002", b";"),
        r"not valid utf-8 text in the cell starting at byte column 1",
        4,
        "personen_id",
    ),
    Case(
        "comma separated",
        R,
        lambda d: d.replace(b";", b","),
        r"missing column\(s\) personen_id, stadtteil",
        1,
        "personen_id",
    ),
    Case(
        "column missing",
        R,
        drop_field(7, b";"),
        r"missing column\(s\) geburtsland",
        1,
        "geburtsland",
    ),
    Case(
        "unexpected column",
        R,
        every_line(lambda n, line: line + b";x", first=1),
        r"unexpected column\(s\) x",
        1,
        "x",
    ),
    Case(
        "extra field in a row",
        R,
        append_cell(6, b"1", b";"),
        r"Expected Number of Columns: 12 Found: 13",
        6,
    ),
    Case(
        "field missing in a row",
        R,
        on_line(7, lambda line: line.rsplit(b";", 1)[0]),
        r"Expected Number of Columns: 12 Found: 11",
        7,
        "stellung_im_haushalt",
    ),
    Case("empty file", R, EMPTY, r"file is empty \(expected a header row\)", 1),
    Case(
        "header only",
        R,
        lambda d: d.split(b"\n")[0] + b"\n",
        r"file has a header but no data rows",
        2,
    ),
    Case("giant line", R, append_cell(9, GIANT_CELL, b";"), r"line is longer than 4\.096 bytes", 9),
    Case(
        "file without line breaks",
        R,
        lambda d: ONE_LINE(d) * 3,
        r"line is longer than 4\.096 bytes",
        1,
    ),
    Case(
        "every birth year a word",
        R,
        every_line(lambda n, line: line.replace(b";1980;", b";x;", 1)),
        r"found 'x', expected a whole number \(also: line 3 column 'geburtsjahr'; line 4 "
        r"column 'geburtsjahr'; line 5 column 'geburtsjahr'; line 6 column 'geburtsjahr'\) … "
        r"and 40 more \(45 in all: 45 × column 'geburtsjahr': a whole number\)",
        2,
        "geburtsjahr",
    ),
]

CASES = TABLE_CASES + LOR_CASES + GENESIS_CASES + REGISTER_CASES


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60
    assert len({(c.instance, c.id) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.instance}: {c.id}")
def test_broken_delivery(case: Case, instances, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(text, "MAX_LINE_BYTES", LIMIT)
    instance = instances(case.instance)
    original = instance.pristine / (case.file or instance.delivered)
    delivered = tmp_path / (case.name or original.name)
    delivered.write_bytes(case.mutate(original.read_bytes()))
    before = state(instance)
    status = main(["refresh", "--profile", str(instance.profile), str(delivered)])
    out = capsys.readouterr()
    assert status == 2, out.out + out.err
    assert out.err.count("Fehler:") == 1 and "Traceback" not in out.out + out.err, out
    flat = " ".join(out.err.split())  # the terminal may break a long message
    flat = flat[flat.index("Fehler:") :]
    assert len(flat) < MAX_MESSAGE_CHARS + 20
    where = str(delivered if case.names is None else instance.raw / case.names)
    if case.line is not None:
        where += f", line {case.line}"
    if case.column is not None:
        where += f", column '{case.column}'"
    assert f"Fehler: {where}: " in flat, flat
    assert re.search(case.expected, flat), flat
    assert state(instance) == before


# --- faults of the delivery itself ---------------------------------------------------------


def _changed_while_copied(instance: Instance, delivered: Path, monkeypatch) -> list[Path]:
    """The office's program still writes the file while refresh copies it."""
    copy = shutil.copyfile

    def copy_and_change(source, target, *args, **kwargs):
        result = copy(source, target, *args, **kwargs)
        Path(target).write_bytes(Path(target).read_bytes().replace(b"100", b"101", 1))
        return result

    monkeypatch.setattr(deliveries.shutil, "copyfile", copy_and_change)
    return [delivered]


def _same_date_twice(instance: Instance, delivered: Path, monkeypatch) -> list[Path]:
    """Two files of one source and reference date in one refresh (which is meant?)."""
    other = delivered.parent / "again" / delivered.name
    other.parent.mkdir()
    other.write_bytes(delivered.read_bytes().replace(b"100", b"101", 1))
    return [delivered, other]


def _a_device(instance: Instance, delivered: Path, monkeypatch) -> list[Path]:
    """A link named like the delivery to a device that never ends (read, it would hang)."""
    delivered.unlink()
    delivered.symlink_to("/dev/zero")
    return [delivered]


FAULTS = {  # fault -> (make, what the message says after 'Fehler: <delivered>: ')
    "file changed while copied": (
        _changed_while_copied,
        "the file changed while it was copied; deliver it again",
    ),
    "one source and date twice": (
        _same_date_twice,
        "bevoelkerung_2024-12-31.csv in the same refresh is also a delivery of 'bevoelkerung' "
        "for 2024-12-31; deliver one file per source and reference date",
    ),
    "a device instead of a file": (
        _a_device,
        "not a regular file (a folder, device or pipe); expected a file",
    ),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_delivery(fault, instances, tmp_path, capsys, monkeypatch):
    """Faults of the delivered file (beside kill -9, full disks and concurrent runs in
    tests/etl/test_faults.py and test_storage_errors.py): one message, exit status 2,
    raw folder, published snapshot and history unchanged."""
    make, expected = FAULTS[fault]
    instance = instances("tables")
    original = instance.pristine / instance.delivered
    delivered = tmp_path / original.name
    delivered.write_bytes(original.read_bytes().replace(b"Heide", b"Heide-Ost"))
    files = make(instance, delivered, monkeypatch)
    before = state(instance)
    status = main(["refresh", "--profile", str(instance.profile), *map(str, files)])
    out = capsys.readouterr()
    assert status == 2, out.out + out.err
    assert "Traceback" not in out.out + out.err
    flat = error_of_text(out.err)
    assert flat.count("Fehler:") == 1
    assert re.search(r"Fehler: \S*" + re.escape(delivered.name) + ": " + re.escape(expected), flat)
    assert state(instance) == before


# --- bounded intake at the real limits ------------------------------------------------------


def error_of(capsys) -> str:
    """The error message printed (stderr), from 'Fehler:' on, its line breaks undone."""
    return error_of_text(capsys.readouterr().err)


def error_of_text(err: str) -> str:
    flat = " ".join(err.split())
    return flat[flat.index("Fehler:") :]


def with_a_giant_line(original: Path, number: int, folder: Path) -> Path:
    """``original`` in ``folder`` with 50 MB appended to line ``number`` (written in 1 MiB
    pieces, never held whole)."""
    lines = original.read_bytes().split(b"\n")
    delivered = folder / original.name
    with delivered.open("wb") as out:
        out.write(b"\n".join(lines[: number - 1]) + b"\n" + lines[number - 1])
        for _ in range(50):
            out.write(b"y" * (1 << 20))
        out.write(b"\n" + b"\n".join(lines[number:]))
    return delivered


def test_a_giant_line_at_the_real_limit(instances, tmp_path, capsys):
    """A 50 MB line in a register extract (the issue measured 8.5 GB of memory for it):
    the error names file, line and the 1 MiB limit, and the scan holds a few MB at most."""
    instance = instances("register")
    original = instance.pristine / instance.delivered
    delivered = with_a_giant_line(original, 6, tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(InputError) as info:
            text.check_line_lengths(delivered)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.line == 6
    assert peak < 8 * text.SCAN_BYTES  # the file is 50 times that
    before = state(instance)
    assert main(["refresh", "--profile", str(instance.profile), str(delivered)]) == 2
    flat = error_of(capsys)
    assert f"{delivered}, line 6: line is longer than 1.048.576 bytes" in flat
    assert state(instance) == before


# the refresh of a GENESIS export in a process whose address space is limited to what it
# holds after its imports plus HEADROOM_MB (argv: profile, delivered file, headroom)
UNDER_A_LIMIT = """
import resource, sys
import etl.build, etl.deliveries  # loaded before the limit, as a running imon has them
from imon.cli import main
size = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmSize:"))
limit = size * 1024 + int(sys.argv[3]) * (1 << 20)
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
sys.exit(main(["refresh", "--profile", sys.argv[1], sys.argv[2]]))
"""
HEADROOM_MB = 64  # reading the 50 MB line whole (bytes, then text) needs more than this


def test_a_giant_line_under_an_os_memory_limit(instances, tmp_path):
    """A 50 MB line in line 178 of the real GENESIS export, refreshed by a process limited
    (RLIMIT_AS) to 64 MB more than its imports take: one clean message naming file, line
    and the 1 MiB limit, exit status 2, no traceback, nothing changed. (Without the line
    scan the same process dies with a MemoryError while reading the file.)"""
    instance = instances("genesis")
    original = instance.pristine / instance.delivered
    delivered = with_a_giant_line(original, 178, tmp_path)
    before = state(instance)
    run = subprocess.run(
        [sys.executable, "-c", UNDER_A_LIMIT, str(instance.profile), str(delivered)]
        + [str(HEADROOM_MB)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"},
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stdout + run.stderr and "MemoryError" not in run.stderr
    flat = " ".join(run.stderr.split())
    assert flat.count("Fehler:") == 1
    assert f"Fehler: {delivered}, line 178: line is longer than 1.048.576 bytes" in flat
    assert state(instance) == before


def test_a_message_of_many_problems_is_bounded(instances, tmp_path, capsys):
    """5,000 rows with two bad cells each: the first problems named, the rest counted per
    kind, the whole message shorter than MAX_MESSAGE_CHARS."""
    instance = instances("register")
    header = instance.pristine.joinpath(instance.delivered).read_bytes().split(b"\n")[0]
    rows = [f"P{i:05d};11;neunzehn;q;DE;;DE;;0;0;H{i};HV".encode() for i in range(5000)]
    delivered = tmp_path / "melderegister_2024-12-31.csv"
    delivered.write_bytes(b"\n".join([header, *rows]) + b"\n")
    before = state(instance)
    assert main(["refresh", "--profile", str(instance.profile), str(delivered)]) == 2
    message = error_of(capsys)
    assert len(message) < MAX_MESSAGE_CHARS
    assert f"{delivered}, line 2, column 'geburtsjahr': found 'neunzehn'" in message
    assert (
        "… and 9.995 more (10.000 in all: 5.000 × column 'geburtsjahr': a whole number; "
        "5.000 × column 'geschlecht': one of m, w, d, x)" in message
    )
    assert state(instance) == before


def test_rejected_rows_are_stored_up_to_a_limit(instances, tmp_path, capsys):
    """3,000 rows with a field too many: DuckDB records the first MAX_REJECTS (1,000) only,
    and the message says there may be more."""
    instance = instances("register")
    header = instance.pristine.joinpath(instance.delivered).read_bytes().split(b"\n")[0]
    rows = [f"P{i:05d};11;1980;w;DE;;DE;;0;0;H{i};HV;1".encode() for i in range(3000)]
    delivered = tmp_path / "melderegister_2024-12-31.csv"
    delivered.write_bytes(b"\n".join([header, *rows]) + b"\n")
    before = state(instance)
    assert main(["refresh", "--profile", str(instance.profile), str(delivered)]) == 2
    message = error_of(capsys)
    assert f"{delivered}, line 2" in message and "Found: 13" in message
    assert "(also: line 3; line 4; line 5; line 6) … and at least 995 more (the first 1.000:" in (
        message
    )
    assert len(message) < MAX_MESSAGE_CHARS
    assert state(instance) == before


def test_a_long_cell_is_quoted_short(instances, tmp_path, capsys):
    """A 3,000-character district code (under the line limit) is quoted by its first 80
    characters and its length."""
    instance = instances("register")
    original = instance.pristine / instance.delivered
    mutate = cell(3, 2, b"1" * 3000, b";")
    delivered = tmp_path / original.name
    delivered.write_bytes(mutate(original.read_bytes()))
    assert main(["refresh", "--profile", str(instance.profile), str(delivered)]) == 2
    message = error_of(capsys)
    assert f"found '{'1' * 80}… (3.000 characters)', expected an area id" in message
    assert len(message) < 1000


# --- names that look like formulas ----------------------------------------------------------

FORMULA_NAMES = {"01": '=HYPERLINK("http://x","a")', "02": "@SUM(A1)"}  # bezirke.geojson


def test_formula_like_names_are_published_as_text(tmp_path, capsys):
    """Formula-like names as an office's files may bring them - district names in the
    boundary file ('=HYPERLINK(…)', '@SUM(A1)'), the city's name in the profile ('+…') and
    the attribution ('-…') - are names, not errors: the build publishes them, and
    ``imon export`` writes them into CSV and XLSX with a leading apostrophe (OWASP), no
    XLSX cell a formula, the counts numbers."""
    profile_path, raw, _ = _tables(tmp_path)
    boundaries = raw / "geometrie" / "bezirke.geojson"
    geojson = json.loads(boundaries.read_text(encoding="utf-8"))
    for feature in geojson["features"]:
        feature["properties"]["name"] = FORMULA_NAMES[feature["properties"]["code"]]
    boundaries.write_text(json.dumps(geojson), encoding="utf-8")
    profile = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
    profile["geography"]["root"]["name"] = "+Kleinstadt"
    profile["tables"][0]["attribution"] = "-Testdaten"
    _write(tmp_path, profile)
    assert main(["build", "--profile", str(profile_path)]) == 0
    out = tmp_path / "export"
    args = ["export", "--profile", str(profile_path), "--indicator", "population"]
    assert main([*args, "--level", "district", "--format", "csv,xlsx", "--out", str(out)]) == 0
    capsys.readouterr()
    [table] = out.glob("population_karte_district_*.csv")
    rows = list(csv.reader(io.StringIO(table.read_bytes().decode("utf-8-sig")), delimiter=";"))
    names = {r[rows[0].index("Gebietsschlüssel")]: r[rows[0].index("Gebiet")] for r in rows[1:]}
    assert names == {code: "'" + name for code, name in FORMULA_NAMES.items()}
    # 2024-12-31 (tests/fixtures/district_tables): Altstadt 100 + 200, Neustadt 300 + 400
    values = {r[rows[0].index("Gebietsschlüssel")]: r[rows[0].index("Wert")] for r in rows[1:]}
    assert values == {"01": "300", "02": "700"}
    texts = []
    for book in out.glob("*.xlsx"):
        for sheet in openpyxl.load_workbook(book).worksheets:
            for row in sheet.iter_rows():
                assert not any(c.data_type == "f" for c in row), (book.name, sheet.title)
                texts += [c.value for c in row if isinstance(c.value, str)]
    assert {"'+Kleinstadt", "'-Testdaten", "'" + FORMULA_NAMES["01"]} <= set(texts)
    cells = []
    for path in out.glob("*.csv"):
        cells += csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";")
    cells = [c for row in cells for c in row]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert {"'+Kleinstadt", "'-Testdaten", "'@SUM(A1)"} <= set(cells)


# --- files that are not broken -------------------------------------------------------------


def _values(snapshot: Path) -> list[tuple]:
    with duckdb.connect(str(snapshot / warehouse.PUBLICATION), read_only=True) as con:
        return con.execute("SELECT * FROM indicator_values ORDER BY ALL").fetchall()


@pytest.mark.parametrize("name", ["tables", "lor", "genesis", "register"])
def test_a_byte_order_mark_changes_nothing(name, instances, tmp_path, capsys):
    """The published file again with a UTF-8 byte-order mark: recognised as a revision of
    it, read, and the staged snapshot publishes exactly the published values."""
    instance = instances(name)
    original = instance.pristine / instance.delivered
    delivered = tmp_path / original.name
    delivered.write_bytes(text.UTF8_BOM + original.read_bytes())
    assert main(["refresh", "--profile", str(instance.profile), str(delivered)]) == 0
    assert "Revision" in capsys.readouterr().err
    staged = warehouse.staged(instance.curated)
    assert staged is not None
    values = _values(staged)
    assert values and values == _values(warehouse.published(instance.curated))
