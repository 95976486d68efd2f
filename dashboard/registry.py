"""The part of the city registry the screens draw, read once at start and kept in memory.

Pure shaping of registry rows into an immutable ``CityView`` (no I/O here): the read, and the reload after
``onescreen city import``, are ``dashboard.readers.snapshot``. A missing schema or an unreachable database
gives an empty view carrying the error, so the wall still renders and says what to do instead of failing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from onescreen.db.models import Camera, GridNode

log = logging.getLogger(__name__)

Bounds = list[list[float]]  # [[south, west], [north, east]], Leaflet's order


@dataclass(frozen=True)
class NodeInfo:
    """A grid node without its geometry, for breadcrumbs and look-ups."""

    id: str
    level: str
    parent_id: str | None
    name: str


@dataclass(frozen=True)
class CameraTile:
    """A streamed camera as the camera wall shows it."""

    id: str
    name: str
    cell_id: str


@dataclass(frozen=True)
class CityView:
    """Immutable snapshot of the grid tree and cameras, shaped for Leaflet GeoJSON layers."""

    name: str
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    districts: dict[str, Any] = field(default_factory=lambda: feature_collection([]))
    communities: dict[str, Any] = field(default_factory=lambda: feature_collection([]))
    cells_by_community: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    node_bounds: dict[str, Bounds] = field(default_factory=dict)
    bounds: Bounds | None = None
    cameras_total: int = 0
    streamed: tuple[CameraTile, ...] = ()
    error: str | None = None

    @property
    def empty(self) -> bool:
        """True when there is nothing to draw (no districts and no communities)."""
        return not self.districts["features"] and not self.communities["features"]

    def count(self, level: str) -> int:
        return sum(1 for n in self.nodes.values() if n.level == level)

    def cells_of(self, community_id: str) -> dict[str, Any]:
        """The level-4 cells of one community as a FeatureCollection (empty if unknown)."""
        return feature_collection(self.cells_by_community.get(community_id, []))

    def path(self, node_id: str | None) -> list[NodeInfo]:
        """Ancestors of a node, root first, ending with the node itself (empty for None/unknown)."""
        chain: list[NodeInfo] = []
        seen: set[str] = set()
        while node_id and node_id in self.nodes and node_id not in seen:
            seen.add(node_id)
            chain.append(self.nodes[node_id])
            node_id = self.nodes[node_id].parent_id
        return chain[::-1]


def feature_collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def _coords(geometry: dict[str, Any]) -> Iterable[tuple[float, float]]:
    """Every (lon, lat) position of a GeoJSON geometry, whatever its nesting."""
    stack: list[Any] = [geometry.get("coordinates", [])]
    if geometry.get("type") == "GeometryCollection":
        stack = [g.get("coordinates", []) for g in geometry.get("geometries", [])]
    while stack:
        item = stack.pop()
        if item and isinstance(item[0], (int, float)):
            yield float(item[0]), float(item[1])
        else:
            stack.extend(item)


def geometry_bounds(geometries: Iterable[dict[str, Any]]) -> Bounds | None:
    """Leaflet bounds ``[[south, west], [north, east]]`` of GeoJSON geometries; None if they are empty."""
    lons: list[float] = []
    lats: list[float] = []
    for geometry in geometries:
        for lon, lat in _coords(geometry or {}):
            lons.append(lon)
            lats.append(lat)
    if not lons:
        return None
    return [[min(lats), min(lons)], [max(lats), max(lons)]]


def _feature(node: GridNode) -> dict[str, Any]:
    props = {"id": node.id, "name": node.name, "level": node.level, "parent_id": node.parent_id,
             "tooltip": node.name}
    return {"type": "Feature", "id": node.id, "geometry": node.geometry, "properties": props}


def _collection(nodes: list[GridNode]) -> dict[str, Any]:
    return feature_collection([_feature(n) for n in sorted(nodes, key=lambda n: n.id)])


def build_view(city_name: str, nodes: list[GridNode], cameras: list[Camera]) -> CityView:
    """Shape registry rows into a CityView (pure: no I/O, so it is tested directly)."""
    by_level: dict[str, list[GridNode]] = defaultdict(list)
    for node in nodes:
        by_level[node.level].append(node)
    cells: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cell in sorted(by_level["cell"], key=lambda n: n.id):
        if cell.parent_id:
            cells[cell.parent_id].append(_feature(cell))
    drawn = by_level["district"] + by_level["community"] or by_level["city"]
    streamed = tuple(CameraTile(c.id, c.name, c.cell_id)
                     for c in sorted(cameras, key=lambda c: c.id) if c.streamed)
    return CityView(
        name=city_name,
        nodes={n.id: NodeInfo(n.id, n.level, n.parent_id, n.name) for n in nodes},
        districts=_collection(by_level["district"]),
        communities=_collection(by_level["community"]),
        cells_by_community=dict(cells),
        node_bounds={n.id: b for n in nodes if n.level != "cell" and (b := geometry_bounds([n.geometry]))},
        bounds=geometry_bounds(n.geometry for n in drawn),
        cameras_total=len(cameras),
        streamed=streamed,
    )
