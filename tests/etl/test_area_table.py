"""District tables (adapter ``area_table`` on a ``code_hierarchy`` geography): known
answers and one broken fixture per failure mode, on a tiny hand-made instance
(tests/fixtures/district_tables): city K, districts 01 and 02, quarters 0101, 0102
(district 01) and 0201, 0202 (district 02); one table per reference date.

2024-12-31 (tabellen/bevoelkerung_2024-12-31.csv, data lines 2-5):

    quarter  total  germans  foreigners  under_18  foreigners_under_18
    0101       100       80          20        30                    5
    0102       200      140          60        50                   20
    0201       300      270          30        40                    6
    0202       400      240         160        90                   45

2023-12-31: 0101 90/75/15, 0102 210/150/60, 0201 310/280/30, 0202 390/240/150 (total/
germans/foreigners).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from etl import warehouse
from etl.build import build
from etl.errors import ConfigError, InputError
from etl.profile import load_profile
from imon.cli import main
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "district_tables"
TABLE_2024 = "tabellen/bevoelkerung_2024-12-31.csv"
TABLE_2023 = "tabellen/bevoelkerung_2023-12-31.csv"


# --- helpers ---------------------------------------------------------------------------


def write_profile(
    folder: Path, raw: Path, edit: Callable[[dict], None] | None = None, fixture: Path = FIXTURE
) -> Path:
    """The fixture profile with absolute paths (raw copy, curated dir in ``folder``),
    optionally edited, written to ``folder/profile.yaml``."""
    data = yaml.safe_load((fixture / "profile.yaml").read_text(encoding="utf-8"))
    data.update(
        raw_dir=str(raw),
        curated_dir=str(folder / "curated"),
        indicators=str(REPO / "indicators.yaml"),
    )
    if edit:
        edit(data)
    path = folder / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def edit_lines(raw: Path, edit: Callable[[list[str]], list[str]], name: str = TABLE_2024) -> None:
    path = raw / name
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")


def set_cell(line: int, column: str, value: str) -> Callable[[list[str]], list[str]]:
    """An edit replacing the cell of ``column`` on file ``line`` (1-based) by ``value``."""

    def edit(lines: list[str]) -> list[str]:
        header = lines[0].split(",")
        cells = lines[line - 1].split(",")
        cells[header.index(column)] = value
        return [*lines[: line - 1], ",".join(cells), *lines[line:]]

    return edit


def drop_column(column: str) -> Callable[[list[str]], list[str]]:
    def edit(lines: list[str]) -> list[str]:
        index = lines[0].split(",").index(column)
        return [",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in lines]

    return edit


def snapshot_bytes(curated: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in (curated / "snapshots").rglob("*") if p.is_file()}


def value(
    con, indicator: str, area: str, ref_date: str = "2024-12-31", level: str | None = None
) -> tuple:
    rows = con.execute(
        "SELECT value, numerator, denominator, flag, n_units FROM indicator_values "
        "WHERE indicator_id = ? AND area_id = ? AND ref_date = ? AND (? IS NULL OR level = ?)",
        [indicator, area, ref_date, level, level],
    ).fetchall()
    assert len(rows) == 1, (indicator, area, ref_date, level, rows)
    return rows[0]


@pytest.fixture
def raw(tmp_path) -> Path:
    """A private copy of the fixture's raw files to break."""
    target = tmp_path / "raw"
    shutil.copytree(FIXTURE / "raw", target)
    return target


@pytest.fixture(scope="module")
def good_curated(tmp_path_factory) -> Path:
    """A curated folder with one published snapshot of the unbroken fixture."""
    folder = tmp_path_factory.mktemp("district_tables")
    profile = load_profile(write_profile(folder, FIXTURE / "raw"))
    build(profile)
    return profile.curated_dir


@pytest.fixture
def con(good_curated):
    with duckdb.connect(
        str(good_curated / warehouse.CURRENT / warehouse.DATABASE), read_only=True
    ) as connection:
        yield connection


