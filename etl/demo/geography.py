"""Invented geometry of Musterstadt: an irregular city outline cut by a river, tiled into
districts (clipped Voronoi cells of seeded points, relaxed by Lloyd steps) that form
contiguous boroughs.

Geometry is built in a local kilometre grid around the centre and converted to WGS84 at
the end (equirectangular approximation, adequate for a city of ~10 km).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from etl.demo.config import DemoConfig

KM_PER_DEGREE_LAT = 111.2
INNER, NORTH, WEST, SOUTH, EAST = "1", "2", "3", "4", "5"


@dataclass(frozen=True)
class Geography:
    """District geometries (WGS84, rows aligned with ``stadtteile.csv``) and the river."""

    districts: list[BaseGeometry]
    river: BaseGeometry


def _outline(rng: np.random.Generator, p: dict) -> Polygon:
    theta = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    phases = rng.uniform(0, 2 * np.pi, len(p["radius_wellen"]))
    wobble = sum(
        a * np.sin((k + 2) * theta + ph)
        for k, (a, ph) in enumerate(zip(p["radius_wellen"], phases, strict=True))
    )
    r = p["radius_km"] * (1 + wobble + rng.uniform(-0.006, 0.006, len(theta)))
    ring = Polygon(np.column_stack([r * np.cos(theta), r * np.sin(theta)]))
    half_x, half_y = p["max_halbachse_km"]
    return shapely.box(-half_x, -half_y, half_x, half_y).intersection(ring)


def _river(rng: np.random.Generator, p: dict) -> Polygon:
    y = np.linspace(-9, 9, 361)
    phase = rng.uniform(0, 2 * np.pi, 2)
    big, small = p["fluss_maeander_km"]
    x = p["fluss_achse_km"] + big * np.sin(y / 1.7 + phase[0]) + small * np.sin(y / 0.6 + phase[1])
    line = shapely.LineString(np.column_stack([x, y]))
    return line.buffer(p["fluss_breite_km"] / 2, cap_style="flat")


def _banks(outline: Polygon, river: Polygon) -> tuple[Polygon, Polygon] | None:
    """West and east land of the city, or None if the river leaves other pieces."""
    land = outline.difference(river)
    pieces = list(getattr(land, "geoms", [land]))
    if len(pieces) != 2:
        return None
    west, east = sorted(pieces, key=lambda g: g.centroid.x)
    return west, east


def _sector(lo_deg: float, hi_deg: float) -> Polygon:
    angles = np.radians(np.linspace(lo_deg, hi_deg, 32))
    ring = np.column_stack([30 * np.cos(angles), 30 * np.sin(angles)])
    return Polygon(np.vstack([[0.0, 0.0], ring]))


def borough_regions(west: Polygon, east: Polygon, p: dict) -> dict[str, BaseGeometry]:
    """Area in which the district seeds of each borough are placed."""
    inner = Point(0, 0).buffer(p["innenstadt_radius_km"])
    north, south = _sector(*p["nord_winkel"]), _sector(*p["sued_winkel"])
    outer = west.difference(inner)
    return {
        INNER: west.intersection(inner),
        NORTH: outer.intersection(north),
        SOUTH: outer.intersection(south),
        WEST: outer.difference(north).difference(south),
        EAST: east,
    }


def _seed_points(rng: np.random.Generator, region: BaseGeometry, k: int) -> np.ndarray:
    """``k`` well-spread random points inside ``region`` (dart throwing)."""
    core = region.buffer(-0.15)
    core = core if not core.is_empty else region
    min_dist = 0.7 * np.sqrt(core.area / k)
    xmin, ymin, xmax, ymax = core.bounds
    points: list[np.ndarray] = []
    while len(points) < k:
        cand = rng.uniform([xmin, ymin], [xmax, ymax], size=(256, 2))
        for xy in cand[shapely.contains_xy(core, cand[:, 0], cand[:, 1])]:
            if all(np.hypot(*(xy - q)) >= min_dist for q in points):
                points.append(xy)
                if len(points) == k:
                    break
        min_dist *= 0.95
    return np.array(points)


def _cells(points: np.ndarray, piece: BaseGeometry) -> list[BaseGeometry]:
    """Voronoi cells of ``points`` clipped to ``piece`` (in input order)."""
    frame = piece.envelope.buffer(20)
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=frame, ordered=True)
    return [cell.intersection(piece) for cell in cells.geoms]


def _lloyd(points: np.ndarray, piece: BaseGeometry, steps: int) -> list[BaseGeometry]:
    """Move points to their cells' centroids ``steps`` times; return the final cells."""
    cells = _cells(points, piece)
    for _ in range(steps):
        points = np.array([[c.centroid.x, c.centroid.y] for c in cells])
        cells = _cells(points, piece)
    return cells


