"""Helpers of the dashboard tests: a tiny city written straight into the SQL registry, a worker in a thread.

The city is four squares deep enough to exercise every map layer: 1 city, 2 districts (west/east),
4 communities (each district cut north/south), 2 cells in the first community, 3 cameras of which 2 are
streamed. Written with SQLAlchemy directly so these tests do not depend on the importer's bundle format.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.request
from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from onescreen.db.models import Camera, GridNode
from onescreen.db.session import make_engine
from onescreen.services import free_port
from onescreen.settings import Settings

WEST, EAST, SOUTH, NORTH = 118.10, 118.30, 26.55, 26.75
MID_LON, MID_LAT = 118.20, 26.65


def square(w: float, s: float, e: float, n: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


Box = tuple[float, float, float, float]  # west, south, east, north


def _node(id_: str, level: str, parent: str | None, name: str, box: Box) -> GridNode:
    w, s, e, n = box
    return GridNode(id=id_, level=level, parent_id=parent, name=name, geometry=square(w, s, e, n),
                    lat=(s + n) / 2, lon=(w + e) / 2, households=150 if level == "cell" else None)


def small_city() -> list[Any]:
    """Registry rows of the test city, parents first."""
    rows: list[Any] = [_node("C", "city", None, "测试市", (WEST, SOUTH, EAST, NORTH))]
    districts = {"D1": ("西城街道", (WEST, SOUTH, MID_LON, NORTH)), "D2": ("东湖街道", (MID_LON, SOUTH, EAST, NORTH))}
    for did, (name, box) in districts.items():
        rows.append(_node(did, "district", "C", name, box))
    communities = {
        "D1-01": ("D1", "北门社区", (WEST, MID_LAT, MID_LON, NORTH)),
        "D1-02": ("D1", "南门社区", (WEST, SOUTH, MID_LON, MID_LAT)),
        "D2-01": ("D2", "湖滨社区", (MID_LON, MID_LAT, EAST, NORTH)),
        "D2-02": ("D2", "新村社区", (MID_LON, SOUTH, EAST, MID_LAT)),
    }
    for cid, (parent, name, box) in communities.items():
        rows.append(_node(cid, "community", parent, name, box))
    rows.append(_node("D1-01-A", "cell", "D1-01", "北门一网格", (WEST, MID_LAT, 118.15, NORTH)))
    rows.append(_node("D1-01-B", "cell", "D1-01", "北门二网格", (118.15, MID_LAT, MID_LON, NORTH)))
    rows += [
        Camera(id="CAM-1", cell_id="D1-01-A", name="北门广场", lat=26.70, lon=118.12, streamed=True,
               rtsp_url="rtsp://127.0.0.1:1/a", username="admin", password="secret-pw", zones={}),
        Camera(id="CAM-2", cell_id="D1-01-B", name="北门小区东门", lat=26.70, lon=118.17, streamed=True, zones={}),
        Camera(id="CAM-3", cell_id="D1-01-B", name="北门停车场", lat=26.71, lon=118.18, streamed=False, zones={}),
    ]
    return rows


def insert_small_city(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for row in small_city():
                session.add(row)
                session.flush()  # parents before children (foreign keys are on)
            session.commit()
    finally:
        engine.dispose()


# Chinese characters and CJK / full-width punctuation: what an English screen shows only inside data. (U+3000,
# the ideographic space, is left out: the desks indent with it in any language.)
CJK = re.compile(r"[\u3001-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")


def registry_names(registry: Any) -> list[str]:
    """Every name a page may show from a city registry (``RegistryCache``): data, not screen text."""
    nodes = [registry.node(n).name for level in ("city", "district", "community", "cell")
             for n in registry.nodes_at(level)]
    units = [registry.unit(u).name for u in registry.unit_ids()]
    posts = [p.name for p in map(registry.post_of_unit, registry.unit_ids()) if p is not None]
    return nodes + units + posts + [c.name for c in registry.cameras()]


def chinese_outside(text: str, data: Iterable[str]) -> list[str]:
    """The lines of ``text`` that still hold Chinese once the ``data`` strings (names…) are taken out."""
    for item in sorted(set(data), key=len, reverse=True):  # longest first: a post name holds its community's
        text = text.replace(item, " ")
    return [line for line in text.splitlines() if CJK.search(line)]


def insert_streamed_cameras(database_url: str, n: int, cell: str = "D1-01-B") -> list[str]:
    """``n`` more streamed cameras in one cell of the test city (a camera wall of several pages)."""
    ids = [f"CAM-X{i:02d}" for i in range(n)]
    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            for i, cid in enumerate(ids):
                session.add(Camera(id=cid, cell_id=cell, name=f"北门{i + 1}号监控", lat=26.66 + 0.005 * (i % 8),
                                   lon=118.16 + 0.004 * (i // 8), streamed=True, zones={}))
            session.commit()
    finally:
        engine.dispose()
    return ids


def with_dashboard(settings: Settings, **dashboard: Any) -> Settings:
    """A copy of ``settings`` with some dashboard fields changed (default: a free port)."""
    dashboard.setdefault("port", free_port())
    return settings.model_copy(update={"dashboard": settings.dashboard.model_copy(update=dashboard)})


class RunningWorker:
    """A DashboardWorker running in a thread, as ``onescreen dashboard`` runs it in a process."""

    def __init__(self, settings: Settings):
        from dashboard.server import DashboardWorker

        self.worker = DashboardWorker(settings, instance="test")
        self.thread = threading.Thread(target=self.worker.run, name="test-dashboard", daemon=True)

    @property
    def url(self) -> str:
        return self.worker.url

    def start(self, timeout: float = 30.0) -> RunningWorker:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker.port is not None:
                try:
                    with urllib.request.urlopen(f"{self.url}/api/health", timeout=2) as resp:
                        if resp.status == 200:
                            return self
                except OSError:
                    pass
            if not self.thread.is_alive():
                raise RuntimeError("dashboard worker died during start")
            time.sleep(0.1)
        raise TimeoutError("dashboard did not answer /api/health")

    def stop(self) -> None:
        self.worker.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "dashboard worker did not stop"
