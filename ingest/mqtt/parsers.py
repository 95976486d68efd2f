"""MQTT message → accepted event or rejection with a CONTRACT reason. Pure: no I/O, never raises.

One parser per topic family, all the same shape and registered in ``PARSERS``: it validates the payload with
the family's typed model, checks the topic/payload id agreement, places the device in the city from the
registry cache and returns the enriched event. ``parse_message`` does what every family shares (size,
topic routing, JSON, clock skew) and turns any validation error into the CONTRACT's machine-readable reason:
``invalid_json``, ``missing_field:<name>``, ``bad_value:<name>``, ``unknown_device``, ``unknown_topic``,
``too_large``, ``clock_skew``, ``topic_mismatch``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from pydantic import BaseModel, ValidationError

from onescreen import names
from onescreen.events import AccessPayload, CountPayload, PatrolPayload, Place, StatusPayload
from onescreen.timeutil import epoch_ms

MAX_PAYLOAD = 64 * 1024


class Registry(Protocol):
    """What the parsers need from the registry cache (onescreen.registry.cache.RegistryCache)."""

    def place_of_device(self, device_id: str) -> Place | None: ...
    def place_of_unit(self, unit_id: str) -> Place | None: ...
    def device_kind(self, device_id: str) -> str | None: ...
    def unit(self, unit_id: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Limits:
    prefix: str = "city"
    partitions: int = 8
    late_limit_ms: int = 86_400_000
    future_limit_ms: int = 300_000


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid, placed event: ``doc`` is what goes into the family's stream (and the hot state)."""

    family: str
    event_id: str
    partition: int
    device_id: str
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str
    detail: str = ""


