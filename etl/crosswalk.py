"""Boundary vintages and crosswalks: which units of an earlier vintage lie in which units of
today's (#18).

``area_crosswalk`` (one table, every older vintage to the newest):

    from_vintage, to_vintage, level, from_level, from_area, to_area, weight, exact, method

``level`` is the level of ``to_area`` (a unit of the newest vintage); ``from_area`` is a
unit of the *finest* level of the older vintage (``from_level``). ``weight`` is the part
of the source unit that lies in the target (1 = the whole unit). A target is ``exact``
when every source linked to it has weight 1, i.e. the target is a union of whole source
units; all links into it carry the same flag.

Where the links come from:

* the office's **correspondence list**, declared with the newer vintage in the profile
  (``correspondence: {file, level}``; Berlin: ``berlin-lor-matches.json``, old → new and
  new → old planning areas in one JSON object). A link of two finest units is lifted to
  every level of the newest vintage through its hierarchy (new planning area → its
  forecast area, …). A source linked to one target lies wholly in it.
* **boundary overlap** (shapely, area-weighted, in the published WGS84 geometry) for the
  finest units of the older vintage that the list does not name, against the newest
  vintage's boundaries of the level (coarser levels through the hierarchy). A source
  with at least :data:`WHOLE_SHARE` of its area in one target counts as lying wholly in
  it (the two vintages' files were digitised separately); overlaps below
  :data:`MIN_SHARE` are slivers and dropped.
* A source the list links to several targets of a level is split by the overlap of its
  boundary with theirs where both have one, else in equal parts: an estimate either way.
  A listed target its boundary does not reach at all is dropped (Berlin's list links
  06010102 to a Charlottenburg unit too: the file's two features of that id).

* A level the newest vintage has no boundaries for (at it or below) but a coarser one
  has (Berlin 2021: district regions inside forecast areas): the list's links, and the
  units it does not name **inferred** inside the coarser unit their boundary lies in
  (:func:`_coarse_links`; method ``inferred``, always an estimate).

A level of the newest vintage gets a crosswalk only when every finest unit of the older
vintage is linked at that level (by the list, overlap or inference) and every target
unit receives a link; otherwise sums on it would silently miss residents, so the level
has no values on today's boundaries (Berlin: the 2021 planning areas — some without a
list link lie where no unlisted old unit does). The root level maps everything to the
root, exactly.

Ratios and location quotients are not recomputed (they could be: sums of published
numerators and denominators; a target's share ÷ the city's), segregation indices cannot
be honestly (they depend on the division; compared within one division only).

**Disclosure rule** for values on today's boundaries (:func:`etl.publication.
write_boundary_values`, README): they are computed from the *published* values only,
never from the warehouse. A target's parts are the coarsest units of the earlier vintage
lying wholly in it (``boundary_parts``), plus the finest units split between targets,
weighted. Exact target: its counts are the sums of its parts' published counts, its
share their quotient; withheld when one part is withheld. Estimated target
("geschätzt"): a share only (Σ w·numerator / Σ w·denominator), never a count. Every
number so published is a function of published numbers, so it adds no relation an
attacker could use — the difference of an old and a new unit (geographic differencing)
is a difference of published numbers. :mod:`etl.audit.boundaries` verifies this from the
publication alone and stops the build otherwise.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import shapely

from etl.errors import ImonError
from etl.profile import Profile

WHOLE_SHARE = 0.97
MIN_SHARE = 0.005

COLUMNS = [
    "from_vintage",
    "to_vintage",
    "level",
    "from_level",
    "from_area",
    "to_area",
    "weight",
    "exact",
    "method",
]

CROSSWALK_DDL = """
CREATE OR REPLACE TEMP TABLE area_crosswalk (
    from_vintage VARCHAR NOT NULL,
    to_vintage   VARCHAR NOT NULL,
    level        VARCHAR NOT NULL,  -- level of to_area (newest vintage)
    from_level   VARCHAR NOT NULL,  -- finest level of the older vintage
    from_area    VARCHAR NOT NULL,
    to_area      VARCHAR NOT NULL,
    weight       DOUBLE NOT NULL,   -- part of from_area lying in to_area (1 = whole)
    exact        BOOLEAN NOT NULL,  -- to_area is a union of whole source units
    method       VARCHAR NOT NULL,  -- 'list', 'overlap' or 'root'
    PRIMARY KEY (from_vintage, to_vintage, level, from_area, to_area)
)
"""


def build(
    con: duckdb.DuckDBPyConnection, profile: Profile, population: pd.DataFrame | None = None
) -> int:
    """Create ``area_crosswalk`` in ``con`` (a warehouse with ``areas``, ``area_closure``
    and ``area_geometry``) from every older vintage to the newest; return its rows.
    ``population`` (area_id, n): published residents of the newest vintage's units, the
    weights of inferred placements (:func:`_inferred`); equal parts without it."""
    con.execute(CROSSWALK_DDL)
    vintages = [
        r[0]
        for r in con.execute(
            "SELECT vintage FROM areas GROUP BY vintage ORDER BY min(valid_from)"
        ).fetchall()
    ]
    if len(vintages) < 2:
        return 0
    levels = profile.level_ids()
    declared = {v.id: v.correspondence for v in getattr(profile.geography, "vintages", [])}
    newest = vintages[-1]
    for older in vintages[:-1]:
        pairs = None
        spec = declared.get(newest)
        if spec is not None and older == vintages[-2]:
            if spec.level != levels[-1]:
                raise ImonError(
                    f"{profile.path or 'profile'}: "
                    f"vintage '{newest}': correspondence level '{spec.level}' — expected the "
                    f"finest level '{levels[-1]}'"
                )
            pairs = read_correspondence(
                Path(profile.raw_dir) / spec.file, spec.level, older, newest, con
            )
        insert_links(con, crosswalk_links(con, older, newest, levels, pairs, population))
    return con.execute("SELECT count(*) FROM area_crosswalk").fetchall()[0][0]


def lineage(profile: Profile) -> list[dict]:
    """The correspondence lists the crosswalk reads: vintage, file (as in the profile) and
    sha256 of its bytes — recorded in the publication's ``meta`` (``crosswalk_lists``)."""
    out = []
    for vintage in getattr(profile.geography, "vintages", []) or []:
        spec = vintage.correspondence
        if spec is not None:
            path = Path(profile.raw_dir) / spec.file
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            out.append({"vintage": vintage.id, "file": spec.file, "sha256": digest})
    return out


