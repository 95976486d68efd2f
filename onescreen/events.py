"""Typed events: what the CONTRACT's MQTT payloads become once parsed, validated and placed in the city.

The payload models are strict (unknown values refused, ids bounded) and are the single definition the
ingestor, the simulator and the tests share. ``Place`` is the registry's answer to "where is this device";
ingest attaches it so no downstream consumer has to look it up again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Id = str  # device/person ids: 1..128 chars, validated in the models below
Level = Literal["red", "orange", "yellow", "green"]
LEVELS: tuple[Level, ...] = ("red", "orange", "yellow", "green")
LEVEL_ZH = {"red": "红色", "orange": "橙色", "yellow": "黄色", "green": "绿色"}


class _Payload(BaseModel):
    # Devices may add fields we do not know yet (CONTRACT: extend, never change), so extra keys are kept.
    model_config = ConfigDict(extra="allow", frozen=True)


class AccessPayload(_Payload):
    event_id: str = Field(min_length=1, max_length=128)
    ts: datetime
    person_id: str = Field(min_length=1, max_length=128)
    direction: Literal["in", "out", "unknown"]
    result: Literal["granted", "denied"]
    door_id: str | None = Field(None, min_length=1, max_length=128)
    method: Literal["card", "face", "qr", "password", "remote", "other"] | None = None
    resident: bool | None = None


class PatrolPayload(_Payload):
    ts: datetime
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    event_id: str | None = Field(None, min_length=1, max_length=128)
    unit_id: str | None = Field(None, min_length=1, max_length=128)
    accuracy_m: float | None = Field(None, ge=0)
    status: Literal["patrolling", "on_post", "responding", "off_duty"] | None = None


class CountPayload(_Payload):
    ts: datetime
    persons: int = Field(ge=0, le=10_000)
    event_id: str | None = Field(None, min_length=1, max_length=128)
    camera_id: str | None = Field(None, min_length=1, max_length=128)
    zone: str = Field("*", min_length=1, max_length=128)


class StatusPayload(_Payload):
    ts: datetime
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
