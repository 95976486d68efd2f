"""Grid workers online, sampled with the cameras into ``worker_online_hour`` (one row per worker and hour).

The /grid page's heartbeat keeps ``names.grid_online(worker)`` alive with a TTL (``cases.online_ttl_s``); a
key is live state only, so the sampler reads every active worker's key at each tick (one pipeline of EXISTS)
and adds the result to the worker's hour: ``samples`` taken, ``online`` of them. The online rate over any
period is then Σ online / Σ samples and "online at least once" is Σ online > 0, without keeping heartbeats.
Per worker, not per community as the cameras are, because the ranking by worker and the morning check need
the single worker: 2,500 workers × 744 hours is 1.9 million small rows a month, read by one GROUP BY.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import people
from onescreen import names
from onescreen.db.models import WorkerOnlineHour


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


def add_sample(session: Session, hour: datetime, states: dict[str, tuple[bool, str | None, str | None]]) -> int:
    """Add one sample of every worker to the hour's rows; the caller commits. Returns the workers online."""
    rows = {r.worker_id: r for r in session.execute(
        select(WorkerOnlineHour).where(WorkerOnlineHour.hour == hour)).scalars()}
    n = 0
    for worker, (online, community, district) in states.items():
        row = rows.get(worker)
        if row is None:
            row = WorkerOnlineHour(hour=hour, worker_id=worker, community_id=community, district_id=district,
                                   samples=0, online=0)
            session.add(row)
        row.samples += 1
        row.online += online
        n += online
    return n
