"""Boundary files in the further shapes offices deliver: WKT text in a CSV (EPSG:25832),
shapefiles with a Latin-1 DBF, GeoJSON with latitude and longitude swapped
(tests/fixtures/geometry/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyogrio.raw
import pytest
import shapely

from etl.errors import InputError
from etl.sources.geometry import ReadOptions, read_features

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "geometry"
UTM32 = ReadOptions(crs="EPSG:25832")


def test_wkt_csv_in_utm32_is_reprojected():
    sued, nord = read_features(FIXTURES / "bezirke_wkt.csv", "Bezirk", "Bezirksname", options=UTM32)
    assert (sued.area_id, sued.name, nord.area_id, nord.name) == (
        "01",
        "Südstadt",
        "02",
        "Nordstadt",
    )
    # the western edge lies on x 500000, the zone's central meridian (9° E)
    west = sorted((lat, lon) for lon, lat in sued.geometry.exterior.coords if abs(lon - 9) < 1e-9)
    (south, _), (north, _) = west[0], west[-1]
    assert south == pytest.approx(50.0, abs=1e-7)
    # 1000 m of grid northing on the central meridian are 1000 / 0.9996 m on the ground;
    # a degree of latitude at 50° N is 111227.6 m (GRS80 meridional radius 6372907 m)
    assert north - south == pytest.approx(1000 / 0.9996 / 111_227.6, rel=1e-4)
    assert sued.geometry.touches(nord.geometry)  # the shared edge x 501000 stays shared


def test_wkt_csv_in_metres_without_a_crs_asks_for_one():
    with pytest.raises(InputError, match=r"crs: EPSG:25832 in the profile"):
        read_features(FIXTURES / "bezirke_wkt.csv", "Bezirk", "Bezirksname")


def test_ewkt_srid_declares_the_crs(tmp_path):
    path = tmp_path / "bezirke.csv"
    text = (FIXTURES / "bezirke_wkt.csv").read_text(encoding="utf-8")
    path.write_text(text.replace('"POLYGON', '"SRID=25832;POLYGON'), encoding="utf-8")
    sued, _ = read_features(path, "Bezirk", "Bezirksname")
    assert sued.geometry.bounds[:2] == pytest.approx((9.0, 50.0), abs=1e-6)
    with pytest.raises(InputError, match="the file declares the CRS"):
        read_features(path, "Bezirk", options=ReadOptions(crs="EPSG:31467"))


def test_broken_wkt_names_line_and_column(tmp_path):
    path = tmp_path / "bezirke.csv"
    text = (FIXTURES / "bezirke_wkt.csv").read_text(encoding="utf-8")
    path.write_text(text.replace('"POLYGON ((501000', '"POLYGN ((501000'), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_features(
            path, "Bezirk", options=ReadOptions(crs="EPSG:25832", geometry_column="Geometrie")
        )
    assert "bezirke.csv, line 3, column 'Geometrie': found 'POLYGN ((501000" in str(caught.value)


def test_csv_without_a_wkt_column(tmp_path):
    path = tmp_path / "bezirke.csv"
    path.write_text("Bezirk;Name\n01;Süd\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column holds WKT polygons.*geometry_column"):
        read_features(path, "Bezirk")


def write_shapefile(folder: Path, encoding: str, cpg: str | None) -> Path:
    """Two squares with names in ``encoding``; the .cpg says ``cpg`` (None: no .cpg)."""
    path = folder / "bezirke.shp"
    geoms = shapely.to_wkb(
        np.array([shapely.box(8, 50, 8.01, 50.01), shapely.box(8.01, 50, 8.02, 50.01)])
    )
    names = np.array(["Südstadt", "Groß Grünau"], dtype=object)
    codes = np.array(["01", "02"], dtype=object)
    pyogrio.raw.write(
        path, geometry=geoms, field_data=[codes, names], fields=["nr", "name"],
        crs="EPSG:4326", geometry_type="Polygon", encoding=encoding,
    )  # fmt: skip
    cpg_file = path.with_suffix(".cpg")
    cpg_file.unlink(missing_ok=True)
    if cpg is not None:
        cpg_file.write_text(cpg, encoding="ascii")
    return path


@pytest.mark.parametrize(
    ("encoding", "cpg", "declared"),
    [
        ("ISO-8859-1", None, None),  # no .cpg: GDAL reads ISO-8859-1
        ("ISO-8859-1", "UTF-8", None),  # a wrong .cpg: not UTF-8, read as Latin-1
        ("UTF-8", None, None),  # UTF-8 without .cpg: "SÃ¼dstadt" detected
        ("ISO-8859-1", "UTF-8", "ISO-8859-1"),  # declared in the profile
    ],
)
def test_shapefile_dbf_encodings(tmp_path, encoding, cpg, declared):
    path = write_shapefile(tmp_path, encoding, cpg)
    features = read_features(path, "nr", "name", options=ReadOptions(encoding=declared))
    assert [f.name for f in features] == ["Südstadt", "Groß Grünau"]


def test_declared_encoding_that_does_not_fit_is_an_error(tmp_path):
    path = write_shapefile(tmp_path, "ISO-8859-1", None)
    with pytest.raises(InputError, match="not valid UTF-8 .the profile's encoding"):
        read_features(path, "nr", "name", options=ReadOptions(encoding="UTF-8"))


def swapped_geojson(tmp_path: Path) -> Path:
    """Two squares around 8° E 50° N written [lat, lon]."""
    features = [
        {
            "type": "Feature",
            "properties": {"nr": code},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[50.0, x], [50.01, x], [50.01, x + 0.01], [50.0, x + 0.01], [50.0, x]]
                ],
            },
        }
        for code, x in (("01", 8.0), ("02", 8.01))
    ]
    path = tmp_path / "vertauscht.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_swapped_latitude_and_longitude_is_detected(tmp_path):
    with pytest.raises(InputError) as caught:
        read_features(swapped_geojson(tmp_path), "nr")
    message = str(caught.value)
    assert "x 50..50.01, y 8..8.02" in message
    assert "latitude and longitude swapped" in message and "swap_xy: true" in message


def test_swap_xy_reads_them_the_right_way(tmp_path):
    first, second = read_features(
        swapped_geojson(tmp_path), "nr", options=ReadOptions(swap_xy=True)
    )
    assert first.geometry.bounds == pytest.approx((8.0, 50.0, 8.01, 50.01))
    assert second.geometry.bounds == pytest.approx((8.01, 50.0, 8.02, 50.01))
