"""Source adapter: boundary files -> validated WGS84 polygons, one per area.

Formats, chosen by the file suffix:

* GeoJSON (``.geojson``, ``.json``): a FeatureCollection, parsed with ``json`` and
  ``shapely.from_geojson``. Without a ``crs`` member (RFC 7946), or with one naming CRS84 /
  EPSG:4326 (``urn:ogc:def:crs:OGC:1.3:CRS84``, ``urn:ogc:def:crs:EPSG::4326``, ...), the
  coordinates are lon/lat. An old-style member ``{"type": "name", "properties": {"name":
  "urn:ogc:def:crs:EPSG::25832"}}`` naming any other CRS is honoured.
* GeoPackage (``.gpkg``), Shapefile (``.shp``, or a zipped shapefile ``.zip``): read with
  ``pyogrio.raw.read`` (WKB + attribute arrays). The layer must declare its CRS; a file with
  several geometry layers needs ``layer``.

Coordinates in any CRS other than WGS84 are transformed to lon/lat with pyproj (x/y order,
``always_xy``). Afterwards every feature must lie within lon -180..180 and lat -90..90,
which catches metres declared as WGS84. Z values are dropped.

Ids and names must not hold a control character other than tab (NUL …): an error naming
the feature and the property.

Only Polygon and MultiPolygon features are accepted. Invalid ones are repaired with
``shapely.make_valid`` (structure method: overlapping parts are merged, collapsed parts
dropped), keeping the polygonal parts only.
"""

from __future__ import annotations

import json
import math
import string
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.raw
import pyproj
import shapely

from etl.errors import ConfigError, InputError
from etl.text import control_problem, decode_file

POLYGONAL = ("Polygon", "MultiPolygon")
WGS84_NOTE = "WGS84 lon/lat (no crs member, CRS84 or EPSG:4326)"


@dataclass(frozen=True)
class Feature:
    """One area's boundary as read from a file."""

    area_id: str
    name: str | None
    geometry: shapely.Geometry  # Polygon or MultiPolygon, valid, WGS84 lon/lat
    number: int  # 1-based feature number in the file (for messages)


@dataclass(frozen=True)
class _Table:
    """A layer as read: property names, CRS (None = WGS84 lon/lat), (properties, geometry)."""

    fields: list[str]
    crs: pyproj.CRS | None
    rows: list[tuple[dict[str, Any], shapely.Geometry | None]]


def read_features(
    path: Path,
    id_property: str,
    name_property: str | None = None,
    name_template: str | None = None,
    id_prefix: str | None = None,
    layer: str | None = None,
    corrections: dict[int, tuple[str, str]] | None = None,
) -> list[Feature]:
    """Read the polygons of a boundary file, keyed by ``id_property``, in file order.

    The name comes from ``name_property`` or from ``name_template``, a ``str.format``
    template over the properties' text values (``"{GEN}, {BEZ}"``; empty values give "").
    ``id_prefix`` keeps only features whose id starts with it (``"07"``: Rhineland-Palatinate
    in a Germany-wide file). ``layer`` names the GeoPackage/Shapefile layer to read.
    ``corrections`` maps a feature number to (the id found, the corrected id): a documented
    fix of a known error in a delivered file, applied only if the feature has that id.
    """
    if name_property and name_template:
        raise ConfigError(f"{path}: give either name_property or name_template, not both")
    table = _read_table(path, layer)
    _check_fields(
        path, table.fields, [id_property, name_property, *_template_keys(path, name_template)]
    )
    kept = _keep(path, table.rows, id_property, id_prefix, corrections or {})
    shapes = [_polygonal_input(path, n, area_id, table.rows[n - 1][1]) for n, area_id in kept]
    shapes = _to_lonlat(path, table.crs, shapes, kept)
    features = []
    for (number, area_id), shape in zip(kept, shapes, strict=True):
        name = _name(path, number, table.rows[number - 1][0], name_property, name_template)
        features.append(Feature(area_id, name, _repaired(path, number, area_id, shape), number))
    return features


def for_web(geom: shapely.Geometry, tolerance: float) -> shapely.Geometry:
    """Simplified (``tolerance`` in degrees, 0 = none), 1e-6 degree grid, exterior rings
    clockwise and holes counter-clockwise, as plotly geo (d3-geo) needs them
    (research/toolchain.md, gotcha 2)."""
    simple = shapely.simplify(geom, tolerance, preserve_topology=True) if tolerance else geom
    simple = shapely.set_precision(simple, 1e-6)
    return shapely.orient_polygons(simple, exterior_cw=True)


def to_geojson(geom: shapely.Geometry) -> str:
    """The geometry as a compact GeoJSON geometry object."""
    return shapely.to_geojson(geom)


def _read_table(path: Path, layer: str | None) -> _Table:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            path, f"unsupported file type '{path.suffix}'; expected one of {', '.join(_READERS)}"
        )
    table = reader(path, layer)
    if not table.rows:
        raise InputError(path, "no features; expected at least one area boundary")
    return table


