"""Validation of registry records: one field table per kind, then the checks across records.

Each kind is a table of fields with a converter; the same table turns a CSV row (strings), a YAML mapping
or GeoJSON properties (native types) or an in-memory record into a canonical record, so the files read by
the importer and the records written by the generator obey exactly the same rules. Converters raise
ValueError with the text of the problem; ``normalize`` adds where it happened. The checks across records
(tree, unique ids, references) are in ``checks.py``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.validation import explain_validity

from onescreen.registry.credentials import split_credentials
from onescreen.registry.records import (
    CameraRec,
    DepartmentRec,
    DoorRec,
    LineRec,
    Loc,
    NodeRec,
    PostRec,
    Problems,
    SensorRec,
    UnitRec,
    WatchRec,
    WorkerRec,
    ZoneRec,
)

LEVELS = ("city", "district", "community", "cell")  # same order as onescreen.db.models.LEVELS
WATCH_LEVELS = ("red", "orange", "yellow", "green")  # green: on file, no current risk (issue 15)
_ID = re.compile(r"[^\s/+#]+")  # ids name MQTT topic levels and Redis keys: no whitespace, '/', '+', '#'
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


# ---------------------------------------------------------------- converters (value -> value or ValueError)
def ident(maxlen: int) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError(f"must be a string, not {type(v).__name__} (quote it)")
        if len(v) > maxlen:
            raise ValueError(f"longer than {maxlen} characters")
        if not _ID.fullmatch(v):
            raise ValueError(f"{v!r} is not a valid id (no spaces, '/', '+' or '#')")
        return v
    return conv


def text(maxlen: int) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        if not isinstance(v, str):
            raise ValueError(f"must be a string, not {type(v).__name__}")
        if not v.strip():
            raise ValueError("must not be blank")
        if len(v) > maxlen:
            raise ValueError(f"longer than {maxlen} characters")
        return v
    return conv


def number(lo: float, hi: float, lo_open: bool = False) -> Callable[[Any], float]:
    def conv(v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ValueError(f"must be a number, not {type(v).__name__}")
        try:
            x = float(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a number") from None
        if not math.isfinite(x) or x < lo or x > hi or (lo_open and x == lo):
            raise ValueError(f"{v!r} is out of range {'(' if lo_open else '['}{lo:g}, {hi:g}]")
        return x
    return conv


def integer(lo: int) -> Callable[[Any], int]:
    def conv(v: Any) -> int:
        if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValueError(f"{v!r} is not an integer")
        if v < lo:
            raise ValueError(f"{v} is below {lo}")
        return v
    return conv


def choice(values: tuple[str, ...]) -> Callable[[Any], str]:
    def conv(v: Any) -> str:
        if v not in values:
            raise ValueError(f"{v!r} is not one of {', '.join(values)}")
        return v
    return conv


def hhmm(v: Any) -> str:
    if not isinstance(v, str) or not _HHMM.fullmatch(v):
        raise ValueError(f"{v!r} is not a time HH:MM (00:00..23:59)")
    return v


def boolean(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"{v!r} is not true/false")
    return v


def rtsp_url(v: Any) -> str:
    v = text(2000)(v)
    if not v.lower().startswith(("rtsp://", "rtsps://")):
        raise ValueError(f"must start with rtsp:// or rtsps:// ({v.split(':', 1)[0]!r} given)")
    return v


def env_name(v: Any) -> str:
    if not isinstance(v, str) or not _ENV.fullmatch(v):
        raise ValueError(f"{v!r} is not an environment variable name")
    return v


def _points(v: Any, what: str, closed: bool) -> list[list[float]]:
    """A ring/line of [x, y] number pairs as floats (ints accepted, canonicalised to float)."""
    if not isinstance(v, list):
        raise ValueError(f"{what} must be a list of [x, y] points")
    out = []
    for i, p in enumerate(v):
        if (not isinstance(p, (list, tuple)) or len(p) != 2
                or any(isinstance(c, bool) or not isinstance(c, (int, float)) for c in p)):
            raise ValueError(f"{what} point {i} must be two numbers [x, y], got {p!r}")
        out.append([float(p[0]), float(p[1])])
    if closed and (len(out) < 4 or out[0] != out[-1]):
        raise ValueError(f"{what} must be closed (first point repeated last) with at least 4 points")
    return out


def _polygon_coords(v: Any, what: str) -> list[list[list[float]]]:
    if not isinstance(v, list) or not v:
        raise ValueError(f"{what} must be a non-empty list of rings")
    return [_points(ring, f"{what} ring {i}", closed=True) for i, ring in enumerate(v)]


def geometry(v: Any) -> tuple[dict[str, Any], Any]:
    """Canonical GeoJSON Polygon/MultiPolygon plus its shapely shape, refusing invalid or off-earth ones."""
    if not isinstance(v, dict):
        raise ValueError("geometry must be a GeoJSON object")
    kind = v.get("type")
    if kind == "Polygon":
        coords: Any = _polygon_coords(v.get("coordinates"), "polygon")
    elif kind == "MultiPolygon":
        parts = v.get("coordinates")
        if not isinstance(parts, list) or not parts:
            raise ValueError("MultiPolygon coordinates must be a non-empty list of polygons")
        coords = [_polygon_coords(p, f"polygon {i}") for i, p in enumerate(parts)]
    else:
        raise ValueError(f"geometry type must be Polygon or MultiPolygon, not {kind!r}")
    canon = {"type": kind, "coordinates": coords}
    shp = shape(canon)
    if not shp.is_valid:
        raise ValueError(f"invalid polygon: {explain_validity(shp)}")
    minx, miny, maxx, maxy = shp.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise ValueError("coordinates must be lon/lat degrees (lon -180..180, lat -90..90)")
    return canon, shp


def label(v: Any) -> tuple[float, float]:
    if not isinstance(v, (list, tuple)) or len(v) != 2:
        raise ValueError("label must be [lon, lat]")
    return number(-180, 180)(v[0]), number(-90, 90)(v[1])


def zones(v: Any) -> dict[str, ZoneRec]:
    """Camera zones, sorted by name; coordinates are normalised image coordinates in 0..1."""
    if not isinstance(v, dict):
        raise ValueError("zones must be a mapping of zone name to {polygon, door_id}")
    out: dict[str, ZoneRec] = {}
    for name in sorted(v, key=str):
        z = v[name]
        if not isinstance(name, str) or not name.strip() or len(name) > 128 or "/" in name or name == "*":
            raise ValueError(f"zone name {name!r} must be a string of 1..128 characters without '/', not '*'")
        if isinstance(z, ZoneRec):
            z = {"polygon": z.polygon, "door_id": z.door_id}
        if not isinstance(z, dict):
            raise ValueError(f"zone {name!r} must be a mapping with polygon and door_id")
        extra = set(z) - {"polygon", "door_id"}
        if extra:
            raise ValueError(f"zone {name!r}: unknown field(s) {', '.join(sorted(map(str, extra)))}")
        pts = _points(z.get("polygon"), f"zone {name!r} polygon", closed=False)
        if len(pts) < 3:
            raise ValueError(f"zone {name!r} polygon needs at least 3 points, has {len(pts)}")
        bad = [p for p in pts if not (0.0 <= p[0] <= 1.0 and 0.0 <= p[1] <= 1.0)]
        if bad:
            raise ValueError(f"zone {name!r} point {bad[0]} is outside 0..1 (normalised image coordinates)")
        poly = shapely.Polygon(pts)
        if not poly.is_valid:
            raise ValueError(f"zone {name!r} polygon is invalid: {explain_validity(poly)}")
        door = z.get("door_id")
        out[name] = ZoneRec([(x, y) for x, y in pts], None if door is None else ident(128)(door))
    return out


IN_SIDES = ("left", "right")
LINE_KEYS = ("a", "b", "in")  # keys of one entrance line in cameras.yaml, in file order
MIN_LINE_LENGTH = 0.01  # a shorter segment cannot tell a crossing from jitter


def lines(v: Any) -> dict[str, LineRec]:
    """Camera entrance lines, sorted by name: ``{name: {a: [x, y], b: [x, y], in: left|right}}``.

    Points are normalised image coordinates in 0..1; ``in`` is the side of a -> b (image coordinates, y down)
    that is inside the gate. Names follow the zone rules (1..128 characters, no '/', not '*').
    """
    if not isinstance(v, dict):
        raise ValueError("lines must be a mapping of line name to {a, b, in}")
    out: dict[str, LineRec] = {}
    for name in sorted(v, key=str):
        ln = v[name]
        if not isinstance(name, str) or not name.strip() or len(name) > 128 or "/" in name or name == "*":
            raise ValueError(f"line name {name!r} must be a string of 1..128 characters without '/', not '*'")
        if isinstance(ln, LineRec):
            ln = {"a": list(ln.a), "b": list(ln.b), "in": ln.in_side}
        if not isinstance(ln, dict):
            raise ValueError(f"line {name!r} must be a mapping with a, b and in")
        extra = set(ln) - set(LINE_KEYS)
        if extra:
            raise ValueError(f"line {name!r}: unknown field(s) {', '.join(sorted(map(str, extra)))}; "
                             f"expected {', '.join(LINE_KEYS)}")
        missing = [k for k in LINE_KEYS if ln.get(k) is None]
        if missing:
            raise ValueError(f"line {name!r}: missing {', '.join(missing)}")
        a, b = _points([ln["a"], ln["b"]], f"line {name!r}", closed=False)
        bad = [p for p in (a, b) if not (0.0 <= p[0] <= 1.0 and 0.0 <= p[1] <= 1.0)]
        if bad:
            raise ValueError(f"line {name!r} point {bad[0]} is outside 0..1 (normalised image coordinates)")
        if math.dist(a, b) < MIN_LINE_LENGTH:
            raise ValueError(f"line {name!r} is shorter than {MIN_LINE_LENGTH} (a and b nearly the same point)")
        side = ln["in"]
        if side not in IN_SIDES:
            raise ValueError(f"line {name!r}: in {side!r} is not one of {', '.join(IN_SIDES)}")
        out[name] = LineRec((a[0], a[1]), (b[0], b[1]), side)
    return out


_PHONE = re.compile(r"\+?[0-9][0-9 -]{4,30}")


def cell_list(v: Any) -> list[str]:
    """A worker's cells: ``G-1;G-2`` in a CSV file, a list in memory; sorted, at least one, no repeats."""
    items = v.split(";") if isinstance(v, str) else v
    if not isinstance(items, (list, tuple)):
        raise ValueError("must be cell ids separated by ';'")
    out = [ident(64)(c.strip() if isinstance(c, str) else c) for c in items]
    if not out:
        raise ValueError("must name at least one cell")
    dups = sorted({c for c in out if out.count(c) > 1})
    if dups:
        raise ValueError(f"repeated cell(s) {', '.join(dups)}")
    return sorted(out)


