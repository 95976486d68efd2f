"""In-process lookups over the city registry, for the hot paths of every process.

Ingest places every event by its device, rules roll up the tree, the screen drills down it: all of them
ask "where is this device", "who are this node's children" thousands of times a second, so the registry
is read once (one query per table) into plain dicts and every lookup is a dict access. Places are built
at load, so ``place_of_device`` returns a ready ``Place`` without allocating.

Staleness: every import bumps the one-row ``registry_version`` table in the same transaction as the data.
``refresh_if_changed()`` reads that single integer and reloads only when it moved; a process calls it on
a timer (say every 10 s). A reload builds a complete new snapshot and swaps one reference, so a reader
on another thread sees either the old registry or the new one, never a mix.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Engine

from onescreen.events import Place
from onescreen.registry.credentials import join_credentials
from onescreen.registry.files import paused_gc
from onescreen.registry.rows import Snapshot, current_version, read_snapshot

log = logging.getLogger(__name__)

DeviceKind = Literal["door", "camera", "sensor"]


@dataclass(frozen=True, slots=True)
class NodeInfo:
    id: str
    level: str
    parent_id: str | None
    name: str
    lat: float  # label point
    lon: float
    households: int | None
    geometry: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class CameraInfo:
    id: str
    cell_id: str
    name: str
    lat: float
    lon: float
    rtsp_url: str | None  # without credentials: safe to show
    username: str | None
    password: str | None = field(repr=False)
    streamed: bool
    nominal_fps: float | None
    zones: dict[str, Any] = field(repr=False)  # {name: {"polygon": [[x, y], ...], "door_id": id | None}}
    lines: dict[str, Any] = field(default_factory=dict, repr=False)  # {name: {"a": [x, y], "b": .., "in": side}}

    def source_url(self) -> str | None:
        """The URL to open, credentials included: for the video worker only, never log or show it."""
        return join_credentials(self.rtsp_url, self.username, self.password) if self.rtsp_url else None


@dataclass(frozen=True, slots=True)
class PostInfo:
    id: str
    cell_id: str
    name: str
    lat: float
    lon: float
    radius_m: float
    shift_start: str  # local "HH:MM"
    shift_end: str


@dataclass(frozen=True, slots=True)
class UnitInfo:
    id: str
    name: str
    post_id: str | None
    members: int


class _Index:
    """Everything derived from one snapshot; immutable once built."""

    def __init__(self, snap: Snapshot):
        t = snap.tables
        self.version = snap.version
        self.nodes = {r.id: NodeInfo(r.id, r.level, r.parent_id, r.name, r.lat, r.lon, r.households, r.geometry)
                      for r in t["nodes"]}
        kids: dict[str, list[str]] = defaultdict(list)
        for n in self.nodes.values():
            if n.parent_id is not None:
                kids[n.parent_id].append(n.id)
        self.children = {k: tuple(sorted(v)) for k, v in kids.items()}
        self.ancestors = {nid: self._walk_up(nid) for nid in self.nodes}
        self.city_id = next((n.id for n in self.nodes.values() if n.level == "city"), None)
        self.by_level: dict[str, tuple[str, ...]] = defaultdict(tuple)
        for level in ("city", "district", "community", "cell"):
            self.by_level[level] = tuple(sorted(n.id for n in self.nodes.values() if n.level == level))
        self.kind: dict[str, DeviceKind] = {}
        self.place: dict[str, Place] = {}
        for kind, rows in (("door", t["doors"]), ("camera", t["cameras"]), ("sensor", t["sensors"])):
            for r in rows:
                self.kind[r.id] = kind
                self.place[r.id] = self._place(r.cell_id, r.lat, r.lon)
        self.cameras = {r.id: CameraInfo(r.id, r.cell_id, r.name, r.lat, r.lon, r.rtsp_url, r.username,
                                         r.password, r.streamed, r.nominal_fps, r.zones or {}, r.lines or {})
                        for r in t["cameras"]}
        watching: dict[str, list[str]] = defaultdict(list)
        for cam in self.cameras.values():
            for zone in cam.zones.values():
                if zone.get("door_id"):
                    watching[zone["door_id"]].append(cam.id)
        self.door_cameras = {d: tuple(sorted(set(c))) for d, c in watching.items()}
        self.posts = {r.id: PostInfo(r.id, r.cell_id, r.name, r.lat, r.lon, r.radius_m, r.shift_start,
                                     r.shift_end) for r in t["posts"]}
        self.post_place = {p.id: self._place(p.cell_id, p.lat, p.lon) for p in self.posts.values()}
        self.units = {r.id: UnitInfo(r.id, r.name, r.post_id, r.members) for r in t["units"]}
        self.watch = {r.person_id: r.level for r in t["watchlist"]}
        self.watch_home = {r.person_id: r.home_community_id for r in t["watchlist"]}

    def _walk_up(self, nid: str) -> tuple[str, ...]:
        out, cur = [], self.nodes[nid].parent_id
        while cur is not None and cur in self.nodes and len(out) < 8:
            out.append(cur)
            cur = self.nodes[cur].parent_id
        return tuple(out)

    def up_to(self, nid: str, level: str) -> str | None:
        node = self.nodes.get(nid)
        if node is None:
            return None
        if node.level == level:
            return nid
        return next((a for a in self.ancestors[nid] if self.nodes[a].level == level), None)

    def _place(self, cell_id: str, lat: float, lon: float) -> Place:
        return Place(cell_id=cell_id, community_id=self.up_to(cell_id, "community") or "",
                     district_id=self.up_to(cell_id, "district") or "", lat=lat, lon=lon)


class RegistryCache:
    """Dict lookups over the registry; build with ``RegistryCache.load(engine)``."""

    def __init__(self, engine: Engine, snapshot: Snapshot):
        self._engine = engine
        with paused_gc():
            self._ix = _Index(snapshot)

    @classmethod
    def load(cls, engine: Engine) -> RegistryCache:
        """Read the whole registry (one query per table) and index it."""
        cache = cls(engine, read_snapshot(engine))
        log.info("registry cache loaded: version %s, %s nodes, %s devices, %s units", cache.version,
                 len(cache._ix.nodes), len(cache._ix.kind), len(cache._ix.units))
        return cache

    @property
    def version(self) -> int:
        """The registry version this cache holds (0 = never imported)."""
        return self._ix.version

    def refresh_if_changed(self) -> bool:
        """Reload when an import has happened since the last load; True if it reloaded. One cheap query."""
        with self._engine.connect() as conn:
            latest = current_version(conn)
        if latest == self._ix.version:
            return False
        old = self._ix.version
        snap = read_snapshot(self._engine)
        with paused_gc():
            self._ix = _Index(snap)
        log.info("registry cache reloaded: version %s -> %s", old, self._ix.version)
        return True

    # ------------------------------------------------------------ devices
    def place_of_device(self, device_id: str) -> Place | None:
        """Where a door, camera or sensor is (its cell, community, district and its own point)."""
        return self._ix.place.get(device_id)

    def device_kind(self, device_id: str) -> DeviceKind | None:
        return self._ix.kind.get(device_id)

    def camera(self, camera_id: str) -> CameraInfo | None:
        return self._ix.cameras.get(camera_id)

    def cameras(self, streamed_only: bool = False) -> list[CameraInfo]:
        """All cameras (sorted by id), or only those the video workers pull and analyse."""
        cams = sorted(self._ix.cameras.values(), key=lambda c: c.id)
        return [c for c in cams if c.streamed] if streamed_only else cams

    def cameras_watching_door(self, door_id: str) -> tuple[str, ...]:
        """Cameras with a zone whose door_id is this door (for spot checks and lingering evidence)."""
        return self._ix.door_cameras.get(door_id, ())

    # ------------------------------------------------------------ patrol
    def unit(self, unit_id: str) -> UnitInfo | None:
        return self._ix.units.get(unit_id)

    def unit_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._ix.units))

    def post(self, post_id: str) -> PostInfo | None:
        return self._ix.posts.get(post_id)

    def post_of_unit(self, unit_id: str) -> PostInfo | None:
        """The unit's assigned post, or None (unknown unit, or a unit with no post)."""
        u = self._ix.units.get(unit_id)
        return self._ix.posts.get(u.post_id) if u is not None and u.post_id is not None else None

    def place_of_unit(self, unit_id: str) -> Place | None:
        """Where a unit belongs: the place of its post (the post's point), None without a post."""
        u = self._ix.units.get(unit_id)
        return self._ix.post_place.get(u.post_id) if u is not None and u.post_id is not None else None

    # ------------------------------------------------------------ grid tree
    @property
    def city_id(self) -> str | None:
        return self._ix.city_id

    def node(self, node_id: str) -> NodeInfo | None:
        return self._ix.nodes.get(node_id)

    def nodes_at(self, level: str) -> tuple[str, ...]:
        """Ids of every node of a level, sorted."""
        return self._ix.by_level.get(level, ())

    def children(self, node_id: str) -> tuple[str, ...]:
        """Direct children ids, sorted; () for a cell or an unknown id."""
        return self._ix.children.get(node_id, ())

    def ancestors(self, node_id: str) -> tuple[str, ...]:
        """Ancestor ids nearest first, ending with the city; () for the city or an unknown id."""
        return self._ix.ancestors.get(node_id, ())

    def descendants(self, node_id: str, level: str | None = None) -> list[str]:
        """Every node below ``node_id`` (depth first), optionally only those of one level."""
        out, stack = [], list(reversed(self.children(node_id)))
        while stack:
            nid = stack.pop()
            if level is None or self._ix.nodes[nid].level == level:
                out.append(nid)
            stack.extend(reversed(self.children(nid)))
        return out

    def community_of(self, node_id: str) -> str | None:
        """The community containing a cell (a community is its own); None above community level."""
        return self._ix.up_to(node_id, "community")

    def district_of(self, node_id: str) -> str | None:
        """The district containing a node (a district is its own); None for the city or an unknown id."""
        return self._ix.up_to(node_id, "district")

    # ------------------------------------------------------------ watch list
    def watch_level(self, person_id: str) -> str | None:
        """red | orange | yellow for a watch-listed person, None for anyone else."""
        return self._ix.watch.get(person_id)

    def watch_home(self, person_id: str) -> str | None:
        """Home community id of a watch-listed person."""
        return self._ix.watch_home.get(person_id)

    def watched_persons(self) -> tuple[str, ...]:
        return tuple(sorted(self._ix.watch))