def expect_failure(
    tmp_path: Path,
    raw: Path,
    good_curated: Path,
    capsys,
    error: type[Exception] = InputError,
    edit_profile: Callable[[dict], None] | None = None,
    fixture: Path = FIXTURE,
) -> Exception:
    """The build of the broken instance raises exactly one ``error``; nothing is published
    into an empty curated folder; ``imon build`` exits with 2 and leaves an earlier
    published snapshot byte for byte as it was. Returns the error."""
    published = tmp_path / "curated"
    shutil.copytree(good_curated, published, symlinks=True)
    link, before = (published / "current").readlink(), snapshot_bytes(published)
    profile_yaml = write_profile(tmp_path, raw, edit_profile, fixture)
    fresh = tmp_path / "fresh"
    with pytest.raises(error) as info:
        build(load_profile(profile_yaml).model_copy(update={"curated_dir": fresh}))
    assert not (fresh / "current").exists()
    assert not list((fresh / "snapshots").glob(warehouse.BUILDING_PREFIX + "*"))
    capsys.readouterr()
    assert main(["build", "--profile", str(profile_yaml)]) == 2
    err = capsys.readouterr().err
    assert str(info.value) in err, err
    assert (published / "current").readlink() == link
    assert snapshot_bytes(published) == before
    return info.value


# --- known answers ---------------------------------------------------------------------


def test_areas_from_codes_and_boundaries(con):
    rows = con.execute(
        "SELECT area_id, level, name, parent_id FROM areas ORDER BY area_id"
    ).fetchall()
    assert rows == [
        ("01", "district", "Altstadt", "K"),
        ("0101", "quarter", "Quartier 0101", "01"),
        ("0102", "quarter", "Quartier 0102", "01"),
        ("02", "district", "Neustadt", "K"),
        ("0201", "quarter", "Quartier 0201", "02"),
        ("0202", "quarter", "Quartier 0202", "02"),
        ("K", "city", "Kleinstadt", None),
    ]
    shaped = con.execute(
        "SELECT area_id FROM area_geometry WHERE level = 'district' ORDER BY 1"
    ).fetchall()
    assert shaped == [("01",), ("02",)]


@pytest.mark.parametrize(
    ("area", "ref_date", "expected"),
    [
        ("0101", "2024-12-31", (20.0, 20, 100)),  # 100 · 20 / 100
        ("0202", "2024-12-31", (40.0, 160, 400)),  # 100 · 160 / 400
        ("01", "2024-12-31", (80 / 3, 80, 300)),  # (20 + 60) / (100 + 200) = 26.67 %
        ("02", "2024-12-31", (190 / 7, 190, 700)),  # (30 + 160) / (300 + 400) = 27.14 %
        ("K", "2024-12-31", (27.0, 270, 1000)),  # 270 / 1000
        ("01", "2023-12-31", (25.0, 75, 300)),  # (15 + 60) / (90 + 210)
        ("K", "2023-12-31", (25.5, 255, 1000)),  # (15 + 60 + 30 + 150) / 1000
    ],
)
def test_foreigner_share(con, area, ref_date, expected):
    share, numerator, denominator, flag, _ = value(con, "foreigner_share", area, ref_date)
    assert (numerator, denominator, flag) == (expected[1], expected[2], None)
    assert share == pytest.approx(expected[0], abs=1e-12)


def test_foreigner_share_under_18(con):
    # district 02: foreigners under 18 (6 + 45) / under 18 (40 + 90) = 51 / 130
    share, numerator, denominator, flag, _ = value(con, "foreigner_share_under_18", "02")
    assert (numerator, denominator, flag) == (51, 130, None)
    assert share == pytest.approx(100 * 51 / 130, abs=1e-12)


@pytest.mark.parametrize(
    ("level", "ref_date", "expected", "units"),
    [
        # IS = ½ Σ |x_i/X − r_i/R| with r = t − x; X = 270, R = 730. Over X·R = 197100:
        # quarters |20·730 − 80·270| + |60·730 − 140·270| + |30·730 − 270·270|
        #          + |160·730 − 240·270| = 7000 + 6000 + 51000 + 52000 = 116000
        #          -> IS = 58000 / 197100 = 580 / 1971 = 0.29427
        ("quarter", "2024-12-31", 580 / 1971, 4),
        # districts |80·730 − 220·270| + |190·730 − 510·270| = 1000 + 1000 -> 10 / 1971
        ("district", "2024-12-31", 10 / 1971, 2),
        # 2023: X = 255, R = 745, X·R = 189975; quarters 7950 + 6450 + 49050 + 50550 = 114000
        #       -> IS = 57000 / 189975 = 760 / 2533
        ("quarter", "2023-12-31", 760 / 2533, 4),
    ],
)
def test_segregation_index(con, level, ref_date, expected, units):
    index, _, _, flag, n_units = value(con, "segregation_is_foreigners", "K", ref_date, level)
    assert (flag, n_units) == (None, units)
    assert index == pytest.approx(expected, abs=1e-12)


