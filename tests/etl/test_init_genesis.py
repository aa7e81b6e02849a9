"""``imon init`` on the real GENESIS exports of ../shared/data (#14): three Germany-wide
Kreis tables (population by nationality and age 12411, employees 13111, unemployment
13211) with the BKG Kreis boundaries. The draft asks one question — which Land — and
drafts its likely answer from the profile's name (rlp-kreise: Rheinland-Pfalz); its
counts are those of the hand-written profiles/rlp-kreise.yaml (plus Germans, which an
indicator uses); built as drafted, its values equal the delivered CSV, read here line by
line with the csv module."""

from __future__ import annotations

import csv
import json
import shutil

import duckdb
import pytest

from etl import warehouse
from etl.build import build
from etl.indicators.spec import term_key
from etl.onboarding.draft import init
from etl.profile import load_profile
from tests.conftest import REPO, SHARED_DATA
from tests.etl.test_corpus import _catalogue

GENESIS = SHARED_DATA / "genesis"
TABLES = {
    "12411": "genesis_12411-03-03-4_bevoelkerung_nationalitaet_altersgruppen_kreise_2015.csv",
    "13111": "genesis_13111-02-02-4_svb-beschaeftigte_wohnort_nationalitaet_kreise_2012-2015.csv",
    "13211": "genesis_13211-02-05-4_arbeitslose_inkl_auslaender_kreise_2001-2016.csv",
}
KREISE = SHARED_DATA / "geometry-de" / "bkg_vg5000_2021-01-01_kreise_ars.geojson"
UNDER_18 = ["unter 3", "3 bis unter 6", "6 bis unter 10", "10 bis unter 15", "15 bis unter 18"]


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("init-genesis")
    (folder / "lieferung" / "genesis").mkdir(parents=True)
    (folder / "lieferung" / "grenzen").mkdir()
    for name in TABLES.values():
        shutil.copy(GENESIS / name, folder / "lieferung" / "genesis")
    shutil.copy(KREISE, folder / "lieferung" / "grenzen")
    out = folder / "rlp-kreise.yaml"
    draft = init(
        out,
        sorted((folder / "lieferung" / "genesis").glob("*.csv")),
        [folder / "lieferung" / "grenzen" / KREISE.name],
    )
    return folder, out, draft


def _rows(name: str) -> list[list[str]]:
    """The data lines of an export (period; code; name; …; values)."""
    with (GENESIS / name).open(encoding="utf-8") as handle:
        return [r for r in csv.reader(handle, delimiter=";") if r and r[0][:1].isdigit()]


def _counts(profile, table_id: str) -> dict:
    [table] = [t for t in profile.tables if t.id == table_id]
    return {
        term_key(m.term): sorted((tuple(s.variables()), tuple(s.dim_values())) for s in m.add)
        for m in table.counts
    }


def test_one_question_the_land_and_the_counts_of_the_hand_written_profile(drafted):
    _, out, draft = drafted
    [question] = draft.questions
    assert question.startswith("Welches Land?") and "drafted: 07 Rheinland-Pfalz" in question
    assert "DG Deutschland" not in question and "16 Thüringen" in question
    mine = load_profile(out)
    theirs = load_profile(REPO / "profiles" / "rlp-kreise.yaml")
    assert mine.geography.root.id == mine.geography.member_prefix == "07"
    assert mine.geography.code_lengths == theirs.geography.code_lengths == {"kreis": 5}
    [boundary] = mine.geography.vintages[0].boundaries
    assert (boundary.id, boundary.name_template, boundary.id_prefix) == (
        "ARS",
        "{GEN}, {BEZ}",
        "07",
    )
    for table in ("genesis_12411", "genesis_13111", "genesis_13211"):
        drafted_counts, written = _counts(mine, table), _counts(theirs, table)
        # the hand-written profile also maps men and women, which no indicator uses
        written = {k: v for k, v in written.items() if k not in {("male",), ("female",)}}
        assert {k: drafted_counts[k] for k in written} == written
        extra = set(drafted_counts) - set(written)
        assert extra == ({("germans",)} if table == "genesis_12411" else set())