def _read_geojson(path: Path, layer: str | None) -> _Table:
    if layer is not None:
        raise ConfigError(f"{path}: a GeoJSON file has no layers; remove layer '{layer}'")
    data = _load_json(path)
    if not (
        isinstance(data, dict)
        and data.get("type") == "FeatureCollection"
        and isinstance(data.get("features"), list)
    ):
        raise InputError(path, "expected a GeoJSON FeatureCollection with a 'features' list")
    rows = [_geojson_row(path, n, f) for n, f in enumerate(data["features"], start=1)]
    fields = list(dict.fromkeys(key for properties, _ in rows for key in properties))
    return _Table(fields, _geojson_crs(path, data.get("crs")), rows)


def _load_json(path: Path) -> Any:
    try:
        return json.loads(decode_file(path, "utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(
            path,
            f"not valid JSON ({exc.msg}, column {exc.colno}); expected a GeoJSON FeatureCollection",
            line=exc.lineno,
        ) from exc
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror}") from exc


def _geojson_row(
    path: Path, number: int, feature: Any
) -> tuple[dict[str, Any], shapely.Geometry | None]:
    properties = (feature.get("properties") or {}) if isinstance(feature, dict) else None
    if not isinstance(properties, dict) or feature.get("type") != "Feature":
        raise InputError(
            path, f"feature {number} is not a GeoJSON Feature with a 'properties' object"
        )
    if feature.get("geometry") is None:
        return properties, None
    try:
        geom = shapely.from_geojson(json.dumps(feature["geometry"]))
    except shapely.errors.GEOSException as exc:
        raise InputError(path, f"feature {number}: unreadable geometry ({exc})") from exc
    return properties, shapely.force_2d(geom)


def _geojson_crs(path: Path, member: Any) -> pyproj.CRS | None:
    if member is None:
        return None
    named = isinstance(member, dict) and member.get("type") == "name"
    properties = member.get("properties") if named else None
    name = properties.get("name") if isinstance(properties, dict) else None
    if not isinstance(name, str):
        raise InputError(
            path,
            f"unsupported 'crs' member {json.dumps(member)}; expected "
            '{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}'
            " or none (WGS84 lon/lat)",
        )
    return _parse_crs(path, name)


def _read_ogr(path: Path, layer: str | None) -> _Table:
    layer = layer if layer is not None else _only_layer(path)
    try:
        meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer, force_2d=True)
    except pyogrio.errors.DataLayerError as exc:
        raise InputError(
            path, f"no layer '{layer}'; layers are {', '.join(_geometry_layers(path))}"
        ) from exc
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(path, f"cannot open as GeoPackage or Shapefile: {exc}") from exc
    if wkb is None:
        raise InputError(path, f"layer '{layer}' has no geometry column")
    if meta["crs"] is None:
        raise InputError(
            path,
            "the layer has no CRS; a CRS is required (for a shapefile the "
            ".prj file next to the .shp, for a GeoPackage the layer's srs_id)",
        )
    fields = [str(field) for field in meta["fields"]]
    geoms = shapely.from_wkb(wkb)
    rows = [
        ({field: column[i] for field, column in zip(fields, columns, strict=True)}, geom)
        for i, geom in enumerate(geoms)
    ]
    return _Table(fields, _parse_crs(path, meta["crs"]), rows)


def _only_layer(path: Path) -> str | None:
    layers = _geometry_layers(path)
    if len(layers) > 1:
        raise InputError(
            path,
            f"{len(layers)} layers with geometry ({', '.join(layers)}); "
            "name the one to read (layer)",
        )
    return layers[0] if layers else None


def _geometry_layers(path: Path) -> list[str]:
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(path, f"cannot open as GeoPackage or Shapefile: {exc}") from exc
    return [str(name) for name, geometry_type in layers if geometry_type is not None]


def _parse_crs(path: Path, text: str) -> pyproj.CRS | None:
    """The CRS to transform from, or None for WGS84 lon/lat (CRS84 or EPSG:4326)."""
    try:
        crs = pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        raise InputError(path, f"unknown CRS '{text}'; expected e.g. EPSG:25832 ({exc})") from exc
    return None if crs.equals("OGC:CRS84", ignore_axis_order=True) else crs


def _template_keys(path: Path, template: str | None) -> list[str]:
    if not template:
        return []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(f"{path}: name template '{template}' is malformed: {exc}") from exc
    if any(field == "" for _, field, _, _ in parsed):
        raise ConfigError(
            f"{path}: name template '{template}' has an empty {{}}; expected "
            "property names such as {GEN}"
        )
    fields = [field for _, field, _, _ in parsed if field is not None]
    return [field.split(".")[0].split("[")[0] for field in fields]


def _check_fields(path: Path, fields: list[str], needed: list[str | None]) -> None:
    for field in needed:
        if field and field not in fields:
            raise InputError(
                path,
                f"no property '{field}' in the file; its properties are "
                f"{', '.join(fields) or '(none)'}",
                column=field,
            )


