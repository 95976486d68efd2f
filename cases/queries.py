"""Every scoped read of cases: the list/queue, one case, the wall's feed and counts, duplicates, the huddle.

One ordering everywhere (CONTRACT §6): overdue first, then red → orange → yellow, then newest. Scope comes
from ``scope.sql_filter`` so the API, the desks and the wall cannot disagree about who sees what.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session

from cases import lifecycle
from cases.scope import sql_filter
from cases.store import aware
from onescreen.commands import Actor, Invalid
from onescreen.db.models import Case, CasePhoto
from onescreen.geo import distance_m


def _overdue(now: datetime) -> Any:
    return and_(Case.status.in_(lifecycle.OPEN_STATUSES), Case.deadline < now)


def _order(now: datetime) -> list[Any]:
    rank = sql_case(lifecycle.LEVEL_RANK, value=Case.level, else_=3)
    return [sql_case((_overdue(now), 0), else_=1), rank, Case.reported_at.desc(), Case.id.desc()]


def listing(session: Session, actor: Actor, now: datetime, *, status: str | None = None,
            level: str | None = None, category: str | None = None, community_id: str | None = None,
            overdue: bool = False, open_only: bool = False, limit: int = 200) -> list[Case]:
    """Cases the actor sees, filtered, overdue first then red → orange → yellow, then newest."""
    if status is not None and status not in lifecycle.STATUSES:
        raise Invalid("cases.bad_status", f"status must be one of {', '.join(lifecycle.STATUSES)}")
    if level is not None and level not in lifecycle.LEVELS:
        raise Invalid("cases.bad_level", f"level must be one of {', '.join(lifecycle.LEVELS)}")
    q = select(Case)
    where = sql_filter(actor)
    if where is not None:
        q = q.where(where)
    if status is not None:
        q = q.where(Case.status == status)
    elif open_only or overdue:
        q = q.where(Case.open.is_(True))
    if level is not None:
        q = q.where(Case.level == level)
    if category is not None:
        q = q.where(Case.category == category)
    if community_id is not None:
        q = q.where(Case.community_id == community_id)
    if overdue:
        q = q.where(_overdue(now))
    return list(session.execute(q.order_by(*_order(now)).limit(limit)).scalars())


def _within(q: Any, actor: Actor, community_ids: list[str] | None, cell_id: str | None) -> Any:
    where = sql_filter(actor)
    if where is not None:
        q = q.where(where)
    if community_ids is not None:
        q = q.where(Case.community_id.in_(community_ids))
    if cell_id is not None:
        q = q.where(Case.cell_id == cell_id)
    return q


def counts(session: Session, actor: Actor, now: datetime, community_ids: list[str] | None = None,
           cell_id: str | None = None) -> dict[str, int]:
    """Open (not archived) and overdue cases the actor sees (the wall's two KPIs), optionally in some communities
    or one cell (the map's drill-down)."""
    q = select(func.count(), func.sum(sql_case((_overdue(now), 1), else_=0))).where(Case.open.is_(True))
    total, overdue = session.execute(_within(q, actor, community_ids, cell_id)).one()
    return {"open": int(total or 0), "overdue": int(overdue or 0)}


def feed(session: Session, actor: Actor, now: datetime, limit: int = 12,
         community_ids: list[str] | None = None, cell_id: str | None = None) -> list[Case]:
    """The wall's case feed: overdue ones first, then the newest open ones."""
    q = _within(select(Case).where(Case.open.is_(True)), actor, community_ids, cell_id)
    overdue = sql_case((_overdue(now), 0), else_=1)
    return list(session.execute(q.order_by(overdue, Case.reported_at.desc(), Case.id.desc()).limit(limit)).scalars())


def points(session: Session, actor: Actor, now: datetime, community_ids: list[str] | None = None,
           cell_id: str | None = None, limit: int = 1000) -> list[list[Any]]:
    """Open cases with a position, for the wall's map: ``[case_id, lat, lon, display level, overdue]``."""
    q = select(Case.case_id, Case.lat, Case.lon, Case.level, Case.status, _overdue(now).label("late")).where(
        Case.open.is_(True), Case.lat.is_not(None))
    q = _within(q, actor, community_ids, cell_id).order_by(Case.reported_at.desc()).limit(limit)
    return [[r.case_id, r.lat, r.lon, lifecycle.display_level(r.level, r.status), bool(r.late)]
            for r in session.execute(q)]


def photo(session: Session, case: Case, n: int, thumb: bool = False) -> bytes | None:
    col = CasePhoto.thumb if thumb else CasePhoto.jpeg
    return session.execute(select(col).where(CasePhoto.case_pk == case.id, CasePhoto.n == n)).scalar()


def duplicates(session: Session, actor: Actor, case: Case, radius_m: float, window_h: float) -> list[Case]:
    """Open cases of the same category within ``radius_m`` and ``window_h`` before this one: the same matter?"""
    if case.lat is None or not case.open or case.merged_into:
        return []
    since = aware(case.reported_at) - timedelta(hours=window_h)
    dlat = radius_m / 111_000.0
    q = select(Case).where(Case.open.is_(True), Case.category == case.category, Case.id != case.id,
                           Case.merged_into.is_(None), Case.reported_at >= since,
                           Case.reported_at <= case.reported_at, Case.lat.between(case.lat - dlat, case.lat + dlat))
    where = sql_filter(actor)
    if where is not None:
        q = q.where(where)
    near = [c for c in session.execute(q.order_by(Case.reported_at)).scalars()
            if c.lon is not None and distance_m(case.lat, case.lon, c.lat, c.lon) <= radius_m]
    return near


def huddle(session: Session, actor: Actor, now: datetime, tz: str) -> dict[str, list[Case]]:
    """The daily huddle (每日碰头): new since yesterday's start (local), overdue, red — each newest first."""
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(tz))
    since = (local - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    base = select(Case)
    where = sql_filter(actor)
    if where is not None:
        base = base.where(where)
    newest = [Case.reported_at.desc(), Case.id.desc()]
    run = lambda q: list(session.execute(q.order_by(*newest).limit(500)).scalars())
    return {"new": run(base.where(Case.reported_at >= since, Case.merged_into.is_(None))),
            "overdue": run(base.where(Case.open.is_(True), _overdue(now))),
            "red": run(base.where(Case.open.is_(True), Case.level == "red",
                                  Case.status.in_(lifecycle.OPEN_STATUSES)))}


def hot_spots(session: Session, actor: Actor, since: datetime, tz: str) -> dict[str, list[int]]:
    """Cases reported since ``since`` by community and local hour of day (24 counts each): the cases' share
    of the wall's data-guided patrol heat map (hour × area), merged reports left out."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    q = select(Case.community_id, Case.reported_at).where(Case.reported_at >= since, Case.merged_into.is_(None))
    where = sql_filter(actor)
    if where is not None:
        q = q.where(where)
    out: dict[str, list[int]] = {}
    for community, at in session.execute(q):
        if community:
            out.setdefault(community, [0] * 24)[aware(at).astimezone(zone).hour] += 1
    return out
