"""Plain typed records of a registry bundle, and the error that refuses one.

The records are what the bundle files mean once parsed, independent of both the files and the database:
the importer turns them into rows, the exporter builds them from rows, and the simulated-city generator
builds them in memory and hands them to ``write_bundle``. They are plain dataclasses (not pydantic) because
a city holds tens of thousands of them and validation happens once, in ``validate.py``, with file and line
numbers that a model validator would not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_PROBLEMS = 20  # an import refused with more problems than this lists the first ones only


class RegistryError(Exception):
    """A bundle (or database content) that cannot be imported; ``problems`` lists each one."""

    def __init__(self, problems: list[str], truncated: bool = False, source: str = "registry bundle"):
        self.problems = list(problems)
        self.truncated = truncated
        more = f" (stopped after the first {len(problems)})" if truncated else ""
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source} refused, {len(problems)} problem(s){more}:\n{lines}")


class TooManyProblems(Exception):
    """Raised inside validation once MAX_PROBLEMS are collected, to stop early."""


@dataclass(slots=True)
class Loc:
    """Where a record came from, for messages: a file plus a line (CSV/YAML) or an index (GeoJSON, memory)."""

    file: str
    line: int | None = None
    index: int | None = None
    zone_lines: dict[str, int] | None = None  # cameras.yaml: zone name -> line of its key

    def at(self, rec_id: Any = None, zone: str | None = None) -> str:
        """Human-readable location, e.g. ``doors.csv line 5 (id 'D-1')``."""
        if zone is not None and self.zone_lines and zone in self.zone_lines:
            where = f"{self.file} line {self.zone_lines[zone]}"
        elif self.line is not None:
            where = f"{self.file} line {self.line}"
        elif self.file.endswith(".geojson"):
            where = f"{self.file} feature {self.index}"
        else:
            where = f"{self.file} record {self.index}"
        details = []
        if isinstance(rec_id, str):
            details.append(f"id {rec_id!r}")
        if zone is not None:
            details.append(f"zone {zone!r}")
        return f"{where} ({', '.join(details)})" if details else where


class Problems:
    """Collects problems so one refused import reports many of them, not just the first."""

    def __init__(self, limit: int = MAX_PROBLEMS):
        self.items: list[str] = []
        self.limit = limit

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}")
        if len(self.items) >= self.limit:
            raise TooManyProblems

    def __bool__(self) -> bool:
        return bool(self.items)


@dataclass(slots=True)
class NodeRec:
    """A grid node; ``label`` is (lon, lat) and is computed from the polygon when None."""

    id: str
    level: str  # city | district | community | cell
    parent_id: str | None
    name: str
    geometry: dict[str, Any]  # GeoJSON Polygon or MultiPolygon, lon/lat
    households: int | None = None
    label: tuple[float, float] | None = None


@dataclass(slots=True)
class DoorRec:
    id: str
    cell_id: str
    name: str
    lat: float
    lon: float


@dataclass(slots=True)
class ZoneRec:
    """A camera zone: polygon in normalised image coordinates (0..1), optionally the door it watches."""

    polygon: list[tuple[float, float]]
    door_id: str | None = None


@dataclass(slots=True)
class LineRec:
    """An entrance line: a directed segment a -> b in normalised image coordinates (0..1).

    ``in_side`` says which side of the segment is inside the gate, seen walking from a to b: ``left`` or
    ``right`` (in image coordinates, y pointing down). A foot point moving to that side is counted ``in``.
    """

    a: tuple[float, float]
    b: tuple[float, float]
    in_side: str = "left"


def line_doc(ln: LineRec) -> dict[str, Any]:
    """A line as its file/JSON mapping (the same shape in cameras.yaml, the database and the worker)."""
    return {"a": [float(ln.a[0]), float(ln.a[1])], "b": [float(ln.b[0]), float(ln.b[1])], "in": ln.in_side}


@dataclass(slots=True)
class CameraRec:
    """A camera. ``password`` is never written to a bundle (see docs/registry.md, "Secrets")."""

    id: str
    cell_id: str
    name: str
    lat: float
    lon: float
    rtsp_url: str | None = None  # without credentials once normalised
    username: str | None = None
    streamed: bool = False
    nominal_fps: float | None = None
    zones: dict[str, ZoneRec] = field(default_factory=dict)
    password: str | None = field(default=None, repr=False)
    lines: dict[str, LineRec] = field(default_factory=dict)  # entrance lines by name


@dataclass(slots=True)
class SensorRec:
    id: str
    cell_id: str
    kind: str
    name: str
    lat: float
    lon: float


@dataclass(slots=True)
class PostRec:
    """A patrol post; shifts are local "HH:MM", end before start means overnight, equal means all day."""

    id: str
    cell_id: str
    name: str
    lat: float
    lon: float
    radius_m: float = 200.0
    shift_start: str = "00:00"
    shift_end: str = "00:00"


@dataclass(slots=True)
class UnitRec:
    id: str
    name: str
    post_id: str | None = None
    members: int = 2


@dataclass(slots=True)
class WatchRec:
    person_id: str
    level: str  # red | orange | yellow | green
    home_community_id: str
    category: str | None = None
    officer: str | None = None  # responsible officer (username)
    grid_worker_id: str | None = None  # responsible grid worker
    plan: str | None = None  # the plan (一人一策), free text


@dataclass(slots=True)
class WorkerRec:
    """A grid worker (网格员): the cells they walk; ``phone`` is stored, shown masked."""

    id: str
    name: str
    cells: list[str] = field(default_factory=list)
    phone: str | None = None


@dataclass(slots=True)
class DepartmentRec:
    """A department (职能部门) a community can assign a case to: 公安, 城管, 住建…"""

    id: str
    name: str


@dataclass(slots=True)
class Bundle:
    """A whole city registry in memory; record order does not matter (files are written sorted)."""

    nodes: list[NodeRec] = field(default_factory=list)
    doors: list[DoorRec] = field(default_factory=list)
    cameras: list[CameraRec] = field(default_factory=list)
    sensors: list[SensorRec] = field(default_factory=list)
    posts: list[PostRec] = field(default_factory=list)
    units: list[UnitRec] = field(default_factory=list)
    watchlist: list[WatchRec] = field(default_factory=list)
    workers: list[WorkerRec] = field(default_factory=list)
    departments: list[DepartmentRec] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of records of each kind, keyed like the attributes."""
        return {kind: len(getattr(self, kind)) for kind in KINDS}


KINDS = ("nodes", "doors", "cameras", "sensors", "posts", "units", "watchlist", "workers", "departments")
