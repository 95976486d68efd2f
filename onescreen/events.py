"""Typed events: what the CONTRACT's MQTT payloads become once parsed, validated and placed in the city.

The payload models are strict (unknown values refused, ids bounded) and are the single definition the
ingestor, the simulator and the tests share. ``Place`` is the registry's answer to "where is this device";
ingest attaches it so no downstream consumer has to look it up again. ``StreamRecord`` is how an enriched
event (``EventDoc``) is written to and read from a partition stream, the one place that knows the wire form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypedDict

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from onescreen.timeutil import parse_ts

# CONTRACT timestamps: ISO 8601 *with* offset or epoch milliseconds; pydantic's own datetime parsing would also
# take naive strings and epoch seconds, so the contract's parser runs first.
Ts = Annotated[datetime, BeforeValidator(parse_ts)]
Level = Literal["red", "orange", "yellow", "green"]
LEVELS: tuple[Level, ...] = ("red", "orange", "yellow", "green")


class _Payload(BaseModel):
    # Devices may add fields we do not know yet (CONTRACT: extend, never change), so extra keys are allowed.
    # Strict: "14" is not 14 and "true" is not true: a wrong type is a device bug worth rejecting visibly.
    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class AccessPayload(_Payload):
    event_id: str = Field(min_length=1, max_length=128)
    ts: Ts
    person_id: str = Field(min_length=1, max_length=128)
    direction: Literal["in", "out", "unknown"]
    result: Literal["granted", "denied"]
    door_id: str | None = Field(None, min_length=1, max_length=128)
    method: Literal["card", "face", "qr", "password", "remote", "other"] | None = None
    resident: bool | None = None


class PatrolPayload(_Payload):
    ts: Ts
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    event_id: str | None = Field(None, min_length=1, max_length=128)
    unit_id: str | None = Field(None, min_length=1, max_length=128)
    accuracy_m: float | None = Field(None, ge=0)
    status: Literal["patrolling", "on_post", "responding", "off_duty"] | None = None


class CountPayload(_Payload):
    ts: Ts
    persons: int = Field(ge=0, le=10_000)
    event_id: str | None = Field(None, min_length=1, max_length=128)
    camera_id: str | None = Field(None, min_length=1, max_length=128)
    zone: str = Field("*", min_length=1, max_length=128)


class StatusPayload(_Payload):
    ts: Ts
    online: bool
    event_id: str | None = Field(None, min_length=1, max_length=128)


class Place(BaseModel):
    """Where a device or post is: its cell and the cell's ancestors, plus a point for the map."""

    model_config = ConfigDict(frozen=True)

    cell_id: str
    community_id: str
    district_id: str
    lat: float
    lon: float


# ---------------------------------------------------------------- the stream record
class EventDoc(TypedDict, total=False):
    """An enriched event as it stands on a partition stream: the envelope every family shares.

    The family's own fields (``door_id``/``person_id``…, ``unit_id``…, ``camera_id``/``zones``…) ride beside
    these; the rules read the document as a plain dict, so decoding costs one ``orjson.loads`` and nothing more
    (the engine decodes tens of thousands a second).
    """

    family: str
    ts: int  # event time, epoch ms
    event_id: str  # absent on video analysis entries (camera@ts stands in)
    rx: int  # time received by the ingestor, epoch ms
    cell_id: str
    community_id: str
    district_id: str
    lat: float
    lon: float


class BadRecord(ValueError):
    """A stream entry whose ``d`` field is JSON but not an object."""


class StreamRecord:
    """The wire form of an event on a Redis stream, written by the ingestors and read by the engine.

    One field, ``d``, holding the event document as compact JSON. Every writer and reader goes through here:
    the ingestors (``ingest/mqtt/store.py``'s Lua, ``ingest/video/publish.py``'s packed XADD), the engine's
    derived events, and every decoder (engine, dead letters, desks, benches, tests). A bad entry raises the
    plain error that says what is wrong (``KeyError`` no field, ``orjson.JSONDecodeError`` not JSON,
    ``BadRecord`` not an object; all but the first are ValueErrors): their names are what the dead letters count.
    """

    FIELD = "d"
    _KEYS = (FIELD.encode(), FIELD)  # redis-py answers bytes, or str with decode_responses

    @staticmethod
    def payload(doc: Mapping[str, Any]) -> bytes:
        """The value of the ``d`` field (for writers that pass the field name themselves: Lua, packed XADD)."""
        return orjson.dumps(doc)

    @classmethod
    def encode(cls, doc: Mapping[str, Any]) -> dict[str, bytes]:
        """The fields of an XADD of ``doc``."""
        return {cls.FIELD: orjson.dumps(doc)}

    @classmethod
    def raw(cls, fields: Mapping[Any, Any]) -> Any:
        """The undecoded ``d`` value of an entry's fields; KeyError when there is none."""
        for k in cls._KEYS:
            if k in fields:
                return fields[k]
        raise KeyError(cls.FIELD)

    @classmethod
    def decode(cls, fields: Mapping[Any, Any]) -> EventDoc:
        """The event document of an entry's fields (KeyError, JSONDecodeError or BadRecord otherwise)."""
        raw = fields.get(cls._KEYS[0])  # the engine's hot path: bytes keys, one lookup
        doc = orjson.loads(raw if raw is not None else cls.raw(fields))
        if not isinstance(doc, dict):
            raise BadRecord(f"the {cls.FIELD!r} field is a JSON {type(doc).__name__}, not an object")
        return doc  # type: ignore[return-value]
