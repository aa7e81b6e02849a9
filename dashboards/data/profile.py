"""Stadtteilprofil: every area indicator of one area against its parent area and the city,
its rank among the areas of its level, the series for the small multiples (the tables:
:mod:`dashboards.components.profile`).

* **Indicators**: all area indicators (segregation indices describe the whole city and
  have no area values). Indicators need not share reference dates (statistics-office
  tables: 30 June, annual averages), so each one is shown on its latest date up to the
  chosen date, with that date ("Stand"), as on the overview page.
* **Rank** among the peers (same level, same date): 1 = highest value. Equal values share
  the best rank (competition ranking "1224": two areas tied for 2nd are both "Rang 2", the
  next is 4th). Values that are missing or carry a flag (suppressed, a source symbol, ...)
  are neither ranked nor counted; the table says why. Empty areas (denominator 0: no
  residents of the base) are neither ranked nor counted either.
* **Counts** (function ``count``: residents, arrivals, ...) depend on the size of the area:
  they get no distance to the city and no rank (:func:`compared_with_city`).
* **Parent**: the area's parent on the chosen date; none when that is the whole city.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards import flags, formatting, labels
from dashboards.data import boundaries_choice, catalogue, queries
from dashboards.data.catalogue import Area, Indicator
from dashboards.data.queries import Warehouse
from dashboards.i18n import t

ROLES = ("area", "parent", "city")
BARE_UNITS = ("index", "quotient")  # differences without a unit (it is in the heading)
SIZE_FUNCTIONS = frozenset({"count"})  # values that grow with the area: no distance, no rank
CHOICE_COLUMNS = ["area_id", "name", "parent_id", "level", "level_label"]
PROFILE_COLUMNS = [
    "indicator_id",
    "value",
    "numerator",
    "denominator",
    "flag",
    "rank",
    "n_ranked",
    "tied",
    "city_value",
    "city_flag",
    "ref_date",
]


@dataclass(frozen=True)
class ProfileArea:
    """The profiled area, its level label and its parent (None when that is the city)."""

    area_id: str
    name: str
    level: str
    level_label: str
    parent: Area | None


def profile_indicators(warehouse: Warehouse, lang: str) -> list[Indicator]:
    """Area indicators in catalogue order (no city-wide segregation indices)."""
    return [i for i in catalogue.indicators(warehouse, lang).values() if not i.is_segregation]


def profile_dates(warehouse: Warehouse, indicators: list[Indicator]) -> list[str]:
    """Reference dates with a value row for any of ``indicators``, ascending."""
    if not indicators:
        return []
    return catalogue.indicator_dates(warehouse, *(i.indicator_id for i in indicators))


def area_choices(warehouse: Warehouse, ref_date: str | None, lang: str) -> pd.DataFrame:
    """Areas of every level below the city valid on ``ref_date``, coarse levels first."""
    frames = [
        queries.areas(warehouse, lvl.level, ref_date).assign(level=lvl.level, level_label=lvl.label)
        for lvl in catalogue.levels(warehouse, lang).values()
        if lvl.rank > 0 and ref_date is not None
    ]
    if not frames:
        return pd.DataFrame(columns=CHOICE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[CHOICE_COLUMNS]


def area_options(choices: pd.DataFrame) -> list[dict]:
    """Dropdown options ``"Südviertel (21) · Stadtteil"``: searchable by name and code."""
    return [
        {"label": f"{name} ({area_id}) · {level_label}", "value": area_id}
        for area_id, name, level_label in zip(
            choices["area_id"], choices["name"], choices["level_label"], strict=True
        )
    ]


def resolve_area(warehouse: Warehouse, choices: pd.DataFrame, area_id: str) -> ProfileArea:
    """The profiled area among ``choices`` (:func:`area_choices`) with its parent."""
    rows = choices[choices["area_id"] == area_id]
    if rows.empty:
        raise LookupError(f"Area {area_id!r} is not valid on the chosen date")
    row = rows.iloc[0]
    city = catalogue.city(warehouse)
    parents = choices[choices["area_id"] == row["parent_id"]]
    parent = None
    if row["parent_id"] != city.area_id and not parents.empty:
        found = parents.iloc[0]
        parent = Area(found["area_id"], found["name"], found["level"])
    return ProfileArea(row["area_id"], row["name"], row["level"], row["level_label"], parent)


def effective_date(warehouse: Warehouse, indicator_id: str, ref_date: str) -> str | None:
    """The latest date of the indicator up to ``ref_date`` (None if it starts later)."""
    dates = [d for d in catalogue.indicator_dates(warehouse, indicator_id) if d <= ref_date]
    return dates[-1] if dates else None


def compared_with_city(indicator: Indicator) -> bool:
    """Whether a distance to the city and a rank mean anything: not for counts, which
    grow with the size of the area (a district is always "below" the city)."""
    return indicator.function not in SIZE_FUNCTIONS


def rank_among_peers(values: pd.DataFrame) -> pd.DataFrame:
    """Add ``rank``, ``n_ranked`` and ``tied`` to ``values`` (indicator_id, value, flag,
    optionally denominator).

    Per indicator: rank 1 = highest value; ties share the best rank ("1224"); rows without
    a value, with a flag or of an empty area (denominator 0) get no rank (``<NA>``) and are
    not counted in ``n_ranked``.
    """
    out = values.copy()
    eligible = out["value"].notna() & ~out["flag"].map(flags.is_flag)
    if "denominator" in out:
        eligible &= ~(pd.to_numeric(out["denominator"], errors="coerce") == 0)
    ranked = out[eligible]
    ranks = ranked.groupby("indicator_id")["value"].rank(method="min", ascending=False)
    out["rank"] = ranks.reindex(out.index).astype("Int64")
    out["n_ranked"] = eligible.groupby(out["indicator_id"]).transform("sum").astype(int)
    ties = ranked.groupby(["indicator_id", "value"])["value"].transform("size") > 1
    out["tied"] = ties.reindex(out.index, fill_value=False).astype(bool)
    return out


def _values_of(
    warehouse: Warehouse, ids: tuple[str, ...], ref_date: str, area: Area, prefix: str
) -> pd.DataFrame:
    frame = queries.area_values(warehouse, ids, ref_date, area.level)
    frame = frame[frame["area_id"] == area.area_id][["indicator_id", "value", "flag"]]
    return frame.rename(columns={"value": f"{prefix}_value", "flag": f"{prefix}_flag"})


def _at_date(
    warehouse: Warehouse, area: ProfileArea, ids: tuple[str, ...], ref_date: str
) -> pd.DataFrame:
    """The area's row (with rank), its parent's and the city's value for ``ids``."""
    peers = rank_among_peers(queries.area_values(warehouse, ids, ref_date, area.level))
    columns = ["indicator_id", "value", "numerator", "denominator", "flag", "rank", "n_ranked"]
    frame = pd.DataFrame({"indicator_id": list(ids)}).merge(
        peers[peers["area_id"] == area.area_id][[*columns, "tied"]], how="left"
    )
    others = [(catalogue.city(warehouse), "city")]
    if area.parent is not None:
        others.insert(0, (area.parent, "parent"))
    for other, prefix in others:
        frame = frame.merge(_values_of(warehouse, ids, ref_date, other, prefix), how="left")
    return frame.assign(ref_date=ref_date)


