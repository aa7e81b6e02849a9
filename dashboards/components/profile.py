"""Layout pieces of the Stadtteilprofil (``/profil``): the profile table (every area
indicator against the parent area and the city, with rank) and the series table of the
small multiples (rows from :mod:`dashboards.data.profile`).
"""

from __future__ import annotations

import pandas as pd
from dash import html

from dashboards import flags, formatting, labels
from dashboards.components import tables
from dashboards.components.tables import Column
from dashboards.data.catalogue import Indicator
from dashboards.data.profile import (
    ROLES,
    ProfileArea,
    city_distance,
    compared_with_city,
    difference_text,
    rank_text,
)
from dashboards.i18n import t


def _value(row: dict, prefix: str, indicator: Indicator, lang: str) -> tables.Cell:
    value, flag = row.get(f"{prefix}value"), row.get(f"{prefix}flag")
    value = None if formatting.is_missing(value) else value
    return labels.value_text(value, flag, indicator, lang), value


def _counts(row: dict, indicator: Indicator, lang: str) -> dict[str, tables.Cell]:
    numerator, denominator = row["numerator"], row["denominator"]
    if labels.count_labels(indicator, lang) is None:
        numerator = denominator = None
    return {
        "numerator": (formatting.format_count(numerator), numerator),
        "denominator": (formatting.format_count(denominator), denominator),
    }


def _profile_row(row: dict, indicator: Indicator, lang: str) -> dict[str, tables.Cell]:
    diff = city_distance(row, indicator)
    rank, ranked = row["rank"], compared_with_city(indicator)
    return {
        "indicator": (tables.Noted(indicator.title, indicator.unit_label), indicator.title),
        "date": (formatting.format_date(row["ref_date"]), row["ref_date"]),
        "value": _value(row, "", indicator, lang),
        **_counts(row, indicator, lang),
        "parent": _value(row, "parent_", indicator, lang),
        "city": _value(row, "city_", indicator, lang),
        "diff": (difference_text(diff, indicator, lang), diff),
        "rank": (
            rank_text(rank, row["n_ranked"], bool(row["tied"]), row["flag"], lang, ranked),
            None if pd.isna(rank) else int(rank),
        ),
        "flag": (labels.flag_label(row["flag"], lang), labels.flag_label(row["flag"], lang)),
    }


def profile_table(
    table_id: str,
    frame: pd.DataFrame,
    indicators: dict[str, Indicator],
    area: ProfileArea,
    city_name: str,
    caption: str,
    state: dict | None,
    lang: str,
) -> html.Div:
    """Every indicator of the area with counts, parent, city, distance to the city, rank;
    the column "Stand" only when indicators are shown on different dates."""
    columns = [
        Column("indicator", t("profile.col.indicator", lang)),
        *([Column("date", t("profile.col.date", lang))] if frame["ref_date"].nunique() > 1 else []),
        Column("value", area.name, True),
        Column("numerator", t("label.numerator", lang), True),
        Column("denominator", t("label.denominator", lang), True),
        *([Column("parent", area.parent.name, True)] if area.parent else []),
        Column("city", city_name, True),
        Column("diff", t("profile.col.diff", lang), True),
        Column("rank", t("profile.col.rank", lang, level=area.level_label), True),
        Column("flag", t("table.flag", lang)),
    ]
    rows = [
        _profile_row(row, indicators[row["indicator_id"]], lang) for row in frame.to_dict("records")
    ]
    used = [*frame["flag"], *frame.get("parent_flag", []), *frame["city_flag"]]
    return tables.data_table(
        table_id, caption, columns, rows, state, lang, notes=tables.flag_notes(used, lang)
    )


def series_table(
    table_id: str,
    series: pd.DataFrame,
    indicators: dict[str, Indicator],
    area: ProfileArea,
    city_name: str,
    caption: str,
    state: dict | None,
    lang: str,
) -> html.Div:
    """The small multiples as a table: indicator, date, area, parent and city values."""
    roles = [r for r in ROLES if r in set(series["role"])]
    names = {
        "area": area.name,
        "parent": area.parent.name if area.parent else "",
        "city": city_name,
    }
    columns = [
        Column("indicator", t("profile.col.indicator", lang)),
        Column("date", t("table.date", lang)),
        *[Column(role, names[role], True) for role in roles],
    ]
    position = {indicator_id: i for i, indicator_id in enumerate(indicators)}
    series = series.assign(position=series["indicator_id"].map(position))
    series = series.sort_values(["position", "ref_date"], kind="stable")
    rows = []
    for (indicator_id, date), group in series.groupby(["indicator_id", "ref_date"], sort=False):
        indicator = indicators[indicator_id]
        by_role = {r["role"]: r for r in group.to_dict("records")}
        row = {
            "indicator": (indicator.title, indicator.title),
            "date": (formatting.format_date(date), date),
        }
        for role in roles:
            found = by_role.get(role, {"value": None, "flag": None})
            row[role] = _value(found, "", indicator, lang)
            if found.get("estimated") and not flags.is_flag(found["flag"]):  # today's (#18)
                text, value = row[role]
                row[role] = (f"{text} ({t('flag.estimated', lang)})", value)
        rows.append(row)
    estimated = ["estimated"] if series.get("estimated", pd.Series(dtype=bool)).any() else []
    notes = tables.flag_notes([*series["flag"].tolist(), *estimated], lang)
    return tables.data_table(table_id, caption, columns, rows, state, lang, notes=notes)
