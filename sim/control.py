"""Commands to a running simulator, through the Redis list ``names.SIM_CONTROL``, and what they change.

Scenarios that need the simulator's cooperation (a watched person who stops appearing, a unit that
leaves its post, a camera that dies) run in their own process; they ``send`` a small JSON command and the
simulator ``drain``s the list at every step. A list, not pub/sub, so a command sent while the simulator
restarts is not lost; each command carries ``sent_at`` and is dropped once stale, so a command nobody
picked up does not fire hours later. Each command name maps to one handler in ``COMMANDS``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
import redis

from onescreen import names
from sim.geometry import metres_to_deg

log = logging.getLogger(__name__)

STALE_AFTER_S = 120.0  # a command older than this when the simulator sees it is ignored


@dataclass
class Overrides:
    """Deviations from normal behaviour, each with the epoch second it ends (inf = until told)."""

    excluded: dict[str, float] = field(default_factory=dict)  # person_id: never seen at a door
    away: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # unit_id: (lat, lon, until)
    silent: dict[str, float] = field(default_factory=dict)  # device id: sends nothing at all
    muted: dict[str, float] = field(default_factory=dict)  # camera/sensor id: no edge counts from us
    # person_id: (community seen in instead of home, until) — key_person_hiding (issue 15)
    hiding: dict[str, tuple[str, float]] = field(default_factory=dict)

    def active(self, table: str, key: str, now: float) -> bool:
        entry = getattr(self, table).get(key)
        if entry is None:
            return False
        until = entry[2] if table == "away" else entry[1] if table == "hiding" else entry
        return now < until

    def expire(self, now: float) -> list[tuple[str, str]]:
        """Drop the overrides that have ended; returns (table, key) of each, so side effects can be undone."""
        ended = []
        for table in TABLES:
            entries = getattr(self, table)
            for key in [k for k, v in entries.items()
                        if now >= (v[2] if table == "away" else v[1] if table == "hiding" else v)]:
                del entries[key]
                ended.append((table, key))
        return ended

    def summary(self) -> dict[str, int]:
        return {t: len(getattr(self, t)) for t in TABLES}


TABLES = ("excluded", "away", "silent", "muted", "hiding")


class SimulatorLike(Protocol):
    """What a command handler may touch on the simulator."""

    city: Any
    overrides: Overrides

    def set_stream(self, camera_id: str, enabled: bool) -> bool: ...


# ------------------------------------------------------------------ sending and receiving
def send(client: redis.Redis, cmd: str, **args: Any) -> dict:
    """Queue one command for the running simulator; returns the document sent."""
    if cmd not in COMMANDS:
        raise KeyError(f"unknown simulator command {cmd!r}")
    doc = {"cmd": cmd, "sent_at": time.time(), **args}
    client.rpush(names.SIM_CONTROL, orjson.dumps(doc))
    return doc


def drain(client: redis.Redis, limit: int = 100) -> list[dict]:
    """Take up to ``limit`` queued commands (oldest first); malformed ones are logged and skipped."""
    raw = client.lpop(names.SIM_CONTROL, limit) or []
    docs = []
    for item in raw:
        try:
            doc = orjson.loads(item)
        except orjson.JSONDecodeError:
            log.warning("simulator command is not JSON: %r", item[:200])
            continue
        if isinstance(doc, dict):
            docs.append(doc)
    return docs


def simulator_alive(client: redis.Redis, within_s: float = 10.0) -> bool:
    """Whether some simulator process wrote its heartbeat recently (worker heartbeats in names.PROCESSES)."""
    recent = client.zrangebyscore(names.PROCESSES, time.time() - within_s, "+inf")
    return any(m.startswith(b"sim:") for m in recent)


def apply(sim: SimulatorLike, doc: dict, now: float) -> str | None:
    """Carry out one command; returns what was done (for the log) or None if it was refused."""
    handler = COMMANDS.get(doc.get("cmd"))
    if handler is None:
        log.warning("unknown simulator command %r", doc.get("cmd"))
        return None
    if now - float(doc.get("sent_at", now)) > STALE_AFTER_S:
        log.warning("ignoring stale simulator command %s sent %.0f s ago", doc["cmd"], now - doc["sent_at"])
        return None
    try:
        return handler(sim, doc, now)
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("bad simulator command %s: %s", doc, exc)
        return None


def _until(doc: dict, now: float) -> float:
    d = doc.get("duration_s")
    return math.inf if d is None else now + float(d)


# ------------------------------------------------------------------ handlers
def _exclude_person(sim: SimulatorLike, doc: dict, now: float) -> str:
    pid = str(doc["person_id"])
    sim.overrides.excluded[pid] = _until(doc, now)
    return f"person {pid} no longer appears at any door"


def _include_person(sim: SimulatorLike, doc: dict, now: float) -> str:
    pid = str(doc["person_id"])
    sim.overrides.excluded.pop(pid, None)
    return f"person {pid} appears again"


def _hide_person(sim: SimulatorLike, doc: dict, now: float) -> str:
    """The person keeps away from home and turns up at the doors of ``community_id`` (key_person_hiding)."""
    pid, community = str(doc["person_id"]), str(doc["community_id"])
    if community not in sim.city.doors_by_community:
        raise ValueError(f"no community with doors: {community!r}")
    sim.overrides.hiding[pid] = (community, _until(doc, now))
    return f"person {pid} keeps away from home, seen in {community} once a local day at least"


def _off_post(sim: SimulatorLike, doc: dict, now: float) -> str:
    unit = sim.city.unit(str(doc["unit_id"]))
    if unit is None or unit.post is None:
        raise ValueError(f"no unit with a post: {doc['unit_id']!r}")
    until = _until(doc, now)
    if doc.get("mode", "away") == "silent":
        sim.overrides.silent[unit.id] = until
        return f"unit {unit.id} terminal silent"
    distance, bearing = float(doc.get("distance_m", 350.0)), math.radians(float(doc.get("bearing_deg", 60.0)))
    dlat, dlon = metres_to_deg(unit.post.lat, distance * math.cos(bearing), distance * math.sin(bearing))
    sim.overrides.away[unit.id] = (unit.post.lat + dlat, unit.post.lon + dlon, until)
    return f"unit {unit.id} {distance:.0f} m from post {unit.post.id}"


def _camera_down(sim: SimulatorLike, doc: dict, now: float) -> str:
    cam = sim.city.camera(str(doc["camera_id"]))
    if cam is None:
        raise ValueError(f"no camera {doc['camera_id']!r}")
    sim.overrides.silent[cam.id] = _until(doc, now)
    stream = sim.set_stream(cam.id, False)
    return f"camera {cam.id} down (heartbeats stopped{', RTSP mount down' if stream else ''})"


def _mute_counts(sim: SimulatorLike, doc: dict, now: float) -> str:
    device = str(doc["device_id"])
    sim.overrides.muted[device] = _until(doc, now)
    return f"no simulated edge counts from {device}"


COMMANDS: dict[str, Callable[[SimulatorLike, dict, float], str]] = {
    "exclude_person": _exclude_person,
    "include_person": _include_person,
    "hide_person": _hide_person,
    "off_post": _off_post,
    "camera_down": _camera_down,
    "mute_counts": _mute_counts,
}