def test_observations_keep_file_name_and_cells(con):
    rows = con.execute(
        "SELECT table_id, count(*) FROM observations GROUP BY 1 ORDER BY 1"
    ).fetchall()
    # 4 quarters x 5 used columns per file
    assert rows == [("bevoelkerung_2023-12-31.csv", 20), ("bevoelkerung_2024-12-31.csv", 20)]


def test_flagged_cell_is_kept_as_flag_not_zero(tmp_path, raw):
    edit_lines(raw, set_cell(2, "foreigners", "."))  # 0101: foreigners secret
    profile = load_profile(write_profile(tmp_path, raw))
    result = build(profile)
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        cell = db.execute(
            "SELECT value, flag FROM observations WHERE area_id = '0101' "
            "AND variable = 'foreigners' AND ref_date = '2024-12-31'"
        ).fetchall()
        assert cell == [(None, "secret")]
        for area in ("0101", "01", "K"):  # the quarter and every sum over it
            assert value(db, "foreigner_share", area)[0::3] == (None, "secret")
        assert value(db, "foreigner_share", "0201")[0::3] == (10.0, None)
        assert value(db, "segregation_is_foreigners", "K", level="quarter")[3] == "incomplete"
        assert value(db, "foreigner_share", "0101", "2023-12-31")[3] is None


def test_xlsx_table(tmp_path, raw):
    write_xlsx(raw, merged=None)
    profile = load_profile(write_profile(tmp_path, raw, xlsx_profile))
    result = build(profile)
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        assert value(db, "foreigner_share", "K")[:3] == (27.0, 270, 1000)
        assert value(db, "foreigner_share", "0202")[:3] == (40.0, 160, 400)


# --- broken input ----------------------------------------------------------------------

# case -> (edit of the raw copy, file, line, column, words in the message)
CASES = {
    "missing column": (
        lambda raw: edit_lines(raw, drop_column("under_18")),
        TABLE_2024,
        1,
        "under_18",
        "missing column 'under_18'",
    ),
    "renamed column": (
        lambda raw: edit_lines(
            raw, lambda ls: [ls[0].replace(",foreigners,", ",auslaender,"), *ls[1:]]
        ),
        TABLE_2024,
        1,
        "foreigners",
        "missing column 'foreigners'",
    ),
    "duplicate area": (
        lambda raw: edit_lines(raw, set_cell(4, "gebiet", "0102")),
        TABLE_2024,
        4,
        "gebiet",
        "area '0102' occurs twice (lines 3 and 4)",
    ),
    "negative count": (
        lambda raw: edit_lines(raw, set_cell(4, "under_18", "-40")),
        TABLE_2024,
        4,
        "under_18",
        "negative",
    ),
    "not a number": (
        lambda raw: edit_lines(raw, set_cell(2, "germans", "8o")),
        TABLE_2024,
        2,
        "germans",
        "found '8o', expected a count",
    ),
    # foreigners under 18 (55) > under 18 (50), though <= foreigners (60)
    "subgroup > total": (
        lambda raw: edit_lines(raw, set_cell(3, "foreigners_under_18", "55")),
        TABLE_2024,
        3,
        "foreigners_under_18",
        "foreigners_under_18 = 55 is larger than its total under_18 = 50",
    ),
    # total 401 != germans 240 + foreigners 160
    "sums violated": (
        lambda raw: edit_lines(raw, set_cell(5, "total", "401")),
        TABLE_2024,
        5,
        "total",
        "total = 401 but the sum of germans + foreigners is 400",
    ),
    "code wrong length": (
        lambda raw: edit_lines(raw, set_cell(4, "gebiet", "02010")),
        TABLE_2024,
        4,
        "gebiet",
        "unknown area code '02010'",
    ),
    "truncated file": (
        lambda raw: edit_lines(raw, lambda ls: [*ls[:-1], ls[-1][:16]]),
        TABLE_2024,
        5,
        None,
        "truncated",
    ),
    "empty file": (
        lambda raw: (raw / TABLE_2023).write_bytes(b""),
        TABLE_2023,
        1,
        None,
        "empty file",
    ),
    "file name without date": (
        lambda raw: (raw / TABLE_2023).rename(raw / "tabellen/bevoelkerung_2023.csv"),
        "tabellen/bevoelkerung_2023.csv",
        None,
        None,
        "reference-date pattern",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_broken_table(tmp_path, raw, good_curated, capsys, case):
    edit, name, line, column, words = CASES[case]
    edit(raw)
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / name, line, column)
    assert words in str(err)
    assert str(err).startswith(str(raw / name))


def test_wrong_encoding(tmp_path, raw, good_curated, capsys):
    # 'Mühlenviertel' on line 3 in latin-1 bytes; the profile declares nothing (utf-8)
    path = raw / TABLE_2024
    path.write_bytes(
        path.read_bytes().replace("Mühlenviertel".encode(), "Mühlenviertel".encode("latin-1"))
    )
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line) == (path, 3)
    # '0102,M' is 6 bytes: the ü (0xfc) is byte 7 of the line
    assert "byte 0xfc at byte column 7 is not valid utf-8" in str(err)


