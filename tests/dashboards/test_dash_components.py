"""Key figures, tables, URL-state helpers and UI strings."""

import json
import re
from pathlib import Path

import pytest
from dash_tree import markup, texts

from dashboards import flags, i18n, labels
from dashboards.components import common as components
from dashboards.components import overview as overview_parts
from dashboards.components import tables
from dashboards.data import catalogue, queries
from dashboards.data import overview as overview_data


@pytest.fixture()
def wh(synthetic_curated_dir):
    return queries.open_warehouse(synthetic_curated_dir)


def test_key_figures_of_the_city(wh):
    figures = {
        f.indicator.indicator_id: f for f in overview_data.key_figures(wh, "2024-12-31", "de")
    }
    # the synthetic warehouse lacks germans_with_migration_background_share: left out
    assert list(figures) == [
        "population",
        "foreigner_share",
        "migration_background_share",
        "segregation_is_migration_background",
    ]
    population = figures["population"]
    assert (population.value, population.previous) == (5050, 5025)
    assert population.change == pytest.approx(100 * 25 / 5025)
    seg = figures["segregation_is_migration_background"]
    assert (seg.level, seg.n_units, seg.value) == ("district", 4, pytest.approx(0.23))
    assert seg.change == pytest.approx(0.02)


def test_key_figure_cards_are_german(wh):
    figures = {
        f.indicator.indicator_id: f for f in overview_data.key_figures(wh, "2024-12-31", "de")
    }
    assert texts(overview_parts.card(figures["population"], None, "de"))[1:] == [
        "Personen",
        "5.050",
        "+0,5 % gegenüber 31.12.2023",
        "Stand: 31.12.2024",
    ]
    share = texts(overview_parts.card(figures["foreigner_share"], None, "de"))
    # 950/5050 = 18.81 %; 932/5025 = 18.55 %: +0.27 percentage points
    assert share[1:] == ["18,8 %", "+0,3 Prozentpunkte gegenüber 31.12.2023", "Stand: 31.12.2024"]
    seg = texts(
        overview_parts.card(figures["segregation_is_migration_background"], "Stadtteil", "de")
    )
    assert seg[1:4] == ["Ebene Stadtteil, 4 Gebiete", "0,23", "+0,02 gegenüber 31.12.2023"]


def test_first_date_has_no_change(wh):
    first = overview_data.key_figures(wh, "2022-12-31", "de")[0]
    assert overview_data.change_text(first, "de") == "Kein früherer Stichtag zum Vergleich"


def test_overview_table_has_areas_and_city_footer(wh):
    indicators = overview_data.table_indicators(wh, "de")
    ids_ = tuple(i.indicator_id for i in indicators)
    table = overview_parts.area_table(
        "t",
        queries.area_values(wh, ids_, "2024-12-31", "borough"),
        queries.area_values(wh, ids_, "2024-12-31", "city"),
        indicators,
        "Kennzahlen",
        None,
        "de",
    )
    words = texts(table)
    assert words[words.index("Nord") : words.index("Nord") + 4] == [
        "Nord",
        "3.060",
        "14,7 %",
        "30,4 %",
    ]
    assert words[-4:] == ["Teststadt", "5.050", "18,8 %", "34,5 %"]


def test_area_table_hides_counts_of_suppressed_values(wh):
    indicator = catalogue.indicators(wh, "de")["foreigner_share"]
    values = queries.area_values(wh, ("foreigner_share",), "2024-12-31", "district")
    words = texts(tables.area_table("t", values, indicator, "Tabelle", None, "de"))
    west = words.index("Weststadt")
    assert words[west : west + 5] == ["Weststadt", "–", "–", "–", "geheim gehalten"]
    assert "510" not in words and "30" not in words


def test_sorting_puts_empty_values_last_in_both_directions():
    rows = [{"v": ("b", 2.0)}, {"v": ("–", None)}, {"v": ("a", 10.0)}, {"v": ("c", 1.0)}]
    ascending = tables.sort_rows(rows, {"col": "v", "desc": False})
    assert [r["v"][0] for r in ascending] == ["c", "b", "a", "–"]
    descending = tables.sort_rows(rows, {"col": "v", "desc": True})
    assert [r["v"][0] for r in descending] == ["a", "b", "c", "–"]
    names = [{"n": ("Ölberg", "Ölberg")}, {"n": ("altstadt", "altstadt")}]
    assert [r["n"][0] for r in tables.sort_rows(names, {"col": "n"})] == ["altstadt", "Ölberg"]


def test_next_sort_state_toggles():
    assert tables.next_sort_state(None, "v") == {"col": "v", "desc": False}
    assert tables.next_sort_state({"col": "v", "desc": False}, "v") == {"col": "v", "desc": True}
    assert tables.next_sort_state({"col": "v", "desc": True}, "w") == {"col": "w", "desc": False}


def test_choose_from_url_values():
    assert components.choose(None, ["a", "b"], "a", "level", "de") == ("a", None)
    assert components.choose("b", ["a", "b"], "a", "level", "de") == ("b", None)
    value, notice = components.choose("x", ["a", "b"], "a", "level", "de")
    assert value == "a" and "„x“" in notice and "„level“" in notice
    assert components.choose_many("b,x", ["a", "b"], ["a"], "areas", "de")[0] == ["b"]
    assert components.choose_many(None, ["a", "b"], ["a"], "areas", "de") == (["a"], None)