def _keep(
    path: Path,
    rows: list[tuple[dict[str, Any], Any]],
    id_property: str,
    id_prefix: str | None,
    corrections: dict[int, tuple[str, str]],
) -> list[tuple[int, str]]:
    """(feature number, area id) of the features to keep; ids present and unique."""
    kept: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, (properties, _) in enumerate(rows, start=1):
        area_id = _checked_text(path, number, properties, id_property)
        if number in corrections:
            found, fixed = corrections[number]
            if area_id != found:
                raise InputError(
                    path,
                    f"feature {number}: the correction in the profile "
                    f"expects id '{found}', the file has '{area_id}'",
                    column=id_property,
                )
            area_id = fixed
        if not area_id:
            state = "is empty" if id_property in properties else "is missing"
            raise InputError(
                path,
                f"feature {number}: property '{id_property}' {state}; expected the area code",
                column=id_property,
            )
        if id_prefix and not area_id.startswith(id_prefix):
            continue
        if area_id in seen:
            raise InputError(
                path,
                f"features {seen[area_id]} and {number} both have the id "
                f"'{area_id}'; expected each area once",
                column=id_property,
            )
        seen[area_id] = number
        kept.append((number, area_id))
    if not kept:
        examples = ", ".join(_as_text(p.get(id_property)) for p, _ in rows[:3])
        raise InputError(
            path, f"no id starts with '{id_prefix}'; ids look like {examples}", column=id_property
        )
    return kept


def _checked_text(path: Path, number: int, properties: dict[str, Any], key: str) -> str:
    """Property ``key`` of feature ``number`` as text; a control character is an error."""
    value = properties.get(key)
    problem = control_problem(value) if isinstance(value, str) else None
    if problem is not None:
        raise InputError(path, f"feature {number}: {problem}", column=key)
    return _as_text(value)


def _as_text(value: Any) -> str:
    """A property value as text: None/NaN -> "", whole floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return ""
        if float(value).is_integer():
            value = int(value)
    return str(value).strip()


def _name(
    path: Path,
    number: int,
    properties: dict[str, Any],
    name_property: str | None,
    name_template: str | None,
) -> str | None:
    for key in [name_property, *_template_keys(path, name_template)]:
        if key:
            _checked_text(path, number, properties, key)
    if name_template:
        values = {key: _as_text(value) for key, value in properties.items()}
        try:
            return name_template.format_map(values).strip() or None
        except (KeyError, IndexError, AttributeError, ValueError) as exc:
            raise InputError(
                path,
                f"feature {number}: name template '{name_template}' "
                f"failed ({exc!r}); its properties are {', '.join(values)}",
            ) from exc
    if name_property:
        return _as_text(properties.get(name_property)) or None
    return None


def _polygonal_input(
    path: Path, number: int, area_id: str, geom: shapely.Geometry | None
) -> shapely.Geometry:
    if geom is None or geom.is_empty:
        raise InputError(
            path,
            f"feature {number} ('{area_id}') has no geometry; expected a Polygon or MultiPolygon",
        )
    if geom.geom_type not in POLYGONAL:
        raise InputError(
            path,
            f"feature {number} ('{area_id}') is a {geom.geom_type}; "
            "expected a Polygon or MultiPolygon",
        )
    return geom


def _to_lonlat(
    path: Path, crs: pyproj.CRS | None, shapes: list[shapely.Geometry], kept: list[tuple[int, str]]
) -> list[shapely.Geometry]:
    """Transform to lon/lat and check every feature lies within the lon/lat range."""
    geoms = np.array(shapes, dtype=object)
    if crs is not None:
        transformer = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        geoms = shapely.transform(geoms, transformer.transform, interleaved=False)
    b = shapely.bounds(geoms)
    inside = (
        np.isfinite(b).all(axis=1)
        & (b[:, 0] >= -180)
        & (b[:, 2] <= 180)
        & (b[:, 1] >= -90)
        & (b[:, 3] <= 90)
    )
    if not inside.all():
        i = int(np.flatnonzero(~inside)[0])
        number, area_id = kept[i]
        raise InputError(
            path,
            f"feature {number} ('{area_id}'): coordinates "
            f"x {b[i, 0]:.6g}..{b[i, 2]:.6g}, y {b[i, 1]:.6g}..{b[i, 3]:.6g} are not "
            f"lon/lat when read as {crs.name if crs else WGS84_NOTE}; if they are "
            "metres, declare the file's CRS (e.g. EPSG:25832)",
        )
    return list(geoms)


def _repaired(path: Path, number: int, area_id: str, geom: shapely.Geometry) -> shapely.Geometry:
    """The geometry if valid, else its repair reduced to polygons."""
    if geom.is_valid:
        return geom
    fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    polygons = [
        polygon
        for part in shapely.get_parts(fixed)
        for polygon in shapely.get_parts(part)
        if polygon.geom_type == "Polygon" and not polygon.is_empty
    ]
    if not polygons:
        raise InputError(
            path,
            f"feature {number} ('{area_id}'): invalid geometry "
            f"({shapely.is_valid_reason(geom)}) with no area left after repair",
        )
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


_READERS: dict[str, Callable[[Path, str | None], _Table]] = {
    ".geojson": _read_geojson,
    ".json": _read_geojson,
    ".gpkg": _read_ogr,
    ".shp": _read_ogr,
    ".zip": _read_ogr,
}