class Reject(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _derived_id(topic: str, ts_ms: int) -> str:
    """Stable id for payloads without ``event_id`` (CONTRACT: from topic + ts), so redeliveries dedup."""
    return "d-" + hashlib.blake2b(f"{topic}|{ts_ms}".encode(), digest_size=12).hexdigest()


def _check_id(payload_id: str | None, topic_id: str, field: str) -> None:
    if payload_id is not None and payload_id != topic_id:
        raise Reject("topic_mismatch", f"{field} {payload_id!r} != topic's {topic_id!r}")


def _placed(doc: dict[str, Any], place: Place) -> dict[str, Any]:
    doc.update(cell_id=place.cell_id, community_id=place.community_id, district_id=place.district_id)
    return doc


# ------------------------------------------------------------------ one parser per family
Parser = Callable[[str, dict[str, Any], str, Registry], tuple[BaseModel, str | None, Place, dict[str, Any]]]


def parse_access(door_id: str, raw: dict[str, Any], topic: str, reg: Registry):
    p = AccessPayload.model_validate(raw)
    _check_id(p.door_id, door_id, "door_id")
    place = reg.place_of_device(door_id) if reg.device_kind(door_id) == "door" else None
    if place is None:
        raise Reject("unknown_device", f"door {door_id!r} is not in the registry")
    doc = {"door_id": door_id, "person_id": p.person_id, "direction": p.direction, "result": p.result,
           "method": p.method, "resident": p.resident, "lat": place.lat, "lon": place.lon}
    return p, p.event_id, place, doc


def parse_patrol(unit_id: str, raw: dict[str, Any], topic: str, reg: Registry):
    p = PatrolPayload.model_validate(raw)
    _check_id(p.unit_id, unit_id, "unit_id")
    place = reg.place_of_unit(unit_id) if reg.unit(unit_id) is not None else None
    if place is None:
        raise Reject("unknown_device", f"patrol unit {unit_id!r} is not in the registry (or has no post)")
    doc = {"unit_id": unit_id, "lat": p.lat, "lon": p.lon, "accuracy_m": p.accuracy_m, "status": p.status}
    return p, p.event_id, place, doc


def parse_count(camera_id: str, raw: dict[str, Any], topic: str, reg: Registry):
    p = CountPayload.model_validate(raw)
    _check_id(p.camera_id, camera_id, "camera_id")
    place = reg.place_of_device(camera_id)
    if place is None:
        raise Reject("unknown_device", f"camera {camera_id!r} is not in the registry")
    doc = {"camera_id": camera_id, "zone": p.zone, "persons": p.persons, "source": "edge",
           "lat": place.lat, "lon": place.lon}
    return p, p.event_id, place, doc


def parse_status(device_id: str, raw: dict[str, Any], topic: str, reg: Registry):
    p = StatusPayload.model_validate(raw)
    place = reg.place_of_device(device_id)
    kind = reg.device_kind(device_id)
    if place is None and reg.unit(device_id) is not None:  # a patrol terminal's heartbeat
        place, kind = reg.place_of_unit(device_id), "unit"
    if place is None:
        raise Reject("unknown_device", f"device {device_id!r} is not in the registry")
    doc = {"device_id": device_id, "device_kind": kind, "online": p.online, "lat": place.lat, "lon": place.lon}
    return p, p.event_id, place, doc


# family -> (topic shape after the prefix: segments with None where the id stands, parser)
PARSERS: dict[str, tuple[tuple[str | None, ...], Parser]] = {
    names.ACCESS: (("access", None), parse_access),
    names.PATROL: (("patrol", None, "position"), parse_patrol),
    names.COUNT: (("video", None, "count"), parse_count),
    names.STATUS: (("device", None, "status"), parse_status),
}


def route(topic: str, prefix: str) -> tuple[str, str] | None:
    """``city/access/D-1`` → ``("access", "D-1")``; None for a topic outside the CONTRACT."""
    if not topic.startswith(prefix + "/"):
        return None
    parts = topic[len(prefix) + 1:].split("/")
    for family, (shape, _parser) in PARSERS.items():
        if len(parts) == len(shape) and all(s is None or s == p for s, p in zip(shape, parts)):
            ident = parts[shape.index(None)]
            return (family, ident) if ident else None
    return None


def _reason(err: ValidationError) -> Rejected:
    first = err.errors(include_url=False)[0]
    field = ".".join(str(x) for x in first["loc"]) or "payload"
    kind = "missing_field" if first["type"] == "missing" else "bad_value"
    return Rejected(f"{kind}:{field}", first["msg"])


def parse_message(topic: str, payload: bytes, received_ms: int, reg: Registry, limits: Limits) -> Accepted | Rejected:
    """Validate and place one message; every failure becomes a Rejected with a CONTRACT reason."""
    if len(payload) > MAX_PAYLOAD:
        return Rejected("too_large", f"{len(payload)} bytes > {MAX_PAYLOAD}")
    routed = route(topic, limits.prefix)
    if routed is None:
        return Rejected("unknown_topic", topic[:256])
    family, ident = routed
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        return Rejected("invalid_json", str(exc)[:200])
    if not isinstance(raw, dict):
        return Rejected("invalid_json", f"payload is a JSON {type(raw).__name__}, not an object")
    try:
        model, event_id, place, doc = PARSERS[family][1](ident, raw, topic, reg)
    except ValidationError as err:
        return _reason(err)
    except Reject as rej:
        return Rejected(rej.reason, rej.detail)
    ts_ms = epoch_ms(model.ts)  # type: ignore[attr-defined]
    if ts_ms > received_ms + limits.future_limit_ms:
        return Rejected("clock_skew", f"ts {ts_ms - received_ms} ms in the future")
    if ts_ms < received_ms - limits.late_limit_ms:
        return Rejected("clock_skew", f"ts {received_ms - ts_ms} ms old, over the late limit")
    event_id = event_id or _derived_id(topic, ts_ms)
    doc.update(family=family, event_id=event_id, ts=ts_ms, rx=received_ms)
    _placed(doc, place)
    return Accepted(family, event_id, names.partition_of(place.community_id, limits.partitions), ident, doc)