def test_every_ui_string_has_both_languages_and_every_used_key_exists():
    strings = i18n.strings()
    assert all(set(i18n.LANGUAGES) <= set(texts_) for texts_ in strings.values())
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in Path(i18n.__file__).parent.rglob("*.py")
    )
    used = set(re.findall(r'\bt\(\s*"([a-z_.]+)"', source))
    assert used and not used - set(strings)
    with pytest.raises(i18n.UnknownStringError):
        i18n.t("no.such.key")


def test_long_tables_are_paged_and_sorting_covers_all_rows():
    columns = [tables.Column("n", "Gebiet"), tables.Column("v", "Wert", True)]
    rows = [{"n": (f"G{i:03d}", f"G{i:03d}"), "v": (str(i), float(i))} for i in range(250)]
    first = texts(tables.data_table("t", "c", columns, rows, None, "de"))
    assert "Zeilen 1–100 von 250" in first and "G099" in first and "G100" not in first
    last = texts(tables.data_table("t", "c", columns, rows, {"page": 9}, "de"))  # clamped
    assert "Zeilen 201–250 von 250" in last and "G249" in last
    desc = texts(tables.data_table("t", "c", columns, rows, {"col": "v", "desc": True}, "de"))
    assert desc.index("G249") < desc.index("G150") and "G149" not in desc
    short = texts(tables.data_table("t", "c", columns, rows[:5], None, "de"))
    assert not any(w.startswith("Zeilen") for w in short)


def test_table_markup_escapes_texts_and_buttons_carry_their_state():
    columns = [tables.Column("n", "Gebiet"), tables.Column("v", "Wert <%>", True)]
    name = '<script>alert("x")</script> Süd & Nord'
    rows = [{"n": (name, name), "v": (str(i), float(i))} for i in range(150)]
    table = tables.data_table("t", "Tabelle", columns, rows, {"col": "v", "desc": False}, "de")
    markdown = table.children[0]
    assert "<script>" not in markdown.children
    root = markup(markdown)
    assert texts(root.find(".//tbody/tr"))[0] == name  # shown as written, not run
    buttons = {b.get("data-key"): b for b in root.iter("button")}
    assert {k: json.loads(b.get("data-state")) for k, b in buttons.items()} == {
        "sort:n": {"col": "n", "desc": False},
        "sort:v": {"col": "v", "desc": True},  # the active column: the other direction
        "page:-1": {"col": "v", "desc": False, "page": 0},
        "page:1": {"col": "v", "desc": False, "page": 1},
    }
    assert buttons["page:-1"].get("disabled") and not buttons["page:1"].get("disabled")
    assert {b.get("data-table") for b in buttons.values()} == {"t"}
    assert [th.get("aria-sort") for th in root.iter("th") if th.get("scope") == "col"] == [
        "none",
        "ascending",
    ]
    assert "Wert <%>" in texts(root)


def test_page_and_sort_states():
    assert tables.next_page_state(None, 1) == {"page": 1}
    assert tables.next_page_state({"col": "v", "desc": True, "page": 2}, -1)["page"] == 1
    assert tables.next_page_state({"page": 0}, -1) == {"page": 0}
    assert "page" not in tables.next_sort_state({"col": "v", "page": 3}, "w")  # back to page 1


def test_flag_labels_come_from_the_etl_code_list():
    from etl.sources.value_flags import code_list

    for flag, row in code_list().items():
        assert labels.flag_label(flag, "de") == row["label_de"]
        assert labels.flag_label(flag, "en") == row["label_en"]
    assert flags.explanation("secret", "de") == "Zeichen „.“ in der Tabelle des Statistikamts"
    assert labels.flag_label("suppressed", "de") == "geheim gehalten"
    assert labels.flag_label("incomplete", "de") == "unvollständig"
    assert labels.flag_label("brand_new", "de") == "brand_new"
    assert labels.flag_label(None, "de") == ""


def test_flag_notes_explain_each_flag_once():
    notes = texts(tables.flag_notes(["secret", None, "suppressed", "secret", float("nan")], "de"))
    assert notes[0] == "Hinweise zu den Werten:"
    assert [n.split(":")[0] for n in notes[1:]] == [
        "geheim gehalten",
        "Zahlenwert unbekannt oder geheim zu halten",
    ]
    assert tables.flag_notes([None, None], "de") is None


def test_map_legend_names_every_flag_and_outlined_values(wh):
    values = queries.area_values(wh, ("foreigner_share",), "2024-12-31", "district")
    values.loc[values["area_id"] == "11", ["value", "flag"]] = [None, "nil"]
    values.loc[values["area_id"] == "12", "flag"] = "unreliable"  # a value with a flag
    values = values[values["area_id"] != "21"]  # no row at all
    shapes = queries.geometries(wh, "district", "2024-12-31")
    legend = components.map_legend(values, shapes, "de")
    words = texts(legend)
    assert words[0] == "Gebiete ohne ausgewiesenen Wert (Farbe wie im Kästchen):"
    assert [w.split(" (")[0] for w in words[1:4]] == [
        "geheim gehalten",
        "nichts vorhanden",
        "keine Daten",
    ]
    assert words[4] == "Dunkel umrandete Gebiete: Wert mit Hinweis"
    assert words[5].startswith("keine Angabe, da Zahlenwert nicht sicher genug (1)")
    full = queries.area_values(wh, ("population",), "2024-12-31", "district")
    assert components.map_legend(full, shapes, "de") is None
