"""Source adapter: area list (hierarchy) and finest-level boundaries per vintage.

Layout: ``<raw_dir>/<areas glob>`` — one folder per geometry vintage named by its first
valid date (``gebiete/2010-01-01/gebiete.csv`` + ``stadtteile.geojson``). The CSV has the
columns ``gebiet_id;ebene;name;uebergeordnet``; the GeoJSON one feature per finest-level
area with the property ``gebiet_id``.

Areas published together ("A und B" as one row of the tables): the optional column
``bestandteile`` of a finest-level area lists the ids of the boundary features it is made
of (``0105;Stadtteil;A und B;01;0105a,0105b``); its shape is their union, drawn as one
unit. A member must have a feature, may not be an area of the list itself nor belong to
two units; a data row of a member is an unknown area (an error naming file and line).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import shapely

from etl.errors import InputError
from etl.sources.geometry import read_features
from etl.text import check_frame, decode_file

AREA_COLUMNS = ["gebiet_id", "ebene", "name", "uebergeordnet"]
MEMBERS = "bestandteile"  # optional: ids of the boundary features of a combined unit
ID_PROPERTY = "gebiet_id"


@dataclass
class AreaVintage:
    """One geometry vintage: its areas (all levels) and finest-level shapes."""

    vintage: str
    valid_from: date
    areas: pd.DataFrame  # area_id, level, name, parent_id
    shapes: dict[str, shapely.Geometry]  # finest-level area_id -> geometry
    files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_vintage(
    areas_csv: Path, geometry_file: Path, level_names: dict[str, str], levels: list[str]
) -> AreaVintage:
    """Read and validate one vintage folder; ``levels`` run coarsest to finest."""
    valid_from = _folder_date(areas_csv)
    areas = _read_areas(areas_csv, level_names, levels)
    finest = set(areas.loc[areas["level"] == levels[-1], "area_id"])
    members = _members(areas_csv, areas, levels)
    shapes, warnings = _read_shapes(geometry_file, finest, members, areas_csv)
    areas = areas.drop(columns=["members", "line"])
    return AreaVintage(
        valid_from.isoformat(), valid_from, areas, shapes, [areas_csv, geometry_file], warnings
    )


def _folder_date(path: Path) -> date:
    try:
        return date.fromisoformat(path.parent.name)
    except ValueError as exc:
        raise InputError(
            path,
            f"folder name '{path.parent.name}' is not the vintage's first "
            "valid date (expected YYYY-MM-DD)",
        ) from exc


def _read_areas(path: Path, level_names: dict[str, str], levels: list[str]) -> pd.DataFrame:
    text = decode_file(path, "utf-8", bounded=True)  # BOM dropped; bad bytes, long lines named
    df = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    missing = [c for c in AREA_COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            path,
            f"missing column(s) {', '.join(missing)}; expected {';'.join(AREA_COLUMNS)}",
            line=1,
            column=missing[0],
        )
    check_frame(path, df, list(df.columns), pd.Series(df.index + 2))
    df = df.rename(
        columns={"gebiet_id": "area_id", "ebene": "raw_level", "uebergeordnet": "parent_id"}
    )
    df["line"] = df.index + 2
    df["level"] = df["raw_level"].map(level_names)
    _require(
        path, df, df["level"].isna(), "ebene", f"one of {', '.join(level_names)}", df["raw_level"]
    )
    _require(path, df, df["area_id"].str.strip() == "", "gebiet_id", "an area id", df["area_id"])
    _require(path, df, df["area_id"].duplicated(), "gebiet_id", "a unique area id", df["area_id"])
    _check_parents(path, df, levels)
    df["parent_id"] = df["parent_id"].replace("", None)
    df["members"] = df.get(MEMBERS, "")
    return df[["area_id", "level", "name", "parent_id", "members", "line"]].reset_index(drop=True)


def _members(path: Path, areas: pd.DataFrame, levels: list[str]) -> dict[str, tuple[str, int]]:
    """Boundary feature id -> (the combined unit it belongs to, the unit's line)."""
    found: dict[str, tuple[str, int]] = {}
    listed = set(areas["area_id"])
    for row in areas[areas["members"].str.strip() != ""].itertuples():
        ids = [m.strip() for m in row.members.split(",") if m.strip()]
        problem = _member_problem(row.level, ids, levels[-1], listed, found)
        if problem:
            raise InputError(path, f"found {problem}", line=row.line, column=MEMBERS)
        found |= {m: (row.area_id, row.line) for m in ids}
    return found


def _member_problem(
    level: str, ids: list[str], finest: str, listed: set[str], found: dict
) -> str | None:
    if level != finest:
        return f"a combined unit at level '{level}'; expected one of the finest level '{finest}'"
    if len(ids) < 2:
        return "one id; expected the ids of two or more boundary features"
    for member in ids:
        if member in listed:
            return (
                f"'{member}', an area of the list itself; expected the ids of boundary "
                "features that are not areas of their own"
            )
        if member in found:
            return f"'{member}', already part of unit {found[member][0]}; expected each in one"
    return None


def _check_parents(path: Path, df: pd.DataFrame, levels: list[str]) -> None:
    rank = {level: i for i, level in enumerate(levels)}
    by_id = df.set_index("area_id")["level"]
    root = df["level"] == levels[0]
    _require(
        path,
        df,
        root & (df["parent_id"] != ""),
        "uebergeordnet",
        "empty for the top level",
        df["parent_id"],
    )
    parent_level = df["parent_id"].map(by_id)
    expected = df["level"].map(lambda lv: levels[rank[lv] - 1] if rank[lv] > 0 else None)
    bad = ~root & (parent_level != expected)
    _require(
        path,
        df,
        bad,
        "uebergeordnet",
        "the id of an area one level up (" + " > ".join(levels) + ")",
        df["parent_id"],
    )


def _require(
    path: Path, df: pd.DataFrame, bad: pd.Series, column: str, expected: str, values: pd.Series
) -> None:
    if bad.any():
        first = df.index[bad.to_numpy()][0]
        raise InputError(
            path,
            f"found '{values[first]}', expected {expected}",
            line=int(df.at[first, "line"]),
            column=column,
        )


def _read_shapes(
    path: Path, finest: set[str], members: dict[str, tuple[str, int]], areas_csv: Path
) -> tuple[dict[str, shapely.Geometry], list[str]]:
    """The finest areas' shapes; a combined unit's is the union of its members'."""
    shapes = {f.area_id: f.geometry for f in read_features(path, ID_PROPERTY)}
    missing = [m for m in members if m not in shapes]
    if missing:
        unit, line = members[missing[0]]
        raise InputError(
            areas_csv,
            f"'{missing[0]}' (a part of unit {unit}) is no feature of {path.name}; expected "
            f"the '{ID_PROPERTY}' of a boundary feature",
            line=line,
            column=MEMBERS,
        )
    units: dict[str, list[shapely.Geometry]] = {}
    for member, (unit, _) in members.items():
        units.setdefault(unit, []).append(shapes.pop(member))
    shapes |= {unit: shapely.union_all(parts) for unit, parts in units.items()}
    warnings = _coverage_warnings(path, finest, set(shapes))
    return {k: v for k, v in shapes.items() if k in finest}, warnings


def _coverage_warnings(path: Path, finest: set[str], shaped: set[str]) -> list[str]:
    warnings = []
    if finest - shaped:
        warnings.append(f"{path}: no geometry for area(s) {', '.join(sorted(finest - shaped))}")
    if shaped - finest:
        warnings.append(
            f"{path}: geometry for unknown area(s) {', '.join(sorted(shaped - finest))} ignored"
        )
    return warnings