def test_the_draft_builds_with_the_delivered_values(drafted):
    """Built as drafted (only the catalogue cut to five indicators, for time)."""
    folder, out, _ = drafted
    keep = ["population", "foreigner_share", "age_under_18_share", "employees_foreigner_share"]
    catalogue = _catalogue(folder, [*keep, "unemployment_rate"])
    text = out.read_text(encoding="utf-8")
    [line] = [ln for ln in text.splitlines() if ln.startswith("indicators:")]
    out.write_text(text.replace(line, f'indicators: "{catalogue}"'), encoding="utf-8")
    build(load_profile(out))

    population = [r for r in _rows(TABLES["12411"]) if r[3] == "Insgesamt"]
    land = next(int(r[4]) for r in population if r[1] == "07")
    kreise = {r[1]: r for r in population if len(r[1]) == 5 and r[1].startswith("07")}
    koblenz_under_18 = sum(
        int(r[4]) for r in _rows(TABLES["12411"]) if r[1] == "07111" and r[3][:-6] in UNDER_18
    )
    [employees] = [r for r in _rows(TABLES["13111"]) if r[:2] == ["30.06.2015", "07111"]]
    [unemployed] = [r for r in _rows(TABLES["13211"]) if r[:2] == ["2016", "07111"]]

    publication = warehouse.published(folder / "curated") / warehouse.PUBLICATION
    with duckdb.connect(str(publication), read_only=True) as con:

        def value(indicator, area, day, column="value"):
            return con.execute(
                f"SELECT {column} FROM indicator_values WHERE indicator_id = ? "
                "AND area_id = ? AND ref_date = CAST(? AS DATE)",
                [indicator, area, day],
            ).fetchone()

        assert value("population", "07", "2015-12-31") == (land,)
        assert land == sum(int(r[4]) for r in kreise.values()) and len(kreise) == 36
        assert value("foreigner_share", "07111", "2015-12-31", "numerator, denominator") == (
            int(kreise["07111"][10]),
            int(kreise["07111"][4]),
        )
        assert value("age_under_18_share", "07111", "2015-12-31", "numerator") == (
            koblenz_under_18,
        )
        assert value(
            "employees_foreigner_share", "07111", "2015-06-30", "numerator, denominator"
        ) == (int(employees[6]), int(employees[3]))
        assert value("unemployment_rate", "07111", "2016-12-31") == (
            pytest.approx(float(unemployed[11].replace(",", "."))),
        )


def test_without_a_hint_or_boundaries_the_first_land_with_the_tables_names(tmp_path):
    """No Land in any name and no boundary file: the first Land of the table is drafted
    (and asked); the Kreise are named as the table names them; the Land's values are the
    delivered Land row's."""
    (tmp_path / "daten").mkdir()
    shutil.copy(GENESIS / TABLES["13111"], tmp_path / "daten")
    out = tmp_path / "entwurf.yaml"
    [question] = init(out, [tmp_path / "daten" / TABLES["13111"]], []).questions
    assert "drafted: 01 Schleswig-Holstein (no hint in the file names" in question
    text = out.read_text(encoding="utf-8")
    catalogue = _catalogue(tmp_path, ["employees_foreigner_share"])
    [line] = [ln for ln in text.splitlines() if ln.startswith("indicators:")]
    out.write_text(text.replace(line, f'indicators: "{catalogue}"'), encoding="utf-8")
    build(load_profile(out))
    rows = {r[1]: r for r in _rows(TABLES["13111"]) if r[0] == "30.06.2015"}
    publication = warehouse.published(tmp_path / "curated") / warehouse.PUBLICATION
    with duckdb.connect(str(publication), read_only=True) as con:
        share = con.execute(
            "SELECT numerator, denominator FROM indicator_values WHERE area_id = '01' "
            "AND indicator_id = 'employees_foreigner_share' AND ref_date = DATE '2015-06-30'"
        ).fetchone()
        names = dict(con.execute("SELECT area_id, name FROM areas").fetchall())
    assert share == (int(rows["01"][6]), int(rows["01"][3]))
    assert names["01001"] == rows["01001"][2].strip() == "Flensburg, Kreisfreie Stadt"
    assert sum(1 for code in names if len(code) == 5) == 15


def test_the_land_of_the_boundary_file_is_the_likely_answer(tmp_path):
    """Boundaries of one Land's Kreise (the real file cut to Rhineland-Palatinate's 36)
    and no Land in any name: that Land is drafted, with the reason. A second download of
    the table is a file of the first one's pattern, not a second table."""
    (tmp_path / "daten").mkdir()
    shutil.copy(GENESIS / TABLES["13111"], tmp_path / "daten")
    later = tmp_path / "daten" / "genesis_13111-02-02-4_2016.csv"  # the same table again
    shutil.copy(GENESIS / TABLES["13111"], later)
    kreise = json.loads(KREISE.read_text(encoding="utf-8"))
    kreise["features"] = [f for f in kreise["features"] if f["properties"]["ARS"][:2] == "07"]
    (tmp_path / "daten" / "grenzen.geojson").write_text(json.dumps(kreise), encoding="utf-8")
    out = tmp_path / "entwurf.yaml"
    tables = [tmp_path / "daten" / TABLES["13111"], later]
    draft = init(out, tables, [tmp_path / "daten" / "grenzen.geojson"])
    [question] = draft.questions
    assert "drafted: 07 Rheinland-Pfalz (the boundary files' codes all lie in it)" in question
    assert len(kreise["features"]) == 36
    # one table entry whose pattern takes both downloads
    [table] = load_profile(out).tables
    assert table.files == "genesis_13111-02-02-4*.csv"
