"""Typed events: what the CONTRACT's MQTT payloads become once parsed, validated and placed in the city.

The payload models are strict (unknown values refused, ids bounded) and are the single definition the
ingestor, the simulator and the tests share. ``Place`` is the registry's answer to "where is this device";
ingest attaches it so no downstream consumer has to look it up again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
