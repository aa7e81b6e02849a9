"""Values on today's boundaries (``boundary_values``) recomputed from the publication alone.

A value of an earlier date on today's units is safe to publish when it is a function of
numbers the publication already holds: then the difference of an old and a new unit (the
geographic-differencing attack) is a difference of published numbers and reveals nothing
new. So, reading only the publication file — ``boundary_values``, ``boundary_parts`` (the
units of the earlier vintage each target is made of, with weights), ``indicator_values``
and ``areas`` (which vintage is valid at a date) — this check requires of every row:

* a published numerator, denominator or value only where every part's count is published;
* an exact row (``estimated`` false): all its parts whole (weight 1) and placed for
  certain (``boundary_parts.exact``: not inferred, :mod:`etl.crosswalk`); numerator and
  denominator the sums of the parts' published ones; the value scale · numerator /
  denominator (share, ratio), (numerator / denominator) / (X / T) with the city's
  published X, T of the date (location quotient) or the numerator (count);
* an estimated row: no numerator, denominator or count; a rate equal to
  scale · Σ w·numerator / Σ w·denominator of the published parts (a quotient likewise
  divided by X / T);
* the parts of one target disjoint (no finest unit in two of them, per ``area_closure``).

Anything else fails the build ("nicht nachrechenbar"). Scales and functions come from the
catalogue, not from the publication. Independent of ``etl/protect`` and ``etl/publication``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl.indicators.spec import Catalogue

TABLES = ("boundary_values", "boundary_parts", "indicator_values", "areas", "area_closure")
KEY = ["indicator_id", "ref_date", "area_id", "level", "vintage"]
FUNCTIONS = ("count", "share", "ratio", "location_quotient")


def check_boundary_values(publication: Path, catalogue: Catalogue) -> tuple[int, list[str]]:
    """(values on today's boundaries checked, failures)."""
    with duckdb.connect(str(publication), read_only=True) as con:
        present = {r[0] for r in con.sql("SHOW TABLES").fetchall()}
        if not {"boundary_values", "boundary_parts"} <= present:
            return 0, []
        frames = {t: con.sql(f"SELECT * FROM {t}").df() for t in TABLES}
    return recompute(catalogue, **frames)


def recompute(
    catalogue: Catalogue,
    boundary_values: pd.DataFrame,
    boundary_parts: pd.DataFrame,
    indicator_values: pd.DataFrame,
    areas: pd.DataFrame,
    area_closure: pd.DataFrame,
) -> tuple[int, list[str]]:
    """The check on data frames of the published tables (module doc)."""
    if boundary_values.empty:
        return 0, []
    failures = _overlapping_parts(boundary_parts, area_closure)
    kinds = pd.DataFrame(
        [(i.id, i.function, float(i.scale)) for i in catalogue.indicators],
        columns=["indicator_id", "function", "scale"],
    )
    rows = boundary_values.merge(kinds, on="indicator_id", how="left")
    unknown = rows[~rows.function.isin(FUNCTIONS)]
    failures += [f"{r.indicator_id}: keine Anteils- oder Zählgröße" for r in unknown.itertuples()]
    rows = rows[rows.function.isin(FUNCTIONS)].copy()
    rows["ref_date"] = pd.to_datetime(rows.ref_date)
    rows = rows.merge(_city_shares(indicator_values, areas), on=KEY[:2], how="left")
    periods = areas[["vintage", "valid_from", "valid_to"]].drop_duplicates()
    dates = rows[["ref_date"]].drop_duplicates().merge(periods, how="cross")
    valid_from = pd.to_datetime(dates.valid_from)
    valid_to = pd.to_datetime(dates.valid_to)
    dates = dates[(dates.ref_date >= valid_from) & (valid_to.isna() | (dates.ref_date <= valid_to))]
    dates = dates.rename(columns={"vintage": "from_vintage"})[["ref_date", "from_vintage"]]
    rows = rows.merge(dates, on="ref_date", how="left")
    parts = boundary_parts.rename(columns={"to_vintage": "vintage", "to_area": "area_id"})
    joined = rows[[*KEY, "from_vintage", "function"]].merge(
        parts, on=["from_vintage", "vintage", "level", "area_id"], how="left"
    )
    published = indicator_values[
        ["indicator_id", "ref_date", "area_id", "level", "numerator", "denominator", "flag"]
    ].rename(
        columns={
            "area_id": "from_area",
            "level": "from_level",
            "numerator": "part_x",
            "denominator": "part_t",
        }
    )
    published["ref_date"] = pd.to_datetime(published.ref_date)
    joined = joined.merge(
        published, on=["indicator_id", "ref_date", "from_area", "from_level"], how="left"
    )
    joined["ok"] = (
        joined.part_x.notna()
        & joined.flag.ne("suppressed")
        & ((joined.function == "count") | joined.part_t.notna())
    )
    joined["wx"] = joined.weight * joined.part_x
    joined["wt"] = joined.weight * joined.part_t
    # a part split between targets, or placed by inference (``exact`` false): an estimate
    placed = joined.exact.fillna(False) if "exact" in joined else joined.weight.notna()
    joined["split"] = (joined.weight < 1) | ~placed.astype(bool)
    joined["none"] = joined.weight.isna()
    sums = joined.groupby(KEY, as_index=False).agg(
        x=("wx", "sum"),
        t=("wt", "sum"),
        ok=("ok", "all"),
        split=("split", "any"),
        none=("none", "any"),
    )
    rows = rows.merge(sums, on=KEY, how="left")
    where = (
        rows.ref_date.dt.date.astype(str)
        + " "
        + rows.indicator_id
        + " "
        + rows.area_id
        + " ("
        + rows.level
        + ", "
        + rows.vintage
        + ")"
    )
    shown = rows.value.notna() | rows.numerator.notna() | rows.denominator.notna()
    share = rows.function != "count"  # a rate: share, ratio or quotient
    factor = rows.scale.where(rows.function != "location_quotient", 1 / rows.city_share)
    expected_value = np.where(share, factor * rows.x / rows.t.where(rows.t != 0), rows.x).astype(
        float
    )
    problems = {
        "ohne Bestandteile": rows.none,
        "aus nicht veröffentlichten Zahlen": shown & ~rows.ok,
        "als exakt bezeichnet, aber geteilte Bestandteile": ~rows.estimated & rows.split,
        "als geschätzt bezeichnet, aber nur ganze Bestandteile": rows.estimated & ~rows.split,
        "geschätzt, aber mit Zählung": rows.estimated
        & (rows.numerator.notna() | rows.denominator.notna() | (~share & rows.value.notna())),
        "Zähler ≠ Summe der Bestandteile": rows.numerator.notna() & ~_close(rows.numerator, rows.x),
        "Nenner ≠ Summe der Bestandteile": rows.denominator.notna()
        & ~_close(rows.denominator, rows.t),
        "Wert ≠ aus den Bestandteilen berechnet": rows.value.notna()
        & ~_close(rows.value, pd.Series(expected_value, index=rows.index)),
    }
    for text, mask in problems.items():
        mask = mask.fillna(True).astype(bool)
        failures += [f"{w}: {text}" for w in where[mask]]
    return int(shown.sum()), failures


def _city_shares(indicator_values: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """(indicator_id, ref_date, city_share): X / T of the city's published row (the area
    without a parent), the reference of a location quotient."""
    cities = set(areas.loc[areas.parent_id.isna(), "area_id"])
    city = indicator_values[indicator_values.area_id.isin(cities)]
    out = city[["indicator_id", "ref_date"]].copy()
    out["ref_date"] = pd.to_datetime(out.ref_date)
    out["city_share"] = (city.numerator / city.denominator.where(city.denominator != 0)).values
    return out.drop_duplicates(KEY[:2])


def _close(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).abs() <= 1e-9 * np.maximum(1.0, b.abs())


def _overlapping_parts(parts: pd.DataFrame, closure: pd.DataFrame) -> list[str]:
    """Targets two of whose parts share a finest unit (it would count twice)."""
    if parts.empty:
        return []
    members = parts.merge(
        closure[["member_id", "area_id", "vintage"]].rename(
            columns={"area_id": "from_area", "vintage": "from_vintage"}
        ),
        on=["from_vintage", "from_area"],
    )
    target = ["from_vintage", "to_vintage", "level", "to_area"]
    twice = members.groupby([*target, "member_id"]).size()
    twice = twice[twice > 1].reset_index()
    return [
        f"{r.to_area} ({r.level}, {r.to_vintage}): {r.member_id} in zwei Bestandteilen"
        for r in twice.itertuples()
    ]
