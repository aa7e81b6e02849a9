"""Boundary reader: real Berlin/BKG files, GeoPackage/Shapefile round trips, broken input."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely

from etl.errors import ConfigError, InputError
from etl.sources.geometry import for_web, read_features, to_geojson
from tests.conftest import SHARED_DATA

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "geometry"
BERLIN = "berlin-lor/geometry"
KREISE = "geometry-de/bkg_vg5000_2021-01-01_kreise_ars.geojson"
GATE = (13.37770, 52.51628)  # Brandenburg Gate, lon/lat
BERLIN_KM2 = 891.12  # geodesic area of the LOR outline (the official figure is 891.1)
GEOD = pyproj.Geod(ellps="WGS84")


def shared(relative: str) -> Path:
    """A file under the shared data folder; missing -> skip, but fail on CI."""
    path = SHARED_DATA / relative
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing on CI")
        pytest.skip(f"{path} not available")
    return path


def km2(geom: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def write_geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    data: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        data["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def feature(properties: dict, geometry: shapely.Geometry | None = None) -> dict:
    geometry = shapely.box(13.0, 52.0, 13.1, 52.1) if geometry is None else geometry
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": json.loads(shapely.to_geojson(geometry)),
    }


def gate_triangle(crs: str) -> shapely.Polygon:
    """A ~100 m triangle with one corner on the Brandenburg Gate, in ``crs``."""
    to_crs = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = to_crs.transform(*GATE)
    d = 100 if pyproj.CRS(crs).is_projected else 0.001
    return shapely.Polygon([(x, y), (x + d, y), (x, y + d)])


def has_gate_corner(geom: shapely.Geometry) -> bool:
    corners = shapely.get_coordinates(geom)
    return bool(np.abs(corners - np.array(GATE)).max(axis=1).min() < 1e-6)


# --- real files -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count", "first"),
    [
        ("berlin-lor-city.geojson", 1, ("0", "Berlin")),
        ("berlin-lor-districts.geojson", 12, ("12", "Reinickendorf")),
        ("berlin-lor-forecast-areas-from-2021.geojson", 58, ("0930", "Treptow-Köpenick 3")),
        ("berlin-lor-forecast-areas-until-2020.geojson", 60, ("0101", "Zentrum")),
        ("berlin-lor-district-regions-until-2020.geojson", 138, ("010111", "Tiergarten Süd")),
    ],
)
def test_berlin_files_cover_berlin(name, count, first):
    features = read_features(shared(f"{BERLIN}/{name}"), "id", "name")
    assert len(features) == count
    assert (features[0].area_id, features[0].name) == first
    assert [f.number for f in features] == list(range(1, count + 1))
    assert all(
        f.geometry.is_valid and f.geometry.geom_type in ("Polygon", "MultiPolygon") and f.name
        for f in features
    )
    total = sum(km2(f.geometry) for f in features)
    assert total == pytest.approx(BERLIN_KM2, rel=0.01)
    assert shapely.union_all([f.geometry for f in features]).contains(shapely.Point(GATE))


def test_berlin_city_area():
    (city,) = read_features(shared(f"{BERLIN}/berlin-lor-city.geojson"), "id", "name")
    assert km2(city.geometry) == pytest.approx(891, rel=0.01)


def test_berlin_planning_areas_until_2020_have_a_duplicate_id():
    """Feature 124 lies in Charlottenburg (04030417 Schloßstraße in the population files)
    but carries Steglitz's id 06010102; the reader must not pick one silently."""
    path = shared(f"{BERLIN}/berlin-lor-planning-areas-until-2020.geojson")
    with pytest.raises(InputError, match="features 124 and 205 both have the id '06010102'"):
        read_features(path, "id", "name")


