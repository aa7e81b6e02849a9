"""``imon report``: the commission's yearly report as PDF (WeasyPrint) and DOCX.

Three kinds of test:

* the summary's wording (pure): rise, fall, no change and a series break, numbers and
  grammar checked by hand;
* the report of the synthetic Teststadt (tests/dashboards/conftest.py), whose published
  values are hand-made, so every sentence is known in advance;
* the demo city Musterstadt, built once, through the command line: its PDF read back
  (pages, table of contents, sentences, source lines), page 1 and a map page rendered
  to PNG in test-artifacts/ to look at, the DOCX with the same headings and sentences,
  the public report never opening the unprotected warehouse, and ``--internal`` marking
  every page.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from dashboards.data import breaks, queries
from dashboards.data.catalogue import Indicator
from dashboards.export import render
from dashboards.export.yearly_report import build_report
from dashboards.export.yearly_report import summary as report
from dashboards.export.yearly_report.goals import goals_sections
from dashboards.export.yearly_report.model import ExportError, Report, ReportRequest, Table
from dashboards.export.yearly_report.pdf import write_pdf
from etl import warehouse
from imon.cli import main

pypdf = pytest.importorskip("pypdf")
docx = pytest.importorskip("docx")
pdfium = pytest.importorskip("pypdfium2")

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module", autouse=True)
def _one_chromium():
    yield
    render.close_renderer()


def indicator(indicator_id, function, title, unit, decimals) -> Indicator:
    return Indicator(
        indicator_id, function, "t", title, "Def.", unit, unit, decimals, "Quelle", None, None, "d"
    )


SHARE = indicator("foreigner_share", "share", "Ausländeranteil", "percent", 1)
COUNT = indicator("population", "count", "Einwohnerinnen und Einwohner", "persons", 0)
INDEX = indicator("segregation_is_x", "segregation_is", "Segregationsindex Ausländer", "index", 2)
RATE = indicator("unemployment", "observed", "Arbeitslosenquote der Ausländer", "percent", 1)


def sentences(ind, value, comparisons, ref_date="2024-12-31", **extra) -> list[str]:
    statement = report.Statement(ind, ref_date, value, None, tuple(comparisons), **extra)
    return report.summary_sentences(statement, "de")


# --- wording (pure) -----------------------------------------------------------------------
def test_a_rise_in_percentage_points_against_the_previous_year_and_the_start():
    # 18,84 -> 18,8 and 18,56 -> 18,6: +0,2 points; 14,96 -> 15,0: +3,8 points
    said = sentences(
        SHARE,
        18.84,
        [
            report.Comparison("previous", "2023-12-31", 18.56),
            report.Comparison("first", "2010-12-31", 14.96),
        ],
    )
    assert said == [
        "Der Ausländeranteil lag am 31.12.2024 bei 18,8 %.",
        "Gegenüber dem Vorjahr (31.12.2023) ist er um 0,2 Prozentpunkte gestiegen.",
        "Gegenüber dem Beginn des Monitorings (31.12.2010) ist er um 3,8 Prozentpunkte gestiegen.",
    ]


def test_a_fall_of_a_count_in_percent_with_a_feminine_subject():
    # 9.750 against 10.000: −2,5 %; a half-year earlier is "der vorherige Stichtag"
    said = sentences(COUNT, 9750.0, [report.Comparison("previous", "2024-06-30", 10000.0)])
    assert said == [
        "Die Zahl der Einwohnerinnen und Einwohner lag am 31.12.2024 bei 9.750.",
        "Gegenüber dem vorherigen Stichtag (30.06.2024) ist sie um 2,5 % gesunken.",
    ]


def test_no_change_is_the_same_rounded_value():
    # 0,351 and 0,349 are both published as 0,35: unchanged, not "um 0,00 gestiegen"
    said = sentences(
        INDEX,
        0.351,
        [report.Comparison("previous", "2023-12-31", 0.349)],
        level="district",
        level_label="Stadtteil",
        n_units=35,
    )
    assert said == [
        "Der Segregationsindex Ausländer lag am 31.12.2024 auf der Ebene Stadtteil "
        "(35 Gebiete) bei 0,35.",
        "Gegenüber dem Vorjahr (31.12.2023) ist er unverändert geblieben.",
    ]


def test_a_feminine_rate_falls_by_one_point_and_the_series_break_stops_the_comparison():
    said = sentences(
        RATE,
        9.0,
        [
            report.Comparison("previous", "2023-12-31", 10.0),
            report.Comparison("first", "2012-12-31", 14.0, series_break="definition"),
        ],
    )
    assert said[1] == "Gegenüber dem Vorjahr (31.12.2023) ist sie um 1,0 Prozentpunkte gesunken."
    assert said[2] == (
        "Ein Vergleich mit dem Beginn des Monitorings (31.12.2012) ist wegen eines "
        "Reihenbruchs nicht möglich (geänderte Definition)."
    )


def test_a_suppressed_value_and_a_series_with_one_date():
    assert sentences(SHARE, None, []) == [
        "Der Ausländeranteil: Zum 31.12.2024 ist kein Wert veröffentlicht (–)."
    ]
    assert sentences(SHARE, 18.8, [])[1] == "Ein früherer Stichtag zum Vergleich liegt nicht vor."


def test_english_sentences():
    share = indicator("foreigner_share", "share", "Share of foreigners", "percent", 1)
    statement = report.Statement(
        share, "2024-12-31", 18.84, None, (report.Comparison("previous", "2023-12-31", 19.1),)
    )
    assert report.summary_sentences(statement, "en") == [
        "The share of foreigners stood at 18,8 % on 31.12.2024.",
        "Compared with the previous year (31.12.2023) it fell by 0,3 percentage points.",
    ]


def test_statements_state_no_change_across_a_break():
    """Definition changes between the first and the previous date; the districts were
    redrawn on 1 Jan 2021 (a boundary break of their level)."""
    rows = pd.DataFrame(
        {
            "ref_date": ["2019-12-31", "2020-12-31", "2021-12-31", "2022-12-31"],
            "level": ["district"] * 4,
            "value": [0.30, 0.31, 0.33, 0.34],
            "flag": [None] * 4,
            "n_units": [10, 10, 12, 12],
            "definition_id": ["a", "a", "a", "a"],
        }
    )
    found = report.statement(rows, INDEX, "2022-12-31", {"district": ("2021-01-01",)}, "2019-12-31")
    kinds = {c.kind: c.series_break for c in found.comparisons}
    assert kinds == {"previous": None, "first": breaks.BOUNDARIES}
    said = report.summary_sentences(found, "de")
    assert said[1] == "Gegenüber dem Vorjahr (31.12.2021) ist er um 0,01 gestiegen."
    assert "Reihenbruchs nicht möglich (neue Gebietsgliederung)" in said[2]


def test_the_format_comes_from_the_file_name():
    assert ReportRequest(Path("b.PDF")).fmt == "pdf"
    assert ReportRequest(Path("b.docx")).fmt == "docx"
    with pytest.raises(ExportError, match=r"\.pdf or \.docx"):
        _ = ReportRequest(Path("b.html")).fmt


# --- Teststadt: every value known -----------------------------------------------------------
def pdf_text(path: Path) -> list[str]:
    """The text of each page, whitespace runs as one space."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(path).pages]