def test_unknown_district(tmp_path, raw, good_curated, capsys):
    edit_lines(raw, set_cell(5, "gebiet", "9902"))  # district 99 is not in bezirke.geojson
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line) == (raw / TABLE_2024, 5)
    assert "unknown area code '9902': district '99' is not in geometrie/bezirke.geojson" in str(err)


def test_unknown_district_names_the_code_column(tmp_path, raw):
    edit_lines(raw, set_cell(5, "gebiet", "9902"))
    with pytest.raises(InputError) as info:
        build(load_profile(write_profile(tmp_path, raw)))
    assert info.value.column == "gebiet"


def write_xlsx(raw: Path, merged: str | None) -> Path:
    """The 2024 table as XLSX (numbers as numbers), optionally with merged header cells;
    the CSV files are removed."""
    lines = (raw / TABLE_2024).read_text(encoding="utf-8").splitlines()
    book = openpyxl.Workbook()
    sheet = book.active
    for number, line in enumerate(lines):
        cells = line.split(",")
        sheet.append(cells if number == 0 else cells[:2] + [int(c) for c in cells[2:]])
    if merged:
        sheet.merge_cells(merged)
    for path in (raw / "tabellen").glob("*.csv"):
        path.unlink()
    path = raw / "tabellen/bevoelkerung_2024-12-31.xlsx"
    book.save(path)
    return path


def xlsx_profile(data: dict) -> None:
    data["tables"][0]["files"] = "tabellen/bevoelkerung_*.xlsx"


def test_xlsx_merged_header(tmp_path, raw, good_curated, capsys):
    path = write_xlsx(raw, merged="C1:D1")  # 'total' and 'germans' merged into one cell
    err = expect_failure(tmp_path, raw, good_curated, capsys, edit_profile=xlsx_profile)
    assert (Path(err.file), err.line, err.column) == (path, 1, "C1:D1")
    assert "merged header cells C1:D1" in str(err)


def control_table(raw: Path, total_0201: str) -> None:
    """A second table 'kontrolle' giving the total of every quarter again (2024)."""
    rows = ["gebiet,total", "0101,100", "0102,200", f"0201,{total_0201}", "0202,400"]
    (raw / "tabellen/kontrolle_2024-12-31.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")


def add_control_table(conflicts: str) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        data["tables"].append(
            {
                "id": "kontrolle",
                "adapter": "area_table",
                "conflicts": conflicts,
                "files": "tabellen/kontrolle_*.csv",
                "attribution": "Testdaten Kleinstadt",
                "ref_date": {"regex": r"kontrolle_(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"},
                "area_column": "gebiet",
                "counts": [{"term": "total", "add": "total"}],
            }
        )

    return edit


def test_tables_disagreeing_is_an_error(tmp_path, raw, good_curated, capsys):
    control_table(raw, "310")  # bevoelkerung says 300 for 0201
    err = expect_failure(
        tmp_path, raw, good_curated, capsys, edit_profile=add_control_table("error")
    )
    assert (Path(err.file), err.line, err.column) == (raw / TABLE_2024, 4, "total")
    assert "total = 300 for area 0201" in str(err)
    assert "kontrolle_2024-12-31.csv line 4 (total) gives 310" in str(err)