def phone(v: Any) -> str:
    if not isinstance(v, str) or not _PHONE.fullmatch(v):
        raise ValueError(f"{v!r} is not a phone number (digits, spaces, '-', optional leading '+')")
    return v


# ---------------------------------------------------------------- field tables
@dataclass(frozen=True, slots=True)
class F:
    name: str
    conv: Callable[[Any], Any]
    required: bool = True
    default: Any = None


@dataclass(frozen=True, slots=True)
class Spec:
    kind: str  # attribute of Bundle
    file: str
    rec: type
    key: str
    fields: tuple[F, ...]
    names: tuple[str, ...] = ()  # filled from fields
    known: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(f.name for f in self.fields))
        object.__setattr__(self, "known", frozenset(self.names))


_LAT, _LON = number(-90, 90), number(-180, 180)
SPECS: dict[str, Spec] = {s.kind: s for s in (
    Spec("nodes", "grid.geojson", NodeRec, "id", (
        F("id", ident(64)), F("level", choice(LEVELS)), F("parent_id", ident(64), False), F("name", text(200)),
        F("geometry", geometry), F("households", integer(0), False), F("label", label, False))),
    Spec("doors", "doors.csv", DoorRec, "id", (
        F("id", ident(128)), F("cell_id", ident(64)), F("name", text(200)), F("lat", _LAT), F("lon", _LON))),
    Spec("cameras", "cameras.yaml", CameraRec, "id", (
        F("id", ident(128)), F("cell_id", ident(64)), F("name", text(200)), F("lat", _LAT), F("lon", _LON),
        F("rtsp_url", rtsp_url, False), F("username", text(128), False), F("streamed", boolean, False, False),
        F("nominal_fps", number(0, 1000, lo_open=True), False), F("zones", zones, False, None),
        F("password_env", env_name, False), F("password", text(256), False), F("lines", lines, False, None))),
    Spec("sensors", "sensors.csv", SensorRec, "id", (
        F("id", ident(128)), F("cell_id", ident(64)), F("kind", text(64)), F("name", text(200)),
        F("lat", _LAT), F("lon", _LON))),
    Spec("posts", "posts.csv", PostRec, "id", (
        F("id", ident(128)), F("cell_id", ident(64)), F("name", text(200)), F("lat", _LAT), F("lon", _LON),
        F("radius_m", number(0, 100_000, lo_open=True)), F("shift_start", hhmm), F("shift_end", hhmm))),
    Spec("units", "units.csv", UnitRec, "id", (
        F("id", ident(128)), F("name", text(200)), F("post_id", ident(128), False),
        F("members", integer(1)))),
    Spec("watchlist", "watchlist.csv", WatchRec, "person_id", (
        F("person_id", text(128)), F("level", choice(WATCH_LEVELS)), F("home_community_id", ident(64)),
        F("category", text(64), False), F("officer", text(64), False), F("grid_worker_id", ident(128), False),
        F("plan", text(4000), False))),
    Spec("workers", "workers.csv", WorkerRec, "id", (
        F("id", ident(64)), F("name", text(200)), F("cells", cell_list), F("phone", phone, False))),
    Spec("departments", "departments.csv", DepartmentRec, "id", (
        F("id", ident(64)), F("name", text(200)))),
)}
# Columns of the CSV files, in file order (the file-only and in-memory-only fields are not columns).
COLUMNS = {k: s.names for k, s in SPECS.items() if s.file.endswith(".csv")}
# Columns added after files were already written: a header without them still reads (as empty values).
LATER_COLUMNS = {"watchlist": ("officer", "grid_worker_id", "plan")}
# Keys of a cameras.yaml item, in file order; password_env is accepted on input but never written.
# ``lines`` is written only when a camera has some, so bundles without entrance lines stay byte-identical.
CAMERA_KEYS = ("id", "cell_id", "name", "lat", "lon", "rtsp_url", "username", "streamed", "nominal_fps", "zones",
               "lines")