@pytest.fixture(scope="module")
def teststadt_pdf(synthetic_curated_dir, tmp_path_factory) -> list[str]:
    wh = queries.open_warehouse(synthetic_curated_dir)
    content = build_report(wh, "2024-12-31", "de")
    path = tmp_path_factory.mktemp("teststadt") / "bericht.pdf"
    write_pdf(content, path)
    return pdf_text(path)


def test_teststadt_summary_by_hand(teststadt_pdf):
    """City: residents 5.000, 5.025, 5.050; foreigners 900, 932, 950 (18,0 %, 18,5 %,
    18,8 %); migration background 1.650, 1.694, 1.740 (33,0 %, 33,7 %, 34,5 %); the
    segregation index over the 4 districts 0,20, 0,21, 0,23 (conftest.py)."""
    text = " ".join(teststadt_pdf)
    for sentence in (
        "Die Zahl der Einwohnerinnen und Einwohner lag am 31.12.2024 bei 5.050.",
        # 25 / 5.025 = 0,4975 % and 50 / 5.000 = 1,0 %
        "Gegenüber dem Vorjahr (31.12.2023) ist sie um 0,5 % gestiegen.",
        "Gegenüber dem Beginn des Monitorings (31.12.2022) ist sie um 1,0 % gestiegen.",
        "Der Ausländeranteil lag am 31.12.2024 bei 18,8 %.",
        "Gegenüber dem Vorjahr (31.12.2023) ist er um 0,3 Prozentpunkte gestiegen.",
        "Gegenüber dem Beginn des Monitorings (31.12.2022) ist er um 0,8 Prozentpunkte gestiegen.",
        "Der Anteil mit Migrationshintergrund lag am 31.12.2024 bei 34,5 %.",
        "Gegenüber dem Vorjahr (31.12.2023) ist er um 0,8 Prozentpunkte gestiegen.",
        "Der Segregationsindex Migrationshintergrund lag am 31.12.2024 auf der Ebene "
        "Stadtteil (4 Gebiete) bei 0,23.",
        "Gegenüber dem Vorjahr (31.12.2023) ist er um 0,02 gestiegen.",
    ):
        assert sentence in text