# Lineage per pair of vintages, level and method (the plausibility report, the page Intern)
LINEAGE_SQL = """
SELECT from_vintage, to_vintage, level, method, count(*) AS links,
       count(*) FILTER (WHERE NOT exact) AS estimated
FROM {table} GROUP BY ALL ORDER BY from_vintage, to_vintage, level, method
"""
LINEAGE_COLUMNS = ("von", "nach", "Ebene", "Verfahren", "Verknüpfungen", "davon geschätzt", "Liste")
METHOD_LABELS = {
    "list": "Korrespondenzliste",
    "overlap": "Flächenüberschneidung",
    "inferred": "abgeleitet (Lage und Einwohner)",
    "root": "Gesamtgebiet",
}


def lineage_rows(counts: list[tuple], lists: list[dict]) -> list[tuple]:
    """Rows of :data:`LINEAGE_COLUMNS` from the rows of :data:`LINEAGE_SQL` and the
    publication's ``crosswalk_lists`` (:func:`lineage`): the method in words, and for the
    list's links the file and its sha256."""
    out = []
    for from_vintage, to_vintage, level, method, links, estimated in counts:
        used = [e for e in lists if e.get("vintage") in (from_vintage, to_vintage)]
        source = "; ".join(f"{e['file']} (sha256 {e.get('sha256') or '–'})" for e in used)
        label = METHOD_LABELS.get(method, method)
        shown = source if method == "list" else ""
        out.append((from_vintage, to_vintage, level, label, links, estimated, shown))
    return out


def build_links_table(con: duckdb.DuckDBPyConnection, links: pd.DataFrame) -> None:
    """``area_crosswalk`` holding ``links`` only (tests, one pair of vintages)."""
    con.execute(CROSSWALK_DDL)
    insert_links(con, links)


def insert_links(con: duckdb.DuckDBPyConnection, links: pd.DataFrame) -> None:
    if links.empty:
        return
    con.register("new_links", links[COLUMNS])
    try:
        con.execute("INSERT INTO area_crosswalk SELECT * FROM new_links")
    finally:
        con.unregister("new_links")


