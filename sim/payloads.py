"""Pure builders of the four CONTRACT §1 payloads, as real devices would send them.

Real fleets are untidy in legal ways, and the ingestor must cope with all of them, so the builders are
too: about one timestamp in ten is epoch milliseconds instead of ISO 8601, optional fields (``door_id``,
``method``, a patrol fix's ``event_id``) are sometimes left out. Nothing here is ever outside the
CONTRACT: the JSON Schemas in ``onescreen/schemas`` check that in the tests. Randomness comes from the
``rng`` argument only, so a seed reproduces a payload exactly.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime

from onescreen.timeutil import epoch_ms, iso

EPOCH_MS_SHARE = 0.1
METHODS_RESIDENT = (("card", 45), ("face", 45), ("password", 5), ("qr", 5))
METHODS_VISITOR = (("qr", 50), ("remote", 30), ("password", 10), ("other", 10))


def event_id(rng: random.Random) -> str:
    """A uuid4 string drawn from ``rng`` (reproducible, still a valid version-4 UUID)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def ts_value(rng: random.Random, now: datetime, tz: str = "Asia/Shanghai") -> str | int:
    """The instant as ISO 8601 with offset (``+08:00``), or now and then as epoch milliseconds."""
    return epoch_ms(now) if rng.random() < EPOCH_MS_SHARE else iso(now, tz)


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


def access(rng: random.Random, now: datetime, door_id: str, person_id: str, *, direction: str,
           result: str, resident: bool | None = None, method: str | None = None,
           tz: str = "Asia/Shanghai") -> dict:
    """A door-access event; ``method`` is drawn to fit a resident or a visitor unless given."""
    doc = {"event_id": event_id(rng), "ts": ts_value(rng, now, tz)}
    if rng.random() < 0.9:
        doc["door_id"] = door_id
    doc.update(person_id=person_id, direction=direction, result=result)
    if method is None and rng.random() < 0.95:
        method = _weighted(rng, METHODS_RESIDENT if resident is not False else METHODS_VISITOR)
    if method is not None:
        doc["method"] = method
    if resident is not None:
        doc["resident"] = resident
    return doc


def patrol(rng: random.Random, now: datetime, unit_id: str, lat: float, lon: float, *, accuracy_m: float,
           status: str, tz: str = "Asia/Shanghai") -> dict:
    """A position fix from a unit's terminal."""
    doc: dict = {"ts": ts_value(rng, now, tz)}
    if rng.random() < 0.9:  # some terminals send no event id; the ingestor derives one
        doc["event_id"] = event_id(rng)
    doc.update(unit_id=unit_id, lat=round(lat, 6), lon=round(lon, 6), accuracy_m=round(accuracy_m, 1),
               status=status)
    return doc


def count(rng: random.Random, now: datetime, camera_id: str, zone: str, persons: int,
          tz: str = "Asia/Shanghai") -> dict:
    """An edge people count for one zone (``*`` = the whole view)."""
    return {"event_id": event_id(rng), "ts": ts_value(rng, now, tz), "camera_id": camera_id, "zone": zone,
            "persons": int(persons)}


def status(rng: random.Random, now: datetime, online: bool = True, tz: str = "Asia/Shanghai") -> dict:
    """A heartbeat (``online: true``) or a last will (``online: false``), exactly the CONTRACT's shape."""
    return {"ts": ts_value(rng, now, tz), "online": online}