def test_teststadt_title_page_contents_and_page_numbers(teststadt_pdf):
    first = teststadt_pdf[0]
    assert "Teststadt" in first and "Integrationsbericht 2024" in first
    assert "Stand der Daten: 31.12.2024" in first
    assert "Datenbestand veröffentlicht am 01.03.2025" in first
    assert "Seite" not in first  # no page number on the title page
    n = len(teststadt_pdf)
    assert f"Seite 2 von {n}" in teststadt_pdf[1]
    toc = teststadt_pdf[1].removeprefix("Inhalt ")
    entries = re.findall(r"([A-ZÄÖÜ][\wäöüß ,:-]+?) (?:\. )+\.? ?(\d+)", toc)
    titles = {title.strip(): int(page) for title, page in entries}
    assert titles["Das Wichtigste in Kürze"] == 3
    for title, page in titles.items():  # every entry points at the page with its heading
        assert title in teststadt_pdf[page - 1], title


def test_teststadt_district_table_and_sources(teststadt_pdf):
    text = " ".join(teststadt_pdf)
    # the district table: Weststadt 30 of 510 foreigners, published suppressed
    assert "Kennzahlen nach Gebieten der Ebene Stadtteil, Stand 31.12.2024" in text
    assert re.search(r"Altstadt 1\.020 11,8 % 27,5 %", text)  # 120/1.020, 280/1.020
    assert re.search(r"Weststadt 510 geheim gehalten 17,6 %", text)  # 90/510
    assert "Quelle: Einwohnermelderegister Teststadt · Stand: 31.12.2024" in text
    assert "Methoden und Quellen" in text


# --- Musterstadt through the command line --------------------------------------------------
@pytest.fixture(scope="module")
def public_copy(demo_curated_dir, tmp_path_factory) -> Path:
    """The demo's published snapshot without its internal folder."""
    snapshot = (demo_curated_dir / warehouse.CURRENT).resolve()
    curated = tmp_path_factory.mktemp("public") / "curated"
    shutil.copytree(
        snapshot,
        curated / warehouse.SNAPSHOTS / snapshot.name,
        ignore=shutil.ignore_patterns(warehouse.INTERNAL),
    )
    (curated / warehouse.CURRENT).symlink_to(Path(warehouse.SNAPSHOTS) / snapshot.name)
    return curated