def test_rhineland_palatinate_kreise_from_germany_wide_file():
    features = read_features(shared(KREISE), "ARS", name_template="{GEN}, {BEZ}", id_prefix="07")
    names = {f.area_id: f.name for f in features}
    assert len(features) == 36  # 12 kreisfreie Städte + 24 Landkreise
    assert names["07111"] == "Koblenz, Kreisfreie Stadt"
    assert names["07137"] == "Mayen-Koblenz, Landkreis"
    assert names["07335"] == "Kaiserslautern, Landkreis"
    assert names["07312"] == "Kaiserslautern, Kreisfreie Stadt"
    assert all(f.area_id.startswith("07") for f in features)
    total = sum(km2(f.geometry) for f in features)
    assert total == pytest.approx(19_858, rel=0.01)  # Destatis: 19,858 km²
    lon_min, lat_min, lon_max, lat_max = shapely.total_bounds([f.geometry for f in features])
    assert 6.0 < lon_min < lon_max < 8.6 and 48.9 < lat_min < lat_max < 51.0


def test_germany_wide_kreise_without_prefix():
    features = read_features(shared(KREISE), "ARS", name_template="{GEN}, {BEZ}")
    assert len(features) == 401
    assert sum(km2(f.geometry) for f in features) == pytest.approx(357_588, rel=0.01)


# --- hand-made GeoJSON --------------------------------------------------------------------


def test_squares_known_answers():
    nord, sued, insel = read_features(FIXTURES / "squares.geojson", "code", "name")
    assert [(f.area_id, f.name, f.number) for f in (nord, sued, insel)] == [
        ("1101", "Nord", 1),
        ("1102", "Süd", 2),
        ("1103", None, 3),
    ]
    assert len(nord.geometry.interiors) == 1
    assert nord.geometry.area == pytest.approx(0.01 - 0.0004)
    assert sued.geometry.is_valid and sued.geometry.geom_type == "MultiPolygon"
    assert sued.geometry.area == pytest.approx(0.005)  # the bow-tie's two triangles
    assert insel.geometry.geom_type == "MultiPolygon"


def test_name_template_and_prefix():
    features = read_features(
        FIXTURES / "squares.geojson", "code", name_template="{name} ({kind})", id_prefix="110"
    )
    assert [f.name for f in features] == ["Nord (Ortsteil)", "Süd (Ortsteil)", "(Insel)"]
    only = read_features(FIXTURES / "squares.geojson", "code", id_prefix="1103")
    assert [(f.area_id, f.number) for f in only] == [("1103", 3)]


def test_geojson_crs_member_is_honoured(tmp_path):
    path = write_geojson(
        tmp_path / "utm.geojson",
        [feature({"id": "A"}, gate_triangle("EPSG:25833"))],
        crs="urn:ogc:def:crs:EPSG::25833",
    )
    (gate,) = read_features(path, "id")
    assert has_gate_corner(gate.geometry)


@pytest.mark.parametrize(
    "crs", ["urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"]
)
def test_geojson_wgs84_crs_names_are_lon_lat(tmp_path, crs):
    path = write_geojson(
        tmp_path / "wgs.geojson", [feature({"id": "A"}, gate_triangle("EPSG:4326"))], crs=crs
    )
    (gate,) = read_features(path, "id")
    assert has_gate_corner(gate.geometry)


# --- GeoPackage and Shapefile -------------------------------------------------------------


def write_ogr(path: Path, crs: str | None, layer: str | None = None) -> Path:
    """Two features: 'A' (the gate triangle) and 7 (an int code), names 'Tor' and 'B'."""
    geoms = [gate_triangle(crs or "EPSG:4326"), shapely.box(0, 0, 1, 1)]
    driver = "GPKG" if path.suffix == ".gpkg" else "ESRI Shapefile"
    pyogrio.raw.write(
        path,
        np.array(shapely.to_wkb(geoms), dtype=object),
        [
            np.array(["A", "7"], dtype=object),
            np.array(["Tor", "B"], dtype=object),
            np.array([1.0, 7.0]),
        ],
        ["code", "name", "num"],
        geometry_type="Polygon",
        crs=crs,
        layer=layer,
        driver=driver,
    )
    return path


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
@pytest.mark.parametrize("crs", ["EPSG:25833", "EPSG:4326"])
def test_ogr_round_trip(tmp_path, suffix, crs):
    path = write_ogr(tmp_path / f"areas{suffix}", crs)
    gate, other = read_features(path, "code", "name")
    assert (gate.area_id, gate.name, other.area_id, other.number) == ("A", "Tor", "7", 2)
    assert has_gate_corner(gate.geometry)
    assert [f.area_id for f in read_features(path, "num")] == ["1", "7"]  # whole floats


