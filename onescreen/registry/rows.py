"""Records ↔ database rows, and a consistent read of every registry table.

Both directions live together so the mapping between the bundle vocabulary and the columns is in one
place. ``read_snapshot`` reads all registry tables with one query each and guarantees they belong to the
same import: it reads the registry version before and after and retries if an import committed in
between (portable: works on SQLite, whose driver gives no snapshot across plain SELECTs, and PostgreSQL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from onescreen.db.models import (
    Camera,
    Department,
    Door,
    GridNode,
    GridWorker,
    PatrolPost,
    PatrolUnit,
    RegistryVersion,
    Sensor,
    WatchPerson,
)
from onescreen.registry.files import paused_gc
from onescreen.registry.records import (
    Bundle,
    CameraRec,
    DepartmentRec,
    DoorRec,
    LineRec,
    NodeRec,
    PostRec,
    SensorRec,
    UnitRec,
    WatchRec,
    WorkerRec,
    ZoneRec,
    line_doc,
)

log = logging.getLogger(__name__)

TABLES = {"nodes": GridNode, "doors": Door, "cameras": Camera, "sensors": Sensor, "posts": PatrolPost,
          "units": PatrolUnit, "watchlist": WatchPerson, "workers": GridWorker, "departments": Department}
# Delete children before parents; insert in the reverse order.
DELETE_ORDER = ("workers", "departments", "units", "watchlist", "cameras", "doors", "sensors", "posts", "nodes")


# ---------------------------------------------------------------- records -> rows
def node_row(n: NodeRec) -> dict[str, Any]:
    lon, lat = n.label
    return {"id": n.id, "level": n.level, "parent_id": n.parent_id, "name": n.name, "geometry": n.geometry,
            "lat": lat, "lon": lon, "households": n.households}


def camera_row(c: CameraRec) -> dict[str, Any]:
    zones = {name: {"polygon": [[x, y] for x, y in z.polygon], "door_id": z.door_id} for name, z in c.zones.items()}
    return {"id": c.id, "cell_id": c.cell_id, "name": c.name, "lat": c.lat, "lon": c.lon, "rtsp_url": c.rtsp_url,
            "username": c.username, "password": c.password, "streamed": c.streamed, "nominal_fps": c.nominal_fps,
            "zones": zones, "lines": {name: line_doc(ln) for name, ln in sorted(c.lines.items())}}


def plain_row(rec: Any) -> dict[str, Any]:
    """Doors, sensors, posts, units, watch list, workers, departments: record fields are the column names."""
    return {name: (list(v) if isinstance(v := getattr(rec, name), tuple) else v) for name in rec.__slots__}


ROW_OF = {"nodes": node_row, "cameras": camera_row}


def bundle_rows(bundle: Bundle) -> dict[str, list[dict[str, Any]]]:
    """Insertable rows per kind; nodes ordered parents first (the self-reference is checked per row)."""
    out = {kind: [ROW_OF.get(kind, plain_row)(r) for r in getattr(bundle, kind)] for kind in TABLES}
    order = {"city": 0, "district": 1, "community": 2, "cell": 3}
    out["nodes"].sort(key=lambda r: order[r["level"]])
    return out


# ---------------------------------------------------------------- rows -> records
def zones_of(raw: dict[str, Any] | None) -> dict[str, ZoneRec]:
    return {name: ZoneRec([(x, y) for x, y in z["polygon"]], z.get("door_id")) for name, z in (raw or {}).items()}


def lines_of(raw: dict[str, Any] | None) -> dict[str, LineRec]:
    return {name: LineRec((ln["a"][0], ln["a"][1]), (ln["b"][0], ln["b"][1]), ln["in"])
            for name, ln in (raw or {}).items()}


def records_of(tables: dict[str, list[Any]]) -> Bundle:
    """A Bundle from the rows of ``read_snapshot`` (passwords included; the writer never writes them)."""
    b = Bundle()
    b.nodes = [NodeRec(r.id, r.level, r.parent_id, r.name, r.geometry, r.households, (r.lon, r.lat))
               for r in tables["nodes"]]
    b.doors = [DoorRec(r.id, r.cell_id, r.name, r.lat, r.lon) for r in tables["doors"]]
    b.cameras = [CameraRec(r.id, r.cell_id, r.name, r.lat, r.lon, r.rtsp_url, r.username, r.streamed,
                           r.nominal_fps, zones_of(r.zones), r.password, lines_of(r.lines)) for r in tables["cameras"]]
    b.sensors = [SensorRec(r.id, r.cell_id, r.kind, r.name, r.lat, r.lon) for r in tables["sensors"]]
    b.posts = [PostRec(r.id, r.cell_id, r.name, r.lat, r.lon, r.radius_m, r.shift_start, r.shift_end)
               for r in tables["posts"]]
    b.units = [UnitRec(r.id, r.name, r.post_id, r.members) for r in tables["units"]]
    b.watchlist = [WatchRec(r.person_id, r.level, r.home_community_id, r.category, r.officer, r.grid_worker_id,
                            r.plan) for r in tables["watchlist"]]
    b.workers = [WorkerRec(r.id, r.name, list(r.cells or []), r.phone) for r in tables["workers"]]
    b.departments = [DepartmentRec(r.id, r.name) for r in tables["departments"]]
    return b


# ---------------------------------------------------------------- consistent read
@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    tables: dict[str, list[Any]]  # kind -> rows (attribute access by column name)


def current_version(conn: Connection | Session) -> int:
    """The registry version (0 before the first import)."""
    v = conn.execute(select(RegistryVersion.version).where(RegistryVersion.id == 1)).scalar()
    return int(v or 0)


def read_snapshot(engine: Engine, attempts: int = 5) -> Snapshot:
    """Every registry table, one SELECT each, all from the same import (retried if one commits meanwhile)."""
    for attempt in range(attempts):
        with engine.connect() as conn, paused_gc():
            before = current_version(conn)
            tables = {kind: conn.execute(select(model.__table__)).all() for kind, model in TABLES.items()}
            after = current_version(conn)
        if before == after:
            return Snapshot(after, tables)
        log.info("registry changed while reading (version %s -> %s), reading again (attempt %s)",
                 before, after, attempt + 1)
    raise RuntimeError(f"registry kept changing while being read ({attempts} attempts)")
