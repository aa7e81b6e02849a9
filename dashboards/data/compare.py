"""Vergleich: the change of one indicator between two reference dates for every area of a
level, and whether areas are comparable at all (the tables: :mod:`dashboards.components.compare`).

**Change** = value on date B − value on date A, in percentage points for percent values
and in the indicator's unit otherwise (counts included: persons, not %).

An area is **comparable** when it has a value on both dates and the same boundaries. Areas
are those valid on date B (the map's geometry); per area a ``status``:

* ``ok`` – both values, no flag;
* ``flagged`` – both values, one carries a flag (e.g. a source's "unreliable"): change
  shown, outlined on the map;
* ``no_value`` – a value is missing (``flag`` says why: suppressed, a source symbol, or
  ``missing`` for no row);
* ``boundary`` – the area did not exist on date A under its id, or its boundaries differ
  (another vintage whose geometry differs by more than :data:`BOUNDARY_TOLERANCE` of the
  union's area, or whose geometry is unknown). Its change is not computed.
"""

from __future__ import annotations

import json

import pandas as pd

from dashboards import flags, labels
from dashboards.data import boundaries as today_boundaries
from dashboards.data import catalogue
from dashboards.data.breaks import BOUNDARY_TOLERANCE as BOUNDARY_TOLERANCE
from dashboards.data.breaks import boundaries_differ as boundaries_differ
from dashboards.data.catalogue import Indicator
from dashboards.data.snapshot import DISCLOSED_COUNTS, Warehouse, cached_frame, fetch, query
from dashboards.i18n import t

BOUNDARY = "boundary"
STATUS_ORDER = ("ok", "flagged", "no_value", BOUNDARY)
CHANGE_COLUMNS = [
    "area_id",
    "name",
    "value_a",
    "flag_a",
    "value_b",
    "flag_b",
    "change",
    "status",
    "flag",
]


def _none(value: object) -> object:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def changed_boundaries(versions_a: pd.DataFrame, versions_b: pd.DataFrame) -> set[str]:
    """Ids of the areas of date B that did not exist on date A or have other boundaries.

    ``versions_*``: :func:`queries.area_versions` (area_id, vintage, geojson) per date.
    """
    before = versions_a.set_index("area_id")
    changed = set()
    for row in versions_b.to_dict("records"):
        if row["area_id"] not in before.index:
            changed.add(row["area_id"])
            continue
        old = before.loc[row["area_id"]]
        if old["vintage"] != row["vintage"] and boundaries_differ(
            _none(old["geojson"]), _none(row["geojson"])
        ):
            changed.add(row["area_id"])
    return changed


def _status(row: dict, changed: set[str]) -> tuple[str, str | None]:
    if row["area_id"] in changed:
        return BOUNDARY, BOUNDARY
    if pd.isna(row["value_a"]) or pd.isna(row["value_b"]):
        missing = row["flag_b"] if pd.isna(row["value_b"]) else row["flag_a"]
        return "no_value", missing if flags.is_flag(missing) else flags.MISSING
    for flag in (row["flag_b"], row["flag_a"]):
        if flags.is_flag(flag):
            return "flagged", flag
    return "ok", None


def change_frame(
    values_a: pd.DataFrame,
    values_b: pd.DataFrame,
    versions_a: pd.DataFrame,
    versions_b: pd.DataFrame,
) -> pd.DataFrame:
    """One row per area valid on date B: both values and flags, ``change``, ``status`` and
    the ``flag`` that explains the status (see the module docstring).

    ``values_*``: :func:`queries.area_values` of one indicator; ``versions_*``:
    :func:`queries.area_versions` of the same level.
    """
    base = versions_b[["area_id", "name"]]
    for suffix, values in (("a", values_a), ("b", values_b)):
        part = values[["area_id", "value", "flag"]]
        base = base.merge(
            part.rename(columns={"value": f"value_{suffix}", "flag": f"flag_{suffix}"}),
            on="area_id",
            how="left",
        )
    if base.empty:
        return pd.DataFrame(columns=CHANGE_COLUMNS)
    changed = changed_boundaries(versions_a, versions_b)
    status = [_status(row, changed) for row in base.to_dict("records")]
    base["status"] = [s for s, _ in status]
    base["flag"] = [f for _, f in status]
    comparable = base["status"].isin(("ok", "flagged"))
    base["change"] = (base["value_b"] - base["value_a"]).where(comparable)
    return base[CHANGE_COLUMNS]


def dissolved(versions_a: pd.DataFrame, versions_b: pd.DataFrame) -> int:
    """Number of areas of date A that no longer exist (under their id) on date B."""
    return len(set(versions_a["area_id"]) - set(versions_b["area_id"]))


