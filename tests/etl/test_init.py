"""``imon init``: a draft profile from an office's files that builds unedited with the
right values, on fixtures in the shapes offices deliver (tests/fixtures/onboarding):

* ``long/`` — one row per year x area x variable, city (0) and borough (1, 2) rows among
  the districts (101, 102, 201, 202); values in tests/etl/test_long_table.py.
* ``wide/`` — one file per year (``einwohner_2023.csv``: the year in the name), Windows-1252,
  a title line above the header, ``;``, blank thousands separator (``4 012``), decimal
  comma in a share column, city row ``00`` and borough rows ``10``, ``20`` among the
  districts ``1010`` … ``2020``; a count of an age band the catalogue has no group for.
  2023: 1010 1200 residents, 200 foreigners, 240 under 18; 1020 800/200/160; 2010
  1500/300/330; 2020 500/50/90; borough 20's office total 2012 (parts 2000), the city's
  4012 (parts 4000). 2022: city 3970 = 1970 + 2000.
* ``names/`` — XLSX keyed by area names (two title rows, a city row "Gesamtstadt"), the
  date in the file name, boundaries (GeoJSON) with codes ``nr`` and names ``name``, one
  written differently (data "Sankt Georg", boundary "St.-Georg"). Migration background:
  101 400/1200, 102 300/800, 201 500/1500, 202 100/500.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from etl import warehouse
from etl.build import build
from etl.errors import ConfigError
from etl.onboarding.draft import init
from etl.onboarding.vocabulary import classify
from etl.profile import load_profile
from etl.sources.id_map import normalise
from imon.cli import main
from tests.conftest import REPO
from tests.etl.test_long_table import values

FIXTURES = REPO / "tests" / "fixtures" / "onboarding"


def delivered(tmp_path: Path, shape: str) -> list[Path]:
    shutil.copytree(FIXTURES / shape, tmp_path / "lieferung")
    return sorted(p for p in (tmp_path / "lieferung").iterdir() if p.suffix != ".geojson")


def test_long_table_draft_builds_unedited(tmp_path):
    out = tmp_path / "profil" / "langstadt.yaml"
    assert main(["init", "--out", str(out), *map(str, delivered(tmp_path, "long"))]) == 0
    text = out.read_text(encoding="utf-8")
    assert "adapter: long_table" in text and 'date_column: "Jahr"' in text
    assert "#     'Haushalte': not mapped" in text
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2023-12-31") == {
        "STADT": 4000, "1": 2000, "2": 2000, "101": 1200, "102": 800, "201": 1500, "202": 500
    }  # fmt: skip
    assert values(result.snapshot, "age_65_plus_share", "2023-12-31")["101"] == 25
    assert any("6 office total(s)" in w for w in result.warnings)


def test_wide_files_per_year_draft_builds_unedited(tmp_path):
    out = tmp_path / "breitstadt.yaml"
    draft = init(out, delivered(tmp_path, "wide"), [])
    assert draft.questions == []
    profile = load_profile(out)
    [table] = profile.tables
    assert (table.encoding, table.separator, table.header_row) == ("cp1252", ";", 2)
    assert (table.decimal, table.thousands, table.city_codes) == (",", " ", ["00"])
    assert table.files == "einwohner_*.csv"
    assert "#     'Einwohner 6 bis unter 15 Jahre': not mapped" in draft.text
    assert "#     'Ausländeranteil in %': not mapped" in draft.text
    result = build(profile)
    assert values(result.snapshot, "population", "2022-12-31")["STADT"] == 3970
    assert values(result.snapshot, "population", "2023-12-31") == {
        "STADT": 4000, "10": 2000, "20": 2000, "1010": 1200, "1020": 800, "2010": 1500,
        "2020": 500,
    }  # fmt: skip
    assert values(result.snapshot, "age_under_18_share", "2023-12-31")["1010"] == 20
    [warning] = [w for w in result.warnings if "office total" in w]
    assert "stadtbezirk Süd (20) 'Einwohner': office 2012, sum of 2 part(s) 2000" in warning


def test_names_joined_to_boundaries_through_a_written_id_map(tmp_path):
    files = delivered(tmp_path, "names")
    out = tmp_path / "namenstadt.yaml"
    draft = init(out, files, [tmp_path / "lieferung" / "stadtteile.geojson"])
    assert draft.questions == []
    id_map = (tmp_path / "namenstadt-gebiete.csv").read_text(encoding="utf-8")
    assert id_map.splitlines() == [
        "name;code", "Altstadt;101", "Hafen;201", "Sankt Georg;102", "Weststadt;202"
    ]  # fmt: skip
    result = build(load_profile(out))
    share = values(result.snapshot, "migration_background_share", "2023-12-31")
    assert share["102"] == 37.5 and share["STADT"] == 32.5
    assert values(result.snapshot, "foreigner_share", "2023-12-31")["202"] == 10


def test_a_name_missing_from_the_boundaries_is_a_question_not_a_fuzzy_join(tmp_path):
    files = delivered(tmp_path, "names")
    geojson = tmp_path / "lieferung" / "stadtteile.geojson"
    geojson.write_text(geojson.read_text().replace('"Hafen"', '"Hafenviertel"'))
    draft = init(tmp_path / "p.yaml", files, [geojson])
    assert any("'Hafen' (close: 'Hafenviertel', not joined)" in q for q in draft.questions)
    assert "Hafen;" not in (tmp_path / "p-gebiete.csv").read_text(encoding="utf-8")


def test_no_date_anywhere_is_an_open_question(tmp_path):
    (tmp_path / "tabelle.csv").write_text(
        "Stadtteil-Nr.;Einwohner\n01;100\n02;200\n", encoding="utf-8"
    )
    draft = init(tmp_path / "p.yaml", [tmp_path / "tabelle.csv"], [])
    assert any("no date column and no date in the file name" in q for q in draft.questions)
    assert "# OPEN QUESTIONS:" in draft.text
    with pytest.raises(ConfigError, match="either date_column"):
        load_profile(tmp_path / "p.yaml")
    data = yaml.safe_load(draft.text)
    assert data["tables"][0]["counts"] == [{"term": "total", "add": "Einwohner"}]


def test_existing_draft_is_not_overwritten(tmp_path, capsys):
    out = tmp_path / "p.yaml"
    out.write_text("schon da", encoding="utf-8")
    assert main(["init", "--out", str(out), str(FIXTURES / "long" / "x.csv")]) == 2
    assert out.read_text(encoding="utf-8") == "schon da"


@pytest.mark.parametrize(
    ("name", "terms", "sure"),
    [
        ("Einwohner insgesamt", ("total",), True),
        ("Bevölkerung mit Hauptwohnsitz", ("total",), True),
        ("Ausländer(innen)", ("foreigners",), True),
        ("darunter Ausländer/-innen", ("foreigners",), True),
        ("Deutsche", ("germans",), True),
        ("Deutsche mit Migrationshintergrund", ("germans_with_migration_background",), True),
        ("Personen ohne Migrationshintergrund", ("no_migration_background",), True),
        ("unter 18 Jahren", ("under_18",), True),
        ("65 Jahre und älter", ("age_65_plus",), True),
        ("Ausländer unter 18 Jahren", ("foreigners", "under_18"), True),
        ("Ausländer aus der EU", ("foreigners",), False),
        ("Ausländeranteil in %", (), False),
        ("Haushalte", (), False),
        ("Einwohner mit Nebenwohnsitz", (), False),
        ("6 bis unter 15 Jahre", (), False),
    ],
)
def test_vocabulary(name, terms, sure):
    mapping = classify(name)
    assert (mapping.terms, mapping.sure) == (terms, sure)
    assert mapping.sure or mapping.reason


def test_names_normalised_for_matching():
    assert normalise("St.-Georg-Süd") == normalise("Sankt Georg Sued") == "sankt georg sued"
    assert normalise("Groß Flottbek") == normalise("GROSS-FLOTTBEK")
    assert normalise("Hafen") != normalise("Hafenviertel")


def test_half_years_after_the_year_are_guessed_and_asked(tmp_path):
    wide = FIXTURES / "wide"
    (tmp_path / "lieferung").mkdir()
    for year, half in ((2022, "02"), (2023, "01")):  # same contents, other names
        shutil.copy(wide / f"einwohner_{year}.csv", tmp_path / "lieferung" / f"ew_2023-{half}.csv")
    out = tmp_path / "halbjahre.yaml"
    draft = init(out, sorted((tmp_path / "lieferung").iterdir()), [])
    assert any("read as half-years (01 = 06-30, 02 = 12-31)" in q for q in draft.questions)
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2023-06-30")["STADT"] == 4000
    assert values(result.snapshot, "population", "2023-12-31")["STADT"] == 3970


def test_boundaries_of_a_coarser_level_joined_by_code_prefix(tmp_path):
    files = delivered(tmp_path, "long")
    geojson = tmp_path / "lieferung" / "bezirke.geojson"
    square = [[[8.0, 50.0], [8.0, 50.1], [8.1, 50.1], [8.1, 50.0], [8.0, 50.0]]]
    features = [
        {"type": "Feature", "properties": {"bez": code, "bez_name": name},
         "geometry": {"type": "Polygon", "coordinates": square}}
        for code, name in (("1", "Bezirk Nord"), ("2", "Bezirk Süd"))
    ]  # fmt: skip
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    out = tmp_path / "p.yaml"
    draft = init(out, files, [geojson])
    # the level is named as the file names it (bezirke.geojson, property 'bez'); the
    # finer level, which no file names, keeps its default name
    assert '{level: bezirk, file: "bezirke.geojson", id: "bez", name: "bez_name"}' in draft.text
    assert yaml.safe_load(draft.text)["geography"]["code_lengths"] == {"bezirk": 1, "stadtteil": 3}
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2023-12-31")["2"] == 2000


def test_long_table_with_a_sex_column_joins_both_into_the_variable(tmp_path):
    rows = {  # area: (Einwohner insgesamt, weiblich, männlich), (Ausländer ...)
        "00": ((300, 150, 150), (70, 38, 32)),
        "01": ((100, 60, 40), (20, 8, 12)),
        "02": ((200, 90, 110), (50, 30, 20)),
    }
    lines = ["Jahr;Gebiet;Merkmal;Geschlecht;Anzahl"]
    for area, groups in rows.items():
        for group, numbers in zip(("Einwohner", "Ausländer"), groups, strict=True):
            for sex, n in zip(("insgesamt", "weiblich", "männlich"), numbers, strict=True):
                lines.append(f"2024;{area};{group};{sex};{n}")
    (tmp_path / "daten").mkdir()
    (tmp_path / "daten" / "geschlecht.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "p.yaml"
    draft = init(out, [tmp_path / "daten" / "geschlecht.csv"], [])
    assert 'variable_column: ["Merkmal", "Geschlecht"]' in draft.text
    assert '{term: ["foreigners", "female"], add: "Ausländer | weiblich"}   # sure' in draft.text
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2024-12-31") == {
        "STADT": 300,
        "01": 100,
        "02": 200,
    }
    assert values(result.snapshot, "foreigner_share", "2024-12-31")["02"] == 25
    with duckdb.connect(str(result.snapshot / warehouse.DATABASE), read_only=True) as con:
        counts = dict(
            con.execute(
                "SELECT term, value FROM area_counts WHERE area_id = '01' AND term LIKE '%female%'"
            ).fetchall()
        )
    assert sorted(counts.values()) == [8, 60]


def test_draft_gives_the_values_of_the_hand_written_profile(tmp_path):
    """tests/fixtures/district_tables: the hand-written profile and imon init's draft
    (columns named like the catalogue's groups, district boundaries) agree on every
    value of every indicator both compute."""
    from tests.etl.test_area_table import FIXTURE, write_profile

    shutil.copytree(FIXTURE / "raw", tmp_path / "raw")
    (tmp_path / "hand").mkdir()
    hand = build(load_profile(write_profile(tmp_path / "hand", tmp_path / "raw")))
    out = tmp_path / "draft" / "k.yaml"
    tables = sorted((tmp_path / "raw" / "tabellen").glob("*.csv"))
    init(out, tables, [tmp_path / "raw" / "geometrie" / "bezirke.geojson"])
    drafted = build(load_profile(out))
    for indicator in ("population", "foreigner_share", "age_under_18_share_foreigners"):
        for ref_date in ("2023-12-31", "2024-12-31"):
            mine = values(drafted.snapshot, indicator, ref_date)
            theirs = values(hand.snapshot, indicator, ref_date)
            assert mine.pop("STADT") == theirs.pop("K")
            assert mine == theirs and mine


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("leer.csv", b"", "empty file"),
        ("zahlen.csv", b"1;2;3\n4;5;6\n", "no header row found"),
        ("daten.xml", b"<daten/>", "imon init reads tables as"),
        ("daten.json", b"{}", "an empty JSON object"),
        ("daten.json", b'{"2023": [1, 2]}', "the nesting is uneven"),
        ("eine_spalte.csv", b"Gebiet\n01\n", "no field separator found"),
    ],
)
def test_unreadable_files_are_clear_errors(tmp_path, capsys, name, content, expected):
    (tmp_path / name).write_bytes(content)
    assert main(["init", "--out", str(tmp_path / "p.yaml"), str(tmp_path / name)]) == 2
    message = " ".join(capsys.readouterr().err.split())
    assert expected in message and name in message
    assert not (tmp_path / "p.yaml").exists()


def test_notes_below_the_table_are_footer_lines(tmp_path):
    files = delivered(tmp_path, "wide")
    for path in files:  # a blank line, a source line and a note, as exports end
        with path.open("ab") as handle:
            handle.write(
                "\r\nQuelle: Melderegister;;;;;;\r\n© Stadt, Fußnote 1\r\n".encode("cp1252")
            )
    draft = init(tmp_path / "p.yaml", files, [])
    assert "footer_lines: 2" in draft.text and draft.questions == []
    result = build(load_profile(tmp_path / "p.yaml"))
    assert values(result.snapshot, "population", "2023-12-31")["STADT"] == 4000


def test_footer_lines_in_an_area_table(tmp_path):
    from tests.etl.test_area_table import FIXTURE, TABLE_2024, write_profile

    shutil.copytree(FIXTURE / "raw", tmp_path / "raw")
    for name in ("bevoelkerung_2023-12-31.csv", "bevoelkerung_2024-12-31.csv"):
        with (tmp_path / "raw" / "tabellen" / name).open("a", encoding="utf-8") as handle:
            handle.write("\nQuelle: Testdaten\n")
    path = write_profile(
        tmp_path, tmp_path / "raw", lambda d: d["tables"][0].update(footer_lines=1)
    )
    result = build(load_profile(path))
    assert values(result.snapshot, "population", TABLE_2024[-14:-4])["K"] == 1000


def test_levels_from_a_parent_column(tmp_path):
    """District numbers that do not start with their borough's number: the borough
    column gives the level; codes become borough + district through a written id map."""
    (tmp_path / "daten").mkdir()
    (tmp_path / "daten" / "stadtteile_2024.csv").write_text(
        "Stadtbezirk;Stadtteil-Nr.;Stadtteil;Einwohner;Ausländer\n"
        "1;07;Altstadt;100;10\n1;15;Neustadt;200;30\n2;03;Hafen;300;60\n2;22;Heide;400;100\n",
        encoding="utf-8",
    )
    out = tmp_path / "p.yaml"
    draft = init(out, [tmp_path / "daten" / "stadtteile_2024.csv"], [])
    assert draft.questions == []
    assert (tmp_path / "p-stadtteile-codes.csv").read_text(encoding="utf-8").splitlines() == [
        "name;code", "07;107", "15;115", "03;203", "22;222"
    ]  # fmt: skip
    result = build(load_profile(out))
    assert values(result.snapshot, "population", "2024-12-31") == {
        "STADT": 1000, "1": 300, "2": 700, "107": 100, "115": 200, "203": 300, "222": 400
    }  # fmt: skip
    assert values(result.snapshot, "foreigner_share", "2024-12-31")["2"] == 100 * 160 / 700


def test_a_genesis_table_without_a_count_of_the_catalogue_is_a_question(tmp_path):
    """The fixture counts Germans by sex and age and has shares of foreigners: no
    indicator uses either, so nothing is drafted, and imon init says so."""
    genesis = REPO / "tests" / "fixtures" / "genesis" / "tiny_ok.csv"
    shutil.copy(genesis, tmp_path / genesis.name)
    draft = init(tmp_path / "p.yaml", [tmp_path / genesis.name], [])
    assert [q[:60] for q in draft.questions] == [
        "no cell of the GENESIS table(s) is a count an indicator of i"
    ]
    assert "#   - id: genesis_99999" in draft.text


def test_a_genesis_table_among_other_shapes_is_named_not_drafted(tmp_path):
    """GENESIS tables are drafted in a profile of their own (tests/etl/test_init_genesis.py)."""
    genesis = REPO / "tests" / "fixtures" / "genesis" / "tiny_ok.csv"
    shutil.copy(genesis, tmp_path / genesis.name)
    (tmp_path / "ew_2024.csv").write_text("Stadtteil;Einwohner\n01;100\n02;200\n", encoding="utf-8")
    draft = init(tmp_path / "p.yaml", [tmp_path / genesis.name, tmp_path / "ew_2024.csv"], [])
    assert any(
        q.startswith("tiny_ok.csv: a GENESIS table among tables of other shapes")
        for q in draft.questions
    )


def test_numbers_without_leading_zeros_are_one_level(tmp_path):
    """Districts 1 … 12: 10 is not a child of 1; padded to 01 … 12 through an id map."""
    lines = ["Stadtteil-Nr.;Einwohner"] + [f"{n};{100 * n}" for n in range(1, 13)]
    (tmp_path / "daten").mkdir()
    (tmp_path / "daten" / "ew_2024.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "p.yaml"
    draft = init(out, [tmp_path / "daten" / "ew_2024.csv"], [])
    assert any("without leading zeros, read as one level" in q for q in draft.questions)
    population = values(build(load_profile(out)).snapshot, "population", "2024-12-31")
    assert population["STADT"] == 100 * 78 and population["01"] == 100
    assert population["12"] == 1200 and len(population) == 13
