"""``imon refresh`` / ``publish`` / ``rollback`` / ``snapshots`` on a small hand-made city,
and the plausibility report on hand-made warehouses (expected values computed here)."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml

from etl import deliveries, plausibility, warehouse
from etl.build import build, schema_sql
from etl.errors import ConfigError, ImonError, InputError
from etl.profile import load_profile
from imon.cli import main
from tests.conftest import REPO
from tests.etl.refresh_city import make_city, write_delivery

D23, D24 = date(2023, 12, 31), date(2024, 12, 31)
BASE = {"11": (10, 1), "12": (25, 5), "21": (10, 3)}  # district: (residents, foreigners)
NEW = {"11": (12, 2), "12": (25, 6), "21": (11, 5)}
HIERARCHY = {
    "0": ["11", "12", "21"],
    "1": ["11", "12"],
    "2": ["21"],
    "11": ["11"],
    "12": ["12"],
    "21": ["21"],
}
FIXTURES = REPO / "tests" / "fixtures"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree(folder: Path) -> dict[str, str]:
    """sha256 of every file below ``folder`` (relative path -> digest)."""
    return {str(p.relative_to(folder)): sha256(p) for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def city(tmp_path):
    """The city with 2023 published; returns (profile, folder with deliveries)."""
    profile = load_profile(make_city(tmp_path, {"2023-12-31": BASE}))
    build(profile)
    return profile, tmp_path / "inbox"


# --- intake -------------------------------------------------------------------------------


def test_refresh_copies_the_delivery_unchanged_with_sha256_and_publishes_nothing(city):
    profile, inbox = city
    current = warehouse.published(profile.curated_dir)
    before = tree(current)
    delivered = write_delivery(inbox, "2024-12-31", NEW)
    result = deliveries.refresh(profile, [delivered])
    target = profile.raw_dir / "melderegister" / "2024-12-31" / delivered.name
    assert [(d.status, d.source.id, d.ref_dates, d.target) for d in result.deliveries] == [
        ("new", "register", [D24], target)
    ]
    assert target.read_bytes() == delivered.read_bytes()
    meta = yaml.safe_load(target.with_name(target.name + ".meta.yml").read_text("utf-8"))
    assert meta["sha256"] == hashlib.sha256(delivered.read_bytes()).hexdigest()
    assert (meta["source"], meta["reference_dates"]) == ("register", ["2024-12-31"])
    # staged, reviewed, not served
    assert warehouse.published(profile.curated_dir) == current and tree(current) == before
    assert warehouse.staged(profile.curated_dir) == result.snapshot
    assert (result.snapshot / "report.html").is_file() and not result.published


def test_the_same_file_twice_is_a_no_op(city):
    profile, inbox = city
    delivered = write_delivery(inbox, "2024-12-31", NEW)
    first = deliveries.refresh(profile, [delivered])
    raw_before = tree(profile.raw_dir)
    snapshots_before = sorted((profile.curated_dir / "snapshots").iterdir())
    again = deliveries.refresh(profile, [delivered])
    assert [d.status for d in again.deliveries] == ["unchanged"]
    assert again.snapshot == first.snapshot and again.report is None  # not built again
    assert not again.published
    assert tree(profile.raw_dir) == raw_before
    assert sorted((profile.curated_dir / "snapshots").iterdir()) == snapshots_before
    assert warehouse.staged(profile.curated_dir) == first.snapshot
    deliveries.publish(profile)
    assert deliveries.refresh(profile, [delivered]).snapshot is None  # already live
    assert tree(profile.raw_dir) == raw_before


def test_a_changed_file_for_a_published_date_is_a_revision_and_both_are_kept(city):
    profile, inbox = city
    first = write_delivery(inbox / "a", "2024-12-31", NEW)
    deliveries.refresh(profile, [first], publish=True)
    corrected = write_delivery(inbox / "b", "2024-12-31", {**NEW, "21": (11, 4)})
    result = deliveries.refresh(profile, [corrected])
    delivery = result.deliveries[0]
    assert delivery.status == "revision"
    target = profile.raw_dir / "melderegister" / "2024-12-31" / first.name
    assert target.read_bytes() == corrected.read_bytes()
    archived = list((profile.raw_dir / ".revisions").rglob(first.name))
    assert len(archived) == 1 and archived[0].read_bytes() == first.read_bytes()
    assert archived[0].with_name(first.name + ".meta.yml").is_file()
    meta = yaml.safe_load(target.with_name(target.name + ".meta.yml").read_text("utf-8"))
    assert meta["replaces"] == [
        {"file": str(archived[0].relative_to(profile.raw_dir)), "sha256": sha256(first)}
    ]
    report = result.report
    assert [r[3] for r in report.section("files_delivered").rows] == ["geändert (Revision)"]
    # foreigners in 21 fall 5 -> 4: district 21, borough 2 and the city change, nothing else
    revised = {r[0]: r[2] for r in report.section("revised_values").rows if r[1] == D24}
    assert revised["foreigner_share"] == 3 and "population" not in revised


def test_a_file_of_no_source_is_a_clear_error_and_nothing_is_written(city, capsys):
    profile, inbox = city
    stray = write_delivery(inbox, "2024-12-31", NEW, name="bericht_2024.csv")
    raw_before = tree(profile.raw_dir)
    with pytest.raises(InputError, match="matches no source of the profile") as info:
        deliveries.refresh(profile, [stray])
    assert info.value.file == str(stray) and "melderegister_*.csv" in str(info.value)
    assert main(["refresh", "--profile", str(profile.path), str(stray)]) == 2
    assert "bericht_2024.csv" in capsys.readouterr().err
    assert tree(profile.raw_dir) == raw_before
    assert warehouse.staged(profile.curated_dir) is None


def test_a_register_file_without_a_date_is_a_clear_error(city):
    profile, inbox = city
    undated = write_delivery(inbox, "2024-12-31", NEW, name="melderegister_neu.csv")
    with pytest.raises(InputError, match="carries no reference date"):
        deliveries.refresh(profile, [undated])


def test_register_date_pattern_of_the_profile(city):
    from etl.profile import DateFromName

    profile, inbox = city
    register = profile.register_source.model_copy(
        update={
            "ref_date": DateFromName(
                regex=r"EWO_Stand_(?P<day>\d{2})\.(?P<month>\d{2})\.(?P<year>\d{4})"
            )
        }
    )
    vendor = profile.model_copy(update={"register_source": register})
    delivered = write_delivery(
        inbox, "2024-12-31", NEW, name="melderegister_EWO_Stand_31.12.2024.csv"
    )
    [delivery] = deliveries.plan(vendor, [delivered])
    assert delivery.ref_dates == [D24]
    assert delivery.target == (profile.raw_dir / "melderegister" / "2024-12-31" / delivered.name)


def test_two_files_for_the_same_source_and_date_are_refused(city):
    profile, inbox = city
    one = write_delivery(inbox / "a", "2024-12-31", NEW)
    two = write_delivery(inbox / "b", "2024-12-31", BASE, name="melderegister_20241231.csv")
    with pytest.raises(InputError, match="one file per source and reference date"):
        deliveries.plan(profile, [one, two])


def test_table_delivery_goes_where_the_profile_pattern_finds_it(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "district_tables" / "raw", raw)
    profile = load_profile(FIXTURES / "district_tables" / "profile.yaml").model_copy(
        update={"raw_dir": raw, "curated_dir": tmp_path / "curated"}
    )
    delivered = tmp_path / "bevoelkerung_2025-12-31.csv"
    shutil.copy(raw / "tabellen" / "bevoelkerung_2024-12-31.csv", delivered)
    [new] = deliveries.plan(profile, [delivered])
    assert (new.source.id, new.ref_dates, new.status) == (
        "bevoelkerung",
        [date(2025, 12, 31)],
        "new",
    )
    assert new.target == raw / "tabellen" / "bevoelkerung_2025-12-31.csv"
    same = tmp_path / "again" / "bevoelkerung_2024-12-31.csv"
    same.parent.mkdir()
    shutil.copy(raw / "tabellen" / "bevoelkerung_2024-12-31.csv", same)
    assert deliveries.plan(profile, [same])[0].status == "unchanged"


GENESIS_PROFILE = """
instance: genesis-test
title: GENESIS-Test
raw_dir: raw
curated_dir: curated
indicators: {indicators}
levels:
  - {{id: land, label_de: Land, label_en: State}}
  - {{id: kreis, label_de: Kreis, label_en: County}}