def profile_file(curated: Path, folder: Path) -> Path:
    """A copy of profiles/musterstadt.yaml whose paths are absolute, with ``curated``."""
    source = REPO / "profiles" / "musterstadt.yaml"
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data.update(
        raw_dir=str((source.parent / data["raw_dir"]).resolve()),
        curated_dir=str(curated),
        indicators=str((source.parent / data["indicators"]).resolve()),
    )
    if data.get("goals"):
        data["goals"]["file"] = str((source.parent / data["goals"]["file"]).resolve())
    path = folder / "musterstadt.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_pdf(public_copy, tmp_path_factory) -> tuple[Path, list[str]]:
    """``imon report --out bericht.pdf`` on the public copy, every DuckDB file it opens
    recorded."""
    folder = tmp_path_factory.mktemp("demo_report")
    out = folder / "bericht.pdf"
    args = ["--date", "2015-12-31", "--out", str(out)]
    opened: list[str] = []
    connect = duckdb.connect

    def spy(database=":memory:", *args, **kwargs):
        opened.append(str(database))
        return connect(database, *args, **kwargs)

    queries.clear_cache()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(duckdb, "connect", spy)
        code = main(["report", "--profile", str(profile_file(public_copy, folder)), *args])
    assert code == 0
    return out, opened


def test_the_public_report_reads_the_publication_only(demo_pdf):
    _, opened = demo_pdf
    assert opened and all(p.endswith(warehouse.PUBLICATION) for p in opened), opened


def render_page(path: Path, index: int, name: str):
    """Page ``index`` of the PDF as a PNG in test-artifacts/ (to look at); its pixels."""
    import numpy as np

    document = pdfium.PdfDocument(str(path))
    image = document[index].render(scale=1.5).to_pil().convert("RGB")
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / name)
    document.close()
    return np.asarray(image).astype(int)


def coloured_share(pixels) -> float:
    """Share of pixels with a clear colour (not white, grey or black)."""
    return float(((pixels.max(axis=2) - pixels.min(axis=2)) > 40).mean())


def test_the_demo_pdf_pages_contents_and_pictures(demo_pdf):
    path, _ = demo_pdf
    pages = pdf_text(path)
    assert len(pages) >= 10
    assert "Musterstadt" in pages[0] and "Integrationsbericht 2015" in pages[0]
    assert "Stand der Daten: 31.12.2015" in pages[0]
    toc = pages[1]
    for heading in (
        "Das Wichtigste in Kürze",
        "Kennzahlen",
        "Gebiete im Vergleich",
        "Segregation",
        "Methoden und Quellen",
    ):
        page = int(re.search(re.escape(heading) + r"[ .]*?(\d+)", toc).group(1))
        assert pages[page - 1].startswith(heading), (heading, page)
    maps = next(i for i, text in enumerate(pages) if text.startswith("Gebiete im Vergleich"))
    title = render_page(path, 0, "jahresbericht-seite-1.png")
    assert (title < 128).all(axis=2).mean() > 0.002  # dark text on the title page
    assert coloured_share(title) < 0.02  # the dark blue title, no chart
    chart = render_page(path, maps, "jahresbericht-karte.png")
    assert coloured_share(chart) > 0.05  # the choropleth's classes
    # every chart keeps its source line (SVG text stays text in the PDF)
    text = " ".join(pages)
    assert text.count("Quelle: Einwohnermelderegister Musterstadt (synthetische Demo-Daten)") >= 5


