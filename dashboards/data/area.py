"""Gebietsseite (``/gebiet?area=…``): how one area has changed since the first monitoring
date and since the previous date, against its parent area and the city; generated
sentences; similar areas; the "Mein Stadtteil" search (layout:
:mod:`dashboards.components.area`, locator map: :mod:`dashboards.figures.area`).

Every value comes from the published snapshot through :mod:`dashboards.data.queries` and
:mod:`dashboards.data.snapshot` (only protected values; withheld values carry their flag).

* **Key figures**: the key figures of the overview page that have area values
  (``key_figures.yaml``). Each on its latest date up to the chosen date ("current"), the
  date before it ("previous") and the first date of the area's series with a published
  value ("start": the first monitoring date, :func:`page_dates`). The parent area and the
city are read on the same three dates.
* **Series breaks** (:mod:`dashboards.data.breaks`): no change is stated across a new
  division of the level or a change of definition.
* **Similar areas** (:func:`similar_areas`): the ``k`` nearest areas of the same level on
  size and population structure, one set-based query; method in ``docs/AREA_PAGE.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from dashboards import flags, formatting, labels
from dashboards.data import boundaries_choice, breaks, catalogue, queries
from dashboards.data import overview as overview_data
from dashboards.data import profile as profile_data
from dashboards.data.catalogue import Indicator
from dashboards.data.profile import ProfileArea
from dashboards.data.snapshot import Warehouse, memoised, query
from dashboards.i18n import strings, t

NBSP = "\u00a0"  # a space no line breaks at
CONFIG_FILE = Path(__file__).with_name("key_figures.yaml")
SEARCH_LIMIT = 8
RISE, FALL, SAME = "rise", "fall", "same"


# --- configuration ----------------------------------------------------------------------
@dataclass(frozen=True)
class AreaConfig:
    """``area_page`` in ``key_figures.yaml``: the indicators of the sentences, the size
    indicator and the structure shares of the similar areas, and ``k``."""

    sentences: tuple[str, ...]
    size: str
    structure: tuple[str, ...]
    k: int


@memoised(1)
def config(path: Path = CONFIG_FILE) -> AreaConfig:
    """The area page's part of ``key_figures.yaml``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    try:
        part = data["area_page"]
        similar = part["similar_areas"]
        return AreaConfig(
            sentences=tuple(part["sentences"]),
            size=str(similar["size"]),
            structure=tuple(similar["structure"]),
            k=int(similar["k"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{path}: expected 'area_page: {{sentences: [...], similar_areas: "
            f"{{size: ..., structure: [...], k: ...}}}}' ({exc})"
        ) from exc


# --- search -----------------------------------------------------------------------------
def _folded(texts: pd.Series) -> pd.Series:
    """Lower case without accents or umlaut dots: "Neukölln" → "neukolln", "ß" → "ss"."""
    return (
        texts.astype(str)
        .str.normalize("NFKD")
        .str.replace(r"[\u0300-\u036f]", "", regex=True)
        .str.casefold()
    )


def search(choices: pd.DataFrame, text: str | None, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """Areas of ``choices`` (:func:`profile.area_choices`, coarse levels first) whose name
    contains every word of ``text`` or whose code starts with it; best first: the code
    itself, codes starting with it, names starting with it, other names; coarse levels
    before fine ones. At most ``limit`` rows."""
    words = _folded(pd.Series([text or ""])).iloc[0].split()
    if not words or choices.empty:
        return choices.iloc[0:0]
    names, codes = _folded(choices["name"]), _folded(choices["area_id"])
    joined = " ".join(words)
    in_name = pd.Series(True, index=choices.index)
    for word in words:  # the words typed, not the areas
        in_name &= names.str.contains(word, regex=False)
    by_code = codes.str.startswith(joined)
    score = pd.Series(3, index=choices.index)
    score = score.mask(in_name & names.str.startswith(words[0]), 2)
    score = score.mask(by_code, 1).mask(codes == joined, 0)
    order = pd.Series(range(len(choices)), index=choices.index)  # coarse levels first
    found = choices.assign(_score=score, _order=order)[in_name | by_code]
    return found.sort_values(["_score", "_order"]).head(limit).drop(columns=["_score", "_order"])


def search_dates(warehouse: Warehouse, lang: str) -> list[str]:
    """The dates of the area page (those of its key figures)."""
    return overview_data.overview_dates(warehouse, lang)


# --- key figures: start, previous, current -----------------------------------------------
@dataclass(frozen=True)
class Point:
    """A value of one area on one date (``value`` None: missing or withheld, ``flag``)."""

    ref_date: str | None
    value: float | None
    flag: str | None
    estimated: bool = False  # recomputed onto today's boundaries by weight (#18)

    @property
    def shown(self) -> bool:
        """A value that may be compared: present and without a flag."""
        return not formatting.is_missing(self.value) and not flags.is_flag(self.flag)


NO_POINT = Point(None, None, None)


@dataclass(frozen=True)
class Development:
    """One area's values of one indicator on the page's three dates, and the breaks
    between them (``None``: comparable; else ``boundaries`` or ``definition``)."""

    name: str
    start: Point
    previous: Point
    current: Point
    break_since_start: str | None
    break_since_previous: str | None

    def change(self, since: str, kind: str) -> float | None:
        """Change since ``start`` or ``previous``; None across a break or without values."""
        before = self.start if since == "start" else self.previous
        crossed = self.break_since_start if since == "start" else self.break_since_previous
        if crossed is not None or not (before.shown and self.current.shown):
            return None
        if before.ref_date == self.current.ref_date:
            return None
        return formatting.change(self.current.value, before.value, kind)


@dataclass(frozen=True)
class AreaFigure:
    """A key figure of the area, its parent area (None when that is the city) and the city."""

    indicator: Indicator
    area: Development
    parent: Development | None
    city: Development


Series = dict[str, dict]  # ref_date -> row (value, flag, definition_id) of one series


def _point(rows: Series, ref_date: str | None) -> Point:
    if ref_date is None:
        return NO_POINT
    row = rows.get(ref_date)
    if row is None:
        return Point(ref_date, None, flags.MISSING)
    value = None if formatting.is_missing(row["value"]) else float(row["value"])
    flag = row["flag"] if flags.is_flag(row["flag"]) else None
    return Point(ref_date, value, flag, bool(row.get("estimated", False)))


def development(
    rows: Series,
    name: str,
    level: str,
    dates: tuple[str | None, str | None, str],
    level_breaks: dict[str, tuple[str, ...]],
) -> Development:
    """The :class:`Development` of one series (``rows``: one area's rows of
    :func:`queries.series_of_indicators` by date) on ``dates`` = (start, previous,
    current)."""
    start, previous, current = dates

    def crossed(first: str | None) -> str | None:
        if first is None:
            return None
        definitions = [
            r["definition_id"]
            for d, r in rows.items()
            if first <= d <= current and isinstance(r["definition_id"], str)
        ]
        return breaks.between(level_breaks, level, first, current, definitions)

    return Development(
        name=name,
        start=_point(rows, start),
        previous=_point(rows, previous),
        current=_point(rows, current),
        break_since_start=crossed(start),
        break_since_previous=crossed(previous),
    )


def page_dates(rows: Series, ref_date: str) -> tuple[str | None, str | None, str] | None:
    """(start, previous, current) of the area's series up to ``ref_date``; None if none.
    ``start``: the first date with a published value before the current one (a series may
    begin with years of "nothing there" from a statistics office); if there is none, the
    first date (the sentence then says the start value is not published)."""
    dates = sorted(d for d in rows if d <= ref_date)
    if not dates:
        return None
    earlier = [d for d in dates[:-1] if _point(rows, d).shown]
    start = earlier[0] if earlier else dates[0]
    return start, (dates[-2] if len(dates) > 1 else None), dates[-1]


def area_figures(
    warehouse: Warehouse,
    area: ProfileArea,
    indicators: list[Indicator],
    ref_date: str,
    boundaries: str | None = None,
) -> list[AreaFigure]:
    """The key figures of ``area`` up to ``ref_date`` (indicators without a value of the
    area up to then are left out), with its parent area and the city on the same dates;
    ``boundaries``: the reader's choice (:mod:`dashboards.data.boundaries_choice`), on
    today's boundaries the counts and shares of earlier dates recomputed, without a
    boundary break."""
    city = catalogue.city(warehouse)
    members = [(area.area_id, area.level, area.name)]
    if area.parent is not None:
        members.append((area.parent.area_id, area.parent.level, area.parent.name))
    members.append((city.area_id, city.level, city.name))
    area_ids = tuple(m[0] for m in members)
    frame, today = boundaries_choice.series_of_indicators(
        warehouse, indicators, area_ids, boundaries
    )
    columns = ["indicator_id", "area_id", "level", "ref_date", "value", "flag", "definition_id"]
    columns.append("estimated")
    series: dict[tuple, Series] = {}
    for row in frame[columns].to_dict("records"):  # a few hundred rows: 3 areas' series
        key = (row["indicator_id"], row["area_id"], row["level"])
        series.setdefault(key, {})[row["ref_date"]] = row
    level_breaks = breaks.level_breaks(warehouse)
    figures = []
    for indicator in indicators:  # a handful of key figures
        of = {m[0]: series.get((indicator.indicator_id, m[0], m[1]), {}) for m in members}
        dates = page_dates(of[area.area_id], ref_date)
        if dates is None:
            continue
        crossing = {} if indicator.indicator_id in today else level_breaks
        found = [development(of[a], n, lvl, dates, crossing) for a, lvl, n in members]
        figures.append(
            AreaFigure(
                indicator=indicator,
                area=found[0],
                parent=found[1] if area.parent is not None else None,
                city=found[-1],
            )
        )
    return figures


# --- generated sentences -----------------------------------------------------------------
def direction(before: float, after: float, decimals: int) -> str:
    """``rise``, ``fall`` or ``same`` as a reader sees the values rounded to ``decimals``."""
    a, b = formatting.format_number(before, decimals), formatting.format_number(after, decimals)
    if a == b:
        return SAME
    return RISE if after > before else FALL


def _subject(indicator: Indicator, lang: str) -> tuple[str, str]:
    """The sentence subject (``"Der Ausländeranteil"``) and its pronoun (``"er"``); an
    indicator without its own subject in strings.yaml: ``Der Wert „<title>“``."""
    key = f"area.subject.{indicator.indicator_id}"
    if key in strings():
        return t(key, lang), t(f"area.pronoun.{indicator.indicator_id}", lang)
    return t("area.subject.default", lang, title=indicator.title), t("area.pronoun.default", lang)


def _reason(point: Point, lang: str) -> str:
    return labels.flag_label(point.flag or flags.MISSING, lang)


def sentence(figure: AreaFigure, lang: str) -> str:
    """The development of the area since the start date and the city's on the same dates:
    rise, fall, no change (equal when rounded), a withheld value, or a series break (then
    the sentence says the dates cannot be compared instead of stating a change)."""
    ind, dev = figure.indicator, figure.area

    def fmt(point: Point) -> str:  # "42,5 %" never broken between number and unit
        text = formatting.format_value(point.value, ind.unit, ind.decimals).replace(" ", NBSP)
        return f"{text} ({t('flag.estimated', lang)})" if point.estimated else text

    subject, pronoun = _subject(ind, lang)
    now, start = dev.current, dev.start
    base = {
        "subject": subject,
        "area": dev.name,
        "v1": fmt(now),
        "d1": formatting.format_date(now.ref_date),
    }
    if not now.shown:
        return t("area.sentence.withheld", lang, **base, reason=_reason(now, lang))
    if start.ref_date is None or start.ref_date == now.ref_date:
        return t("area.sentence.only", lang, **base)
    base |= {"v0": fmt(start), "d0": formatting.format_date(start.ref_date)}
    if dev.break_since_start is not None:
        reason = t(f"area.break.{dev.break_since_start}", lang)
        return t("area.sentence.break", lang, **base, reason=reason)
    if not start.shown:
        return t("area.sentence.start_withheld", lang, **base, reason=_reason(start, lang))
    way = direction(start.value, now.value, ind.decimals)
    city = figure.city
    if city.break_since_start is not None or not (city.start.shown and city.current.shown):
        clause = t("area.city.none", lang, city=city.name)
    else:
        city_way = direction(city.start.value, city.current.value, ind.decimals)
        clause = t(
            f"area.city.{city_way}",
            lang,
            city=city.name,
            pronoun=pronoun,
            v0=fmt(city.start),
            v1=fmt(city.current),
        )
    return t(f"area.sentence.{way}", lang, **base) + clause


def sentence_figures(figures: list[AreaFigure], wanted: tuple[str, ...]) -> list[AreaFigure]:
    """The figures the sentences are about, in the configured order (those present)."""
    by_id = {f.indicator.indicator_id: f for f in figures}
    return [by_id[i] for i in wanted if i in by_id]


# --- similar areas ------------------------------------------------------------------------
# Features x_f of every area of the level: the published structure shares and ln(residents),
# each on its latest date up to the page's date; only areas with every feature shown
# (no flag, residents > 0). z = (x − mean) / population standard deviation over those
# areas (a feature without spread counts 0); distance = Euclidean distance of the z vectors.
SIMILAR_SQL = """
WITH features AS (
    SELECT v.area_id, v.indicator_id,
           CASE WHEN v.indicator_id = $size THEN ln(v.value) ELSE v.value END AS x
    FROM indicator_values AS v
    WHERE v.level = $level
      AND list_contains($keys, v.indicator_id || '@' || CAST(v.ref_date AS VARCHAR))
      AND v.value IS NOT NULL AND v.flag IS NULL
      AND (v.indicator_id <> $size OR v.value > 0)
),
complete AS (
    SELECT area_id FROM features GROUP BY area_id HAVING count(*) = $n_features
),
standardised AS (
    SELECT f.area_id, f.indicator_id,
           coalesce((f.x - avg(f.x) OVER w) / nullif(stddev_pop(f.x) OVER w, 0), 0) AS z
    FROM features AS f SEMI JOIN complete AS c ON c.area_id = f.area_id
    WINDOW w AS (PARTITION BY f.indicator_id)
)
SELECT b.area_id, sqrt(sum((a.z - b.z) ^ 2)) AS distance
FROM standardised AS a
JOIN standardised AS b ON b.indicator_id = a.indicator_id AND b.area_id <> a.area_id
WHERE a.area_id = $area
GROUP BY b.area_id
ORDER BY distance, b.area_id
LIMIT $k
"""


def similarity_features(warehouse: Warehouse, lang: str) -> list[Indicator]:
    """The configured size indicator and structure shares this warehouse has (size first)."""
    cfg = config()
    known = catalogue.indicators(warehouse, lang)
    return [known[i] for i in (cfg.size, *cfg.structure) if i in known]


def similar_areas(
    warehouse: Warehouse, area: ProfileArea, ref_date: str, lang: str
) -> pd.DataFrame:
    """The ``k`` areas of the area's level nearest to it on the features of
    :func:`similarity_features` (:data:`SIMILAR_SQL`): ``area_id, name, distance`` plus
    one column per feature (its published value), nearest first. Empty if the area lacks
    a feature or the warehouse has none."""
    features = similarity_features(warehouse, lang)
    keys = []
    for ind in features:
        date = profile_data.effective_date(warehouse, ind.indicator_id, ref_date)
        if date is not None:
            keys.append(f"{ind.indicator_id}@{date}")
    if not keys:
        return pd.DataFrame(columns=["area_id", "name", "distance"])
    found = _similar(warehouse, area.level, area.area_id, tuple(keys))
    return _with_values(warehouse, found, features, area.level, ref_date)


@memoised(256)
def _similar(warehouse: Warehouse, level: str, area_id: str, keys: tuple[str, ...]) -> pd.DataFrame:
    cfg = config()
    params = {
        "size": cfg.size,
        "level": level,
        "keys": list(keys),
        "n_features": len(keys),
        "area": area_id,
        "k": cfg.k,
    }
    return query(warehouse, SIMILAR_SQL, params)


def _with_values(
    warehouse: Warehouse,
    found: pd.DataFrame,
    features: list[Indicator],
    level: str,
    ref_date: str,
) -> pd.DataFrame:
    """Names and the published feature values of the similar areas."""
    out = found.copy()
    names = queries.areas(warehouse, level, ref_date).set_index("area_id")["name"]
    out["name"] = out["area_id"].map(names).fillna(out["area_id"])
    for ind in features:
        date = profile_data.effective_date(warehouse, ind.indicator_id, ref_date)
        values = queries.area_values(warehouse, (ind.indicator_id,), date, level)
        out[ind.indicator_id] = out["area_id"].map(values.set_index("area_id")["value"])
    return out