geography:
  adapter: code_hierarchy
  root: {{id: "07", name: Rheinland-Pfalz}}
  code_lengths: {{kreis: 5}}
  member_prefix: "07"
  vintages: [{{id: v, valid_from: 1990-01-01}}]
tables:
  - id: testtabelle
    adapter: genesis_csv
    files: genesis/genesis_99999-01-01-4_*.csv
    attribution: Testdaten
    counts: [{{term: total, add: "Deutsche | männlich"}}]
"""


def test_genesis_export_is_recognised_by_its_table_id(tmp_path):
    profile_path = tmp_path / "profile.yaml"
    profile_path.write_text(
        GENESIS_PROFILE.format(indicators=REPO / "indicators.yaml"), encoding="utf-8"
    )
    profile = load_profile(profile_path)
    renamed = tmp_path / "download" / "99999-01-01-4.csv"  # as downloaded, not renamed
    renamed.parent.mkdir()
    shutil.copy(FIXTURES / "genesis" / "tiny_ok.csv", renamed)
    [delivery] = deliveries.plan(profile, [renamed])
    assert delivery.source.id == "testtabelle"
    assert delivery.ref_dates == [date(2019, 12, 31), date(2020, 12, 31)]  # from the periods
    assert delivery.target == tmp_path / "raw" / "genesis" / "genesis_99999-01-01-4_2019-2020.csv"
    wrong = tmp_path / "download" / "genesis_99999-01-01-4_x.csv"
    wrong.write_bytes(renamed.read_bytes().replace(b"99999-01-01-4", b"12411-03-03-4", 1))
    with pytest.raises(
        InputError, match="found GENESIS table 12411-03-03-4, expected table 99999-01-01-4"
    ) as info:
        deliveries.plan(profile, [wrong])
    assert info.value.line == 1


def test_pattern_matching_follows_path_glob():
    assert deliveries.matches_pattern(["a", "2024-12-31", "x_1.csv"], "a/*/x_*.csv")
    assert deliveries.matches_pattern(["a", "x_1.csv"], "a/**/x_*.csv")
    assert deliveries.matches_pattern(["a", "b", "c", "x_1.csv"], "a/**/x_*.csv")
    assert not deliveries.matches_pattern([".revisions", "a", "s", "x_1.csv"], "a/*/x_*.csv")
    assert not deliveries.matches_pattern(["a", "x_1.csv"], "a/*/x_*.csv")


def test_register_pattern_without_a_date_folder_is_a_config_error(tmp_path):
    profile = load_profile(make_city(tmp_path, {"2023-12-31": BASE}))
    flat = profile.model_copy(
        update={
            "register_source": profile.register_source.model_copy(
                update={"files": "melderegister_*.csv"}
            )
        }
    )
    delivered = write_delivery(tmp_path / "inbox", "2024-12-31", NEW)
    with pytest.raises(ConfigError, match="reference-date folder right above"):
        deliveries.plan(flat, [delivered])


# --- the report on the refreshed city -------------------------------------------------------


def expected_changes(before: dict, after: dict, percent: float, points: float):
    """(area, indicator) listed by the report, computed from the counts by hand."""
    listed = set()
    for area, members in HIERARCHY.items():
        n0, n1 = (sum(counts[m][0] for m in members) for counts in (before, after))
        f0, f1 = (sum(counts[m][1] for m in members) for counts in (before, after))
        if abs(100 * (n1 / n0 - 1)) > percent:
            listed.add((area, "population"))
        if abs(100 * f1 / n1 - 100 * f0 / n0) > points:
            # foreigners are exactly the people with migration background here
            listed |= {(area, "foreigner_share"), (area, "migration_background_share")}
    return listed


def listed(report) -> set[tuple[str, str]]:
    population = {(r[3], "population") for r in report.section("population_changes").rows}
    shares = {(r[4], r[0]) for r in report.section("share_changes").rows}
    return population | shares


def test_report_lists_changes_beyond_the_default_thresholds(city):
    profile, inbox = city
    result = deliveries.refresh(profile, [write_delivery(inbox, "2024-12-31", NEW)])
    report = result.report
    assert listed(report) == expected_changes(BASE, NEW, 15, 5)
    assert ("11", "population") in listed(report)  # +20 %
    assert ("21", "population") not in listed(report)  # +10 %
    assert ("12", "foreigner_share") not in listed(report)  # +4 points
    assert ("21", "foreigner_share") in listed(report)  # +15.5 points
    [row] = [r for r in report.section("population_changes").rows if r[3] == "11"]
    assert row[:2] == (D24, D23) and row[5:] == (10, 12, pytest.approx(20.0))
    assert report.section("reviewed").rows == [(D24, D23)]
    assert report.section("dates_new").rows == [(D24,)]
    assert all(r[1] == "bestanden" for r in report.section("checks").rows)
    assert not report.section("areas_new").rows and not report.section("areas_vanished").rows
    html = (result.snapshot / "report.html").read_text(encoding="utf-8")
    assert "Altstadt" in html and "+20,0" in html


def test_thresholds_come_from_the_profile(tmp_path):
    path = make_city(
        tmp_path,
        {"2023-12-31": BASE},
        plausibility={"population_change_percent": 8, "share_change_points": 10},
    )
    profile = load_profile(path)
    build(profile)
    report = deliveries.refresh(
        profile, [write_delivery(tmp_path / "in", "2024-12-31", NEW)]
    ).report
    assert listed(report) == expected_changes(BASE, NEW, 8, 10)
    assert ("21", "population") in listed(report)  # +10 % > 8 %
    assert ("11", "foreigner_share") not in listed(report)  # +6.7 points < 10


# --- the report on hand-made warehouses ----------------------------------------------------

AREAS = [
    ("0", "city", "Stadt", None),
    ("A", "district", "Au", "0"),
    ("B", "district", "Berg", "0"),
    ("C", "district", "Chor", "0"),
    ("D", "district", "<script>alert(1)</script>", "0"),
]


def hand_made(
    path: Path, values: list[tuple], counts: list[tuple], loads: list[tuple], indicators: list[str]
) -> Path:
    """A warehouse from etl/schema.sql with the given indicator values (indicator, date,
    area, value), area counts (date, area, term, value) and loads (file, date, sha256)."""
    functions = {"population": "count", "foreigner_share": "share"}
    con = duckdb.connect(str(path))
    con.execute(schema_sql())
    con.executemany(
        "INSERT INTO meta VALUES (?, ?)", [("instance", "hand"), ("title", "Handgemacht")]
    )
    con.executemany("INSERT INTO areas VALUES (?, ?, ?, ?, 'v', DATE '2000-01-01', NULL)", AREAS)
    con.executemany(
        "INSERT INTO indicators VALUES (?, ?, 't', ?, ?, 'd', 'd', NULL, NULL, NULL, NULL, "
        "'u', 'u', 'u', 0, 's', 'register_migrapro', 0)",
        [(i, functions.get(i, "count"), i, i) for i in indicators],
    )
    level = {a[0]: a[1] for a in AREAS}
    con.executemany(
        "INSERT INTO indicator_values VALUES (?, ?, ?, ?, ?, NULL, NULL, NULL, "
        "'register_migrapro', NULL)",
        [(i, d, a, level[a], v) for i, d, a, v in values],
    )
    if counts:
        con.executemany(
            "INSERT INTO area_counts VALUES (?, ?, ?, ?, NULL, 'register', NULL)", counts
        )
    con.executemany(
        "INSERT INTO loads VALUES (?, 'register', ?, ?, 1, ?, "
        "TIMESTAMP '2025-01-01 00:00:00', 'ok')",
        [(n, f, s, d) for n, (f, d, s) in enumerate(loads, start=1)],
    )
    con.close()
    return path


@pytest.fixture
def hand_report(tmp_path):
    d22, d23, d24 = "2022-12-31", "2023-12-31", "2024-12-31"
    pop = "population"
    old = hand_made(
        tmp_path / "old.duckdb",
        [
            (pop, d22, "0", 330),
            (pop, d22, "A", 90),
            (pop, d22, "B", 190),
            (pop, d22, "C", 50),
            (pop, d23, "0", 340),
            (pop, d23, "A", 100),
            (pop, d23, "B", 190),
            (pop, d23, "C", 50),
            ("old_indicator", d23, "0", 1),
        ],
        [],
        [("r/2022.csv", d22, "a"), ("r/2023.csv", d23, "b")],
        [pop, "foreigner_share", "old_indicator"],
    )
    (tmp_path / "new" / warehouse.INTERNAL).mkdir(parents=True)
    new = hand_made(
        tmp_path / "new" / warehouse.DATABASE,
        [
            # 2023 revised: B 190 -> 200
            (pop, d23, "0", 350),
            (pop, d23, "A", 100),
            (pop, d23, "B", 200),
            (pop, d23, "C", 50),
            ("foreigner_share", d23, "A", 10.0),
            ("foreigner_share", d23, "B", 20.0),
            # 2024: A +20 %, B +5 %, C gone, D new, the city 1 more than its districts
            (pop, d24, "0", 371),
            (pop, d24, "A", 120),
            (pop, d24, "B", 210),
            (pop, d24, "D", 40),
            ("foreigner_share", d24, "A", 16.0),
            ("foreigner_share", d24, "B", 24.5),
        ],
        [
            (d24, "A", "total", 120),
            (d24, "A", "foreigners", 20),
            (d24, "A", "germans", 99),
            (d24, "B", "total", 210),
            (d24, "B", "foreigners", 50),
            (d24, "B", "germans", 160),
            (d24, "D", "total", 40),
            (d24, "D", "foreigners", 5),  # no germans: not checked
        ],
        [("r/2023.csv", d23, "b2"), ("r/2024.csv", d24, "c")],
        [pop, "foreigner_share"],
    )
    _crosswalk_publication(tmp_path / "new" / warehouse.PUBLICATION)
    profile = load_profile(FIXTURES / "tiny" / "profile.yaml")
    return plausibility.compare(new, old, profile)


def _crosswalk_publication(path: Path) -> None:
    """The staged publication's crosswalk: A split by overlap into A1 and A2, B placed by
    the correspondence list m.json into BC (#18 lineage)."""
    from etl.crosswalk import CROSSWALK_DDL

    con = duckdb.connect(str(path))
    con.execute(CROSSWALK_DDL.replace("TEMP ", ""))  # a table of the file
    con.executemany(
        "INSERT INTO area_crosswalk (from_vintage, to_vintage, level, from_level, from_area,"
        " to_area, weight, exact, method) VALUES ('v1', 'v2', 'unit', 'unit', ?, ?, ?, ?, ?)",
        [("A", "A1", 0.5, False, "overlap"), ("A", "A2", 0.5, False, "overlap"),
         ("B", "BC", 1.0, True, "list")],
    )  # fmt: skip
    con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
    lists = '[{"vintage": "v2", "file": "m.json", "sha256": "abc"}]'
    con.execute("INSERT INTO meta VALUES ('crosswalk_lists', ?)", [lists])
    con.close()


def test_report_sections_on_hand_made_warehouses(hand_report):
    r = hand_report
    d22, d23, d24 = date(2022, 12, 31), date(2023, 12, 31), date(2024, 12, 31)
    # the revised 2023 file (no earlier date is left to compare with) and the new date
    assert r.section("reviewed").rows == [(d23, None), (d24, d23)]
    assert r.section("dates_new").rows == [(d24,)]
    assert r.section("dates_removed").rows == [(d22,)]
    assert [(x[1], x[3]) for x in r.section("files_delivered").rows] == [
        ("r/2023.csv", "geändert (Revision)"),
        ("r/2024.csv", "neu"),
    ]
    assert [x[1] for x in r.section("files_removed").rows] == ["r/2022.csv"]
    assert [x[2:] for x in r.section("sums_hierarchy").rows] == [("0", "Stadt", 371, 370)]
    assert [(x[1], x[3], x[4], x[5]) for x in r.section("sums_partitions").rows] == [
        ("A", "total = foreigners + germans", 120, 119)
    ]
    assert [(x[0], x[3]) for x in r.section("areas_new").rows] == [(d24, "D")]
    assert [(x[0], x[3]) for x in r.section("areas_vanished").rows] == [(d24, "C")]
    # 2024 vs 2023: A +20 %, B +5 %, the city +6 %
    assert [(x[0], x[3]) for x in r.section("population_changes").rows] == [(d24, "A")]
    assert [(x[1], x[4]) for x in r.section("share_changes").rows] == [(d24, "A")]  # +6 pts
    # every step of a series beyond the thresholds (here the one step 2023 -> 2024)
    assert [(x[0], x[2], x[4], x[5], x[9]) for x in r.section("series_jumps").rows] == [
        ("foreigner_share", "A", d23, d24, "Prozentpunkte"),  # 10 -> 16: +6 points
        ("foreigner_share", "B", d23, d24, "Prozentpunkte"),  # 20 -> 24.5: +22.5 % of it
        ("population", "A", d23, d24, "%"),  # 100 -> 120; the city +6 %, B +5 %
    ]
    assert [x[3:] for x in r.section("boundary_lineage").rows] == [
        ("Korrespondenzliste", 1, 0, "m.json (sha256 abc)"),
        ("Flächenüberschneidung", 2, 2, ""),
    ]
    revised = {(x[0], x[1]): x[2:5] for x in r.section("revised_values").rows}
    assert revised[("population", d23)] == (2, 0, 0)  # city and B changed
    assert revised[("old_indicator", d23)] == (0, 1, 0)
    assert [x[0] for x in r.section("indicators_removed").rows] == ["old_indicator"]
    check = dict((x[0], x[1]) for x in r.section("checks").rows)
    assert check["population of every area equals the sum of its child areas"] == "FEHLER"
    assert {s.key for s in r.findings()} >= {
        "checks",
        "sums_hierarchy",
        "areas_vanished",
        "population_changes",
        "dates_removed",
    }


def test_report_html_escapes_every_value(hand_report, tmp_path):
    path = plausibility.write_html(hand_report, tmp_path / "report.html")
    text = path.read_text(encoding="utf-8")
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert text.count("<section") == len(hand_report.sections)


def test_terminal_summary_names_findings(hand_report):
    lines = plausibility.summary(hand_report)
    assert lines[0] == "Prüfungen: 7 von 8 bestanden"
    assert any(line.startswith("! Einwohnerzahl") and line.endswith(": 1") for line in lines)
    assert any("A | Au | 100 | 120 | +20,0" in line for line in lines)


# --- publish, rollback, snapshots -----------------------------------------------------------


def test_publish_rollback_and_snapshots_from_the_command_line(city, capsys):
    profile, inbox = city
    args = ["--profile", str(profile.path)]
    first = warehouse.published(profile.curated_dir)
    delivered = write_delivery(inbox, "2024-12-31", NEW)
    assert main(["refresh", *args, str(delivered)]) == 0
    err = capsys.readouterr().err
    staged = warehouse.staged(profile.curated_dir)
    assert "Vorgemerkt, nicht veröffentlicht" in err and staged.name in err
    assert "Einwohnerzahl: Veränderung über der Schwelle" in err
    assert warehouse.published(profile.curated_dir) == first
    assert main(["snapshots", *args]) == 0
    out = capsys.readouterr().out
    target = profile.raw_dir / "melderegister" / "2024-12-31" / delivered.name
    assert f"{staged.name}  vorgemerkt" in out and f"{first.name}  veröffentlicht" in out
    assert f"sha256 {sha256(target)}" in out
    assert main(["publish", *args]) == 0
    assert warehouse.published(profile.curated_dir) == staged
    assert warehouse.staged(profile.curated_dir) is None
    assert main(["publish", *args]) == 2
    assert "no staged snapshot" in capsys.readouterr().err
    assert main(["rollback", *args]) == 0
    assert warehouse.published(profile.curated_dir) == first
    assert main(["rollback", *args]) == 2
    assert "no earlier published snapshot" in capsys.readouterr().err


def test_history_keeps_the_last_n_and_rollback_walks_back(city):
    profile, inbox = city  # keep_snapshots: 3
    published = [warehouse.published(profile.curated_dir).name]
    for year in (2024, 2025, 2026):
        delivered = write_delivery(inbox, f"{year}-12-31", NEW)
        published.append(deliveries.refresh(profile, [delivered], publish=True).snapshot.name)
    names = sorted(p.name for p in (profile.curated_dir / "snapshots").iterdir())
    assert names == published[-3:]
    assert warehouse.history(profile.curated_dir)[-3:] == published[-3:]
    assert deliveries.rollback(profile)[1].name == published[-2]
    assert deliveries.rollback(profile)[1].name == published[-3]
    with pytest.raises(ImonError, match="no earlier published snapshot"):
        deliveries.rollback(profile)


def test_publish_after_review_without_rebuilding(city):
    profile, inbox = city
    delivered = write_delivery(inbox, "2024-12-31", NEW)
    staged = deliveries.refresh(profile, [delivered]).snapshot
    again = deliveries.refresh(profile, [delivered], publish=True)
    assert again.published and again.snapshot == staged
    assert warehouse.published(profile.curated_dir) == staged


# --- the dashboard ---------------------------------------------------------------------------


def dates_offered(client) -> list[str]:
    """The map page's dates for 'population', requested as the browser does (Flask test
    client of the app)."""
    from benchmarks.publish_load import DashCalls, offered_dates

    def get(path: str) -> object:
        response = client.get(path)
        assert response.status_code == 200
        return response.get_json()

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body)
        assert response.status_code == 200
        return response.get_json()

    return offered_dates(DashCalls(get, post))


def test_running_dashboard_serves_the_published_snapshot_without_restart(city):
    from dashboards.app import create_app

    profile, inbox = city
    client = create_app(profile.curated_dir).server.test_client()
    assert dates_offered(client) == ["2023-12-31"]
    deliveries.refresh(profile, [write_delivery(inbox, "2024-12-31", NEW)])
    assert dates_offered(client) == ["2023-12-31"]  # staged is never served
    deliveries.publish(profile)
    assert dates_offered(client) == ["2024-12-31", "2023-12-31"]
    deliveries.rollback(profile)
    assert dates_offered(client) == ["2023-12-31"]
