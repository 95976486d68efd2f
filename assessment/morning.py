"""The morning check (每日晨检, Yanping: at 8 a.m. the district center checks every full-time grid worker):
today's lists of grid workers offline, with no entries, or with visits due.

Each list is a provider in ``CHECKS`` the cases / key-persons code registers (``register``), called as
``fn(session, communities, day, tz)`` -> rows ``{"worker_id", "name", "community_id", "detail"}``. The three
lists below read the real sources (the sampled ``worker_online_hour``, ``case_record``, ``person_visit`` and
``watch_person``); a list with no function would be shown as "source not available", never as an empty list
that reads as "everyone is fine". Definitions: docs/assessment.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from assessment import people
from onescreen.db.models import Case, PersonVisit, WatchPerson, WorkerOnlineDay


@dataclass
class Check:
    name: str  # workers_offline | workers_no_entries | visits_due
    source: str  # the pending source's text key (assess.source.<source>)
    fn: Callable[[Session, set[str] | None, date, str], list[dict[str, Any]]] | None = None


CHECKS: dict[str, Check] = {c.name: c for c in (
    Check("workers_offline", "workers"), Check("workers_no_entries", "cases"), Check("visits_due", "visits"))}


def register(name: str, fn: Callable[[Session, set[str] | None, date, str], list[dict[str, Any]]]) -> None:
    """Give a morning list its source (the cases / key-persons code calls this at import)."""
    CHECKS[name].fn = fn


def _worker_rows(session: Session, communities: set[str] | None, where: Any, detail: Any) -> list[dict[str, Any]]:
    wp = people.worker_places()
    q = select(wp.c.worker_id, wp.c.name, wp.c.community_id, detail(wp)).where(where(wp)).order_by(wp.c.worker_id)
    if communities is not None:
        q = q.where(wp.c.community_id.in_(sorted(communities)))
    return [{"worker_id": w, "name": n, "community_id": c, "detail": d} for w, n, c, d in session.execute(q)]


def _midnight(day: date, tz: str, days_before: int = 0) -> datetime:
    return datetime.combine(day - timedelta(days=days_before), time(), ZoneInfo(tz)).astimezone(UTC)


def workers_offline(session: Session, communities: set[str] | None, day: date, tz: str) -> list[dict[str, Any]]:
    """Grid workers the sampler has not once found online on ``day`` (``worker_online_day``); detail = when
    one was last found online, or None for never."""
    h = WorkerOnlineDay
    online_today = select(h.worker_id).where(h.day == day.isoformat(), h.online > 0)
    last = select(func.max(h.last_online_at)).correlate_except(h)
    return _worker_rows(session, communities, lambda wp: wp.c.worker_id.not_in(online_today),
                        lambda wp: last.where(h.worker_id == wp.c.worker_id).scalar_subquery())


def workers_no_entries(session: Session, communities: set[str] | None, day: date, tz: str) -> list[dict[str, Any]]:
    """Grid workers with no case reported (as reporter of a ``grid`` case) and no visit recorded (as visitor)
    since local midnight of the day before: yesterday and today so far."""
    since = _midnight(day, tz, 1)
    reported = select(Case.reporter).where(Case.source == "grid", Case.reported_at >= since)
    visited = select(PersonVisit.visitor).where(PersonVisit.recorded_at >= since)
    return _worker_rows(session, communities,
                        lambda wp: and_(wp.c.worker_id.not_in(reported), wp.c.worker_id.not_in(visited)),
                        lambda wp: literal(None))


def visits_due(session: Session, communities: set[str] | None, day: date, tz: str) -> list[dict[str, Any]]:
    """Grid workers answering for at least one person whose visit is due by the end of today (overdue or due
    today, never visited included); detail = how many such persons."""
    v, p = PersonVisit, WatchPerson
    last = select(v.person_id, func.max(v.at).label("at")).group_by(v.person_id).subquery()
    due = (select(p.grid_worker_id.label("worker_id"), func.count().label("n")).select_from(p)
           .outerjoin(last, last.c.person_id == p.person_id)
           .where(p.grid_worker_id.is_not(None), people._due_before(_midnight(day, tz, -1), last.c.at, p.level))
           .group_by(p.grid_worker_id).subquery())
    return _worker_rows(session, communities, lambda wp: wp.c.worker_id.in_(select(due.c.worker_id)),
                        lambda wp: select(due.c.n).where(due.c.worker_id == wp.c.worker_id).scalar_subquery())


for _name, _fn in (("workers_offline", workers_offline), ("workers_no_entries", workers_no_entries),
                   ("visits_due", visits_due)):
    register(_name, _fn)


def lists(session: Session, communities: set[str] | None, day: date,
          tz: str = "Asia/Shanghai") -> dict[str, list[dict[str, Any]] | None]:
    """Every list for ``day`` (local, in ``tz``) inside ``communities``; None for a list whose source is not
    installed."""
    return {name: (c.fn(session, communities, day, tz) if c.fn is not None else None) for name, c in CHECKS.items()}
