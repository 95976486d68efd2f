"""The simulated city: a whole registry (grid, doors, cameras, sensors, posts, units, watch list) from a seed.

Sizes come from a named preset (``default`` for a laptop demo, ``nanchang`` with the sizes Nanchang County
quotes: 141 communities, 1,223 grid cells, 19,000 cameras) and can be overridden one by one. The map is
centred on the real centre of Yanping district, Nanping, and nests exactly: the city boundary is split into
districts, districts into communities, communities into cells (see ``geometry``). The same seed always
gives the same city, byte for byte, so a bundle can be regenerated instead of stored.

Ids follow the CONTRACT examples and say where a thing is: district ``D01``, community ``C0101``, cell
``G010101``, door ``D-0101-03`` and camera ``C-0101-01`` (community code + number), sensor ``S-0101-01``,
patrol unit ``P-031`` at post ``POST-031``.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Polygon

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
)
from sim import geometry as geo
from sim import zh_names as zh
from sim.streams import mount_fps, mount_name, mount_url

CENTRE_LAT, CENTRE_LON = 26.6400, 118.1700  # Yanping district, Nanping (Fujian)
CITY_ID = "CITY"


@dataclass(frozen=True)
class Preset:
    """Sizes of a generated city; any field can be overridden by ``generate_city(**overrides)``."""

    districts: int = 4
    communities: int = 40
    cells: int = 300
    doors: int = 600
    cameras: int = 80
    units: int = 30  # one post per unit
    watchlist: int = 60
    sensors: int = 6
    radius_m: float = 6_000.0
    streamed_cameras: int = 4
    rtsp_port: int = 8554
    rtsp_host: str = "127.0.0.1"  # "mediamtx" on containers
    door_camera_share: float = 0.3  # cameras that watch a door (video + door fusion needs some)
    city_name: str = "延平区"


PRESETS: dict[str, Preset] = {
    "default": Preset(),
    "nanchang": Preset(districts=10, communities=141, cells=1223, doors=2000, cameras=19_000, units=100,
                       watchlist=150, sensors=40, radius_m=15_000.0, streamed_cameras=24, city_name="南昌县"),
}

# normalised image polygons of the zone kinds; a camera's zones are these, jittered
ZONE_TEMPLATES: dict[str, list[tuple[float, float]]] = {
    "gate": [(0.30, 0.35), (0.70, 0.35), (0.75, 0.95), (0.25, 0.95)],
    "square": [(0.05, 0.30), (0.95, 0.30), (0.95, 0.95), (0.05, 0.95)],
    "road": [(0.00, 0.55), (1.00, 0.45), (1.00, 0.80), (0.00, 0.90)],
    "entrance": [(0.55, 0.20), (0.90, 0.20), (0.90, 0.70), (0.55, 0.70)],
    "parking": [(0.05, 0.50), (0.50, 0.50), (0.50, 0.95), (0.05, 0.95)],
}
# A door camera's entrance line across the gate zone, "in" towards the camera (issue #18); no random draw, so
# adding it left every other generated value as it was.
GATE_LINE = LineRec((0.25, 0.75), (0.75, 0.75), "right")
PUBLIC_ZONES = ("square", "road", "entrance", "parking")
# (start, end) local time; equal = all day. Any two neighbours cover the whole day, so some unit is on shift.
SHIFTS = [("08:00", "20:00"), ("20:00", "08:00"), ("00:00", "00:00")]
WATCH_LEVELS = [("red", 0.15), ("orange", 0.30), ("green", 0.10), ("yellow", 0.45)]  # yellow last: fills up


@dataclass
class _Area:
    """A grid node while it is being built: its polygon and the numbers the children need."""

    rec: NodeRec
    poly: Polygon
    code: str  # "0101" for community C0101; used in device ids
    weight: float = 1.0


def generate_city(preset: str = "default", seed: int = 7, **overrides) -> Bundle:
    """A deterministic city for ``seed``; ``overrides`` replace preset fields (e.g. ``cameras=10``)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; one of {sorted(PRESETS)}")
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Preset)}
    if unknown:
        raise TypeError(f"unknown city parameter(s): {sorted(unknown)}")
    p = dataclasses.replace(PRESETS[preset], **overrides)
    if not 1 <= p.districts <= min(p.communities, len(zh.DISTRICTS)) or p.communities > p.cells:
        raise ValueError("need 1 <= districts <= communities <= cells (and at most 21 districts)")
    return _Builder(p, seed).build()


