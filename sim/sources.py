"""The simulated devices, one source per message family, all with the same shape.

A source is asked ``due(now)`` at every simulator step and returns the (topic, payload) pairs its devices
would have sent since the last step. Door traffic is a Poisson process whose rate follows the daily
rhythm; watched persons turn up at doors now and then; patrol terminals, edge counters and heartbeats are
periodic and spread by ``Ticker``. Sources consult the shared ``Overrides`` that scenario commands set, so
a scenario changes behaviour without any source knowing about scenarios.
"""

from __future__ import annotations

import heapq
import math
import random
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np

from onescreen.geo import distance_m
from onescreen.names import Topics
from onescreen.timeutil import on_shift
from sim import payloads
from sim.city import SimCity, SimUnit
from sim.control import Overrides
from sim.geometry import metres_to_deg
from sim.rhythm import Ticker, activity

Message = tuple[str, dict]
COUNTING_ZONES = ("square", "entrance", "road")  # zones whose edge counters report (gates are video's)
ZONE_CAPACITY = {"square": 7.0, "entrance": 4.0, "road": 5.0, "*": 6.0}
NORMAL_MAX_PERSONS = 8  # normal traffic stays under the gathering threshold; scenarios go above it
RESIDENTS_PER_COMMUNITY = 400  # credentials in use per community (a resident is seen again and again)


@dataclass
class SimContext:
    """What every source shares."""

    city: SimCity
    topics: Topics
    overrides: Overrides
    rng: random.Random
    tz: ZoneInfo
    rate: float  # door events per second at the busiest hour

    def local(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, self.tz)

    def utc(self, now: float) -> datetime:
        return datetime.fromtimestamp(now, UTC)


class Source(Protocol):
    name: str

    def due(self, now: float) -> Iterator[Message]: ...


def resident_id(community_id: str, index: int) -> str:
    """A resident's pseudonymous credential id, stable per community and index."""
    return f"p-{zlib.crc32(f'{community_id}/{index}'.encode()) & 0xFFFFFF:06x}"


class AccessSource:
    """Door controllers: residents and visitors coming and going, about 5% denied."""

    name = "access"

    def __init__(self, ctx: SimContext, seed: int = 0):
        self.ctx = ctx
        self.np = np.random.default_rng(seed)
        self.watch_ids = {w.person_id for w in ctx.city.watchlist}
        self._last: float | None = None

    def due(self, now: float) -> Iterator[Message]:
        last, self._last = self._last, now
        if last is None or not self.ctx.city.doors:
            return
        local = self.ctx.local(now)
        n = int(self.np.poisson(self.ctx.rate * activity(local) * min(now - last, 10.0)))
        for _ in range(n):
            yield self._event(now, local)

    def _event(self, now: float, local: datetime) -> Message:
        rng = self.ctx.rng
        door = rng.choice(self.ctx.city.doors)
        resident = rng.random() < 0.85
        if resident:
            person = resident_id(door.community_id, rng.randrange(RESIDENTS_PER_COMMUNITY))
        if not resident or person in self.watch_ids:  # never impersonate a watched person by accident
            person = f"p-{rng.getrandbits(24):06x}"
        out_share = 0.65 if 5 <= local.hour < 11 else 0.35 if 16 <= local.hour < 23 else 0.5
        r = rng.random()
        direction = "unknown" if r < 0.03 else "out" if r < 0.03 + out_share * 0.97 else "in"
        denied = rng.random() < (0.03 if resident else 0.16)
        payload = payloads.access(rng, self.ctx.utc(now), door.id, person, direction=direction,
                                  result="denied" if denied else "granted", resident=resident,
                                  tz=self.ctx.tz.key)
        return self.ctx.topics.access(door.id), payload


def work_community(person_id: str, home: str, communities: list[str]) -> str | None:
    """A watched person's workplace: a community other than home, stable per person (its routine)."""
    others = [c for c in communities if c != home]
    return others[zlib.crc32(person_id.encode()) % len(others)] if others else None