# Musterstadt's published city values (cell-key protected), rounded to their decimals by
# hand: (indicator, level) -> values on 31.12.2010, 31.12.2014, 31.12.2015
DEMO_VALUES = {
    ("population", "city"): (110000, 111541, 112642),
    ("foreigner_share", "city"): (9.0, 10.4, 11.4),
    ("germans_with_migration_background_share", "city"): (15.0, 15.6, 15.6),
    # 2014: 0,376 since a district whose counts no published value shows is pooled (#15)
    ("segregation_is_migration_background", "district"): (0.378, 0.376, 0.377),
    ("segregation_is_foreigners", "district"): (0.430, 0.453, 0.448),
}
DEMO_SENTENCES = (
    # rising: +1.101 / 111.541 = +0,99 %; +2.642 / 110.000 = +2,40 %
    "Die Zahl der Einwohnerinnen und Einwohner lag am 31.12.2015 bei 112.642. "
    "Gegenüber dem Vorjahr (31.12.2014) ist sie um 1,0 % gestiegen. "
    "Gegenüber dem Beginn des Monitorings (31.12.2010) ist sie um 2,4 % gestiegen.",
    "Der Ausländeranteil an allen Einwohnern lag am 31.12.2015 bei 11,4 %. "
    "Gegenüber dem Vorjahr (31.12.2014) ist er um 1,0 Prozentpunkte gestiegen.",
    # unchanged: 15,6 % and 15,6 %
    "Der Anteil der Deutschen mit Migrationshintergrund an allen Einwohnern lag am "
    "31.12.2015 bei 15,6 %. Gegenüber dem Vorjahr (31.12.2014) ist er unverändert geblieben. "
    "Gegenüber dem Beginn des Monitorings (31.12.2010) ist er um 0,6 Prozentpunkte gestiegen.",
    # rising and falling by the same step: 0,376 -> 0,377; 0,378 -> 0,377; 27 units: 26
    # districts and the remainder of 4 whose small counts (min_denominator) are withheld
    "Der Segregationsindex Migrationshintergrund lag am 31.12.2015 auf der Ebene Stadtteil "
    "(27 Gebiete) bei 0,377. Gegenüber dem Vorjahr (31.12.2014) ist er um 0,001 gestiegen. "
    "Gegenüber dem Beginn des Monitorings (31.12.2010) ist er um 0,001 gesunken.",
    # falling against the previous year, rising since the start
    "Der Segregationsindex Ausländer lag am 31.12.2015 auf der Ebene Stadtteil (27 Gebiete) "
    "bei 0,448. Gegenüber dem Vorjahr (31.12.2014) ist er um 0,005 gesunken. "
    "Gegenüber dem Beginn des Monitorings (31.12.2010) ist er um 0,018 gestiegen.",
)


def test_the_demo_summary_against_the_publication(demo_pdf, public_copy):
    """The sentences of rising, falling and unchanged key figures, checked by hand against
    the values read here directly from the publication."""
    publication = public_copy / warehouse.CURRENT / warehouse.PUBLICATION
    with duckdb.connect(str(publication), read_only=True) as con:
        for (indicator_id, level), expected in DEMO_VALUES.items():
            found = con.execute(
                """
                SELECT v.value, i.decimals FROM indicator_values v JOIN indicators i
                    USING (indicator_id)
                WHERE indicator_id = ? AND level = ? AND area_id = '0'
                  AND ref_date IN ('2010-12-31', '2014-12-31', '2015-12-31')
                ORDER BY ref_date
                """,
                [indicator_id, level],
            ).fetchall()
            assert tuple(round(v, d) for v, d in found) == expected, indicator_id
    text = " ".join(pdf_text(demo_pdf[0]))
    for sentence in DEMO_SENTENCES:
        assert sentence in text, text[text.find(sentence[:60]) :][: len(sentence) + 40]