class _Builder:
    def __init__(self, p: Preset, seed: int):
        self.p = p
        self.np = np.random.default_rng(seed)
        self.rng = random.Random(seed)
        self.bundle = Bundle()
        self.names: dict[str, str] = {}  # node id -> name
        self.radius_deg = geo.metres_to_deg(CENTRE_LAT, p.radius_m, 0)[0]

    def build(self) -> Bundle:
        city = self._city()
        districts = self._districts(city)
        communities = self._split(districts, self.p.communities, "community", self._community_name)
        cells = self._split(communities, self.p.cells, "cell", self._cell_name)
        self._households(cells, communities, districts, city)
        by_comm = {c.rec.id: [x for x in cells if x.rec.parent_id == c.rec.id] for c in communities}
        doors = self._doors(communities, by_comm)
        self._cameras(communities, by_comm, doors)
        self._sensors(communities, by_comm)
        self._patrol(cells)
        self._watchlist(communities)
        self._workers_and_departments(communities, by_comm)
        return self.bundle

    # ------------------------------------------------------------ grid tree
    def _node(self, nid: str, level: str, parent: str | None, name: str, poly: Polygon) -> NodeRec:
        c = poly.centroid  # convex, so inside
        rec = NodeRec(id=nid, level=level, parent_id=parent, name=name, geometry=geo.geojson(poly),
                      label=(round(c.x, geo.DIGITS), round(c.y, geo.DIGITS)))
        self.bundle.nodes.append(rec)
        self.names[nid] = name
        return rec

    def _density(self, poly: Polygon) -> float:
        """Relative population density: the old town in the middle is much denser than the outskirts."""
        c = poly.centroid
        d = math.hypot(c.x - CENTRE_LON, c.y - CENTRE_LAT) / self.radius_deg
        return 1.0 + 4.0 * math.exp(-((d / 0.35) ** 2))

    def _city(self) -> _Area:
        poly = geo.city_boundary(self.np, CENTRE_LAT, CENTRE_LON, self.p.radius_m)
        return _Area(self._node(CITY_ID, "city", None, self.p.city_name, poly), poly, "")

    def _districts(self, city: _Area) -> list[_Area]:
        seeds = geo.sample_points(self.np, city.poly, self.p.districts)
        polys = [geo.round_polygon(q) for q in geo.voronoi_split(city.poly, seeds, relax=4)]
        # the central districts get the urban street names (街道), the outer ones the towns (镇/乡)
        polys.sort(key=lambda q: math.hypot(q.centroid.x - CENTRE_LON, q.centroid.y - CENTRE_LAT))
        names = {id(q): zh.DISTRICTS[rank] for rank, q in enumerate(polys)}
        out = []
        for i, poly in enumerate(_reading_order(polys), start=1):
            rec = self._node(f"D{i:02d}", "district", CITY_ID, names[id(poly)], poly)
            out.append(_Area(rec, poly, f"{i:02d}"))
        return out

    def _split(self, parents: list[_Area], total: int, level: str, namer) -> list[_Area]:
        """Give each parent children in proportion to area x density, then tile it with them."""
        weights = [a.poly.area * self._density(a.poly) for a in parents]
        shares = geo.allocate(weights, total)
        out: list[_Area] = []
        used: set[str] = set()
        for parent, n in zip(parents, shares, strict=True):
            seeds = geo.sample_points(self.np, parent.poly, n)
            polys = _reading_order([geo.round_polygon(q) for q in geo.voronoi_split(parent.poly, seeds)])
            for i, poly in enumerate(polys, start=1):
                code = f"{parent.code}{i:02d}"
                nid = ("C" if level == "community" else "G") + code
                rec = self._node(nid, level, parent.rec.id, namer(parent, i, used), poly)
                out.append(_Area(rec, poly, code, self._density(poly)))
        return out

    def _community_name(self, district: _Area, _i: int, used: set[str]) -> str:
        urban = district.rec.name.endswith("街道")
        suffix = "社区" if urban else self.rng.choice(zh.COMMUNITY_SUFFIXES)
        return zh.pick_unique(self.rng, zh.COMMUNITY_STEMS, used, suffix)

    @staticmethod
    def _cell_name(_community: _Area, i: int, _used: set[str]) -> str:
        return f"第{i}网格"

    def _households(self, cells, communities, districts, city) -> None:
        """About 150 households a cell (the field's definition of a grid cell), summed up the tree."""
        for cell in cells:
            cell.rec.households = self.rng.randint(100, 220)
        for children, parents in ((cells, communities), (communities, districts), (districts, [city])):
            totals: dict[str, int] = {}
            for a in children:
                totals[a.rec.parent_id] = totals.get(a.rec.parent_id, 0) + a.rec.households
            for a in parents:
                a.rec.households = totals[a.rec.id]

    # ------------------------------------------------------------ devices
    def _spread(self, communities: list[_Area], by_comm, total: int) -> list[tuple[_Area, int]]:
        """(community, count) pairs, by number of cells; every community gets one when there are enough."""
        weights = [len(by_comm[c.rec.id]) * c.weight for c in communities]
        minimum = 1 if total >= len(communities) else 0
        return list(zip(communities, geo.allocate(weights, total, minimum), strict=True))

    def _place(self, cell: _Area) -> tuple[float, float]:
        lon, lat = geo.point_in(self.np, cell.poly)
        return lat, lon

    def _doors(self, communities, by_comm) -> dict[str, list[DoorRec]]:
        doors: dict[str, list[DoorRec]] = {}
        for comm, n in self._spread(communities, by_comm, self.p.doors):
            compounds = [self.rng.choice(zh.COMMUNITY_STEMS) + self.rng.choice(zh.COMPOUNDS)
                         for _ in range(max(1, n // 6))]
            width = max(2, len(str(n)))
            for k in range(1, n + 1):
                cell = self.rng.choice(by_comm[comm.rec.id])
                lat, lon = self._place(cell)
                name = self.rng.choice(compounds) + self.rng.choice(zh.DOOR_PLACES)
                rec = DoorRec(f"D-{comm.code}-{k:0{width}d}", cell.rec.id, name, lat, lon)
                doors.setdefault(comm.rec.id, []).append(rec)
                self.bundle.doors.append(rec)
        return doors

    def _zones(self, kinds: list[str], door_id: str | None = None) -> dict[str, ZoneRec]:
        zones = {}
        for kind in kinds:
            poly = [(round(min(1.0, max(0.0, x + self.rng.uniform(-0.04, 0.04))), 3),
                     round(min(1.0, max(0.0, y + self.rng.uniform(-0.04, 0.04))), 3))
                    for x, y in ZONE_TEMPLATES[kind]]
            zones[kind] = ZoneRec(poly, door_id if kind == "gate" else None)
        return zones

    def _cameras(self, communities, by_comm, doors) -> None:
        cells = {c.rec.id: c for cs in by_comm.values() for c in cs}
        for comm, n in self._spread(communities, by_comm, self.p.cameras):
            width = max(2, len(str(n)))
            district_no, comm_no = int(comm.code[:2]), int(comm.code[2:])
            for k in range(1, n + 1):
                door = None
                if doors.get(comm.rec.id) and self.rng.random() < self.p.door_camera_share:
                    door = self.rng.choice(doors[comm.rec.id])
                if door is not None:  # mounted a few metres from the door, looking at it
                    cell = cells[door.cell_id]
                    lon, lat = geo.point_near(self.np, cell.poly, door.lat, door.lon, 15.0)
                    kinds = ["gate"] + (["road"] if self.rng.random() < 0.4 else [])
                    name = f"{door.name}监控"
                else:
                    cell = self.rng.choice(by_comm[comm.rec.id])
                    lat, lon = self._place(cell)
                    kinds = self.rng.sample(PUBLIC_ZONES, self.rng.choice((1, 1, 2)))
                    name = comm.rec.name + self.rng.choice(zh.CAMERA_PLACES)
                self.bundle.cameras.append(CameraRec(
                    id=f"C-{comm.code}-{k:0{width}d}", cell_id=cell.rec.id, name=name, lat=lat, lon=lon,
                    rtsp_url=_field_url(district_no, comm_no, k - 1), streamed=False,
                    nominal_fps=self.rng.choice((25.0, 25.0, 20.0, 15.0)),
                    zones=self._zones(kinds, door.id if door else None),
                    lines={"gate": dataclasses.replace(GATE_LINE)} if door is not None else {}))
        self._stream_some()

    def _stream_some(self) -> None:
        """Serve ``streamed_cameras`` cameras from the simulator, one per community, door cameras first."""
        by_comm: dict[str, list[CameraRec]] = {}
        for cam in self.bundle.cameras:
            by_comm.setdefault(cam.id[2:6], []).append(cam)
        comms = sorted(by_comm)
        self.rng.shuffle(comms)
        firsts = [sorted(by_comm[c], key=lambda cam: ("gate" not in cam.zones, cam.id))[0] for c in comms]
        firsts.sort(key=lambda cam: "gate" not in cam.zones)  # stable: door cameras, then the rest
        first_ids = {cam.id for cam in firsts}
        rest = [c for c in self.bundle.cameras if c.id not in first_ids]
        for i, cam in enumerate((firsts + rest)[: self.p.streamed_cameras]):
            cam.streamed = True
            cam.rtsp_url = mount_url(self.p.rtsp_port, mount_name(i), self.p.rtsp_host)
            cam.nominal_fps = mount_fps(mount_name(i))

    def _sensors(self, communities, by_comm) -> None:
        weights = [c.weight for c in communities]
        counters: dict[str, int] = {}
        for _ in range(self.p.sensors):
            comm = self.rng.choices(communities, weights)[0]
            counters[comm.code] = counters.get(comm.code, 0) + 1
            cell = self.rng.choice(by_comm[comm.rec.id])
            lat, lon = self._place(cell)
            kind = self.rng.choice(zh.SENSOR_KINDS)
            name = comm.rec.name + self.rng.choice(zh.CAMERA_PLACES) + "客流计数"
            self.bundle.sensors.append(SensorRec(f"S-{comm.code}-{counters[comm.code]:02d}", cell.rec.id,
                                                 kind, name, lat, lon))

    def _patrol(self, cells: list[_Area]) -> None:
        """Posts in distinct cells, favouring the dense centre; each unit has its own post."""
        n = min(self.p.units, len(cells))
        keys = [self.rng.random() ** (1.0 / c.weight) for c in cells]  # weighted sample without replacement
        chosen = sorted(sorted(range(len(cells)), key=lambda i: -keys[i])[:n], key=lambda i: cells[i].rec.id)
        width = max(3, len(str(n)))
        for k, i in enumerate(chosen, start=1):
            cell = cells[i]
            lat, lon = self._place(cell)
            start, end = SHIFTS[(k - 1) % len(SHIFTS)]
            post_id, unit_id = f"POST-{k:0{width}d}", f"P-{k:0{width}d}"
            name = self.names[cell.rec.parent_id] + self.rng.choice(zh.POST_PLACES)
            self.bundle.posts.append(PostRec(post_id, cell.rec.id, name, lat, lon, 200.0, start, end))
            self.bundle.units.append(UnitRec(unit_id, f"巡逻{k}组", post_id, self.rng.choice((2, 2, 3, 4))))

    def _watchlist(self, communities: list[_Area]) -> None:
        n = self.p.watchlist
        levels: list[str] = []
        for level, share in WATCH_LEVELS[:-1]:  # at least one red and one orange: the scenarios need them
            levels += [level] * max(1, round(n * share))
        levels = (levels + [WATCH_LEVELS[-1][0]] * n)[:n]
        self.rng.shuffle(levels)
        seen: set[str] = set()
        weights = [c.weight for c in communities]
        for level in levels:
            pid = f"p-{self.rng.getrandbits(24):06x}"
            while pid in seen:
                pid = f"p-{self.rng.getrandbits(24):06x}"
            seen.add(pid)
            home = self.rng.choices(communities, weights)[0]
            category = self.rng.choice(zh.WATCH_CATEGORIES)
            # the file (issue 15): the demo supervisor answers for every person; a grid worker of the home
            # community (ids as the grid-worker registry spells them: W-<community digits>-<nn>)
            worker = f"W-{home.rec.id[1:]}-{self.rng.randint(1, 3):02d}"
            plan = self.rng.choice(zh.WATCH_PLANS) if level != "green" else None
            self.bundle.watchlist.append(WatchRec(pid, level, home.rec.id, category, "supervisor", worker, plan))


    def _workers_and_departments(self, communities: list[_Area], by_comm: dict[str, list[_Area]]) -> None:
        """About one grid worker per two cells of a community (W-<community code>-NN), and the departments.

        Runs last, so the rest of the city stays what it was before workers existed."""
        rng = self.rng
        for comm in communities:
            cells = [c.rec.id for c in by_comm[comm.rec.id]]
            for k, start in enumerate(range(0, len(cells), 2), start=1):
                name = rng.choice(zh.SURNAMES) + rng.choice(zh.GIVEN_NAMES)
                phone = f"13{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}"
                self.bundle.workers.append(WorkerRec(f"W-{comm.code}-{k:02d}", name, cells[start:start + 2], phone))
        self.bundle.departments.extend(DepartmentRec(did, name) for did, name in zh.DEPARTMENTS)


def _reading_order(polys: list[Polygon]) -> list[Polygon]:
    """North to south in bands, west to east within a band, so numbers read like a map."""
    if not polys:
        return polys
    ys = [q.centroid.y for q in polys]
    top = max(ys)
    band = (top - min(ys)) / max(1, round(math.sqrt(len(polys)))) or 1.0
    return sorted(polys, key=lambda q: (int((top - q.centroid.y) / band), q.centroid.x))


def _field_url(district: int, community: int, index: int) -> str:
    """A plausible intranet URL of a camera behind a 16-channel NVR (not served; no credentials)."""
    nvr, channel = divmod(index, 16)
    host = f"10.{district}.{community}.{10 + nvr}"
    if district % 2:  # two vendors' URL styles, as in a real mixed network
        return f"rtsp://{host}:554/Streaming/Channels/{channel + 1}01"
    return f"rtsp://{host}:554/cam/realmonitor?channel={channel + 1}&subtype=0"
