"""Source adapter: areas identified by hierarchical codes, with boundary files per vintage.

The code of an area starts with the code of its parent (Berlin's LOR ``BBPPRRPP``: district
``BB``, forecast area ``BBPP``, district region ``BBPPRR``, planning area; AGS: Land ``LL``,
Kreis ``LLKKK``). The profile gives each level's code length. A vintage's areas are the
finest-level codes found in the data on its reference dates plus those in its boundary
files, with every ancestor derived from the code. Names come from the boundary files, or
"<level label> <code>" where no boundary file has the area.

Units in the data without a boundary (and boundaries without data) are reported as
warnings, not dropped; a boundary marked ``strict`` turns a missing code into an error.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import shapely

from etl.errors import InputError
from etl.profile import Boundary, CodeHierarchyGeography, GeoVintage, Profile
from etl.sources.area_list import AreaVintage
from etl.sources.geometry import Feature, ReadOptions, read_features
from etl.transform import consistency

MAX_LISTED = 8


def read_vintages(profile: Profile, data_codes: pd.DataFrame) -> list[AreaVintage]:
    """Area vintages for ``profile``; ``data_codes`` has the finest-level ``area_id`` and
    ``ref_date`` (plus ``file`` and ``line`` for messages) of every data row."""
    geo: CodeHierarchyGeography = profile.geography
    ordered = sorted(geo.vintages, key=lambda v: v.valid_from)
    vintages = []
    for i, vintage in enumerate(ordered):
        until = ordered[i + 1].valid_from - timedelta(days=1) if i + 1 < len(ordered) else None
        in_range = (data_codes["ref_date"] >= vintage.valid_from) & (
            data_codes["ref_date"] <= (until or date.max)
        )
        names = data_codes.attrs.get("names", {})  # from the data rows, if they have names
        vintages.append(_vintage(profile, vintage, data_codes[in_range], names))
    return vintages


def _vintage(
    profile: Profile, vintage: GeoVintage, data: pd.DataFrame, data_names: dict | None = None
) -> AreaVintage:
    geo: CodeHierarchyGeography = profile.geography
    features = {b.level: _features(profile.raw_dir, b) for b in vintage.boundaries}
    levels = profile.level_ids()
    files = {b.level: profile.raw_dir / b.file for b in vintage.boundaries}
    features = _combined(geo, features, files, data, data_names or {})
    finest_codes = set(data["area_id"]) | {f.area_id for f in features.get(levels[-1], [])}
    rows = {geo.root.id: (levels[0], geo.root.name, None)}
    names = {**(data_names or {}), **{f.area_id: f.name for fs in features.values() for f in fs}}
    for level in levels[1:]:
        length = geo.code_lengths[level]
        codes = {c[:length] for c in finest_codes} | {f.area_id for f in features.get(level, [])}
        parent = levels[levels.index(level) - 1]
        if geo.root.id in codes:
            raise InputError(
                profile.path,
                f"root id '{geo.root.id}' is also a code of level "
                f"'{level}'; give the root an id no area has",
            )
        for code in codes:
            parent_id = code[: geo.code_lengths[parent]] if parent != levels[0] else geo.root.id
            rows[code] = (
                level,
                names.get(code) or f"{profile.level_label(level)} {code}",
                parent_id,
            )
    areas = pd.DataFrame(
        [(k, *v) for k, v in sorted(rows.items())],
        columns=["area_id", "level", "name", "parent_id"],
    )
    warnings = _coverage(profile, vintage, features, data, areas)
    shapes = {f.area_id: f.geometry for feats in features.values() for f in feats}
    files = sorted({profile.raw_dir / b.file for b in vintage.boundaries})
    return AreaVintage(vintage.id, vintage.valid_from, areas, shapes, files, warnings)


def _combined(
    geo: CodeHierarchyGeography,
    features: dict[str, list[Feature]],
    files: dict[str, Path],
    data: pd.DataFrame,
    data_names: dict,
) -> dict[str, list[Feature]]:
    """Features with the members of every combined unit (``geography.combined``)
    dissolved into one feature with the unit's code: the union of their polygons, named
    as the profile says, else as the data row, else "A und B" from the members' names.
    A data row of a member (not the unit itself) is an error: its residents would count
    twice."""
    for unit in geo.combined:
        parts = set(unit.members) - {unit.id}
        delivered = data[data["area_id"].isin(parts)]
        if len(delivered):
            row = delivered.iloc[0]
            others = ", ".join(m for m in unit.members if m != row["area_id"])
            raise InputError(
                Path(row["file"]),
                f"area '{row['area_id']}' has a row of its own, but geography.combined "
                f"publishes it together with {others} "
                f"as unit '{unit.id}'; expected its counts only in that unit's row",
                line=int(row["line"]),
                column=str(row["column"]),
            )
        for level, found in features.items():
            members = [f for f in found if f.area_id in unit.members]
            if not members:
                continue
            if len(members) != len(unit.members):
                missing = sorted(set(unit.members) - {f.area_id for f in members})
                raise InputError(
                    files[level],
                    f"combined unit '{unit.id}': member(s) {', '.join(missing)} not in the "
                    f"boundary file; expected a feature for each of {', '.join(unit.members)}",
                )
            name = unit.name or data_names.get(unit.id)
            name = name or " und ".join(f.name or f.area_id for f in members)
            union = shapely.union_all([f.geometry for f in members])
            merged = Feature(unit.id, name, union, members[0].number)
            kept = [f for f in found if f.area_id not in unit.members]
            features[level] = [*kept, merged]
    return features


def _features(raw_dir: Path, boundary: Boundary) -> list[Feature]:
    fixes = {c.feature: (c.found, c.id) for c in boundary.corrections}
    return read_features(
        raw_dir / boundary.file,
        boundary.id,
        name_property=boundary.name,
        name_template=boundary.name_template,
        id_prefix=boundary.id_prefix,
        layer=boundary.layer,
        corrections=fixes,
        options=ReadOptions(
            boundary.crs, boundary.encoding, boundary.geometry_column, boundary.swap_xy
        ),
    )


def _coverage(
    profile: Profile,
    vintage: GeoVintage,
    features: dict[str, list[Feature]],
    data: pd.DataFrame,
    areas: pd.DataFrame,
) -> list[str]:
    """Warnings (or errors for strict boundaries) where data and boundaries disagree."""
    geo: CodeHierarchyGeography = profile.geography
    warnings = []
    for boundary in vintage.boundaries:
        length = geo.code_lengths.get(boundary.level)
        shaped = {f.area_id for f in features[boundary.level]}
        wrong = sorted(c for c in shaped if length is not None and len(c) != length)
        if wrong:
            raise InputError(
                profile.raw_dir / boundary.file,
                f"area code(s) {_listed(wrong)} "
                f"do not have the {length} digits of level '{boundary.level}'",
                column=boundary.id,
            )
        in_data = {c[:length] for c in data["area_id"]}
        missing = sorted(in_data - shaped)
        if missing and boundary.strict:
            first = data[data["area_id"].str[:length] == missing[0]].iloc[0]
            raise InputError(
                Path(first["file"]),
                f"unknown area code '{first['area_id']}': "
                f"{boundary.level} '{missing[0]}' is not in {boundary.file}",
                line=int(first["line"]),
                column=str(first["column"]),
            )
        if missing:
            warnings.append(
                f"{vintage.id}: {len(missing)} {boundary.level} area(s) in the data "
                f"have no boundary in {boundary.file}: {_listed(missing)}"
            )
        unused = sorted(shaped - in_data)
        if unused and len(data):
            warnings.append(
                f"{vintage.id}: {len(unused)} {boundary.level} boundary(ies) in "
                f"{boundary.file} have no data: {_listed(unused)}"
            )
    warnings += _gaps(profile, vintage, data, areas)
    finest = profile.level_ids()[-1]
    bounded = {f.area_id for f in features[finest]} if finest in features else None
    warnings += consistency.unknown_areas(profile, vintage.id, data, bounded)
    unshaped = sorted(
        set(areas["level"]) - {b.level for b in vintage.boundaries} - {profile.level_ids()[0]}
    )
    for level in unshaped:
        count = int((areas["level"] == level).sum())
        warnings.append(
            f"{vintage.id}: no boundary file for level '{level}' ({count} areas); "
            "its map is built from finer boundaries where they exist"
        )
    return warnings


def _gaps(
    profile: Profile, vintage: GeoVintage, data: pd.DataFrame, areas: pd.DataFrame
) -> list[str]:
    """Finest areas of the vintage without a data row on some of its dates: an error, or
    (``absent_units: zero``) a warning and they count 0 there."""
    finest = set(areas.loc[areas["level"] == profile.level_ids()[-1], "area_id"])
    messages = []
    for ref_date, codes in data.groupby("ref_date")["area_id"]:
        absent = sorted(finest - set(codes))
        if absent and profile.geography.absent_units == "error":
            first = data[data["ref_date"] == ref_date].iloc[0]
            raise InputError(
                Path(first["file"]),
                f"no row for area(s) {_listed(absent)} of "
                f"vintage '{vintage.id}' on {ref_date} (they have rows on other "
                "dates or a boundary); expected every area on every date, or set "
                "'absent_units: zero' in the profile's geography if they had no "
                "residents then",
                column=str(first["column"]),
            )
        if absent:
            messages.append(f"{ref_date}: {_listed(absent)}")
    if not messages:
        return []
    return [
        f"{vintage.id}: areas without a row in the data count as 0 on these dates — "
        + "; ".join(messages[:MAX_LISTED])
        + (f" … (+{len(messages) - MAX_LISTED} dates)" if len(messages) > MAX_LISTED else "")
    ]


def _listed(codes: list[str]) -> str:
    more = f" … (+{len(codes) - MAX_LISTED})" if len(codes) > MAX_LISTED else ""
    return ", ".join(codes[:MAX_LISTED]) + more
