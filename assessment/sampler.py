"""``AssessmentWorker``: samples camera health, patrol on-post and grid workers online into the hourly SQL
aggregates at a fixed cadence.

A process of its own (``onescreen assessment``, started by the demo) with the common Worker shape, never a
page load: the wall and the desks only read what it wrote. Each tick (epoch s // ``assessment.sample_every_s``)
is taken by exactly one sampler city-wide (SET NX on ``names.assessment_tick``), so several copies may run
for availability without double-counting. Old hours are deleted after ``assessment.retention_days``.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import redis
from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from assessment import cameras, patrol, workers
from onescreen import names
from onescreen.db.models import CameraHealthHour, PatrolPostHour, WorkerOnlineDay
from onescreen.db.session import make_engine, session_factory
from onescreen.redisconn import connect
from onescreen.registry.cache import RegistryCache
from onescreen.worker import Worker

log = logging.getLogger(__name__)

ROLLUP_FIRST_HOURS = 48  # entrance counts copied to SQL by the first rollup after a start
ROLLUP_HOURS = 2         # then, once an hour: the hour just ended and the current one


def sample_once(client: Any, registry: RegistryCache, sessions: Any, now: float, tz: str = "Asia/Shanghai") -> int:
    """Take one sample of every camera, every patrol unit and every grid worker (online or not) and add it to
    its hour; returns the communities written."""
    counts = cameras.read(client, registry, now)
    district_of = {c: registry.district_of(c) for c in counts}
    fixes = {}
    for unit, raw in client.hgetall(names.PATROL_LATEST).items():
        try:
            fixes[_s(unit)] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
    verdicts, place = {}, {}
    for uid in registry.unit_ids():
        post = registry.post_of_unit(uid)
        verdicts[uid] = patrol.verdict(post, fixes.get(uid), now, tz)
        community = registry.community_of(post.cell_id) if post else None
        place[uid] = (community, registry.district_of(community) if community else None)
    with sessions() as session:
        hour = cameras.hour_of(now)
        n = cameras.add_sample(session, hour, counts, district_of)
        patrol.add_sample(session, hour, verdicts, place)
        day = datetime.fromtimestamp(now, ZoneInfo(tz)).date()
        workers.add_sample(session, day, now, workers.read(client, session))
        session.commit()
    return n


def _s(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else v


class AssessmentWorker(Worker):
    """One sample per tick; the registry is re-read when an import bumped it."""

    kind = "assessment"

    def __init__(self, settings, instance: str | None = None):
        super().__init__(settings, instance)
        self.samples = 0
        self.last_tick = -1
        self.errors = 0
        self.rollup_hour = -1  # the epoch hour of the last entrance rollup (issue 18)

    def setup(self) -> None:
        self.redis = connect(self.settings.redis, decode=True)
        self.engine = make_engine(self.settings.database.url)
        self.sessions = session_factory(self.engine)
        self.registry = RegistryCache.load(self.engine)

    def step(self) -> None:
        every = self.settings.assessment.sample_every_s
        now = time.time()
        tick = int(now // every)
        if tick != self.last_tick:
            key = names.assessment_tick(tick)
            try:
                if self.redis.set(key, self.instance, nx=True, ex=2 * every):
                    try:
                        self.registry.refresh_if_changed()
                        n = sample_once(self.redis, self.registry, self.sessions, now, self.settings.city.timezone)
                    except BaseException:
                        self.redis.delete(key)  # let this tick be taken again (by us or another sampler)
                        raise
                    self.samples += 1
                    log.debug("camera health sampled: %d communities", n)
                    if self.samples % 12 == 1:
                        self._trim()
                    self._entrance_rollup(now)  # after the sample: a failure here never re-takes the tick
                self.last_tick = tick
            except (redis.RedisError, SQLAlchemyError, OSError) as exc:
                self.errors += 1
                log.warning("camera health sample failed (%s); retried next step", exc.__class__.__name__)
        self.stop_event.wait(1.0)

    def _entrance_rollup(self, now: float) -> None:
        """Keep the entrance counts' SQL history without cron (issue 18): on the first tick this worker takes in
        a new hour, copy the last hours from Redis (``ingest.video.entrance_history.rollup``, idempotent). The
        first run after a start copies ``ROLLUP_FIRST_HOURS`` to fill a gap; then ``ROLLUP_HOURS`` (the hour
        just ended, with its late crossings, and the current one so far)."""
        hour = int(now // 3600)
        if hour == self.rollup_hour:
            return
        from ingest.video.entrance_history import rollup

        hours = ROLLUP_FIRST_HOURS if self.rollup_hour < 0 else ROLLUP_HOURS
        n = rollup(self.redis, self.engine, ZoneInfo(self.settings.city.timezone), hours)
        self.rollup_hour = hour
        log.debug("entrance counts rolled up: %d hourly rows", n)

    def _trim(self) -> None:
        cutoff = datetime.now(UTC) - timedelta(days=self.settings.assessment.retention_days)
        with self.sessions() as session:
            session.execute(delete(CameraHealthHour).where(CameraHealthHour.hour < cutoff))
            session.execute(delete(PatrolPostHour).where(PatrolPostHour.hour < cutoff))
            session.execute(delete(WorkerOnlineDay).where(WorkerOnlineDay.day < cutoff.date().isoformat()))
            session.commit()

    def teardown(self) -> None:
        if getattr(self, "redis", None) is not None:
            self.redis.close()
        if getattr(self, "engine", None) is not None:
            self.engine.dispose()

    def health(self) -> dict[str, Any]:
        return {"samples": self.samples, "errors": self.errors,
                "every_s": self.settings.assessment.sample_every_s}
