"""The locator map of the area page: a small static SVG (no Plotly), the area highlighted
among the areas of its level, the other areas of its parent shaded, the parent outlined.

Pure: areas with GeoJSON in, SVG text out (the page shows it as an image with an alt
text). Longitude is scaled by the cosine of the mean latitude (equirectangular, fine at
city scale); shapes are simplified to a fraction of a pixel.
"""

from __future__ import annotations

import base64
import math

import numpy as np
import pandas as pd
import shapely

from dashboards.figures.common import OKABE_ITO, TEXT_COLOR

WIDTH = 320  # px of the drawing (the image scales with its box)
PAD = 4
OTHER_FILL, SIBLING_FILL, EDGE = "#e4e7eb", "#b7c4d1", "#ffffff"
AREA_FILL = OKABE_ITO[0]


def _path(geometry) -> str:
    """SVG path data of a (multi)polygon, rings closed (even-odd fill keeps holes)."""
    parts = []
    for polygon in shapely.get_parts(geometry):
        if polygon.is_empty or polygon.geom_type != "Polygon":
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            xy = shapely.get_coordinates(ring)
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
            parts.append(f"M{points}Z")
    return "".join(parts)


def locator_svg(
    shapes: pd.DataFrame, highlight: str, siblings: frozenset[str] = frozenset()
) -> str | None:
    """SVG of ``shapes`` (``area_id``, ``geojson``) with ``highlight`` filled dark and
    ``siblings`` (the other areas of its parent) shaded and outlined together; None if
    there are no shapes or the highlighted area is not among them."""
    if shapes.empty or highlight not in set(shapes["area_id"]):
        return None
    geometries = shapely.from_geojson(shapes["geojson"].tolist())
    lon0, lat0, lon1, lat1 = shapely.total_bounds(geometries)
    kx = math.cos(math.radians((lat0 + lat1) / 2))
    span_x, span_y = (lon1 - lon0) * kx or 1e-9, (lat1 - lat0) or 1e-9
    scale = (WIDTH - 2 * PAD) / span_x
    height = round(span_y * scale + 2 * PAD)

    def project(xy: np.ndarray) -> np.ndarray:  # pixels, y downwards
        return np.column_stack(
            ((xy[:, 0] - lon0) * kx * scale + PAD, (lat1 - xy[:, 1]) * scale + PAD)
        )

    projected = shapely.simplify(shapely.transform(geometries, project), 0.3)
    fills = [
        AREA_FILL if a == highlight else SIBLING_FILL if a in siblings else OTHER_FILL
        for a in shapes["area_id"]
    ]
    paths = [
        f'<path d="{_path(g)}" fill="{fill}" stroke="{EDGE}" stroke-width="0.6"/>'
        for g, fill in zip(projected, fills, strict=True)
    ]
    parent = siblings | {highlight}
    group = [g for a, g in zip(shapes["area_id"], projected, strict=True) if a in parent]
    if siblings:
        outline = shapely.union_all(group)
        paths.append(
            f'<path d="{_path(outline)}" fill="none" stroke="{TEXT_COLOR}" stroke-width="1.4"/>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" fill-rule="evenodd">{"".join(paths)}</svg>'
    )


def data_uri(svg: str) -> str:
    """The SVG as a ``data:`` URI for an ``<img>`` (allowed by the page's CSP)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