def test_zipped_shapefile(tmp_path):
    write_ogr(tmp_path / "areas.shp", "EPSG:25833")
    archive = tmp_path / "areas.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("areas.*"):
            if part != archive:
                z.write(part, part.name)
    gate, _ = read_features(archive, "code")
    assert has_gate_corner(gate.geometry)


@pytest.mark.parametrize("suffix", [".gpkg", ".shp"])
def test_ogr_without_crs_is_rejected(tmp_path, suffix):
    with pytest.warns(UserWarning, match="crs"):
        path = write_ogr(tmp_path / f"areas{suffix}", None)
    with pytest.raises(InputError, match="no CRS; a CRS is required"):
        read_features(path, "code")


def test_geopackage_layers(tmp_path):
    path = write_ogr(tmp_path / "areas.gpkg", "EPSG:25833", layer="kreise")
    write_ogr(path, "EPSG:4326", layer="gemeinden")
    with pytest.raises(InputError, match=r"2 layers with geometry \(kreise, gemeinden\)"):
        read_features(path, "code")
    with pytest.raises(InputError, match="no layer 'laender'; layers are kreise, gemeinden"):
        read_features(path, "code", layer="laender")
    gate, _ = read_features(path, "code", layer="gemeinden")
    assert has_gate_corner(gate.geometry)


# --- broken input ---------------------------------------------------------------------------

POINT = shapely.Point(13.0, 52.0)
METRES = shapely.box(390_000, 5_818_000, 391_000, 5_819_000)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([feature({"code": "A"})], r"no property 'id' in the file; its properties are code"),
        ([feature({"id": "A"}), feature({"code": "B"})], "feature 2: property 'id' is missing"),
        ([feature({"id": "A"}), feature({"id": " "})], "feature 2: property 'id' is empty"),
        ([feature({"id": None})], "feature 1: property 'id' is empty"),
        (
            [feature({"id": "A"}), feature({"id": "B"}), feature({"id": "A"})],
            "features 1 and 3 both have the id 'A'",
        ),
        ([feature({"id": 1}), feature({"id": 1.0})], "features 1 and 2 both have the id '1'"),
        (
            [feature({"id": "A"}), feature({"id": "P"}, POINT)],
            r"feature 2 \('P'\) is a Point; expected a Polygon or MultiPolygon",
        ),
        ([feature({"id": "E"}, shapely.Polygon())], r"feature 1 \('E'\) has no geometry"),
        (
            [{"type": "Feature", "properties": {"id": "N"}, "geometry": None}],
            r"feature 1 \('N'\) has no geometry",
        ),
        (
            [feature({"id": "L"}, shapely.Polygon([(0, 0), (1, 1), (2, 2)]))],
            r"feature 1 \('L'\): invalid geometry .* no area left after repair",
        ),
        (
            [feature({"id": "M"}, METRES)],
            r"feature 1 \('M'\): coordinates x 390000..391000, y 5.818e\+06..5.819e\+06 are not "
            r"lon/lat when read as WGS84 .* declare the file's CRS",
        ),
        ([], "no features; expected at least one area boundary"),
        (["nope"], "feature 1 is not a GeoJSON Feature"),
    ],
)
def test_broken_geojson(tmp_path, features, message):
    path = write_geojson(tmp_path / "broken.geojson", features)
    with pytest.raises(InputError, match=message) as caught:
        read_features(path, "id")
    assert str(path) in str(caught.value)


