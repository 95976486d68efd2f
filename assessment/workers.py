"""Grid workers online, sampled with the cameras into ``worker_online_day`` (one row per worker and local day).

The /grid page's heartbeat keeps ``names.grid_online(worker)`` alive with a TTL (``cases.online_ttl_s``); a
key is live state only, so the sampler reads every registered worker's key at each tick (one pipeline of
EXISTS) and adds the result to the worker's day: ``samples`` taken, ``online`` of them, the last sample that
found it online. The online rate over any period is then Σ online / Σ samples and "online at least once" is
Σ online > 0, without keeping heartbeats.

Per worker (the ranking by worker and the morning check need the single worker) and per local day, not per
hour like the cameras: every period (day, week, month) is whole local days, so a day row is exact, and a
month at 2,500 workers is 77,500 rows instead of 1.9 million hour rows (measured: docs/assessment.md).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import people
from onescreen import names
from onescreen.db.models import WorkerOnlineDay


def read(client: Any, session: Session) -> dict[str, tuple[bool, str | None, str | None]]:
    """worker -> (online now, community, district) for every registered grid worker."""
    wp = people.worker_places()
    workers = session.execute(select(wp.c.worker_id, wp.c.community_id, wp.c.district_id)).all()
    if not workers:
        return {}
    pipe = client.pipeline(transaction=False)
    for w, _, _ in workers:
        pipe.exists(names.grid_online(w))
    alive = pipe.execute()
    return {w: (bool(a), c, d) for (w, c, d), a in zip(workers, alive, strict=True)}


def add_sample(session: Session, day: date, at: float,
               states: dict[str, tuple[bool, str | None, str | None]]) -> int:
    """Add one sample (taken at epoch ``at``) of every worker to the local ``day``'s rows; the caller commits.
    Returns the workers online."""
    key = day.isoformat()
    rows = {r.worker_id: r for r in session.execute(
        select(WorkerOnlineDay).where(WorkerOnlineDay.day == key)).scalars()}
    when = datetime.fromtimestamp(at, UTC)
    n = 0
    for worker, (online, community, district) in states.items():
        row = rows.get(worker)
        if row is None:
            row = WorkerOnlineDay(day=key, worker_id=worker, community_id=community, district_id=district,
                                  samples=0, online=0)
            session.add(row)
        row.samples += 1
        if online:
            row.online += 1
            row.last_online_at = when
            n += 1
    return n