def read_correspondence(
    path: Path, level: str, older: str, newest: str, con: duckdb.DuckDBPyConnection
) -> pd.DataFrame:
    """The list's links of ``level`` as (from_area, to_area): older → newest unit. A JSON
    object code → list of codes, in either direction. Keys naming units of other levels
    are skipped (one list may cover several levels); a code of ``level`` that belongs to
    neither vintage is an error naming the file and the key."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImonError(f"{path}: correspondence list unreadable: {exc}") from exc
    if not isinstance(data, dict) or not all(
        isinstance(v, list) and all(isinstance(c, str) for c in v) for v in data.values()
    ):
        raise ImonError(f"{path}: expected a JSON object code -> list of codes")
    units = con.execute(
        "SELECT vintage, level, area_id FROM areas WHERE vintage IN (?, ?)", [older, newest]
    ).df()
    old = set(units.area_id[(units.vintage == older) & (units.level == level)])
    new = set(units.area_id[(units.vintage == newest) & (units.level == level)])
    anywhere = set(units.area_id)
    if not old or not new:
        raise ImonError(f"{path}: no units of level '{level}' in vintages {older} and {newest}")
    links = set()
    for key, targets in data.items():
        for code in targets:
            if key in old and code in new:
                links.add((key, code))
            elif key in new and code in old:
                links.add((code, key))
            elif key in old or key in new or code in old or code in new:
                raise ImonError(
                    f"{path}: entry '{key}': '{code}' — expected a {level} of {older} linked "
                    f"to one of {newest} (or the reverse)"
                )
            elif key not in anywhere:
                raise ImonError(
                    f"{path}: entry '{key}': no area of {older} or {newest} has this code"
                )
    return pd.DataFrame(sorted(links), columns=["from_area", "to_area"])


def overlaps(sources: pd.DataFrame, targets: pd.DataFrame) -> pd.DataFrame:
    """(from_area, to_area, share): the part of each source's area lying in each target
    (vectorised shapely; ``sources``/``targets``: area_id, geojson). Slivers below
    :data:`MIN_SHARE` dropped."""
    if sources.empty or targets.empty:
        return pd.DataFrame(columns=["from_area", "to_area", "share"])
    src = shapely.make_valid(shapely.from_geojson(sources.geojson.to_numpy()))
    tgt = shapely.make_valid(shapely.from_geojson(targets.geojson.to_numpy()))
    i, j = shapely.STRtree(tgt).query(src, predicate="intersects")
    area = shapely.area(src)
    shared = shapely.area(shapely.intersection(src[i], tgt[j]))
    share = np.divide(shared, area[i], out=np.zeros_like(shared), where=area[i] > 0)
    found = pd.DataFrame(
        {
            "from_area": sources.area_id.to_numpy()[i],
            "to_area": targets.area_id.to_numpy()[j],
            "share": share,
        }
    )
    return found[found.share >= MIN_SHARE].reset_index(drop=True)


def crosswalk_links(
    con: duckdb.DuckDBPyConnection,
    older: str,
    newest: str,
    levels: list[str],
    pairs: pd.DataFrame | None,
    population: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The crosswalk rows (:data:`COLUMNS`) from ``older`` to ``newest``: finest-level
    ``pairs`` (from the correspondence list, or None) lifted to every level, sources the
    list does not name placed by overlap; levels that cannot be complete left out."""
    finest = levels[-1]
    geometry = con.execute(
        "SELECT area_id, level, vintage, geojson FROM area_geometry WHERE vintage IN (?, ?)",
        [older, newest],
    ).df()
    closure = con.execute(
        "SELECT member_id, area_id, level FROM area_closure WHERE vintage = ?", [newest]
    ).df()
    units = con.execute("SELECT area_id, level FROM areas WHERE vintage = ?", [newest]).df()
    parents = con.execute(
        "SELECT area_id AS from_area, parent_id FROM areas WHERE vintage = ? AND level = ?",
        [older, finest],
    ).df()
    sources = sorted(
        con.execute(
            "SELECT area_id FROM areas WHERE vintage = ? AND level = ?", [older, finest]
        ).fetchall()
    )
    sources = [s[0] for s in sources]
    old_geo = geometry[(geometry.vintage == older) & (geometry.level == finest)]
    pairs = pairs if pairs is not None else pd.DataFrame(columns=["from_area", "to_area"])
    frames = []
    for level in levels:
        targets = units[units.level == level]
        if len(targets) == 1 and level == levels[0]:  # the root
            rows = pd.DataFrame(
                {"from_area": sources, "to_area": targets.area_id.iloc[0], "share": 1.0}
            )
            rows["method"] = "root"
        else:
            below = levels[levels.index(level) :]
            new_geo = geometry[geometry.vintage == newest]
            coarser = [lv for lv in levels[1 : levels.index(level)] if (new_geo.level == lv).any()]
            if new_geo.level.isin(below).any() or not coarser or old_geo.empty:
                rows = _level_links(level, pairs, closure, old_geo, geometry, newest, levels)
            else:
                found = overlaps(old_geo, new_geo[new_geo.level == coarser[-1]])
                rows = _coarse_links(level, coarser[-1], pairs, closure, found, parents, population)
        if rows is None or rows.empty:
            continue
        if set(sources) - set(rows.from_area) or set(targets.area_id) - set(rows.to_area):
            continue  # incomplete: some residents would be missed (module doc)
        frames.append(_weights(rows).assign(level=level))
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    out["from_vintage"], out["to_vintage"], out["from_level"] = older, newest, finest
    return out[COLUMNS]