def test_not_json():
    with pytest.raises(InputError, match=r"line 4: not valid JSON .* expected a GeoJSON"):
        read_features(FIXTURES / "not-json.geojson", "code")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"type": "Feature", "properties": {}, "geometry": null}',
            "expected a GeoJSON FeatureCollection",
        ),
        (
            '{"type": "FeatureCollection", "crs": {"type": "link"}, "features": []}',
            "unsupported 'crs' member",
        ),
        (
            '{"type": "FeatureCollection",'
            ' "crs": {"type": "name", "properties": {"name": "EPSG:0"}},'
            ' "features": []}',
            "unknown CRS 'EPSG:0'",
        ),
    ],
)
def test_broken_geojson_document(tmp_path, text, message):
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_features(path, "id")


def test_metres_in_a_declared_crs_that_is_wrong(tmp_path):
    path = write_geojson(
        tmp_path / "wrong.geojson", [feature({"id": "A"}, METRES)], crs="EPSG:4326"
    )
    with pytest.raises(InputError, match=r"not lon/lat when read as WGS84"):
        read_features(path, "id")


def test_bad_arguments_and_files(tmp_path):
    squares = FIXTURES / "squares.geojson"
    with pytest.raises(InputError, match=r"no property 'BEZ' .* code, name, kind"):
        read_features(squares, "code", name_template="{name}, {BEZ}")
    with pytest.raises(InputError, match="no id starts with '09'; ids look like 1101, 1102"):
        read_features(squares, "code", id_prefix="09")
    with pytest.raises(ConfigError, match="either name_property or name_template"):
        read_features(squares, "code", "name", "{name}")
    with pytest.raises(ConfigError, match="has no layers"):
        read_features(squares, "code", layer="x")
    with pytest.raises(InputError, match=r"unsupported file type '\.xml'; expected one of"):
        read_features(tmp_path / "areas.xml", "code")
    with pytest.raises(InputError, match="cannot read the file"):
        read_features(tmp_path / "missing.csv", "code")
    (tmp_path / "bad.gpkg").write_text("not a geopackage")
    with pytest.raises(InputError, match="cannot open as GeoPackage or Shapefile"):
        read_features(tmp_path / "bad.gpkg", "code")
    with pytest.raises(InputError, match="cannot read the file"):
        read_features(tmp_path / "missing.geojson", "code")


# --- web output ---------------------------------------------------------------------------


def test_for_web_orients_rings_clockwise():
    nord, sued, insel = read_features(FIXTURES / "squares.geojson", "code")
    for area in (nord, sued, insel):
        web = for_web(area.geometry, 0.001)
        for polygon in shapely.get_parts(web):
            assert not shapely.is_ccw(polygon.exterior)
            assert all(shapely.is_ccw(hole) for hole in polygon.interiors)
    assert len(for_web(nord.geometry, 0).interiors) == 1


def test_for_web_on_berlin_districts():
    districts = read_features(shared(f"{BERLIN}/berlin-lor-districts.geojson"), "id")
    assert all(
        shapely.is_ccw(p.exterior) for f in districts for p in shapely.get_parts(f.geometry)
    )  # the file has RFC 7946 rings
    for district in districts:
        web = for_web(district.geometry, 0.0005)
        assert web.is_valid
        assert not any(shapely.is_ccw(p.exterior) for p in shapely.get_parts(web))
        assert km2(web) == pytest.approx(km2(district.geometry), rel=0.02)


def test_to_geojson_round_trip():
    (nord, *_) = read_features(FIXTURES / "squares.geojson", "code")
    text = to_geojson(for_web(nord.geometry, 0))
    assert json.loads(text)["type"] == "Polygon"
    assert shapely.from_geojson(text).equals(nord.geometry)