def test_tables_disagreeing_with_conflicts_warn(tmp_path, raw):
    control_table(raw, "310")
    profile = load_profile(write_profile(tmp_path, raw, add_control_table("warn")))
    result = build(profile)
    assert [w for w in result.warnings if "disagrees" in w] == [
        "table 'kontrolle' disagrees with 'bevoelkerung' on 1 count(s), by up to 10 (first: "
        "kontrolle_2024-12-31.csv line 4, total = 310, but bevoelkerung_2024-12-31.csv gives "
        "300); the value of 'bevoelkerung' is used"
    ]
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        assert value(db, "population", "0201")[0] == 300
        assert value(db, "foreigner_share", "K")[:3] == (27.0, 270, 1000)


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda d: d["tables"][0]["counts"].append({"term": "auslaender", "add": "foreigners"}),
            "table 'bevoelkerung', counts entry 6: unknown group or measure 'auslaender'",
        ),
        (
            lambda d: d["geography"]["code_lengths"].pop("quarter"),
            "field 'geography.code_lengths': expected one code length for each level",
        ),
        (lambda d: d["tables"][0].pop("area_column"), "area_column"),
        (
            lambda d: d["tables"][0]["counts"].append(
                {"term": ["net_migration_abroad", "foreigners"], "add": "foreigners"}
            ),
            "counts entry 6: 'foreigners&net_migration_abroad' is a balance, computed from its "
            "components after protection; map ['arrivals_abroad', 'foreigners'] and "
            "['departures_abroad', 'foreigners'] instead",
        ),
    ],
)
def test_profile_mistake_is_a_config_error(tmp_path, raw, good_curated, capsys, edit, words):
    err = expect_failure(tmp_path, raw, good_curated, capsys, error=ConfigError, edit_profile=edit)
    assert str(err).startswith(str(tmp_path / "profile.yaml"))
    assert words in str(err)


def test_negative_difference_names_file_line_and_mapping(tmp_path, raw, good_curated, capsys):
    """``add`` minus ``subtract`` below zero is no count: 0101 has 4 − 15 = −11 in 2023."""
    mapping = {"term": "employees", "add": "foreigners_under_18", "subtract": "foreigners"}
    err = expect_failure(
        tmp_path,
        raw,
        good_curated,
        capsys,
        edit_profile=lambda d: d["tables"][0]["counts"].append(mapping),
    )
    assert Path(err.file) == raw / "tabellen/bevoelkerung_2023-12-31.csv" and err.line == 2
    words = (
        "count 'employees' for area 0101 on 2023-12-31 is -11 (foreigners + foreigners_under_18;"
    )
    assert words in str(err)
    assert "table 'bevoelkerung', counts entry 6: add minus subtract" in str(err)


def test_area_missing_from_one_date_is_an_error(tmp_path, raw, good_curated, capsys):
    """By default a finest area without a row on one date stops the build: a row lost by
    accident must not make the district and city totals too low."""
    edit_lines(raw, lambda ls: [ls[0], ls[1], *ls[3:]], TABLE_2023)  # drop 0102 (210)
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert "no row for area(s) 0102 of vintage 'v2020' on 2023-12-31" in str(err)
    assert Path(err.file) == raw / TABLE_2023 and err.column == "gebiet"


def test_area_missing_from_one_date_counts_zero_when_declared(tmp_path, raw):
    """With ``absent_units: zero`` such an area counts 0 there and the build lists it
    (district 01 then has 90 + 0 residents). 0102 first delivered in 2024 is a new area
    (no quarter boundaries, not in the 2023 table) and must be declared as one."""
    edit_lines(raw, lambda ls: [ls[0], ls[1], *ls[3:]], TABLE_2023)  # drop 0102 (210)

    def zero(data: dict) -> None:
        data["geography"].update(absent_units="zero")

    with pytest.raises(InputError, match="unknown area code '0102' on 2024-12-31"):
        build(load_profile(write_profile(tmp_path, raw, zero)))

    def declared(data: dict) -> None:
        zero(data)
        new = {"id": "0102", "parent": "01", "since": "2024-12-31", "reason": "test"}
        data["consistency"] = {"new_areas": [new]}

    profile = write_profile(tmp_path, raw, declared)
    result = build(load_profile(profile))
    assert (
        "v2020: areas without a row in the data count as 0 on these dates — 2023-12-31: 0102"
    ) in result.warnings
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        assert value(db, "population", "0102", "2023-12-31")[0] == 0
        assert value(db, "population", "01", "2023-12-31")[0] == 90
        assert value(db, "population", "01")[0] == 300  # 2024 complete: 100 + 200