def profile_frame(
    warehouse: Warehouse, area: ProfileArea, indicators: list[Indicator], ref_date: str
) -> pd.DataFrame:
    """One row per indicator (catalogue order) on its latest date up to ``ref_date``:
    ``value, numerator, denominator, flag, rank, n_ranked, tied`` of the area,
    ``parent_value/flag`` (if there is a parent), ``city_value/flag`` and ``ref_date``."""
    by_date: dict[str, list[str]] = {}
    for indicator in indicators:
        date = effective_date(warehouse, indicator.indicator_id, ref_date)
        if date is not None:
            by_date.setdefault(date, []).append(indicator.indicator_id)
    parts = [_at_date(warehouse, area, tuple(ids), date) for date, ids in by_date.items()]
    if not parts:
        return pd.DataFrame(columns=PROFILE_COLUMNS)
    order = pd.DataFrame({"indicator_id": [i.indicator_id for i in indicators]})
    frame = order.merge(pd.concat(parts, ignore_index=True), how="inner")
    return _without_size_ranks(frame, indicators)


def _without_size_ranks(frame: pd.DataFrame, indicators: list[Indicator]) -> pd.DataFrame:
    """No rank for counts (:func:`compared_with_city`)."""
    sizes = {i.indicator_id for i in indicators if not compared_with_city(i)}
    counts = frame["indicator_id"].isin(sizes)
    frame["rank"] = frame["rank"].astype("Int64").mask(counts)
    frame["n_ranked"] = frame["n_ranked"].mask(counts, 0)
    frame["tied"] = frame["tied"].mask(counts, False)
    return frame


def city_distance(row: dict, indicator: Indicator) -> float | None:
    """Value of the area minus the city's (None for counts and missing values)."""
    if not compared_with_city(indicator):
        return None
    return formatting.change(row["value"], row["city_value"], "absolute")


def profile_series(
    warehouse: Warehouse,
    area: ProfileArea,
    indicators: list[Indicator],
    boundaries: str | None = None,
) -> pd.DataFrame:
    """All dates of the indicators for the area, its parent and the city, with ``role``
    (area, parent, city), ``label`` (the name shown) and ``estimated``; ``boundaries``: the
    reader's choice (:func:`boundaries_choice.series_of_indicators`)."""
    city = catalogue.city(warehouse)
    members = [(area.area_id, area.level, area.name, "area")]
    if area.parent is not None:
        members.append((area.parent.area_id, area.parent.level, area.parent.name, "parent"))
    members.append((city.area_id, city.level, city.name, "city"))
    keys = pd.DataFrame(members, columns=["area_id", "level", "label", "role"])
    area_ids = tuple(keys["area_id"])
    frame, _ = boundaries_choice.series_of_indicators(warehouse, indicators, area_ids, boundaries)
    return frame.merge(keys, on=["area_id", "level"], how="inner")


# --- texts and tables -------------------------------------------------------------------
def difference_text(value: float | None, indicator: Indicator, lang: str) -> str:
    """A difference in the indicator's terms: ``"+1,2 Pp."`` for percent values, else with
    the unit (``"+12 Personen"``); indices and quotients bare."""
    text = formatting.format_signed(value, indicator.decimals)
    if text == formatting.MISSING:
        return text
    if indicator.unit == "percent":
        return f"{text} {t('unit.points_short', lang)}"
    if indicator.unit in BARE_UNITS or not indicator.unit_label:
        return text
    return f"{text} {indicator.unit_label}"


def rank_text(
    rank: object, n_ranked: int, tied: bool, flag: object, lang: str, ranked: bool = True
) -> str:
    """``"3 von 12"``, ``"2 von 12 (gleichauf)"``, or why there is no rank (``ranked``
    False: a count, which has none)."""
    if not ranked:
        return t("profile.size_not_ranked", lang)
    if pd.isna(rank):
        reason = labels.flag_label(flag, lang) if flags.is_flag(flag) else t("flag.missing", lang)
        return t("profile.not_ranked", lang, reason=reason)
    text = t("profile.rank", lang, rank=int(rank), n=int(n_ranked))
    return f"{text} {t('profile.tied', lang)}" if tied else text
