"""Where a point lies in the grid, and the registry facts cases need: one immutable index per registry version.

Built from the ``RegistryCache`` (one consistent read of the registry) plus a shapely STRtree of the cells, so
placing a report is a tree query, not a walk over 1,223 polygons. ``places_for(engine)`` keeps one per engine
and rebuilds it when a registry import bumped the version (checked at most every 30 s).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import shapely
from shapely.geometry import Point, shape
from sqlalchemy import Engine

from onescreen.geo import distance_m
from onescreen.registry.cache import CameraInfo, RegistryCache

_REFRESH_S = 30.0
_LOCK = threading.Lock()
_BY_ENGINE: dict[int, list] = {}


@dataclass(frozen=True, slots=True)
class Spot:
    cell_id: str
    community_id: str
    district_id: str


class Places:
    """Cells (with their polygons), communities, workers, departments and cameras of one registry version."""

    def __init__(self, reg: RegistryCache):
        self.reg = reg
        self.version = reg.version
        self.cell_ids = list(reg.nodes_at("cell"))
        shapes = [shape(reg.node(c).geometry) for c in self.cell_ids]
        self.tree = shapely.STRtree(shapes)
        self.shapes = shapes
        self.workers: dict[str, tuple[str, list[str], str | None]] = {}
        self.departments: dict[str, str] = {}

    def load_people(self, engine: Engine) -> Places:
        from sqlalchemy import select

        from onescreen.db.models import Department, GridWorker

        with engine.connect() as conn:
            self.workers = {r.id: (r.name, list(r.cells or []), r.phone)
                            for r in conn.execute(select(GridWorker.id, GridWorker.name, GridWorker.cells,
                                                         GridWorker.phone))}
            self.departments = dict(conn.execute(select(Department.id, Department.name)).all())
        return self

    def spot_of_cell(self, cell_id: str) -> Spot | None:
        node = self.reg.node(cell_id)
        if node is None or node.level != "cell":
            return None
        return Spot(cell_id, self.reg.community_of(cell_id) or "", self.reg.district_of(cell_id) or "")

    def locate(self, lat: float, lon: float) -> Spot | None:
        """The cell whose polygon holds the point (the nearest of several on a shared edge), None outside."""
        pt = Point(lon, lat)
        hits = [int(i) for i in self.tree.query(pt, predicate="intersects")]
        if not hits:
            return None
        return self.spot_of_cell(self.cell_ids[min(hits)])

    def cell_label(self, cell_id: str) -> tuple[float, float] | None:
        node = self.reg.node(cell_id)
        return (node.lat, node.lon) if node is not None else None

    def nearest_cameras(self, lat: float, lon: float, radius_m: float, n: int) -> list[tuple[CameraInfo, float]]:
        """Up to ``n`` cameras within ``radius_m`` of the point, nearest first."""
        near = []
        for cam in self.reg.cameras():
            d = distance_m(lat, lon, cam.lat, cam.lon)
            if d <= radius_m:
                near.append((cam, d))
        near.sort(key=lambda x: x[1])
        return near[:n]

    def person(self, reporter: str) -> dict[str, str]:
        """A reporter as screens show it: a grid worker's name and masked phone, else the account name."""
        worker = self.workers.get(reporter)
        if worker is None:
            return {"id": reporter, "name": reporter, "phone": ""}
        return {"id": reporter, "name": worker[0], "phone": mask_phone(worker[2])}

    def name(self, node_id: str | None) -> str:
        node = self.reg.node(node_id) if node_id else None
        return node.name if node is not None else (node_id or "")


def mask_phone(phone: str | None) -> str:
    """``13964949384`` -> ``139****9384``: enough to recognise one's own number, not to call a stranger."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    if len(digits) < 7:
        return "****" if digits else ""
    return f"{digits[:3]}****{digits[-4:]}"


def places_for(engine: Engine) -> Places:
    """The Places of the engine's current registry (rebuilt after an import, checked every 30 s)."""
    with _LOCK:
        entry = _BY_ENGINE.get(id(engine))
        now = time.monotonic()
        if entry is None or entry[2] is not engine:
            reg = RegistryCache.load(engine)
            entry = _BY_ENGINE[id(engine)] = [Places(reg).load_people(engine), now, engine]
        elif now - entry[1] > _REFRESH_S:
            entry[1] = now
            reg = entry[0].reg
            if reg.refresh_if_changed():
                entry[0] = Places(reg).load_people(engine)
        return entry[0]


def forget(engine: Engine) -> None:
    """Drop the cached index (tests that import a new city into the same engine)."""
    with _LOCK:
        _BY_ENGINE.pop(id(engine), None)
