"""XLSX in two further shapes (tests/fixtures/onboarding):

* ``merged/bevoelkerung_stadtteile.xlsx`` — a title merged over the table (row 1), the
  indicator names merged over their year columns (row 2: Einwohner over C:D, Ausländer
  over E:F; Nr. and Stadtteil merged down over rows 2-3), the years in row 3, a source
  note below. City 00, boroughs 10 and 20, districts 1010, 1020, 2010, 2020:

  |        | 1010 | 1020 | 2010 | 2020 | 10 | 20 | 00 |
  |---|---:|---:|---:|---:|---:|---:|---:|
  | Einwohner 2022 | 1150 | 820 | 1480 | 520 | 1970 | 2000 | 3970 |
  | Einwohner 2023 | 1200 | 800 | 1500 | 500 | 2000 | 2000 | 4000 |
  | Ausländer 2022 | 180 | 190 | 290 | 60 | 370 | 350 | 720 |
  | Ausländer 2023 | 200 | 200 | 300 | 50 | 400 | 350 | 750 |

* ``shares/anteile_stadtteile_2023.xlsx`` — shares only (Ausländeranteil in %, Anteil
  unter 18 Jahren in %), no counts.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import openpyxl
import pytest
import yaml

from etl import warehouse
from etl.build import build
from etl.errors import InputError
from etl.onboarding.draft import init
from etl.profile import load_profile
from etl.sources import long_table
from tests.conftest import REPO
from tests.etl.test_long_table import values

FIXTURES = REPO / "tests" / "fixtures" / "onboarding"
MERGED = "bevoelkerung_stadtteile.xlsx"


def delivered(tmp_path: Path, shape: str) -> Path:
    shutil.copytree(FIXTURES / shape, tmp_path / "lieferung")
    return next((tmp_path / "lieferung").glob("*.xlsx"))


def test_merged_header_cells_draft_builds_unedited(tmp_path):
    out = tmp_path / "jahresspalten.yaml"
    draft = init(out, [delivered(tmp_path, "merged")], [])
    assert draft.questions == []
    [table] = yaml.safe_load(out.read_text(encoding="utf-8"))["tables"]
    assert table["date_in_column"] is True and table["header_row"] == 2
    assert table["value_columns"] == ["Einwohner", "Ausländer"]
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2022-12-31") == {
        "STADT": 3970, "10": 1970, "20": 2000, "1010": 1150, "1020": 820, "2010": 1480,
        "2020": 520,
    }  # fmt: skip
    assert values(result.snapshot, "population", "2023-12-31")["STADT"] == 4000
    share = values(result.snapshot, "foreigner_share", "2023-12-31")
    assert share["2020"] == pytest.approx(100 * 50 / 500)
    assert share["STADT"] == pytest.approx(100 * 750 / 4000)


def area_table_profile(tmp_path: Path, path: Path, counts: list[dict]) -> Path:
    data = {
        "instance": "jahre",
        "title": "Jahresstadt",
        "raw_dir": str(path.parent),
        "curated_dir": str(tmp_path / "curated"),
        "indicators": str(REPO / "indicators.yaml"),
        "levels": [
            {"id": "city", "label_de": "Stadt", "label_en": "City"},
            {"id": "district", "label_de": "Stadtteil", "label_en": "District"},
        ],
        "geography": {
            "adapter": "code_hierarchy",
            "root": {"id": "STADT", "name": "Jahresstadt"},
            "code_lengths": {"district": 4},
            "vintages": [{"id": "v1", "valid_from": "2000-01-01"}],
        },
        "tables": [
            {
                "id": "einwohner",
                "adapter": "area_table",
                "files": path.name,
                "attribution": "Testdaten",
                "area_column": "Stadtteil-Nr.",
                "ref_date": "2023-12-31",
                "header_row": 2,
                "footer_lines": 1,
                "counts": counts,
            }
        ],
        "disclosure": {"min_denominator": 1, "min_count": 1, "group_disclosure_below": 0},
    }
    profile = tmp_path / "profil.yaml"
    profile.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return profile


def districts_only(path: Path) -> None:
    """Keep the districts' rows (an area table has one level)."""
    book = openpyxl.load_workbook(path)
    sheet = book.active
    for row in sorted(
        (r for r in range(4, 11) if len(str(sheet.cell(r, 1).value)) != 4), reverse=True
    ):
        sheet.delete_rows(row)
    book.save(path)


def test_area_table_reads_merged_header_cells_as_indicator_and_year(tmp_path):
    path = delivered(tmp_path, "merged")
    districts_only(path)
    counts = [
        {"term": "total", "add": "Einwohner | 2023"},
        {"term": "foreigners", "add": "Ausländer | 2023"},
    ]
    result = build(load_profile(area_table_profile(tmp_path, path, counts)))
    assert values(result.snapshot, "population", "2023-12-31") == {
        "STADT": 4000, "1010": 1200, "1020": 800, "2010": 1500, "2020": 500
    }  # fmt: skip