class WatchSource:
    """Watched persons pass doors now and then (mostly in their home community) unless excluded.

    Every few hours on average: often enough that no red person looks missing (24 h), rarely enough that
    three of them meeting in one community within 30 min (key_person_gathering) stays an occasional event.
    Everyone is first seen within the first hour, so the rules have a last sighting to start from.
    """

    name = "watch"

    def __init__(self, ctx: SimContext, mean_interval_s: float = 3 * 3600.0, first_within_s: float = 3600.0):
        self.ctx = ctx
        self.mean = mean_interval_s
        self._queue: list[tuple[float, str]] = []
        self._people = {w.person_id: w for w in ctx.city.watchlist}
        self._first_within = first_within_s
        self._hidden_day: dict[str, object] = {}  # person_id -> local date last seen while hiding

    def due(self, now: float) -> Iterator[Message]:
        rng = self.ctx.rng
        if not self._queue and self._people:  # first call: everyone turns up once early on
            self._queue = [(now + rng.uniform(0, min(self._first_within, self.mean)), pid)
                           for pid in sorted(self._people)]
            heapq.heapify(self._queue)
        yield from self._hidden(now)
        while self._queue and self._queue[0][0] <= now:
            _, pid = heapq.heappop(self._queue)
            heapq.heappush(self._queue, (now + rng.expovariate(1.0 / self.mean), pid))
            if self.ctx.overrides.active("excluded", pid, now):
                continue
            msg = self._sighting(now, self._people[pid])
            if msg is not None:
                yield msg

    def _hidden(self, now: float) -> Iterator[Message]:
        """A hiding person (scenario key_person_hiding) is seen away from home at least once every local day:
        at once, then right after each local midnight, so the rule's three local days pass as soon as real
        time allows (just over 24 h when started shortly before midnight, under 48 h otherwise)."""
        today = self.ctx.local(now).date()
        for pid, (community, until) in list(self.ctx.overrides.hiding.items()):
            if now >= until or pid not in self._people or self._hidden_day.get(pid) == today:
                continue
            self._hidden_day[pid] = today
            msg = self._sighting(now, self._people[pid])
            if msg is not None:
                yield msg

    def _pool(self, now: float, person) -> list:
        """Where a person is seen now: the hiding place if hiding; else the routine — on weekdays 08–18 local
        mostly at work (a community of its own, not home), otherwise mostly at home."""
        rng, city = self.ctx.rng, self.ctx.city
        hiding = self.ctx.overrides.hiding.get(person.person_id)
        if hiding is not None and now < hiding[1]:
            return city.doors_by_community.get(hiding[0]) or []
        local = self.ctx.local(now)
        work = work_community(person.person_id, person.home_community_id, sorted(city.doors_by_community))
        at_work = work is not None and local.weekday() < 5 and 8 <= local.hour < 18
        if at_work and rng.random() < 0.7:
            return city.doors_by_community.get(work) or city.doors
        pool = city.doors_by_community.get(person.home_community_id) if rng.random() < 0.9 else None
        return pool or city.doors

    def _sighting(self, now: float, person) -> Message | None:
        rng = self.ctx.rng
        pool = self._pool(now, person)
        if not pool:
            return None
        door = rng.choice(pool)
        payload = payloads.access(rng, self.ctx.utc(now), door.id, person.person_id,
                                  direction=rng.choice(("in", "out")), result="granted",
                                  resident=door.community_id == person.home_community_id, tz=self.ctx.tz.key)
        return self.ctx.topics.access(door.id), payload


class _Route:
    """A closed loop of waypoints around a post, walked at a steady pace."""

    def __init__(self, unit: SimUnit, seed: int):
        rng = random.Random(zlib.crc32(unit.id.encode()) ^ seed)
        post = unit.post
        self.points = []
        n = rng.randint(4, 7)
        for k in range(n):
            bearing = 2 * math.pi * (k + rng.uniform(-0.3, 0.3)) / n
            r = rng.uniform(0.3, 0.8) * post.radius_m
            dlat, dlon = metres_to_deg(post.lat, r * math.cos(bearing), r * math.sin(bearing))
            self.points.append((post.lat + dlat, post.lon + dlon))
        self.points.append(self.points[0])
        self.legs = [distance_m(*a, *b) for a, b in zip(self.points, self.points[1:], strict=False)]
        self.length = sum(self.legs)
        self.speed = rng.uniform(0.8, 1.6)  # m/s: on foot, with stops
        self.phase = rng.uniform(0, self.length)
        self.accuracy = rng.uniform(4.0, 15.0)

    def at(self, t: float) -> tuple[float, float]:
        s = (self.phase + t * self.speed) % self.length
        for a, b, leg in zip(self.points, self.points[1:], self.legs, strict=False):
            if s <= leg:
                f = s / leg if leg else 0.0
                return a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
            s -= leg
        return self.points[0]