def _absorb_fragments(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """Give detached parts of a cell to the neighbour sharing the longest border."""
    cells = list(cells)
    for i, cell in enumerate(cells):
        parts = sorted(getattr(cell, "geoms", [cell]), key=lambda g: -g.area)
        if len(parts) == 1:
            continue
        cells[i] = parts[0]
        for part in parts[1:]:
            border = [
                part.boundary.intersection(other).length if j != i else -1.0
                for j, other in enumerate(cells)
            ]
            j = int(np.argmax(border))
            cells[j] = shapely.union(cells[j], part)
    return cells


def _bank_seeds(rng, regions: dict, boroughs: np.ndarray, members: tuple[str, ...]):
    """District rows and seed points of the boroughs on one river bank.

    Within a borough, districts listed first get the seeds closest to the centre.
    """
    rows, points = [], []
    for borough in members:
        index = np.flatnonzero(boroughs == borough)
        seeds = _seed_points(rng, regions[borough], len(index))
        rows.extend(index)
        points.append(seeds[np.argsort(np.hypot(seeds[:, 0], seeds[:, 1]), kind="stable")])
    return np.array(rows), np.vstack(points)


def _acceptable(cells: np.ndarray, boroughs: np.ndarray) -> bool:
    """Every district a sizeable polygon, every borough one contiguous area."""
    if any(c.geom_type != "Polygon" or c.area < 0.3 for c in cells):
        return False
    return all(
        shapely.union_all(list(cells[boroughs == b])).geom_type == "Polygon"
        for b in np.unique(boroughs)
    )


def _layout(rng: np.random.Generator, cfg: DemoConfig):
    """One attempt at districts and river in km coordinates (None if unacceptable)."""
    p = cfg.params["geografie"]
    outline, river = _outline(rng, p), _river(rng, p)
    banks = _banks(outline, river)
    if banks is None:
        return None
    regions = borough_regions(*banks, p)
    boroughs = cfg.districts["stadtbezirk"].to_numpy()
    cells = np.empty(len(boroughs), dtype=object)
    for piece, members in zip(banks, ((INNER, NORTH, WEST, SOUTH), (EAST,)), strict=True):
        rows, points = _bank_seeds(rng, regions, boroughs, members)
        cells[rows] = _absorb_fragments(_lloyd(points, piece, p["lloyd_schritte"]))
    if not _acceptable(cells, boroughs):
        return None
    half_x, half_y = p["max_halbachse_km"]
    frame = shapely.box(-half_x - 0.1, -half_y - 0.1, half_x + 0.1, half_y + 0.1)
    return list(cells), river.intersection(outline.envelope.buffer(0.6)).intersection(frame)


def to_wgs84(geom: BaseGeometry, p: dict) -> BaseGeometry:
    """Kilometre grid -> lon/lat, snapped to 6 decimals, exterior rings counter-clockwise."""
    lat0 = p["zentrum_lat"]
    scale = np.array([KM_PER_DEGREE_LAT * np.cos(np.radians(lat0)), KM_PER_DEGREE_LAT])
    centre = np.array([p["zentrum_lon"], lat0])
    lonlat = shapely.transform(geom, lambda xy: xy / scale + centre)
    return shapely.orient_polygons(shapely.set_precision(lonlat, 1e-6))


def build_geography(cfg: DemoConfig, seed: int) -> Geography:
    """Build Musterstadt's districts and river for ``seed`` (deterministic)."""
    p = cfg.params["geografie"]
    rng = np.random.default_rng([seed, 0])
    for _ in range(p["versuche"]):
        layout = _layout(rng, cfg)
        if layout is not None:
            cells, river = layout
            return Geography([to_wgs84(c, p) for c in cells], to_wgs84(river, p))
    raise RuntimeError(f"no acceptable district layout in {p['versuche']} attempts (seed {seed})")
