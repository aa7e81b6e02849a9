"""Source adapter: boundary files -> validated WGS84 polygons, one per area.

Formats, chosen by the file suffix:

* GeoJSON (``.geojson``, ``.json``): a FeatureCollection, parsed with ``json`` and
  ``shapely.from_geojson``. Without a ``crs`` member (RFC 7946), or with one naming CRS84 /
  EPSG:4326 (``urn:ogc:def:crs:OGC:1.3:CRS84``, ``urn:ogc:def:crs:EPSG::4326``, ...), the
  coordinates are lon/lat. An old-style member ``{"type": "name", "properties": {"name":
  "urn:ogc:def:crs:EPSG::25832"}}`` naming any other CRS is honoured.
* GeoPackage (``.gpkg``), Shapefile (``.shp``, or a zipped shapefile ``.zip``): read with
  ``pyogrio.raw.read`` (WKB + attribute arrays). The layer must declare its CRS; a file with
  several geometry layers needs ``layer``. A shapefile's DBF is decoded as its ``.cpg``
  says (none: ISO-8859-1); text that is not valid there (a Latin-1 DBF with a ``.cpg``
  saying UTF-8) is read as ISO-8859-1, and UTF-8 read as Latin-1 (``SÃ¼d``) as UTF-8;
  ``encoding`` in the profile overrides both.
* CSV (``.csv``, ``.txt``): one row per area, the boundary as WKT text (``POLYGON ((…))``,
  also EWKT ``SRID=25832;POLYGON …``) in ``geometry_column`` (default: the column whose
  values are WKT polygons); separator ``;``, ``,``, TAB or ``|`` (the one the header has
  most of); ``encoding`` default UTF-8. Without an SRID the CRS is the profile's ``crs``,
  else WGS84 lon/lat.

``crs`` in the profile gives the CRS of a file that declares none (WKT CSV, GeoJSON
without a ``crs`` member); a file declaring another CRS is an error. Coordinates whose
latitude and longitude are swapped (x in 47..55.5, y in 5.5..15.5: Germany read the wrong
way round) are an error asking for ``swap_xy: true``, which reads them the right way.

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

import csv
import io
import json
import math
import re
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
class ReadOptions:
    """How to read a boundary file beyond its suffix (the profile's boundary entry)."""

    crs: str | None = None  # the CRS of a file that declares none
    encoding: str | None = None  # text of a CSV or DBF
    geometry_column: str | None = None  # the WKT column of a CSV
    swap_xy: bool = False  # the file has latitude first


GERMANY = (5.5, 47.0, 15.5, 55.5)  # lon/lat box around Germany (swap detection)
WKT = re.compile(r"^\s*(?:SRID=(\d+);)?\s*((?:MULTI)?POLYGON\b.*)$", re.IGNORECASE | re.DOTALL)


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
    options: ReadOptions | None = None,
) -> list[Feature]:
    """Read the polygons of a boundary file, keyed by ``id_property``, in file order.

    The name comes from ``name_property`` or from ``name_template``, a ``str.format``
    template over the properties' text values (``"{GEN}, {BEZ}"``; empty values give "").
    ``id_prefix`` keeps only features whose id starts with it (``"07"``: Rhineland-Palatinate
    in a Germany-wide file). ``layer`` names the GeoPackage/Shapefile layer to read.
    ``corrections`` maps a feature number to (the id found, the corrected id): a documented
    fix of a known error in a delivered file, applied only if the feature has that id.
    ``options``: CRS, encoding, WKT column and swapped axes (:class:`ReadOptions`).
    """
    options = options or ReadOptions()
    if name_property and name_template:
        raise ConfigError(f"{path}: give either name_property or name_template, not both")
    table = read_table(path, layer, options)
    _check_fields(
        path, table.fields, [id_property, name_property, *_template_keys(path, name_template)]
    )
    kept = _keep(path, table.rows, id_property, id_prefix, corrections or {})
    shapes = [_polygonal_input(path, n, area_id, table.rows[n - 1][1]) for n, area_id in kept]
    shapes = _to_lonlat(path, table.crs, shapes, kept, options.swap_xy)
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


