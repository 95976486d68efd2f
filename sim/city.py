"""What the simulator needs to know of the registry, from the database or from an in-memory bundle.

The simulator plays the city's devices, so it reads the same registry the ingestors check messages
against: every door, camera, sensor and unit it publishes for exists there, and no message names an
unknown device. It needs far less than the full registry (no polygons), so it reads the device tables
with plain SQL instead of building the ingestors' lookup cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from onescreen.db import models as m
from onescreen.registry.records import Bundle


@dataclass(frozen=True, slots=True)
class SimDoor:
    id: str
    community_id: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class SimCamera:
    id: str
    community_id: str
    streamed: bool
    rtsp_url: str | None
    zones: tuple[str, ...]  # zone names; the polygons are ingest-video's business
    lines: tuple[str, ...] = ()  # entrance line names (issue #18)
    cell_id: str | None = None
    district_id: str | None = None


@dataclass(frozen=True, slots=True)
class SimSensor:
    id: str
    community_id: str
    kind: str


@dataclass(frozen=True, slots=True)
class SimPost:
    id: str
    lat: float
    lon: float
    radius_m: float
    shift_start: str
    shift_end: str


@dataclass(frozen=True, slots=True)
class SimUnit:
    id: str
    post: SimPost | None


@dataclass(frozen=True, slots=True)
class SimWatch:
    person_id: str
    level: str
    home_community_id: str


@dataclass
class SimCity:
    """The devices and people the simulator plays, each placed in its community."""

    doors: list[SimDoor]
    cameras: list[SimCamera]
    sensors: list[SimSensor]
    units: list[SimUnit]
    watchlist: list[SimWatch]
    communities: dict[str, str]  # id -> name
    doors_by_community: dict[str, list[SimDoor]] = field(init=False)

    def __post_init__(self) -> None:
        self.doors_by_community = {}
        for door in self.doors:
            self.doors_by_community.setdefault(door.community_id, []).append(door)

    def device_ids(self) -> list[str]:
        """Every id that sends ``device/{id}/status`` heartbeats: doors, cameras, sensors, unit terminals."""
        groups = (self.doors, self.cameras, self.sensors, self.units)
        return [d.id for group in groups for d in group]

    def camera(self, camera_id: str) -> SimCamera | None:
        return next((c for c in self.cameras if c.id == camera_id), None)

    def unit(self, unit_id: str) -> SimUnit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    # ------------------------------------------------------------ loaders
    @classmethod
    def from_bundle(cls, bundle: Bundle) -> SimCity:
        """From records in memory (tests, and a simulator started right after generating a city)."""
        comm_of = {n.id: n.parent_id for n in bundle.nodes if n.level == "cell"}
        parent = {n.id: n.parent_id for n in bundle.nodes}
        posts = {p.id: SimPost(p.id, p.lat, p.lon, p.radius_m, p.shift_start, p.shift_end)
                 for p in bundle.posts}
        return cls(
            doors=[SimDoor(d.id, comm_of[d.cell_id], d.lat, d.lon) for d in bundle.doors],
            cameras=[SimCamera(c.id, comm_of[c.cell_id], c.streamed, c.rtsp_url, tuple(c.zones), tuple(c.lines),
                               c.cell_id, parent.get(comm_of[c.cell_id])) for c in bundle.cameras],
            sensors=[SimSensor(s.id, comm_of[s.cell_id], s.kind) for s in bundle.sensors],
            units=[SimUnit(u.id, posts.get(u.post_id)) for u in bundle.units],
            watchlist=[SimWatch(w.person_id, w.level, w.home_community_id) for w in bundle.watchlist],
            communities={n.id: n.name for n in bundle.nodes if n.level == "community"},
        )

    @classmethod
    def from_engine(cls, engine: Engine) -> SimCity:
        """From the registry tables (what a running simulator does)."""
        with engine.connect() as conn:
            comm_of = dict(conn.execute(select(m.GridNode.id, m.GridNode.parent_id)
                                        .where(m.GridNode.level == "cell")).all())
            communities = dict(conn.execute(select(m.GridNode.id, m.GridNode.name)
                                            .where(m.GridNode.level == "community")).all())
            D, C, S, P, U, W = m.Door, m.Camera, m.Sensor, m.PatrolPost, m.PatrolUnit, m.WatchPerson
            doors = [SimDoor(i, comm_of[c], lat, lon) for i, c, lat, lon
                     in conn.execute(select(D.id, D.cell_id, D.lat, D.lon).order_by(D.id))]
            district_of = dict(conn.execute(select(m.GridNode.id, m.GridNode.parent_id)
                                            .where(m.GridNode.level == "community")).all())
            cam_rows = conn.execute(select(C.id, C.cell_id, C.streamed, C.rtsp_url, C.zones, C.lines).order_by(C.id))
            cameras = [SimCamera(i, comm_of[c], bool(st), url, tuple(zones or {}), tuple(lines or {}), c,
                                 district_of.get(comm_of[c])) for i, c, st, url, zones, lines in cam_rows]
            sensors = [SimSensor(i, comm_of[c], k) for i, c, k
                       in conn.execute(select(S.id, S.cell_id, S.kind).order_by(S.id))]
            posts = {row[0]: SimPost(*row) for row in conn.execute(
                select(P.id, P.lat, P.lon, P.radius_m, P.shift_start, P.shift_end))}
            units = [SimUnit(i, posts.get(p))
                     for i, p in conn.execute(select(U.id, U.post_id).order_by(U.id))]
            watch = [SimWatch(*row) for row in conn.execute(
                select(W.person_id, W.level, W.home_community_id).order_by(W.person_id))]
        return cls(doors, cameras, sensors, units, watch, communities)