def normalize(spec: Spec, raw: dict[str, Any], loc: Loc, problems: Problems) -> Any | None:
    """One raw mapping → a canonical record, or None after adding its problems."""
    rid = raw.get(spec.key)
    where = loc.at(rid)
    n_before = len(problems.items)
    extra = [k for k in raw if k not in spec.known]
    if extra:
        problems.add(where, f"unknown field(s) {', '.join(map(repr, extra))}; expected {', '.join(spec.names)}")
    vals: dict[str, Any] = {}
    for f in spec.fields:
        v = raw.get(f.name)
        if v is None:
            if f.required:
                problems.add(where, f"missing {f.name}")
            vals[f.name] = f.default
            continue
        try:
            vals[f.name] = f.conv(v)
        except ValueError as exc:
            problems.add(where, f"{f.name}: {exc}")
    if len(problems.items) > n_before:
        return None
    post = _POST.get(spec.kind)
    if post is not None:
        try:
            post(vals)
        except ValueError as exc:
            problems.add(where, str(exc))
            return None
    return spec.rec(**vals)


def _post_node(vals: dict[str, Any]) -> None:
    canon, shp = vals["geometry"]
    vals["geometry"] = canon
    if vals["label"] is None:
        pt = shp.representative_point()
        vals["label"] = (pt.x, pt.y)
    elif not shp.covers(Point(vals["label"])):
        raise ValueError(f"label {list(vals['label'])} is outside the polygon")


def _post_camera(vals: dict[str, Any]) -> None:
    """Credentials leave the URL for their own fields; password_env is resolved now, at import time."""
    env = vals.pop("password_env")
    if vals["zones"] is None:
        vals["zones"] = {}
    if vals["lines"] is None:
        vals["lines"] = {}
    if vals["rtsp_url"]:
        url, user, password = split_credentials(vals["rtsp_url"])
        if user and vals["username"] and user != vals["username"]:
            raise ValueError("username differs from the user embedded in rtsp_url")
        if password and (env or vals["password"]):
            raise ValueError("password given twice (in rtsp_url and by password_env)")
        vals["rtsp_url"] = url
        vals["username"] = vals["username"] or user
        vals["password"] = vals["password"] or password
    if env:
        if env not in os.environ:
            raise ValueError(f"password_env: environment variable {env} is not set")
        vals["password"] = os.environ[env]


_POST = {"nodes": _post_node, "cameras": _post_camera}


def to_raw(rec: Any) -> dict[str, Any]:
    """An in-memory record as the raw mapping ``normalize`` takes (so memory obeys the file rules)."""
    return {f.name: getattr(rec, f.name) for f in fields(rec)}