def _level_links(
    level: str,
    pairs: pd.DataFrame,
    closure: pd.DataFrame,
    old_geo: pd.DataFrame,
    geometry: pd.DataFrame,
    newest: str,
    levels: list[str],
) -> pd.DataFrame | None:
    """(from_area, to_area, share, method) at ``level``: the list's links lifted through
    the newest vintage's hierarchy (share: overlap where known, else NaN); the sources it
    does not name by overlap with the boundaries of the finest level at or below ``level``
    that has them, lifted to ``level``."""
    up = closure[closure.level == level][["member_id", "area_id"]]
    listed = pairs.merge(up, left_on="to_area", right_on="member_id")[["from_area", "area_id"]]
    listed = listed.rename(columns={"area_id": "to_area"}).drop_duplicates()
    # overlap against the finest level at or below `level` that has boundaries, lifted
    geo_levels = [
        lv
        for lv in levels[levels.index(level) :]
        if ((geometry.vintage == newest) & (geometry.level == lv)).any()
    ]
    found = pd.DataFrame(columns=["from_area", "to_area", "share"])
    if geo_levels and not old_geo.empty:
        finest_geo = geo_levels[-1]
        target_geo = geometry[(geometry.vintage == newest) & (geometry.level == finest_geo)]
        found = overlaps(old_geo, target_geo)
        if finest_geo != level:
            # a unit of finest_geo lies in one unit of `level`: via any finest member
            lift = (
                closure[closure.level == finest_geo]
                .merge(up, on="member_id", suffixes=("", "_up"))[["area_id", "area_id_up"]]
                .drop_duplicates("area_id")
            )
            found = (
                found.merge(lift, left_on="to_area", right_on="area_id")
                .groupby(["from_area", "area_id_up"], as_index=False)["share"]
                .sum()
                .rename(columns={"area_id_up": "to_area"})
            )
    listed = listed.merge(found, on=["from_area", "to_area"], how="left").assign(method="list")
    rest = found[~found.from_area.isin(set(listed.from_area))].assign(method="overlap")
    return pd.concat([listed, rest], ignore_index=True)