def test_merged_header_without_a_row_below_is_an_error(tmp_path):
    path = delivered(tmp_path, "merged")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    for col in "CDEF":
        sheet[f"{col}3"] = None
    book.save(path)
    profile = area_table_profile(tmp_path, path, [{"term": "total", "add": "Einwohner | 2023"}])
    with pytest.raises(InputError) as caught:
        build(load_profile(profile))
    message = str(caught.value)
    assert "line 2, column 'C2:D2'" in message and "no row of names below them" in message


def test_a_missing_year_column_names_the_variable(tmp_path):
    out = tmp_path / "jahresspalten.yaml"
    init(out, [delivered(tmp_path, "merged")], [])
    text = out.read_text(encoding="utf-8")
    out.write_text(text.replace('"Ausländer"]', '"Ausländer", "Deutsche"]'), encoding="utf-8")
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    data["tables"][0]["counts"].append({"term": "germans", "add": "Deutsche"})
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError, match=r"no column 'Deutsche \| <year>' \(date_in_column"):
        build(load_profile(out))


def test_shares_only_is_a_question_in_the_draft(tmp_path):
    draft = init(tmp_path / "anteile.yaml", [delivered(tmp_path, "shares")], [])
    [question] = [q for q in draft.questions if q.startswith("Anteile ohne Zählwerte")]
    assert "anteile_stadtteile_2023.xlsx has shares only" in question
    assert "Ausländeranteil in %, Anteil unter 18 Jahren in %" in question


def test_a_share_mapped_as_a_count_is_refused(tmp_path):
    out = tmp_path / "anteile.yaml"
    init(out, [delivered(tmp_path, "shares")], [])
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    [table] = data["tables"]
    table["value_columns"] = ["Ausländeranteil in %"]
    table["rate_variables"] = []
    table["counts"] = [{"term": "foreigners", "add": "Ausländeranteil in %"}]
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        build(load_profile(out))
    message = str(caught.value)
    assert "anteile_stadtteile_2023.xlsx, line 3" in message
    assert "Anteile ohne Zählwerte: 'Ausländeranteil in %' is a share" in message


def test_refresh_reads_the_years_of_the_merged_columns(tmp_path):
    out = tmp_path / "jahresspalten.yaml"
    path = delivered(tmp_path, "merged")
    init(out, [path], [])
    [table] = load_profile(out).tables
    assert long_table.ref_dates(path, table) == [date(2022, 12, 31), date(2023, 12, 31)]


def test_shares_published_as_the_office_published_them(tmp_path):
    """Shares only, the office's own published shares: listed under ``rate_variables`` and
    read by an ``observed`` indicator of the instance's catalogue (a measure with
    ``additive: false``), each published as delivered - value only, no numerator or
    denominator, the city's own row as the city's value (not a sum) - as the unemployment
    rates of GENESIS are. The values are the fixture's cells."""
    out = tmp_path / "anteile.yaml"
    init(out, [delivered(tmp_path, "shares")], [])
    spec = yaml.safe_load((REPO / "indicators.yaml").read_text(encoding="utf-8"))
    spec["measures"]["foreigner_share_published"] = {
        "label": {
            "de": "Ausländeranteil (veröffentlicht)",
            "en": "Share of foreigners (published)",
        },
        "additive": False,
    }
    spec["indicators"].append(  # beside the catalogue's own (without data here)
        {
            "id": "foreigner_share_published",
            "topic": "bevoelkerung",
            "function": "observed",
            "of": "foreigner_share_published",
            "unit": "percent",
            "title": {"de": "Ausländeranteil", "en": "Share of foreigners"},
            "definition": {
                "de": "Ausländeranteil in %, wie vom Amt veröffentlicht.",
                "en": "Share of foreigners in %, as published by the office.",
            },
        }
    )
    catalogue = tmp_path / "indicators.yaml"
    catalogue.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    data["indicators"] = str(catalogue)
    [table] = data["tables"]
    table["rate_variables"] = ["Ausländeranteil in %"]
    table["counts"] = [{"term": "foreigner_share_published", "add": "Ausländeranteil in %"}]
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    profile = load_profile(out)
    build(profile)
    published = warehouse.published(profile.curated_dir) / warehouse.PUBLICATION
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "SELECT area_id, value, numerator, denominator FROM indicator_values "
            "WHERE indicator_id = 'foreigner_share_published' ORDER BY area_id"
        ).fetchall()
    assert rows == [
        ("1010", 16.7, None, None),
        ("1020", 25.0, None, None),
        ("2010", 20.0, None, None),
        ("2020", 10.0, None, None),
        ("STADT", 18.8, None, None),  # the office's city row, not a mean of the four
    ]