def read_table(path: Path, layer: str | None, options: ReadOptions | None = None) -> _Table:
    """A boundary file's properties and geometries as read, before any check of ids
    (also ``imon init``'s reader)."""
    options = options or ReadOptions()
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            path, f"unsupported file type '{path.suffix}'; expected one of {', '.join(_READERS)}"
        )
    table = reader(path, layer, options)
    if not table.rows:
        raise InputError(path, "no features; expected at least one area boundary")
    return table


def _declared_crs(path: Path, found: pyproj.CRS | None, declared: str | None, in_file: bool):
    """The file's own CRS, else the profile's ``crs``; both and different: an error."""
    if declared is None:
        return found
    wanted = _parse_crs(path, declared)
    if in_file and not _same_crs(found, wanted):
        raise InputError(
            path,
            f"the file declares the CRS {found.name if found else 'WGS84 lon/lat'}, the "
            f"profile crs: {declared}; remove crs from the profile or fix the file",
        )
    return wanted


def _same_crs(a: pyproj.CRS | None, b: pyproj.CRS | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.equals(b, ignore_axis_order=True)


def _read_geojson(path: Path, layer: str | None, options: ReadOptions) -> _Table:
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
    member = data.get("crs")
    crs = _declared_crs(path, _geojson_crs(path, member), options.crs, member is not None)
    return _Table(fields, crs, rows)


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


def _read_ogr(path: Path, layer: str | None, options: ReadOptions) -> _Table:
    layer = layer if layer is not None else _only_layer(path)
    try:
        meta, columns, wkb = _ogr_records(path, layer, options.encoding)
    except pyogrio.errors.DataLayerError as exc:
        raise InputError(
            path, f"no layer '{layer}'; layers are {', '.join(_geometry_layers(path))}"
        ) from exc
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(path, f"cannot open as GeoPackage or Shapefile: {exc}") from exc
    if wkb is None:
        raise InputError(path, f"layer '{layer}' has no geometry column")
    crs = _declared_crs(
        path, _parse_crs(path, meta["crs"]) if meta["crs"] else None, options.crs,
        meta["crs"] is not None,
    )  # fmt: skip
    if meta["crs"] is None and options.crs is None:
        raise InputError(
            path,
            "the layer has no CRS; a CRS is required (for a shapefile the "
            ".prj file next to the .shp, for a GeoPackage the layer's srs_id), or "
            "crs in the profile (crs: EPSG:25832)",
        )
    fields = [str(field) for field in meta["fields"]]
    geoms = shapely.from_wkb(wkb)
    rows = [
        ({field: column[i] for field, column in zip(fields, columns, strict=True)}, geom)
        for i, geom in enumerate(geoms)
    ]
    return _Table(fields, crs, rows)


MOJIBAKE = re.compile("Ã[\x80-\xbf]")  # UTF-8 bytes read as Latin-1: "SÃ¼d" for "Süd"


def _ogr_records(path: Path, layer: str | None, encoding: str | None) -> tuple:
    """(meta, attribute columns, WKB) of a layer; the DBF's text decoded as declared, else
    as the file says, falling back as the module doc says."""

    def read(enc: str | None) -> tuple:
        meta, _, wkb, columns = pyogrio.raw.read(path, layer=layer, force_2d=True, encoding=enc)
        return meta, columns, wkb

    if encoding is not None:
        try:
            return read(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(
                path, f"the attribute text is not valid {encoding} (the profile's encoding): {exc}"
            ) from exc
    try:
        meta, columns, wkb = read(None)
    except UnicodeDecodeError:
        return read("ISO-8859-1")
    texts = (v for column in columns if column.dtype == object for v in column)
    if any(isinstance(v, str) and MOJIBAKE.search(v) for v in texts):
        try:
            return read("UTF-8")
        except UnicodeDecodeError:
            pass
    return meta, columns, wkb


def _read_wkt_csv(path: Path, layer: str | None, options: ReadOptions) -> _Table:
    """A CSV with one row per area and its boundary as WKT text (see module doc)."""
    if layer is not None:
        raise ConfigError(f"{path}: a CSV file has no layers; remove layer '{layer}'")
    try:
        text = decode_file(path, options.encoding or "utf-8").removeprefix("\ufeff")
    except OSError as exc:
        raise InputError(path, f"cannot read the file: {exc.strerror}") from exc
    first = text.splitlines()[0] if text.strip() else ""
    separator = max(";,\t|", key=first.count)
    lines = list(csv.reader(io.StringIO(text), delimiter=separator))
    if not first or len(lines) < 2:
        raise InputError(path, "expected a header row and one row per area", line=1)
    header = [name.strip() for name in lines[0]]
    column = options.geometry_column or _wkt_column(path, header, lines[1:])
    if column not in header:
        raise InputError(path, f"no column '{column}'; the columns are {', '.join(header)}", line=1)
    at = header.index(column)
    srids, rows = set(), []
    for number, row in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                path, f"{len(row)} fields where the header has {len(header)}", line=number
            )
        srid, geom = _wkt(path, number, column, row[at])
        srids.add(srid)
        properties = {
            h: v.strip() for i, (h, v) in enumerate(zip(header, row, strict=True)) if i != at
        }
        rows.append((properties, geom))
    fields = [h for h in header if h != column]
    srids.discard(None)
    if len(srids) > 1:
        raise InputError(path, f"rows with different SRIDs {sorted(srids)}", column=column)
    found = _parse_crs(path, f"EPSG:{srids.pop()}") if srids else None
    return _Table(fields, _declared_crs(path, found, options.crs, bool(found)), rows)


def _wkt_column(path: Path, header: list[str], rows: list[list[str]]) -> str:
    sample = [row for row in rows if any(c.strip() for c in row)][:5]
    for i, name in enumerate(header):
        if sample and all(i < len(row) and WKT.match(row[i]) for row in sample):
            return name
    raise InputError(
        path,
        f"no column holds WKT polygons (POLYGON ((…)) or MULTIPOLYGON (((…)))); the columns "
        f"are {', '.join(header)} — name it with geometry_column in the profile",
        line=2,
    )


def _wkt(path: Path, number: int, column: str, text: str) -> tuple[str | None, shapely.Geometry]:
    match = WKT.match(text)
    if not match:
        found = text.strip()[:40]
        raise InputError(
            path,
            f"found '{found}', expected WKT text POLYGON ((x y, …)) or MULTIPOLYGON (((…)))",
            line=number,
            column=column,
        )
    try:
        geom = shapely.from_wkt(match[2])
    except shapely.errors.GEOSException as exc:
        raise InputError(path, f"unreadable WKT ({exc})", line=number, column=column) from exc
    return match[1], shapely.force_2d(geom)


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
    path: Path,
    crs: pyproj.CRS | None,
    shapes: list[shapely.Geometry],
    kept: list[tuple[int, str]],
    swap_xy: bool = False,
) -> list[shapely.Geometry]:
    """Transform to lon/lat and check every feature lies within the lon/lat range and
    that latitude and longitude are not swapped."""
    geoms = np.array(shapes, dtype=object)
    if swap_xy:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
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
            "metres, declare the file's CRS (crs: EPSG:25832 in the profile's boundary entry)",
        )
    _check_not_swapped(path, b, crs, swap_xy)
    return list(geoms)


