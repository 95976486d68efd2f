"""Entrance counts per local hour in Redis: written by ingest-video when someone crosses, read by screens.

One hash per community and local hour (``names.entrance_hourly``), fields ``camera/line|in`` and
``camera/line|out`` plus the community totals ``*|in`` and ``*|out``: a screen gets a gate's and the
community's figures with one HGETALL per hour (``read_hours``; ``screen_figures`` sums them for a panel). The hour is the city's (``city.timezone``), like the other
hourly aggregates, so "today" is the local day. Writes happen only on frames with a crossing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from onescreen import names


def local_hour(ts: float, zone: ZoneInfo) -> str:
    """The local hour bucket ``YYYYMMDDHH`` of epoch seconds ``ts``."""
    return datetime.fromtimestamp(ts, zone).strftime("%Y%m%d%H")


def hourly_increments(camera_id: str, crossed: dict[str, dict[str, int]]) -> dict[str, int]:
    """The hash increments of one frame's crossings ``{line: {direction: n}}``: per line and community total."""
    out: dict[str, int] = {}
    for line, per in crossed.items():
        for direction, n in per.items():
            out[names.entrance_field(camera_id, line, direction)] = n
            total = names.entrance_field(camera_id, names.ENTRANCE_TOTAL, direction)
            out[total] = out.get(total, 0) + n
    return out


def add_crossings(pipe: redis.client.Pipeline, community_id: str, camera_id: str, hour: str,
                  crossed: dict[str, dict[str, int]], ttl_s: int) -> None:
    """Queue the increments of one frame's crossings on ``pipe`` (the caller executes it)."""
    key = names.entrance_hourly(community_id, hour)
    for fld, n in hourly_increments(camera_id, crossed).items():
        pipe.hincrby(key, fld, n)
    pipe.expire(key, ttl_s)


@dataclass(frozen=True, slots=True)
class EntranceHour:
    """One community's crossings in one local hour: per gate ``{"C-1/gate": {"in": n, "out": n}}`` and totals."""

    hour: str
    gates: dict[str, dict[str, int]]
    total_in: int
    total_out: int


def parse_hour(hour: str, fields: dict[Any, Any]) -> EntranceHour:
    """An ``entrance_hourly`` hash (str or bytes fields) as an EntranceHour."""
    gates: dict[str, dict[str, int]] = {}
    totals = {"in": 0, "out": 0}
    for raw_field, raw_n in fields.items():
        fld = raw_field.decode() if isinstance(raw_field, bytes) else str(raw_field)
        where, _, direction = fld.rpartition("|")
        if direction not in totals:
            continue
        if where == names.ENTRANCE_TOTAL:
            totals[direction] = int(raw_n)
        else:
            gates.setdefault(where, {"in": 0, "out": 0})[direction] = int(raw_n)
    return EntranceHour(hour, gates, totals["in"], totals["out"])


def read_hours(client: redis.Redis, community_id: str, hours: Iterable[str]) -> list[EntranceHour]:
    """The community's entrance figures for some local hours (missing hours read as zero), one round trip."""
    hours = list(hours)
    pipe = client.pipeline(transaction=False)
    for hour in hours:
        pipe.hgetall(names.entrance_hourly(community_id, hour))
    return [parse_hour(h, f) for h, f in zip(hours, pipe.execute())]


def today_hours(now: datetime) -> list[str]:
    """The local hours of ``now``'s day up to its current hour, the current one first."""
    return [(now - timedelta(hours=h)).strftime("%Y%m%d%H") for h in range(now.hour + 1)]


def screen_figures(hours: list[EntranceHour], top: int = 5) -> dict[str, Any]:
    """What an entrances panel shows, from today's hours with the current one first (``today_hours``): in and
    out today, in and out in the current hour, and the busiest gates today (by people through, in + out)."""
    gates: dict[str, dict[str, int]] = {}
    for h in hours:
        for gate, c in h.gates.items():
            g = gates.setdefault(gate, {"in": 0, "out": 0})
            g["in"] += c["in"]
            g["out"] += c["out"]
    busiest = sorted(gates.items(), key=lambda kv: (-(kv[1]["in"] + kv[1]["out"]), kv[0]))[:top]
    current = hours[0] if hours else EntranceHour("", {}, 0, 0)
    return {"today_in": sum(h.total_in for h in hours), "today_out": sum(h.total_out for h in hours),
            "hour_in": current.total_in, "hour_out": current.total_out,
            "busiest": [{"gate": g, **c} for g, c in busiest]}
