"""A GENESIS export's own totals against the sum of its areas (#20): a Land = its
Regierungsbezirke (or Kreise), a Regierungsbezirk = its Kreise, wherever the file delivers
the total and every area (etl.sources.genesis_csv.check_totals). Hand-made exports with
hand-computed sums, and the real exports of ../shared/data as profiles/rlp-kreise.yaml
reads them, which pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.errors import InputError
from etl.profile import load_profile
from etl.sources import genesis_csv
from etl.sources.genesis_csv import check_totals, read_table
from etl.transform.counts import _members
from tests.conftest import REPO, SHARED_DATA
from tests.etl.test_corpus import GENESIS_13111

HEADER = """GENESIS-Tabelle: 99999-01-01-4
Testtabelle: Personen nach Nationalität - Stichtag 31.12. -;;;;;
;;;;Insgesamt;Ausländer(innen);Ausländeranteil
;;;;Anzahl;Anzahl;Prozent
"""
FOOTER = "__________\nStand: 01.01.2021 / 00:00:00\n"
# line 5: DG (never compared: GENESIS counts persons without a Land there) = 07 + 08;
# 07 = 071 + 072 (600 = 350 + 250); 071 = 07111 + 07131; 072 = 07211; 08 = 08111
ROWS = [
    "31.12.2020;DG;Deutschland;Insgesamt;1000;100;10,0",
    "31.12.2020;07;  Rheinland-Pfalz;Insgesamt;600;70;11,7",
    "31.12.2020;071;    Koblenz, Stat. Region;Insgesamt;350;40;11,4",
    "31.12.2020;07111;      Koblenz, Kreisfreie Stadt;Insgesamt;150;25;16,7",
    "31.12.2020;07131;      Ahrweiler, Landkreis;Insgesamt;200;15;7,5",
    "31.12.2020;072;    Trier, Stat. Region;Insgesamt;250;30;12,0",
    "31.12.2020;07211;      Trier, Kreisfreie Stadt;Insgesamt;250;30;12,0",
    "31.12.2020;08;  Baden-Württemberg;Insgesamt;400;30;7,5",
    "31.12.2020;08111;      Stuttgart;Insgesamt;400;30;7,5",
]
FIRST = 5  # file line of ROWS[0]


def write(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "genesis_99999-01-01-4_test.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n" + FOOTER, encoding="utf-8")
    return path


def changed(rows: list[str], index: int, field: int, value: str) -> list[str]:
    rows = list(rows)
    fields = rows[index].split(";")
    fields[field - 1] = value
    rows[index] = ";".join(fields)
    return rows


def check(path: Path, mode: str = "error", title: str | None = None) -> list[str]:
    table = read_table(path)
    if title is not None:
        table.title = title
    return check_totals(path, table, table.rows["region_code"] != "", mode)


def test_totals_that_add_up_pass(tmp_path):
    assert check(write(tmp_path, ROWS)) == []


def test_germany_is_not_compared(tmp_path):
    assert check(write(tmp_path, changed(ROWS, 0, 5, "1001"))) == []


def test_a_kreis_value_changed_names_its_region_total(tmp_path):
    """07131: 200 -> 210; 071 says 350, its Kreise sum to 150 + 210 = 360."""
    path = write(tmp_path, changed(ROWS, 4, 5, "210"))
    with pytest.raises(InputError) as info:
        check(path)
    assert (info.value.file, info.value.line, info.value.column) == (str(path), FIRST + 2, "5")
    assert str(info.value) == (
        f"{path}, line {FIRST + 2}, column '5': the total of region 071 (Koblenz, Stat. "
        "Region) for 31.12.2020, row 'Insgesamt', 'Insgesamt' is 350, but its 2 area rows "
        "(07111, 07131) sum to 360; expected the total to equal the sum of its areas (an "
        "area row dropped or a value mistyped?)"
    )


def test_a_dropped_kreis_row(tmp_path):
    """Without 07211, region 072 (250) has no area row left: nothing to compare there; 07 =
    071 + 072 still holds. Without 07111, 071 says 350 but 07131 alone is 200."""
    assert check(write(tmp_path, [r for r in ROWS if ";07211;" not in r])) == []
    path = write(tmp_path, [r for r in ROWS if ";07111;" not in r])
    with pytest.raises(InputError, match=r"is 350, but its 1 area rows \(07131\) sum to 200"):
        check(path)


def test_several_findings_are_counted(tmp_path):
    """07111: 150 -> 160 and 25 -> 26 foreigners: region 071 is off in two columns; the
    error names the first and counts the other."""
    rows = changed(changed(ROWS, 3, 5, "160"), 3, 6, "26")
    with pytest.raises(InputError) as info:
        check(write(tmp_path, rows))
    assert (info.value.line, info.value.column) == (FIRST + 2, "5")
    assert str(info.value).endswith(
        "(an area row dropped or a value mistyped?) … and 1 more (2 in all: 2 × total ≠ sum "
        "of its areas)"
    )


def test_warn_lists_the_findings(tmp_path):
    path = write(tmp_path, changed(ROWS, 4, 5, "210"))
    assert check(path, "warn") == [
        f"{path}, line {FIRST + 2}, column 5: the total of region 071 (Koblenz, Stat. Region) "
        "for 31.12.2020, row 'Insgesamt', 'Insgesamt' is 350, but its 2 area rows "
        "(07111, 07131) sum to 360; expected the total to equal the sum of its areas (an "
        "area row dropped or a value mistyped?)"
    ]


def test_percentages_and_flagged_cells_are_not_summed(tmp_path):
    """The Prozent column never adds up; a secret ('.') Kreis leaves its total unchecked."""
    assert check(write(tmp_path, changed(ROWS, 3, 7, "99,9"))) == []
    assert check(write(tmp_path, changed(ROWS, 3, 5, "."))) == []


def test_rounded_annual_averages_may_differ_by_half_a_unit_per_area(tmp_path):
    """In a table of annual averages each value is rounded on its own: 071 (2 Kreise) may
    be off by (2 + 1) / 2 = 1.5, not by 2."""
    average = "Arbeitslose - Jahresdurchschnitt -"
    assert check(write(tmp_path, changed(ROWS, 4, 5, "201")), title=average) == []
    with pytest.raises(InputError, match="is 350, but its 2 area rows"):
        check(write(tmp_path, changed(ROWS, 4, 5, "202")), title=average)
    with pytest.raises(InputError, match="is 350, but its 2 area rows"):
        check(write(tmp_path, changed(ROWS, 4, 5, "201")))


def test_the_real_exports_add_up_where_rlp_kreise_reads_them():
    """Rhineland-Palatinate and its Kreise in the columns profiles/rlp-kreise.yaml maps,
    in all four of its GENESIS tables (the Germany-wide files hold real differences
    elsewhere, e.g. Saxony's Kreise of 2007 counted twice in 12711)."""
    profile = load_profile(REPO / "profiles" / "rlp-kreise.yaml")
    checked = 0
    for table in profile.tables:
        [path] = sorted(profile.raw_dir.glob(table.files))
        parsed = genesis_csv.read_table(path, table.encoding)
        used = {v for m in table.counts for s in m.add + m.subtract for v in s.variables()}
        rows = _members(profile, parsed.rows["region_code"]) & parsed.rows["variable"].isin(used)
        assert check_totals(path, parsed, rows, "error") == []
        checked += int(rows.sum())
    assert checked > 10_000


def test_germany_is_not_the_sum_of_its_lander_in_the_real_export():
    """Why Germany is not compared: in the real 13111 export, Germany's row of 30.06.2014
    (line 537) repeats 30.06.2013's (line 1063) and lies 536,303 below its 16 Länder
    (lines 538-1039, summed by hand); in 2013 it lies 41 below them. The file is still
    correct for every Kreis, and its check passes."""
    path = SHARED_DATA / "genesis" / GENESIS_13111
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[536].split(";")[3] == lines[1062].split(";")[3] == "29434127"
    lander = [991402, 665212, 2846443, 222016, 6198531, 2233744, 1453712, 4121741]
    lander += [4987748, 347173, 1143845, 932712, 595363, 1542808, 844176, 843804]
    assert sum(lander) - 29434127 == 536_303
    table = read_table(path)
    assert check_totals(path, table, table.rows["region_code"] != "", "error") == []
