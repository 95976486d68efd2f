"""Events per hour on the wall, from the ingest's hourly aggregates: never a scan of an event stream.

Ingest keeps two aggregates in the same atomic step as each append (``ingest/mqtt/store.py``):

- ``os:{pNNN}:agg:<hour>``, ``district|family`` per partition: the city and district views sum the
  partitions, read once per ``SLOW_S`` for every wall on the server (``WallReader``'s shared refresh);
- ``os:{pNNN}:aggc:<community>:<hour>``, ``cell|family`` of one community: read only while a wall is drilled
  into that community or one of its cells, one small hash per hour, so the cost follows what is on show.
  A community's figure is the sum of its cells; a cell's is its own field: both exact.

Each cache holds 8 local days of hours (7-day heat map, yesterday's bars). A past hour is re-read every
``PAST_HOUR_TTL_S`` (a late event, up to the late limit, still lands in it), the current hour when asked
and older than the caller's ``current_max_age_s``. Only the families the wall calls "events" are kept.
The builders at the bottom are pure: counts in, chart data out.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from onescreen import names

log = logging.getLogger(__name__)

EVENT_FAMILIES = frozenset((names.ACCESS,))  # "events": door events (patrol fixes and heartbeats are telemetry)
DAYS_KEPT = 8
PAST_HOUR_TTL_S = 300.0
COMMUNITY_IDLE_S = 600.0  # a community no wall has shown for this long leaves the cache

Hours = dict[str, dict[str, int]]  # local hour "YYYYMMDDHH" -> node (district or cell) -> events


def hour_keys(now: datetime) -> list[str]:
    """The local hours of the last DAYS_KEPT days, the current one first."""
    return [(now - timedelta(hours=h)).strftime("%Y%m%d%H") for h in range(24 * DAYS_KEPT)]


def events_by_node(replies: list[dict[str, str]]) -> dict[str, int]:
    """Sum ``node|family`` hashes into events per node, keeping only the event families."""
    out: dict[str, int] = {}
    for fields in replies:
        for field, n in fields.items():
            node, _, family = field.partition("|")
            if family in EVENT_FAMILIES:
                out[node] = out.get(node, 0) + int(n)
    return out


class _HourCache:
    """One aggregate's hours: (monotonic time read, events per node) by hour key."""

    def __init__(self) -> None:
        self.hours: dict[str, tuple[float, dict[str, int]]] = {}
        self.used = time.monotonic()

    def due(self, keys: list[str], current_max_age_s: float) -> list[str]:
        mono = time.monotonic()
        out = []
        for i, k in enumerate(keys):
            got = self.hours.get(k)
            if got is None or mono - got[0] > (current_max_age_s if i == 0 else PAST_HOUR_TTL_S):
                out.append(k)
        return out


class HourlyCounts:
    """The app's hour caches (one per ``WallReader``); thread-safe."""

    def __init__(self, tz: Any, partitions: int):
        self.tz = tz
        self.partitions = partitions
        self._districts = _HourCache()
        self._communities: dict[str, _HourCache] = {}
        self._keys: list[str] = []  # hour_keys of the current hour (192 strftime calls are worth keeping)
        self._lock = threading.Lock()

    def districts(self, r: redis.Redis) -> Hours:
        """Events per district and hour, every partition summed; the current hour always re-read."""
        parts = range(self.partitions)
        with self._lock:
            return self._read(r, self._districts, lambda hour: [names.hourly_counts(p, hour) for p in parts], 0.0)

    def community(self, r: redis.Redis, community_id: str, current_max_age_s: float) -> Hours:
        """Events per cell and hour of one community (one hash per hour, all in its partition)."""
        part = names.partition_of(community_id, self.partitions)
        with self._lock:
            cache = self._communities.get(community_id)
            if cache is None:
                cache = self._communities[community_id] = _HourCache()
                idle = [c for c, hc in self._communities.items() if time.monotonic() - hc.used > COMMUNITY_IDLE_S]
                for c in idle:
                    del self._communities[c]
            cache.used = time.monotonic()
            return self._read(r, cache, lambda hour: [names.community_hourly_counts(part, community_id, hour)],
                              current_max_age_s)

    def _read(self, r: redis.Redis, cache: _HourCache, keys_of: Callable[[str], list[str]],
              current_max_age_s: float) -> Hours:
        now = datetime.now(self.tz)
        if not self._keys or self._keys[0] != now.strftime("%Y%m%d%H"):
            self._keys = hour_keys(now)
        keys = self._keys
        due = cache.due(keys, current_max_age_s)
        if due:
            pipe = r.pipeline(transaction=False)
            key_lists = [keys_of(k) for k in due]
            for redis_keys in key_lists:
                for key in redis_keys:
                    pipe.hgetall(key)
            replies = pipe.execute()  # a RedisError leaves the cache as it was
            mono, i = time.monotonic(), 0
            for k, redis_keys in zip(due, key_lists):
                cache.hours[k] = (mono, events_by_node(replies[i:i + len(redis_keys)]))
                i += len(redis_keys)
            keep = set(keys)
            for k in [k for k in cache.hours if k not in keep]:
                del cache.hours[k]
        return {k: cache.hours[k][1] for k in keys}