class PatrolSource:
    """Patrol terminals: a fix every few seconds while on shift, walking a loop around the post."""

    name = "patrol"

    def __init__(self, ctx: SimContext, period_s: float = 5.0, seed: int = 0):
        self.ctx = ctx
        units = [u for u in ctx.city.units if u.post is not None]
        self.routes = {u.id: _Route(u, seed) for u in units}
        self.units = {u.id: u for u in units}
        self.ticker = Ticker(units, period_s, key=lambda u: u.id)
        self._on_shift: dict[str, bool] = {}

    def due(self, now: float) -> Iterator[Message]:
        local = self.ctx.local(now)
        for unit in self.ticker.due(now):
            if self.ctx.overrides.active("silent", unit.id, now):
                continue
            msg = self._fix(unit, now, local)
            if msg is not None:
                yield msg

    def _fix(self, unit: SimUnit, now: float, local: datetime) -> Message | None:
        rng, post = self.ctx.rng, unit.post
        duty = on_shift(post.shift_start, post.shift_end, local)
        was, self._on_shift[unit.id] = self._on_shift.get(unit.id), duty
        route = self.routes[unit.id]
        if not duty:
            if was is not True:
                return None  # off shift: the terminal stays quiet apart from heartbeats
            lat, lon, status = post.lat, post.lon, "off_duty"  # one last fix when the shift ends
        elif self.ctx.overrides.active("away", unit.id, now):
            lat, lon, _ = self.ctx.overrides.away[unit.id]
            status = "patrolling"
        else:
            lat, lon = route.at(now)
            status = "on_post" if distance_m(lat, lon, post.lat, post.lon) < 40 else "patrolling"
        noise = route.accuracy / 2
        dlat, dlon = metres_to_deg(lat, rng.gauss(0, noise), rng.gauss(0, noise))
        payload = payloads.patrol(rng, self.ctx.utc(now), unit.id, lat + dlat, lon + dlon,
                                  accuracy_m=route.accuracy, status=status, tz=self.ctx.tz.key)
        return self.ctx.topics.patrol_position(unit.id), payload


class CountSource:
    """Edge counters: cameras counting on-device and counting boxes, one report per zone every period."""

    name = "count"

    def __init__(self, ctx: SimContext, period_s: float = 10.0, max_counters: int = 400):
        self.ctx = ctx
        cams = [c for c in ctx.city.cameras if not c.streamed]  # streamed ones are counted by ingest-video
        zones = [(c.id, z) for c in cams for z in c.zones if z in COUNTING_ZONES]
        if len(zones) > max_counters:  # a big city: an even spread of them, the same every run
            step = len(zones) / max_counters
            zones = [zones[int(i * step)] for i in range(max_counters)]
        zones += [(s.id, "*") for s in ctx.city.sensors if s.kind == "edge_counter"]
        self.ticker = Ticker(zones, period_s, key=lambda cz: f"{cz[0]}/{cz[1]}")

    def due(self, now: float) -> Iterator[Message]:
        rng = self.ctx.rng
        level = activity(self.ctx.local(now))
        for device, zone in self.ticker.due(now):
            if any(self.ctx.overrides.active(table, device, now) for table in ("muted", "silent")):
                continue
            mean = ZONE_CAPACITY.get(zone, 4.0) * level
            persons = min(NORMAL_MAX_PERSONS, max(0, round(rng.gauss(mean, 0.4 * mean + 0.5))))
            payload = payloads.count(rng, self.ctx.utc(now), device, zone, persons, tz=self.ctx.tz.key)
            yield self.ctx.topics.video_count(device), payload


class HeartbeatSource:
    """Every device says it is alive once per period, each at its own moment."""

    name = "status"

    def __init__(self, ctx: SimContext, period_s: float = 60.0):
        self.ctx = ctx
        self.ticker = Ticker(ctx.city.device_ids(), period_s)

    def due(self, now: float) -> Iterator[Message]:
        for device in self.ticker.due(now):
            if not self.ctx.overrides.active("silent", device, now):
                payload = payloads.status(self.ctx.rng, self.ctx.utc(now), tz=self.ctx.tz.key)
                yield self.ctx.topics.device_status(device), payload
