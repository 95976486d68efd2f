"""Hourly entrance counts from Redis into SQL (``entrance_count_hour``), for the history beyond Redis' days.

Redis holds the live hourly hashes (``ingest.video.entrances``); ``rollup`` copies the hours of the last
``hours`` hours into SQL, replacing what an earlier run wrote for the same (community, hour), so running it
again (cron, ``onescreen entrances rollup``) is harmless and a late crossing of a past hour is picked up on the
next run. One transaction per run.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import redis
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from ingest.video.entrances import parse_hour
from onescreen import names
from onescreen.db.models import EntranceCountHour

log = logging.getLogger(__name__)


def rollup(client: redis.Redis, engine: Engine, zone: ZoneInfo, hours: int = 48,
           now: datetime | None = None) -> int:
    """Copy the Redis hourly hashes of the last ``hours`` local hours into SQL; the number of rows written."""
    now = now or datetime.now(zone)
    oldest = (now.astimezone(zone) - timedelta(hours=hours)).strftime("%Y%m%d%H")
    found: list[tuple[str, str, str]] = []
    for raw in client.scan_iter(match=names.ENTRANCE_HOURLY_MATCH, count=1000):
        key = raw.decode() if isinstance(raw, bytes) else raw
        parsed = names.parse_entrance_hourly(key)
        if parsed is not None and parsed[1] >= oldest:
            found.append((key, *parsed))
    pipe = client.pipeline(transaction=False)
    for key, _community, _hour in found:
        pipe.hgetall(key)
    rows = []
    for (_key, community, hour), fields in zip(found, pipe.execute()):
        for gate, counts in parse_hour(hour, fields).gates.items():
            camera_id, _, line = gate.partition("/")
            rows.append(EntranceCountHour(camera_id=camera_id, line=line, hour=hour, community_id=community,
                                          n_in=counts["in"], n_out=counts["out"]))
    with Session(engine) as s, s.begin():
        for _key, community, hour in found:
            s.execute(delete(EntranceCountHour).where(EntranceCountHour.community_id == community,
                                                      EntranceCountHour.hour == hour))
        s.add_all(rows)
    log.info("entrance counts: %s rows from %s community-hours into SQL", len(rows), len(found))
    return len(rows)