def change_unit(indicator: Indicator, lang: str) -> str:
    """Unit of a change: percentage points for percent values, else the indicator's unit."""
    return t("unit.points", lang) if indicator.unit == "percent" else indicator.unit_label


def status_label(flag: str, lang: str) -> str:
    """Short text for the reason an area has no comparable change."""
    if flag == BOUNDARY:
        return t("compare.status.boundary", lang)
    return labels.flag_label(flag, lang)


def status_explanation(flag: str, lang: str) -> str:
    if flag == BOUNDARY:
        return t("compare.status.boundary.explain", lang)
    return flags.explanation(flag, lang)


def status_counts(values: pd.Series) -> list[tuple[str, int]]:
    counts = values.value_counts()
    pairs = [(str(f), int(n)) for f, n in counts.items()]
    return sorted(pairs, key=lambda x: (x[0] == BOUNDARY, flags.order(x[0])))


# --- on today's boundaries (#18) ---------------------------------------------------------
# "auf heutigem Gebietsstand": every date on the newest vintage's units — the values the
# build recomputed from published ones (boundary_values) for earlier dates, the published
# values for dates already on them. A recomputed value that is an estimate carries the
# flag ``estimated`` (where it has no other): its change is shown and outlined, like a
# flagged value, and the legend and the table say "geschätzt".
ESTIMATED = "estimated"

TODAY_VALUES_SQL = f"""
WITH newest AS (
    SELECT vintage, min(valid_from) AS valid_from, max(valid_to) AS valid_to FROM areas
    GROUP BY vintage ORDER BY valid_from DESC LIMIT 1
),
chosen AS (
    SELECT v.indicator_id, v.area_id, v.value, {DISCLOSED_COUNTS},
           CASE WHEN v.estimated THEN coalesce(v.flag, '{ESTIMATED}') ELSE v.flag END AS flag,
           v.definition_id
    FROM boundary_values AS v, newest AS w
    WHERE v.vintage = w.vintage AND v.ref_date = CAST($ref_date AS DATE) AND v.level = $level
    UNION ALL
    SELECT v.indicator_id, v.area_id, v.value, {DISCLOSED_COUNTS}, v.flag, v.definition_id
    FROM indicator_values AS v, newest AS w
    WHERE v.ref_date = CAST($ref_date AS DATE) AND v.level = $level AND v.n_units IS NULL
      AND v.ref_date >= w.valid_from
)
SELECT c.indicator_id, c.area_id, coalesce(a.name, c.area_id) AS name, c.value,
       c.numerator, c.denominator, c.flag, c.definition_id
FROM chosen AS c CROSS JOIN newest AS w
LEFT JOIN areas AS a ON a.area_id = c.area_id AND a.vintage = w.vintage
WHERE list_contains($indicator_ids, c.indicator_id)
ORDER BY c.indicator_id, c.area_id
"""


@cached_frame
def today_values(
    wh: Warehouse, indicator_ids: tuple[str, ...], ref_date: str, level: str
) -> pd.DataFrame:
    """:func:`queries.area_values` on today's boundaries (the newest vintage's units)."""
    params = {"indicator_ids": list(indicator_ids), "ref_date": ref_date, "level": level}
    return query(wh, TODAY_VALUES_SQL, params)


def today_date(wh: Warehouse) -> str:
    """The first day of the newest boundaries (to read its areas and geometry)."""
    first = fetch(wh, "SELECT max(valid_from) FROM areas")[0][0]
    return first.isoformat()


def on_today(wh: Warehouse, indicator: Indicator, boundaries: str | None) -> bool:
    """True where the reader chose today's boundaries and the snapshot has them for the
    indicator (counts and shares are recomputed, no index)."""
    return (
        boundaries == today_boundaries.TODAY
        and indicator.function in today_boundaries.RECOMPUTED
        and not indicator.is_segregation
        and today_boundaries.available(wh)
    )


def crosswalk_lists(wh: Warehouse, lang: str) -> str | None:
    """Lineage of today's boundaries: the correspondence lists the crosswalk read, as
    ``"geometry/berlin-lor-matches.json (SHA-256 5e663229…)"`` (meta ``crosswalk_lists``)."""
    raw = catalogue.meta(wh).get("crosswalk_lists")
    if not raw:
        return None
    files = ", ".join(
        f"{entry['file']} (SHA-256 {(entry.get('sha256') or '–')[:12]}…)"
        for entry in json.loads(raw)
    )
    return t("compare.today_lists", lang, files=files)