def _coarse_links(
    level: str,
    coarse: str,
    pairs: pd.DataFrame,
    closure: pd.DataFrame,
    found: pd.DataFrame,
    parents: pd.DataFrame,
    population: pd.DataFrame | None,
) -> pd.DataFrame:
    """(from_area, to_area, share, method) at a ``level`` the newest vintage has no
    boundaries for (at it or below), from the list and the overlap ``found`` with the
    boundaries of the ``coarse`` level above it (Berlin 2021: district regions, inside
    forecast areas).

    * A listed link is kept unless its target lies in a coarse unit the source's boundary
      does not reach while it reaches another listed target's (the list errs there).
    * A source the list does not name is placed by overlap in coarse units (whole at
      :data:`WHOLE_SHARE`); inside each, it is **inferred** (method ``inferred``, always
      an estimate) to lie in the units of ``level`` that hold newest finest units no list
      link reaches (someone's residents must have gone there), else in those its
      siblings (finest units of the same parent) are listed to, else in any unit of the
      coarse one — split in proportion to their published residents (``population``),
      in equal parts where one has none."""
    up = closure[closure.level == level][["member_id", "area_id"]]
    to_coarse = closure[closure.level == coarse].set_index("member_id").area_id
    level_coarse = (
        closure[closure.level == level]
        .assign(coarse=lambda f: f.member_id.map(to_coarse))
        .drop_duplicates("area_id")
        .set_index("area_id")
        .coarse
    )
    listed = pairs.merge(up, left_on="to_area", right_on="member_id")[["from_area", "area_id"]]
    listed = listed.rename(columns={"area_id": "to_area"}).drop_duplicates()
    listed = listed.assign(coarse=listed.to_area.map(level_coarse)).reset_index(drop=True)
    reached = listed.merge(
        found.rename(columns={"to_area": "coarse"}), on=["from_area", "coarse"], how="left"
    ).share.notna()
    any_reached = reached.groupby(listed.from_area).transform("max").astype(bool)
    listed = listed[reached | ~any_reached]
    listed = listed.assign(share=np.nan, method="list")[["from_area", "to_area", "share", "method"]]
    rest = found[~found.from_area.isin(set(pairs.from_area))].copy()
    if rest.empty:
        return listed
    biggest = rest.groupby("from_area").share.transform("max")
    rest = rest[(biggest < WHOLE_SHARE) | (rest.share == biggest)]
    rest["share"] = np.where(biggest[rest.index] >= WHOLE_SHARE, 1.0, rest.share)
    rest = rest.rename(columns={"to_area": "coarse"})
    # candidates in each coarse unit, by the first rule that names any
    units = level_coarse.rename_axis("to_area").reset_index()
    orphans = units[units.to_area.isin(set(up.area_id[~up.member_id.isin(set(pairs.to_area))]))]
    siblings = (
        rest[["from_area"]]
        .drop_duplicates()
        .merge(parents, on="from_area")
        .merge(parents.rename(columns={"from_area": "sibling"}), on="parent_id")
        .merge(listed, left_on="sibling", right_on="from_area", suffixes=("", "_s"))[
            ["from_area", "to_area"]
        ]
        .drop_duplicates()
    )
    by_rule = [
        rest.merge(orphans, on="coarse").assign(rule=0),
        rest.merge(siblings, on="from_area").merge(units, on=["to_area", "coarse"]).assign(rule=1),
        rest.merge(units, on="coarse").assign(rule=2),
    ]
    cand = pd.concat(by_rule, ignore_index=True)
    cand = cand[cand.rule == cand.groupby(["from_area", "coarse"]).rule.transform("min")]
    people = (
        population.set_index("area_id").n
        if population is not None and not population.empty
        else pd.Series(dtype=float)
    )
    cand["n"] = cand.to_area.map(people)
    group = cand.groupby(["from_area", "coarse"])
    weighed = group.n.transform(lambda n: n.notna().all() and n.sum() > 0)
    part = np.where(
        weighed.astype(bool), cand.n / group.n.transform("sum"), 1.0 / group.n.transform("size")
    )
    inferred = cand.assign(share=cand.share * part, method="inferred")
    return pd.concat(
        [listed, inferred[["from_area", "to_area", "share", "method"]]], ignore_index=True
    )


def _weights(rows: pd.DataFrame) -> pd.DataFrame:
    """Weights from shares: one target → 1; an overlap source with ≥ WHOLE_SHARE in one
    target → that target alone, 1; a list source with several targets → overlap shares
    normalised (equal parts where no share is known; a listed target the source's boundary
    does not reach dropped where it reaches another); then ``exact`` per target."""
    rows = rows.copy()
    biggest = rows.groupby("from_area").share.transform("max")
    whole = (rows.method == "overlap") & (biggest >= WHOLE_SHARE)
    rows = rows[~whole | (rows.share == biggest)]
    # a listed target the source's boundary does not reach (the list errs) is dropped
    # where the source's boundary reaches another listed target
    reached = rows.share.notna().groupby(rows.from_area).transform("max").astype(bool)
    rows = rows[~(reached & rows.share.isna())].copy()
    n = rows.groupby("from_area").to_area.transform("size")
    known = rows.share.notna().groupby(rows.from_area).transform("min").astype(bool)
    total = rows.groupby("from_area").share.transform("sum")
    rows["weight"] = np.where(
        n == 1, 1.0, np.where(known & (total > 0), rows.share / total.where(total > 0), 1.0 / n)
    )
    certain = (rows.weight == 1.0) & (rows.method != "inferred")
    rows["exact"] = certain.groupby(rows.to_area).transform("min").astype(bool)
    return rows[["from_area", "to_area", "weight", "exact", "method"]]