# ---------------------------------------------------------------------- pure builders
def per_hour(hours: Hours, nodes: Callable[[str], bool] | None = None) -> dict[str, int]:
    """Events per hour of the nodes ``nodes`` accepts (None: all)."""
    return {h: sum(n for node, n in by.items() if nodes is None or nodes(node)) for h, by in hours.items()}


def hourly(counts: dict[str, int], now: datetime) -> dict[str, Any]:
    """Today's hours so far and yesterday's 24, in local time."""
    today = now.strftime("%Y%m%d")
    yday = (now - timedelta(days=1)).strftime("%Y%m%d")
    return {"today": [counts.get(f"{today}{h:02d}", 0) for h in range(now.hour + 1)],
            "yesterday": [counts.get(f"{yday}{h:02d}", 0) for h in range(24)]}


def _days(now: datetime) -> list[str]:
    return [(now - timedelta(days=d)).strftime("%Y%m%d") for d in range(6, -1, -1)]


def heat_by_day(counts: dict[str, int], now: datetime) -> dict[str, Any]:
    """Day × hour of day over the last 7 days (a district, community or cell)."""
    return {"kind": "day", "rows": [[d, [counts.get(f"{d}{h:02d}", 0) for h in range(24)]] for d in _days(now)]}


def heat_by_district(hours: Hours, districts: list[str], now: datetime) -> dict[str, Any]:
    """District × hour of day, summed over the last 7 days (the city view)."""
    grid = {d: [0] * 24 for d in districts}
    for day in _days(now):
        for h in range(24):
            for district, n in hours.get(f"{day}{h:02d}", {}).items():
                if district in grid:
                    grid[district][h] += n
    return {"kind": "district", "rows": [[d, grid[d]] for d in districts]}


# ---------------------------------------------------------------------- cases in the heat map (issue 14)
CASE_HOURS_TTL_S = 30.0  # cases arrive by the dozen a day: read again at most this often, shared by every wall


def case_hours(rows: list[tuple[Any, ...]], tz: Any) -> Hours:
    """Cases per local hour key and node from ``(district, community, cell, reported_at)`` rows: each case counts
    once for each of its district, community and cell, so one ``Hours`` answers every level of the heat map
    (``heat_by_district`` reads the district keys, ``scope_hours`` one node)."""
    out: Hours = {}
    for *nodes, at in rows:
        at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive UTC
        by = out.setdefault(at.astimezone(tz).strftime("%Y%m%d%H"), {})
        for node in nodes:
            if node:
                by[node] = by.get(node, 0) + 1
    return out


def scope_hours(hours: Hours, node: str) -> dict[str, int]:
    """One node's figure per hour key (the drilled heat map's input)."""
    return {h: by[node] for h, by in hours.items() if node in by}


def with_cases(heat: dict[str, Any], cases: dict[str, Any] | None) -> dict[str, Any]:
    """The events heat map with the cases of the same rows × hours beside it (``cases``: the same builder's
    output on the case hours); None keeps the events alone (the case read failed)."""
    if cases is None:
        return heat
    by_row = {key: vals for key, vals in cases["rows"]}
    return {**heat, "cases": [by_row.get(key, [0] * 24) for key, _vals in heat["rows"]]}


class CaseHours:
    """Cases reported in the last DAYS_KEPT days by local hour and node (merged reports left out, as in
    ``cases.queries.hot_spots``), cached ``CASE_HOURS_TTL_S``; thread-safe."""

    def __init__(self, tz: Any):
        self.tz = tz
        self._at = -CASE_HOURS_TTL_S
        self._hours: Hours | None = {}
        self._lock = threading.Lock()

    def read(self, engine: Any) -> Hours | None:
        """None while the database cannot answer (the heat map shows events alone); tried again, and logged,
        once per ``CASE_HOURS_TTL_S``, not on every refresh."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.orm import Session

        from onescreen.db.models import Case

        with self._lock:
            if time.monotonic() - self._at < CASE_HOURS_TTL_S:
                return self._hours
            self._at = time.monotonic()
            since = datetime.now(self.tz) - timedelta(days=DAYS_KEPT)
            try:
                with Session(engine) as s:
                    rows = s.execute(select(Case.district_id, Case.community_id, Case.cell_id, Case.reported_at)
                                     .where(Case.reported_at >= since, Case.merged_into.is_(None))).all()
            except SQLAlchemyError as exc:
                log.warning("wall: case hours unavailable: %s", exc.__class__.__name__)
                self._hours = None
                return None
            self._hours = case_hours([tuple(r) for r in rows], self.tz)
            return self._hours
