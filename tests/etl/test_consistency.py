"""Consistency across tables and time (etl/transform/consistency.py, #20 item 1) on a tiny
instance in the shape of Berlin's LOR tables (tests/fixtures/consistency): two tables per
date describing the same residents, planning areas without boundaries, ``absent_units:
zero`` as Berlin. Each broken copy stops with one error naming file, line and column, and
nothing published changes; with ``warn`` the finding is listed and the build goes on.

2024-12-31, both tables (einwohner: total/germans/foreigners; alter: total/under 18/
18–64/65+/foreigners), data lines 2–5:

    01100310  100  80  20 | 100 30  50 20
    01100311  200 140  60 | 200 50 110 40
    02100101  300 270  30 | 300 40 180 80
    02100102  400 240 160 | 400 90 250 60      city: 1000 residents, 270 foreigners

2023-12-31: totals 90, 210, 310, 390 (foreigners 15, 60, 30, 150; under 18: 25, 55, 41, 88).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from etl import plausibility, warehouse
from etl.build import build
from etl.errors import ConfigError, InputError
from etl.profile import load_profile
from tests.conftest import REPO
from tests.etl import test_area_table as area_table_tests

FIXTURE = REPO / "tests" / "fixtures" / "consistency"
ALTER_2024 = "tabellen/alter_2024-12-31.csv"
ALTER_2023 = "tabellen/alter_2023-12-31.csv"
EINWOHNER_2024 = "tabellen/einwohner_2024-12-31.csv"


def write_profile(folder: Path, raw: Path, edit: Callable[[dict], None] | None = None) -> Path:
    return area_table_tests.write_profile(folder, raw, edit, FIXTURE)


def replace(raw: Path, name: str, old: str, new: str) -> None:
    path = raw / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def drop_line(raw: Path, name: str, line: int) -> None:
    path = raw / name
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[: line - 1] + lines[line:]), encoding="utf-8")


def consistency(**settings) -> Callable[[dict], None]:
    def edit(data: dict) -> None:
        data["consistency"] = settings

    return edit


def value(db, indicator: str, area: str, ref_date: str = "2024-12-31") -> tuple:
    rows = db.execute(
        "SELECT value, numerator, denominator FROM indicator_values "
        "WHERE indicator_id = ? AND area_id = ? AND ref_date = ?",
        [indicator, area, ref_date],
    ).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def raw(tmp_path) -> Path:
    target = tmp_path / "raw"
    shutil.copytree(FIXTURE / "raw", target)
    return target


@pytest.fixture(scope="module")
def good_curated(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("consistency")
    profile = load_profile(write_profile(folder, FIXTURE / "raw"))
    build(profile)
    return profile.curated_dir


def expect_failure(
    tmp_path: Path,
    raw: Path,
    good_curated: Path,
    capsys,
    edit: Callable[[dict], None] | None = None,
    error: type[Exception] = InputError,
) -> Exception:
    """One ``error`` from the build; ``imon build`` exits 2 printing it, and an earlier
    published snapshot stays byte for byte as it was (tests/etl/test_area_table.py)."""
    return area_table_tests.expect_failure(
        tmp_path, raw, good_curated, capsys, error, edit_profile=edit, fixture=FIXTURE
    )


def build_warned(tmp_path: Path, raw: Path, edit: Callable[[dict], None]):
    return build(load_profile(write_profile(tmp_path, raw, edit)))


# --- known answers -----------------------------------------------------------------------


def test_fixture_builds_with_hand_computed_totals(good_curated):
    db_path = good_curated / warehouse.CURRENT / warehouse.DATABASE
    with duckdb.connect(str(db_path), read_only=True) as db:
        assert value(db, "population", "K")[0] == 1000
        assert value(db, "population", "K", "2023-12-31")[0] == 1000  # 90+210+310+390
        assert value(db, "foreigner_share", "K")[:3] == (27.0, 270, 1000)
        # under 18: 30 + 50 + 40 + 90 = 210 of 1000; 2023: 25 + 55 + 41 + 88 = 209
        assert value(db, "age_under_18_share", "K")[:2] == (21.0, 210)
        assert value(db, "age_under_18_share", "K", "2023-12-31")[:2] == (20.9, 209)


# --- a mistyped code in one of two tables ------------------------------------------------


def test_mistyped_code_in_one_table(tmp_path, raw, good_curated, capsys):
    """The measured Berlin case: 01100310 typed 01100399 in one table."""
    replace(raw, ALTER_2024, "01100310,", "01100399,")
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / ALTER_2024, 2, "id")
    assert (
        "area '01100399' on 2024-12-31 is in table 'alter' but not in table 'einwohner'; "
        "table 'alter' has no row for 01100310 — a mistyped or extra code?"
    ) in str(err)


def test_mistyped_code_on_the_first_date(tmp_path, raw, good_curated, capsys):
    """No earlier delivery and no boundary to compare with: the other table catches it."""
    replace(raw, ALTER_2023, "02100102,", "02100192,")
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / ALTER_2023, 5, "id")
    assert "area '02100192' on 2023-12-31 is in table 'alter'" in str(err)


def test_mistyped_code_unknown_in_time(tmp_path, raw, good_curated, capsys):
    """Without the cross-table check the code is still unknown: not in a boundary file,
    not delivered on 2023-12-31, not declared new."""
    replace(raw, ALTER_2024, "01100310,", "01100399,")
    err = expect_failure(tmp_path, raw, good_curated, capsys, edit=consistency(missing_rows="warn"))
    assert (Path(err.file), err.line, err.column) == (raw / ALTER_2024, 2, "id")
    assert str(err).endswith(
        "unknown area code '01100399' on 2024-12-31: not in the data of vintage 'v2020' nor "
        "delivered on an earlier date; a mistyped code? A new area is declared in the "
        "profile: consistency.new_areas: [{id: '01100399', parent: …, since: 2024-12-31}]"
    )


def test_mistyped_code_with_warn_is_listed_and_counted_twice(tmp_path, raw):
    """``warn`` for both checks: the build goes on and lists both findings; the city then
    counts the mistyped area's 100 residents again (1000 + 100), as Berlin's 3,897,145 →
    3,907,326 — which is why the default is an error."""
    replace(raw, ALTER_2024, "01100310,", "01100399,")
    edit = consistency(missing_rows="warn", unknown_areas="warn")
    profile = load_profile(write_profile(tmp_path, raw, edit))
    result = build(profile)
    assert (
        "alter_2024-12-31.csv: area '01100399' on 2024-12-31 is in table 'alter' but not in "
        "table 'einwohner'; table 'alter' has no row for 01100310 — a mistyped or extra code? "
        "Tables describing the same population must have the same areas "
        "(consistency.same_population) (and 1 more area(s))"
    ) in result.warnings
    assert "v2020: 2024-12-31: new area code(s) not declared: 01100399" in result.warnings
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        assert value(db, "population", "K")[0] == 1100
    # listed in the plausibility report (terminal summary and report.html)
    report = plausibility.compare(result.snapshot / warehouse.DATABASE, None, profile)
    rows = [r[0] for r in report.section("build_warnings").rows]
    assert rows == result.warnings
    assert "v2020: 2024-12-31: new area code(s) not declared: 01100399" in "\n".join(
        plausibility.summary(report, examples=10)
    )
    assert "new area code(s) not declared: 01100399" in plausibility.to_html(report)


# --- new areas -----------------------------------------------------------------------------


def add_area(raw: Path) -> None:
    """Planning area 01100312 (50 residents, 10 foreigners) first delivered in 2024."""
    for name, row in (
        (EINWOHNER_2024, "01100312,Neubau,50,40,10\n"),
        (ALTER_2024, "01100312,50,10,35,5,10\n"),
    ):
        with (raw / name).open("a", encoding="utf-8") as handle:
            handle.write(row)


def test_new_area_must_be_declared(tmp_path, raw, good_curated, capsys):
    add_area(raw)
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / ALTER_2024, 6, "id")
    assert "unknown area code '01100312' on 2024-12-31" in str(err)


def test_declared_new_area_is_counted(tmp_path, raw):
    add_area(raw)
    new = {"id": "01100312", "parent": "01", "since": "2024-12-31", "reason": "Neubaugebiet"}
    result = build_warned(tmp_path, raw, consistency(new_areas=[new]))
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        assert value(db, "population", "K")[0] == 1050
        assert value(db, "population", "01")[0] == 350  # 100 + 200 + 50
        assert value(db, "foreigner_share", "K")[1:] == (280, 1050)


def test_new_area_with_wrong_parent_is_a_profile_error(tmp_path, raw, good_curated, capsys):
    add_area(raw)
    new = {"id": "01100312", "parent": "02", "since": "2024-12-31"}
    err = expect_failure(
        tmp_path, raw, good_curated, capsys, edit=consistency(new_areas=[new]), error=ConfigError
    )
    assert (
        "consistency.new_areas: '01100312' with parent '02': expected a 8-digit code of "
        "level 'planning_area' whose parent is '01'"
    ) in str(err)


# --- a row missing from one table --------------------------------------------------------


def test_row_missing_from_one_of_two_tables(tmp_path, raw, good_curated, capsys):
    """Two tables: which one is wrong cannot be told; the error names the row the other
    table lacks."""
    drop_line(raw, ALTER_2024, 5)  # 02100102
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / EINWOHNER_2024, 5, "id")
    assert "area '02100102' on 2024-12-31 is in table 'einwohner' but not in table 'alter'" in str(
        err
    )


def third_table(raw: Path) -> Callable[[dict], None]:
    """A third table 'kontrolle' with the totals of einwohner (both dates)."""
    for year in ("2023", "2024"):
        rows = (raw / f"tabellen/einwohner_{year}-12-31.csv").read_text(encoding="utf-8")
        lines = [",".join(line.split(",")[:1] + line.split(",")[2:3]) for line in rows.splitlines()]
        (raw / f"tabellen/kontrolle_{year}-12-31.csv").write_text(
            "\n".join(lines) + "\n", encoding="utf-8"
        )

    def edit(data: dict) -> None:
        data["tables"].append(
            {
                "id": "kontrolle",
                "adapter": "area_table",
                "files": "tabellen/kontrolle_*.csv",
                "attribution": "Testdaten Kleinstadt",
                "ref_date": {"regex": r"kontrolle_(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"},
                "area_column": "id",
                "counts": [{"term": "total", "add": "inhabitants"}],
            }
        )

    return edit


def test_row_missing_from_one_of_three_tables(tmp_path, raw, good_curated, capsys):
    edit = third_table(raw)
    drop_line(raw, ALTER_2024, 5)  # 02100102
    err = expect_failure(tmp_path, raw, good_curated, capsys, edit=edit)
    assert (Path(err.file), err.line, err.column) == (raw / ALTER_2024, None, "id")
    assert (
        "no row for area '02100102' on 2024-12-31 in table 'alter', but tables 'einwohner', "
        "'kontrolle' have one (einwohner_2024-12-31.csv line 5)"
    ) in str(err)


def test_tables_of_other_populations_are_not_compared(tmp_path, raw):
    """Declared as different populations, a table may cover other areas."""
    drop_line(raw, ALTER_2024, 5)
    result = build_warned(
        tmp_path,
        raw,
        lambda d: (
            consistency(same_population=[["einwohner"], ["alter"]])(d),
            d["geography"].update(absent_units="zero"),
        ),
    )
    assert not [w for w in result.warnings if "same population" in w]


def test_unknown_table_in_same_population(tmp_path, raw, good_curated, capsys):
    err = expect_failure(
        tmp_path,
        raw,
        good_curated,
        capsys,
        edit=consistency(same_population=[["einwohner", "alte"]]),
        error=ConfigError,
    )
    assert "consistency.same_population: unknown table 'alte'" in str(err)


# --- totals --------------------------------------------------------------------------------


def disagree(raw: Path) -> None:
    """alter gives 02100101 310 residents (one more 18–64: 190), einwohner 300."""
    replace(raw, ALTER_2024, "02100101,300,40,180,", "02100101,310,40,190,")


def test_tables_disagreeing_on_a_total(tmp_path, raw, good_curated, capsys):
    disagree(raw)
    err = expect_failure(tmp_path, raw, good_curated, capsys)
    assert (Path(err.file), err.line, err.column) == (raw / EINWOHNER_2024, 4, "inhabitants")
    assert (
        "inhabitants = 300 for area 02100101, but alter_2024-12-31.csv line 4 (inhabitants) "
        "gives 310 for the same count 'total'"
    ) in str(err)


def test_totals_warn_lists_every_disagreement(tmp_path, raw):
    disagree(raw)
    result = build_warned(tmp_path, raw, consistency(totals="warn"))
    assert [w for w in result.warnings if "disagrees" in w] == [
        "table 'alter' disagrees with 'einwohner' on 1 count(s), by up to 10 (first: "
        "alter_2024-12-31.csv line 4, inhabitants = 310, but einwohner_2024-12-31.csv gives "
        "300); the value of 'einwohner' is used"
    ]
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as db:
        assert value(db, "population", "K")[0] == 1000