def _check_not_swapped(path: Path, b: np.ndarray, crs: pyproj.CRS | None, swap_xy: bool) -> None:
    """Latitude read as longitude: the whole file lies where Germany would lie with its
    axes swapped, and not in Germany."""
    x0, y0, x1, y1 = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
    lon0, lat0, lon1, lat1 = GERMANY
    in_germany = lon0 <= x0 and x1 <= lon1 and lat0 <= y0 and y1 <= lat1
    swapped = lat0 <= x0 and x1 <= lat1 and lon0 <= y0 and y1 <= lon1
    if swapped and not in_germany:
        read_as = crs.name if crs else WGS84_NOTE
        hint = (
            "remove swap_xy from the profile" if swap_xy
            else "set swap_xy: true in the profile's boundary entry"
        )  # fmt: skip
        raise InputError(
            path,
            f"coordinates x {x0:.6g}..{x1:.6g}, y {y0:.6g}..{y1:.6g} (read as {read_as}) "
            f"look like latitude and longitude swapped: Germany lies at longitude "
            f"{lon0:g}..{lon1:g} and latitude {lat0:g}..{lat1:g}; {hint}",
        )


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


_READERS: dict[str, Callable[[Path, str | None, ReadOptions], _Table]] = {
    ".csv": _read_wkt_csv,
    ".txt": _read_wkt_csv,
    ".geojson": _read_geojson,
    ".json": _read_geojson,
    ".gpkg": _read_ogr,
    ".shp": _read_ogr,
    ".zip": _read_ogr,
}
