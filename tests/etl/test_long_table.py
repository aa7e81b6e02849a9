"""Long-format tables (adapter ``long_table``), names through an id map, fixed and
year-only reference dates, reconciliation of the office's coarser totals.

Fixture tests/fixtures/onboarding/long/bevoelkerung_stadtteile.csv (``;``, decimal ``,``,
thousands ``.``, UTF-8 with BOM, CRLF): one row per year x area x variable, the city
(code 0) and the boroughs (1, 2) among the districts (101, 102 in 1; 201, 202 in 2).

    2023       total  Deutsche  Ausländer  unter 18  65+
    101        1.200     1.000        200       240  300
    102          800       600        200       160  150
    201        1.500     1.200        300       330  280
    202          500       450         50        90  120
    borough 1  2.000     1.600        400       400  450   (= 101 + 102)
    borough 2  2.012     1.660        352       420  400   (parts: 2.000, 1.650, 350, 420, 400)
    city 0     4.012     3.260        752       820  850   (parts: 4.000, 3.250, 750, 820, 850)

2022 is consistent (city 3.970 = 1.970 + 2.000). So 2023 has six differences: city and
borough 2, each for total (+12), Deutsche (+10) and Ausländer (+2).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from etl import warehouse
from etl.build import build
from etl.errors import ConfigError, InputError
from etl.profile import load_profile
from tests.conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "onboarding" / "long"
FILE = "bevoelkerung_stadtteile.csv"


def long_profile(folder: Path, **table: object) -> dict:
    return {
        "instance": "lang",
        "title": "Langstadt",
        "raw_dir": str(folder / "raw"),
        "curated_dir": str(folder / "curated"),
        "indicators": str(REPO / "indicators.yaml"),
        "levels": [
            {"id": "city", "label_de": "Stadt", "label_en": "City"},
            {"id": "borough", "label_de": "Stadtbezirk", "label_en": "Borough"},
            {"id": "district", "label_de": "Stadtteil", "label_en": "District"},
        ],
        "geography": {
            "adapter": "code_hierarchy",
            "root": {"id": "STADT", "name": "Langstadt"},
            "code_lengths": {"borough": 1, "district": 3},
            "vintages": [{"id": "v1", "valid_from": "2000-01-01"}],
        },
        "tables": [
            {
                "id": "bevoelkerung",
                "adapter": "long_table",
                "files": FILE,
                "attribution": "Testdaten",
                "separator": ";",
                "decimal": ",",
                "thousands": ".",
                "area_column": "Gebiet",
                "date_column": "Jahr",
                "variable_column": "Merkmal",
                "value_column": "Anzahl",
                "city_codes": ["0"],
                "counts": [
                    {"term": "total", "add": "Einwohner insgesamt"},
                    {"term": "germans", "add": "Deutsche"},
                    {"term": "foreigners", "add": "Ausländer/-innen"},
                    {"term": "under_18", "add": "unter 18 Jahre"},
                ],
                **table,
            }
        ],
        "disclosure": {"min_denominator": 1, "min_count": 1, "group_disclosure_below": 0},
    }


def setup(tmp_path: Path, data: dict, edit=None) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "raw")
    if edit:
        path = tmp_path / "raw" / FILE
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        path.write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def values(snapshot: Path, indicator: str, ref_date: str) -> dict[str, float]:
    with duckdb.connect(str(snapshot / warehouse.DATABASE), read_only=True) as con:
        rows = con.execute(
            "SELECT area_id, value FROM indicator_values WHERE indicator_id = ? AND ref_date = ?",
            [indicator, ref_date],
        ).fetchall()
    return dict(rows)


def test_long_table_builds_sums_and_lists_every_difference(tmp_path):
    result = build(load_profile(setup(tmp_path, long_profile(tmp_path))))
    population = values(result.snapshot, "population", "2023-12-31")
    assert population == {
        "STADT": 4000, "1": 2000, "2": 2000, "101": 1200, "102": 800, "201": 1500, "202": 500
    }  # fmt: skip
    assert values(result.snapshot, "population", "2022-12-31")["STADT"] == 3970
    share = values(result.snapshot, "foreigner_share", "2023-12-31")
    assert share["101"] == pytest.approx(100 * 200 / 1200)
    assert share["STADT"] == pytest.approx(100 * 750 / 4000)
    [warning] = [w for w in result.warnings if "office total" in w]
    assert "6 office total(s)" in warning
    assert "2023-12-31 city Langstadt (STADT) 'Einwohner insgesamt': office 4012" in warning
    assert "sum of 4 part(s) 4000, difference +12" in warning
    assert "borough Stadtbezirk 2 (2) 'Ausländer/-innen': office 352" in warning
    assert "2022-12-31" not in warning and "(1)" not in warning


def test_names_through_an_id_map_normalised(tmp_path):
    (tmp_path / "gebiete.csv").write_text(
        "name;code\nStadt insgesamt;STADT\nNord;1\nSüd;2\nALTSTADT;101\nSt. Georg;102\n"
        "Hafen;201\nWeststadt;202\n",
        encoding="utf-8",
    )
    data = long_profile(tmp_path, area_column="Gebietsname", id_map="gebiete.csv")
    del data["tables"][0]["city_codes"]
    result = build(load_profile(setup(tmp_path, data)))
    population = values(result.snapshot, "population", "2023-12-31")
    assert population["102"] == 800 and population["STADT"] == 4000


def test_unknown_name_is_an_error_with_the_close_entry_never_matched(tmp_path):
    (tmp_path / "gebiete.csv").write_text(
        "name,code\nStadt insgesamt,STADT\nNord,1\nSüd,2\nAltstadt,101\nSt. Georg,102\n"
        "Hafenviertel,201\nWeststadt,202\n",
        encoding="utf-8",
    )
    data = long_profile(tmp_path, area_column="Gebietsname", id_map="gebiete.csv")
    with pytest.raises(InputError) as err:
        build(load_profile(setup(tmp_path, data)))
    message = str(err.value)
    assert "area name 'Hafen' is not in the id map gebiete.csv" in message
    assert "line 32" in message and "Gebietsname" in message
    assert "closest entry is 'Hafenviertel' (code 201)" in message


def test_absent_units_zero_refused_inside_a_larger_office_total(tmp_path):
    data = long_profile(tmp_path)
    data["geography"]["absent_units"] = "zero"
    with pytest.raises(InputError) as err:
        build(
            load_profile(
                setup(tmp_path, data, lambda ls: [x for x in ls if not x.startswith("2023;202;")])
            )
        )
    message = str(err.value)
    assert "202 have no row on 2023-12-31" in message
    assert "office total of city Langstadt (STADT) 'Einwohner insgesamt' is 4012" in message
    assert "512 more than the sum of its rows (3500)" in message
    assert "absent_units: zero" in message


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda ls: [ls[0], "2023x;101;Altstadt;Deutsche;1.000", *ls[1:]], "found '2023x'"),
        (lambda ls: [*ls, "2023;101;Altstadt;Deutsche;1.000"], "occurs twice (lines 57 and 86)"),
        (lambda ls: [*ls, "2023;9;X;Deutsche;5"], "unknown area '9' on 2023-12-31"),
        (lambda ls: [*ls, "2023;77;X;Deutsche;5"], "unknown area '77': expected a code of 1 or 3"),
        (lambda ls: [*ls, "2024;101;Altstadt;Deutsche;1,5"], "a whole number"),
    ],
)
def test_broken_long_tables_name_line_and_column(tmp_path, edit, expected):
    with pytest.raises(InputError) as err:
        build(load_profile(setup(tmp_path, long_profile(tmp_path), edit)))
    assert expected in str(err.value)
    assert FILE in str(err.value)


def test_fixed_reference_date_and_year_only_pattern(tmp_path):
    data = long_profile(tmp_path, ref_date="2023-06-30")
    del data["tables"][0]["date_column"]
    with pytest.raises(ConfigError):  # both a date column and a date: refused
        load_profile(
            setup(tmp_path, {**data, "tables": [{**data["tables"][0], "date_column": "Jahr"}]})
        )
    shutil.rmtree(tmp_path / "raw")
    keep = lambda ls: [x for x in ls if not x.startswith("2022;")]  # noqa: E731
    result = build(load_profile(setup(tmp_path, data, keep)))
    assert values(result.snapshot, "population", "2023-06-30")["STADT"] == 4000


def test_year_only_file_name_pattern_means_31_december():
    from datetime import date

    from etl.profile import DateFromName
    from etl.sources.area_table import ref_date_of

    spec = DateFromName(regex=r"_(?P<year>\d{4})\.csv")
    assert ref_date_of(Path("einwohner_2023.csv"), spec) == date(2023, 12, 31)


def test_date_regex_without_named_groups_says_which_it_needs(tmp_path):
    data = long_profile(tmp_path, ref_date={"regex": r"_(\d{4})-(\d{2})-(\d{2})"})
    del data["tables"][0]["date_column"]
    with pytest.raises(ConfigError) as err:
        load_profile(setup(tmp_path, data))
    assert "needs the named groups year, month and day" in str(err.value)
    assert "only year (-> 31 Dec)" in str(err.value)


def test_area_names_from_the_data_rows(tmp_path):
    result = build(load_profile(setup(tmp_path, long_profile(tmp_path, name_column="Gebietsname"))))
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as con:
        names = dict(con.execute("SELECT area_id, name FROM areas").fetchall())
    assert names["102"] == "St.-Georg" and names["2"] == "Süd" and names["STADT"] == "Langstadt"


def test_wide_rows_with_city_and_borough_rows(tmp_path):
    """value_columns: one row per area with the city's and boroughs' rows among them."""
    data = long_profile(tmp_path, value_columns=["Einwohner", "Ausländer"], thousands=" ")
    table = data["tables"][0]
    for key in ("variable_column", "value_column"):
        del table[key]
    table.update(
        files="wide.csv",
        counts=[{"term": "total", "add": "Einwohner"}, {"term": "foreigners", "add": "Ausländer"}],
    )
    path = setup(tmp_path, data)
    (tmp_path / "raw" / "wide.csv").write_text(
        "Jahr;Gebiet;Einwohner;Ausländer;Anteil\n"
        "2023;0;4 012;752;18,7\n2023;1;2 000;400;20,0\n2023;101;1 200;200;16,7\n"
        "2023;102;800;200;25,0\n2023;2;2 012;352;17,5\n2023;201;1 500;300;20,0\n"
        "2023;202;500;50;10,0\n",
        encoding="utf-8",
    )
    result = build(load_profile(path))
    assert values(result.snapshot, "population", "2023-12-31")["STADT"] == 4000
    [warning] = [w for w in result.warnings if "office total" in w]
    assert "4 office total(s)" in warning and "'Ausländer': office 352" in warning


def test_left_out_indicator_says_no_data_in_this_instance(tmp_path, capsys):
    from imon.cli import main

    path = setup(tmp_path, long_profile(tmp_path))
    result = build(load_profile(path))
    assert any(s.startswith("migration_background_share: no data for") for s in result.skipped)
    code = main(["values", "--profile", str(path), "--indicator", "migration_background_share"])
    message = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "no data in this instance for indicator 'migration_background_share'" in message
    assert "unknown indicator" not in message
    assert main(["values", "--profile", str(path), "--indicator", "nope"]) == 2
    assert "unknown indicator 'nope'" in " ".join(capsys.readouterr().err.split())


def test_unassigned_residents_make_published_totals_equal_the_office_totals(tmp_path):
    data = long_profile(tmp_path, unassigned="nicht zugeordnet", name_column="Gebietsname")
    result = build(load_profile(setup(tmp_path, data)))
    population = values(result.snapshot, "population", "2023-12-31")
    assert population["STADT"] == 4012 and population["2"] == 2012 and population["1"] == 2000
    assert population["2XX"] == 12 and population["201"] == 1500
    assert "XXX" not in population  # the city's difference is borough 2's
    assert values(result.snapshot, "population", "2022-12-31")["STADT"] == 3970
    share = values(result.snapshot, "foreigner_share", "2023-12-31")
    assert share["STADT"] == pytest.approx(100 * 752 / 4012)
    assert not [w for w in result.warnings if "office total" in w]
    [declared] = [w for w in result.warnings if "unassigned" in w]
    assert "2023-12-31 2XX 'Einwohner insgesamt' 12" in declared
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as con:
        names = dict(con.execute("SELECT area_id, name FROM areas").fetchall())
    assert names["2XX"] == "nicht zugeordnet (Süd)"


def test_unassigned_remainder_of_the_city_alone(tmp_path):
    """A city total larger than its boroughs' (themselves = their parts): unit XXX in a
    pseudo borough X."""

    def edit(lines):
        fix = {"2023;2;Süd;Einwohner insgesamt;2.012": "2023;2;Süd;Einwohner insgesamt;2.000"}
        return [fix.get(x, x) for x in lines if not x.startswith("2023;2;Süd;Ausl")]

    data = long_profile(tmp_path, unassigned="ohne Bezirk")
    data["tables"][0]["counts"] = [{"term": "total", "add": "Einwohner insgesamt"}]
    result = build(load_profile(setup(tmp_path, data, edit)))
    population = values(result.snapshot, "population", "2023-12-31")
    assert population["STADT"] == 4012 and population["X"] == 12 and population["XXX"] == 12
    assert population["2"] == 2000


def test_refresh_takes_the_next_version_of_a_long_table(tmp_path):
    """imon refresh reads a long table's dates from its date column: next year's file (the
    same name, one year more) is a revision, staged with every year."""
    from etl.deliveries import refresh

    path = setup(tmp_path, long_profile(tmp_path))
    profile = load_profile(path)
    build(profile)
    lines = (FIXTURE / FILE).read_text(encoding="utf-8-sig").splitlines()
    more = [x.replace("2023;", "2024;", 1) for x in lines if x.startswith("2023;")]
    (tmp_path / "neu").mkdir()
    (tmp_path / "neu" / FILE).write_text("\n".join(lines + more) + "\n", encoding="utf-8")
    result = refresh(profile, [tmp_path / "neu" / FILE])
    [delivery] = result.deliveries
    assert delivery.status == "revision" and delivery.ref_dates[-1].isoformat() == "2024-12-31"
    assert values(result.snapshot, "population", "2024-12-31")["STADT"] == 4000


def test_profile_errors_name_the_line_the_key_and_what_is_allowed(tmp_path):
    data = long_profile(tmp_path)
    table = data["tables"][0]
    table["area_colum"] = table.pop("area_column")
    data["geography"]["absent_units"] = "none"
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    at = {
        key: next(i + 1 for i, x in enumerate(lines) if x.strip().startswith(key))
        for key in ("absent_units:", "area_colum:")
    }  # noqa: E501
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    message = str(err.value)
    assert f"line {at['absent_units:']}, field 'geography.code_hierarchy.absent_units': " in message
    assert "Input should be 'error' or 'zero'" in message
    assert f"line {at['area_colum:']}, field 'tables.0.long_table.area_colum': Extra" in message
    assert "(allowed here: id, files, attribution," in message and "area_column" in message