@pytest.fixture(scope="module")
def demo_docx(public_copy, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo_docx")
    out = folder / "bericht.docx"
    assert (
        main(
            [
                "report",
                "--profile",
                str(profile_file(public_copy, folder)),
                *("--date", "2015-12-31", "--out", str(out)),
            ]
        )
        == 0
    )
    return out


def test_the_docx_has_the_pdfs_headings_sentences_and_charts(demo_docx, demo_pdf):
    document = docx.Document(str(demo_docx))
    paragraphs = [p for p in document.paragraphs]
    headings = [p.text for p in paragraphs if p.style.name.startswith("Heading")]
    pages = pdf_text(demo_pdf[0])
    toc = pages[1]
    assert headings[0] == "Das Wichtigste in Kürze"
    for heading in headings:  # every Word heading is an entry of the PDF's contents
        assert heading in toc, heading
    summary = [p.text for p in paragraphs if " lag am 31.12.2015 " in p.text]
    assert len(summary) == 6  # the six key figures of the demo city
    pdf = " ".join(pages)
    for text in summary:  # the same summary sentences, word for word
        assert text in pdf, text
    for sentence in DEMO_SENTENCES:
        assert sentence in " ".join(summary)
    assert len(document.inline_shapes) == 6  # 4 district maps, 2 segregation charts
    assert len(document.tables) >= 3
    footer = document.sections[0].footer.paragraphs[0]
    assert "Seite" in footer.text and "PAGE" in footer._p.xml


def test_internal_report_marks_every_page(demo_curated_dir, tmp_path):
    profile = profile_file(demo_curated_dir, tmp_path)
    out = tmp_path / "intern.pdf"
    assert main(["report", "--profile", str(profile), "--internal", "--out", str(out)]) == 0
    pages = pdf_text(out)
    assert all("intern – nicht zur Veröffentlichung" in page for page in pages)
    assert "Ziele der Handlungsfelder" in pages[1]  # the goals published with the snapshot
    assert "ungeschützte Werte" in pages[2]


def test_the_public_report_has_no_internal_mark(demo_pdf):
    assert not any("intern –" in page for page in pdf_text(demo_pdf[0]))


def test_an_unknown_suffix_or_date_stops_before_writing(public_copy, tmp_path):
    profile = str(profile_file(public_copy, tmp_path))
    assert main(["report", "--profile", profile, "--out", str(tmp_path / "b.html")]) == 2
    out = tmp_path / "b.pdf"
    assert main(["report", "--profile", profile, "--date", "2024-06-30", "--out", str(out)]) == 2
    assert not out.exists()


# --- goals --------------------------------------------------------------------------------
def test_goals_section_per_action_field(synthetic_curated_dir):
    """A goal on the city's foreigner share (baseline 18,0 % on 31.12.2022, target 20,0 %
    on 31.12.2026; published 18,8 % on 31.12.2024)."""
    from etl.goals import (
        ActionField,
        Baseline,
        Goal,
        GoalIndicator,
        Goals,
        MonitorRef,
        ProjectRef,
        Target,
        Text,
    )

    def text(de: str) -> Text:
        return Text(de=de, en=de)

    share = GoalIndicator(
        id="auslaenderanteil",
        title=text("Ausländeranteil der Stadt"),
        monitor=MonitorRef(indicator="foreigner_share", area="00", level="city"),
        definition=text("Anteil."),
        source=text("Melderegister"),
        baseline=Baseline(date="2022-12-31", value=18.0),
        target=Target(value=20.0, date="2026-12-31"),
        direction="increase",
        decimals=1,
    )
    mentors = GoalIndicator(
        id="mentorenprogramm",
        title=text("Mentorenprogramm realisiert"),
        project=ProjectRef(measure="milestone", unit=text("ja/nein")),
        definition=text("Programm."),
        source=text("Integrationsbüro"),
        baseline=Baseline(date="2022-12-31", value=0),
        target=Target(value=1, date="2025-12-31"),
        direction="increase",
    )
    goals = Goals(
        action_fields=[
            ActionField(
                id="teilhabe",
                title=text("Teilhabe"),
                goals=[Goal(id="vielfalt", title=text("Vielfalt sichtbar"), indicators=[share])],
            ),
            ActionField(
                id="ehrenamt",
                title=text("Ehrenamt"),
                goals=[
                    Goal(
                        id="mentoren",
                        title=text("Mentoren"),
                        indicators=[mentors],
                        supports=["vielfalt"],
                    )
                ],
            ),
        ]
    )
    wh = queries.open_warehouse(synthetic_curated_dir)
    sections = goals_sections(wh, goals, "2024-12-31", "de")
    assert [s.title for s in sections] == ["Ziele der Handlungsfelder", "Teilhabe", "Ehrenamt"]
    table = next(b for b in sections[1].blocks if isinstance(b, Table))
    row = table.rows[0]
    assert row[:5] == (
        "Vielfalt sichtbar",
        "Ausländeranteil der Stadt\nTeststadt (Stadt)",
        "18,0 %\n(31.12.2022)",
        "18,8 %\n(31.12.2024)",
        "20,0 %\n(31.12.2026)",
    )
    # growth 18,0 -> 18,81 in 2 years against 18,0 -> 20,0 in 4: R = 0,84 (moderate)
    assert row[5] == "Mäßiger Fortschritt"
    lead = sections[1].blocks[0]
    assert lead.lead == "Vielfalt sichtbar" and "Mäßiger Fortschritt" in lead.text
    # a milestone as ja/nein; the snapshot has no project values: no latest value, no status
    milestone = next(b for b in sections[2].blocks if isinstance(b, Table)).rows[0]
    assert milestone[2:] == ("nein\n(31.12.2022)", "–", "ja\n(31.12.2025)", "nicht bewertbar")
    assert sections[2].blocks[0].text == (
        "Stand der Zielerreichung: nicht bewertbar. Das Ziel unterstützt „Vielfalt sichtbar“."
    )
    assert goals_sections(wh, Goals(), "2024-12-31", "de") == []


def _widest_overshoot_cm(report) -> float:
    """How far the widest box of the typeset report reaches beyond the text width (cm)."""
    from weasyprint import CSS, HTML

    from dashboards.export.yearly_report import pdf

    styles = [CSS(filename=str(pdf.CSS_FILE)), CSS(string=pdf.page_css(report))]
    html = HTML(string=pdf.report_html(report), base_url=str(pdf.FILES))
    worst = 0.0
    for page in html.render(stylesheets=styles).pages:
        box = page._page_box
        right, stack = box.content_box_x() + box.width, [box]
        while stack:
            b = stack.pop()
            if getattr(b, "position_x", None) is not None and hasattr(b, "border_width"):
                worst = max(worst, b.border_box_x() + b.border_width() - right)
            stack.extend(getattr(b, "children", None) or [])
    return worst / 96 * 2.54  # CSS px -> cm


def test_a_goals_table_of_long_german_words_stays_within_the_text_width(synthetic_curated_dir):
    """Three value columns of "Migrantenorganisationen" made the table 0,3–0,5 cm wider
    than the 16 cm text width; hyphenation (the document's lang) keeps it inside."""
    from etl.goals import ActionField, Baseline, Goal, GoalIndicator, Goals, ProjectRef, Target
    from etl.goals import Text as T

    def text(de: str) -> T:
        return T(de=de, en=de)

    organisations = GoalIndicator(
        id="organisationen",
        title=text("Eingetragene Migrantenorganisationen und Kulturvereine"),
        project=ProjectRef(measure="number", unit=text("Migrantenorganisationen")),
        definition=text("Vereine."),
        source=text("Integrationsbüro"),
        baseline=Baseline(date="2022-12-31", value=8),
        target=Target(value=12, date="2026-12-31"),
        direction="increase",
    )
    goal = Goal(
        id="selbstorganisation",
        title=text("Selbstorganisationen von Zugewanderten stärken"),
        indicators=[organisations],
    )
    goals = Goals(action_fields=[ActionField(id="ehrenamt", title=text("Ehrenamt"), goals=[goal])])
    wh = queries.open_warehouse(synthetic_curated_dir)
    sections = goals_sections(wh, goals, "2024-12-31", "de")
    table = next(b for b in sections[1].blocks if isinstance(b, Table))
    assert table.rows[0][2] == "8 Migrantenorganisationen\n(31.12.2022)"
    dates = ("31.12.2024",) * 3
    content = Report("de", "Teststadt", "Integrationsbericht", "", *dates, "", None, sections)
    assert _widest_overshoot_cm(content) < 0.01


def test_the_english_report_has_english_headings_and_sentences(synthetic_curated_dir):
    wh = queries.open_warehouse(synthetic_curated_dir)
    content = build_report(wh, "2024-12-31", "en")
    assert [s.title for s in content.sections if s.level == 1] == [
        "Key points",
        "Key figures",
        "Areas compared",
        "Segregation",
        "Methods and sources",
    ]
    summary = content.sections[0].blocks
    assert summary[3].text == (
        "The ausländeranteil (en) stood at 18,8 % on 31.12.2024. Compared with the previous "
        "year (31.12.2023) it rose by 0,3 percentage points. Compared with the start of the "
        "monitoring (31.12.2022) it rose by 0,8 percentage points."
    )
    assert content.mark is None and content.title == "Integration report 2024"
