"""Plane geometry of the generated city: a convex boundary tiled level by level with clipped Voronoi cells.

Why this shape: a Voronoi cell intersected with a convex parent is convex, so starting from a convex city
boundary every district, community and cell is a single convex polygon, the children of one parent tile
it (no gaps, no overlaps) and each child lies inside its parent, exactly up to the rounding of vertices
to 6 decimals (~0.1 m). A couple of Lloyd iterations make
the cells look like hand-drawn grid cells instead of slivers. Work is in lon/lat degrees; at 26.6 N one
degree of longitude is 0.89 of a degree of latitude, which is fine for drawing but not for distances,
so distances go through ``metres_to_deg``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Point, Polygon

DIGITS = 6  # ~0.1 m: plenty for a map, and keeps the bundle small
M_PER_DEG_LAT = 111_320.0


def metres_to_deg(lat: float, north_m: float, east_m: float) -> tuple[float, float]:
    """(dlat, dlon) for a displacement in metres at latitude ``lat``."""
    return north_m / M_PER_DEG_LAT, east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))


def city_boundary(rng: np.random.Generator, lat: float, lon: float, radius_m: float) -> Polygon:
    """A convex, slightly irregular outline about ``radius_m`` from (lat, lon), a little wider east-west."""
    angles = np.sort(rng.uniform(0, 2 * math.pi, 18))
    radii = radius_m * rng.uniform(0.8, 1.15, angles.size) * np.where(np.cos(angles) ** 2 > 0.5, 1.1, 0.9)
    dlat, dlon = metres_to_deg(lat, 1.0, 1.0)
    xs = lon + np.cos(angles) * radii * dlon
    ys = lat + np.sin(angles) * radii * dlat
    return round_polygon(MultiPoint(np.column_stack([xs, ys])).convex_hull)


def round_polygon(poly: Polygon) -> Polygon:
    """Snap vertices to DIGITS decimals and drop the repeated vertices that rounding may create."""
    ring = [(round(x, DIGITS), round(y, DIGITS)) for x, y in poly.exterior.coords]
    out = [ring[0]]
    for pt in ring[1:]:
        if pt != out[-1]:
            out.append(pt)
    return Polygon(out)


def sample_points(rng: np.random.Generator, area: Polygon, n: int) -> np.ndarray:
    """``n`` uniform points inside ``area`` (rejection sampling in its bounding box, vectorised)."""
    minx, miny, maxx, maxy = area.bounds
    shapely.prepare(area)
    got: list[np.ndarray] = []
    have = 0
    while have < n:
        k = max(16, 2 * (n - have))
        xs = rng.uniform(minx, maxx, k)
        ys = rng.uniform(miny, maxy, k)
        keep = shapely.contains_xy(area, xs, ys)
        pts = np.column_stack([xs[keep], ys[keep]])
        got.append(pts)
        have += len(pts)
    return np.concatenate(got)[:n]


def voronoi_split(parent: Polygon, seeds: np.ndarray, relax: int = 2) -> list[Polygon]:
    """Tile a convex ``parent`` into len(seeds) convex polygons after ``relax`` Lloyd steps."""
    if len(seeds) == 1:
        return [parent]
    pts = np.asarray(seeds, dtype=float)
    for step in range(relax + 1):
        cells = shapely.voronoi_polygons(MultiPoint(pts), extend_to=parent, ordered=True)
        parts = [shapely.intersection(c, parent) for c in shapely.get_parts(cells)]
        if step == relax:
            break
        pts = np.array([[p.centroid.x, p.centroid.y] for p in parts])
    return [_largest(p) for p in parts]


def _largest(geom) -> Polygon:
    """Intersections of convex sets are convex; this only guards against degenerate GEOS output."""
    if isinstance(geom, Polygon):
        return geom
    polys = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
    return max(polys, key=lambda g: g.area)


def allocate(weights: list[float], total: int, minimum: int = 1) -> list[int]:
    """Split ``total`` into integer shares proportional to ``weights`` (largest remainder), all >= minimum."""
    n = len(weights)
    if total < n * minimum:
        raise ValueError(f"cannot give {n} parents at least {minimum} of {total}")
    spare = total - n * minimum
    wsum = sum(weights) or 1.0
    exact = [spare * w / wsum for w in weights]
    shares = [int(e) for e in exact]
    order = sorted(range(n), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in order[: spare - sum(shares)]:
        shares[i] += 1
    return [s + minimum for s in shares]


def point_in(rng: np.random.Generator, area: Polygon) -> tuple[float, float]:
    """One uniform point inside ``area`` as (lon, lat) rounded to DIGITS."""
    x, y = sample_points(rng, area, 1)[0]
    return round(float(x), DIGITS), round(float(y), DIGITS)


def point_near(rng: np.random.Generator, area: Polygon, lat: float, lon: float,
               within_m: float) -> tuple[float, float]:
    """A point inside ``area`` within ``within_m`` of (lat, lon) if possible, else anywhere inside."""
    for _ in range(20):
        r = within_m * math.sqrt(rng.random())
        a = rng.uniform(0, 2 * math.pi)
        dlat, dlon = metres_to_deg(lat, r * math.sin(a), r * math.cos(a))
        if area.contains(Point(lon + dlon, lat + dlat)):
            return round(lon + dlon, DIGITS), round(lat + dlat, DIGITS)
    return point_in(rng, area)


def geojson(poly: Polygon) -> dict:
    """GeoJSON Polygon (lon, lat), outer ring counter-clockwise as RFC 7946 asks."""
    poly = shapely.orient_polygons(poly)
    return {"type": "Polygon", "coordinates": [[[x, y] for x, y in poly.exterior.coords]]}
