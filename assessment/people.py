"""The figures of people's work: cases (issue 14), key-person visits (issue 15), grid workers online.

Three providers registered into ``assessment.sources`` under the names the pending ones had (``cases``,
``visits``, ``workers``), and the ``worker``/``department`` rows of a ranking from the registry tables
``grid_worker`` and ``department``. Everything is counted in SQL with ``GROUP BY`` the row key, so a month of
50,000 cases never travels to Python; only the per-community sums are added up to districts where a table has
no district column. Definitions (and where they differ from a naive reading): docs/assessment.md.

The limits come from the settings (``cases.accept_within_min``, ``persons.visit_*_days``); ``configure``
sets them from a process's settings (the API, the desk and the sampler call it), defaults are the settings'.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from assessment import figures
from assessment.sources import Provider, _secs, register
from onescreen.db.models import (
    Case,
    CaseStep,
    Department,
    GridNode,
    GridWorker,
    PersonVisit,
    WatchPerson,
    WorkerOnlineDay,
)
from persons.cadence import Cadence

LIMITS: dict[str, Any] = {"accept_within_min": 30, "cadence": Cadence(), "tz": "Asia/Shanghai"}
OPEN = ("reported", "accepted", "assigned", "in_progress")  # waiting to be accepted or handled (§6 overdue)
EPS = 0.001  # SQLite's Julian-day arithmetic is not exact to the microsecond


def configure(settings: Any) -> None:
    """Take the acceptance limit and the visit cadence from a process's settings."""
    LIMITS["accept_within_min"] = settings.cases.accept_within_min
    LIMITS["cadence"] = Cadence.from_settings(settings.persons)
    LIMITS["tz"] = settings.city.timezone


# ---------------------------------------------------------------- where a grid worker belongs
def worker_places() -> Any:
    """(worker_id, name, community_id, district_id) of every grid worker: the community of its first cell.
    A subquery (grid_worker ⋈ grid_node twice) so every figure can join it."""
    cell, community = aliased(GridNode), aliased(GridNode)
    first = GridWorker.cells[0].as_string()
    return (select(GridWorker.id.label("worker_id"), GridWorker.name.label("name"),
                   cell.parent_id.label("community_id"), community.parent_id.label("district_id"))
            .outerjoin(cell, cell.id == first).outerjoin(community, community.id == cell.parent_id)
            .subquery("wp"))


def rows(session: Session, by: str, communities: set[str] | None) -> list[tuple[str, str, str | None]]:
    """The rows of a ``worker`` ranking (parent = its community) or a ``department`` ranking (every department:
    a department is city-wide, its figures are cut to the scope's cases)."""
    if by == "worker":
        wp = worker_places()
        q = select(wp.c.worker_id, wp.c.name, wp.c.community_id).order_by(wp.c.worker_id)
        if communities is not None:
            q = q.where(wp.c.community_id.in_(sorted(communities)))
        return [(k, n, c) for k, n, c in session.execute(q)]
    if by == "department":
        return [(k, n, None) for k, n in session.execute(select(Department.id, Department.name).order_by(Department.id))]
    return []


# ---------------------------------------------------------------- cases
def _case_key(by: str) -> Any:
    c = Case
    return {"district": c.district_id, "community": c.community_id,
            "worker": case((c.source == "grid", c.reporter)),
            "department": case((c.assignee_kind == "department", c.assignee_id)),
            "unit": case((c.assignee_kind == "unit", c.assignee_id))}[by]


def _scoped(q: Any, communities: set[str] | None) -> Any:
    return q if communities is None else q.where(Case.community_id.in_(sorted(communities)))


def _cases(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    key = _case_key(by)
    out: dict[str, dict[str, Any]] = defaultdict(_case_empty)
    # reported, and of them accepted in time (the first accept step within the limit of the report)
    limit = LIMITS["accept_within_min"] * 60 + EPS
    # a first acceptance in time lies between the report (>= start) and end + the limit: only those steps
    first = (select(CaseStep.case_pk, func.min(CaseStep.at).label("at"))
             .where(CaseStep.action == "accept", CaseStep.at >= start, CaseStep.at <= end + timedelta(seconds=limit))
             .group_by(CaseStep.case_pk).subquery())
    in_time = and_(first.c.at.is_not(None), _secs(session, Case.reported_at, first.c.at) <= limit)
    q = (select(key, func.count(), func.sum(case((in_time, 1), else_=0))).select_from(Case).outerjoin(first, first.c.case_pk == Case.id)
         .where(Case.reported_at >= start, Case.reported_at < end).group_by(key))
    for k, n, ok in session.execute(_scoped(q, communities)):
        out[k].update(cases_reported=int(n), cases_accepted_in_time=int(ok or 0))
    # the period's steps in one pass (index action + at): handled on time — cases with a handle step that
    # was on time (the step's on_time, which cases.handle judged against the deadline in force then; on the
    # spot = on time), each case once; returned — return steps (for a department / unit: the assignee that
    # returned it, since a return clears the case's assignee); satisfaction — the evaluate steps' mean
    s = CaseStep
    on_time = and_(s.action == "handle", or_(s.detail["on_time"].as_boolean().is_(True),
                                              s.detail["on_site"].as_boolean().is_(True)))
    skey = key
    if by in ("department", "unit"):
        returned_by = case((s.detail[("previous", "kind")].as_string() == by, s.detail[("previous", "id")].as_string()))
        skey = case((s.action == "return", returned_by), else_=key)
    sat = case((s.action == "evaluate", s.detail["satisfaction"].as_integer()))
    q = (select(skey, func.count(func.distinct(case((on_time, Case.id)))),
                func.sum(case((s.action == "return", 1), else_=0)), func.count(sat), func.sum(sat))
         .select_from(s).join(Case, s.case_pk == Case.id)
         .where(s.action.in_(("handle", "return", "evaluate")), s.at >= start, s.at < end).group_by(skey))
    for k, handled, returned, n, total in session.execute(_scoped(q, communities)):
        out[k].update(cases_handled_on_time=int(handled or 0), cases_returned=int(returned or 0),
                      satisfaction_mean=round(int(total) / int(n), 2) if n else None)
    # overdue: the deadline in force now passed within the period while not handled by it
    late = or_(and_(Case.handled_at.is_(None), Case.status.in_(OPEN)), Case.handled_at > Case.deadline)
    q = (select(key, func.count()).where(Case.deadline >= start, Case.deadline < end, Case.merged_into.is_(None),
                                         late).group_by(key))
    for k, n in session.execute(_scoped(q, communities)):
        out[k]["cases_overdue"] = int(n)
    out.pop(None, None)
    return dict(out)


def _case_empty() -> dict[str, Any]:
    return {"cases_reported": 0, "cases_accepted_in_time": 0, "cases_handled_on_time": 0, "cases_overdue": 0,
            "cases_returned": 0, "satisfaction_mean": None}


# ---------------------------------------------------------------- visits
def _due_before(end: datetime, last: Any, level: Any) -> Any:
    """SQL: a person at ``level`` whose last visit is ``last`` had a visit due before ``end``."""
    cadence: Cadence = LIMITS["cadence"]
    arms = [and_(level == lv, or_(last.is_(None), last < end - timedelta(days=cadence.days(lv))))
            for lv in ("red", "orange", "yellow", "green") if cadence.days(lv) > 0]
    return or_(*arms) if arms else literal(False)


def _by_place(by: str, community: Any, district: Any, worker: Any) -> Any:
    return {"district": district, "community": community, "worker": worker}[by]


def _visits(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    out: dict[str, dict[str, Any]] = defaultdict(lambda: {"visits_due": 0, "visits_done": 0})
    p, v = WatchPerson, PersonVisit
    home = aliased(GridNode)
    # due: watch-list persons with a visit due at some time in the period (never visited before it, or the
    # last visit before it + the level's cadence < its end): each person once
    last = (select(v.person_id, func.max(v.at).label("at")).where(v.at < start).group_by(v.person_id).subquery())
    key = _by_place(by, p.home_community_id, home.parent_id, p.grid_worker_id)
    q = (select(key, func.count()).select_from(p).outerjoin(last, last.c.person_id == p.person_id)
         .outerjoin(home, home.id == p.home_community_id)
         .where(_due_before(end, last.c.at, p.level)).group_by(key))
    if communities is not None:
        q = q.where(p.home_community_id.in_(sorted(communities)))
    for k, n in session.execute(q):
        out[k]["visits_due"] = int(n)
    # done: visits recorded in the period (at = when it took place), by the home community at the time
    community = func.coalesce(v.community_id, p.home_community_id)
    key = _by_place(by, community, home.parent_id, p.grid_worker_id)
    q = (select(key, func.count()).select_from(v).outerjoin(p, p.person_id == v.person_id)
         .outerjoin(home, home.id == community).where(v.at >= start, v.at < end).group_by(key))
    if communities is not None:
        q = q.where(community.in_(sorted(communities)))
    for k, n in session.execute(q):
        out[k]["visits_done"] = int(n)
    out.pop(None, None)
    return dict(out)


# ---------------------------------------------------------------- grid workers online
def _workers(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    out: dict[str, dict[str, Any]] = {}
    wp = worker_places()
    key = _by_place(by, wp.c.community_id, wp.c.district_id, wp.c.worker_id)
    q = select(key, func.count()).select_from(wp).group_by(key)
    if communities is not None:
        q = q.where(wp.c.community_id.in_(sorted(communities)))
    for k, n in session.execute(q):
        if k is not None:
            out[k] = {"workers": int(n), "workers_online": 0, "workers_online_rate": None}
    # the sampled days of the registered workers: online at least once, and the time-weighted rate. The
    # period is whole local days (the current one to date: its last day so far)
    h = WorkerOnlineDay
    zone = ZoneInfo(LIMITS["tz"])
    first = start.astimezone(zone).date().isoformat()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date().isoformat()
    per_worker = (select(h.worker_id, func.sum(h.samples).label("samples"), func.sum(h.online).label("online"))
                  .where(h.day >= first, h.day <= last).group_by(h.worker_id).subquery())
    q = (select(key, func.sum(case((per_worker.c.online > 0, 1), else_=0)), func.sum(per_worker.c.samples),
                func.sum(per_worker.c.online)).select_from(wp).join(per_worker, per_worker.c.worker_id == wp.c.worker_id).group_by(key))
    if communities is not None:
        q = q.where(wp.c.community_id.in_(sorted(communities)))
    for k, n, samples, online in session.execute(q):
        if k in out:
            out[k].update(workers_online=int(n or 0), workers_online_rate=figures.rate(int(online or 0),
                                                                                       int(samples or 0)))
    return out


register(Provider("cases", tuple(_case_empty()), frozenset({"district", "community", "worker", "department", "unit"}),
                  _cases, _case_empty, rows))
register(Provider("visits", ("visits_due", "visits_done"), frozenset({"district", "community", "worker"}), _visits,
                  lambda: {"visits_due": 0, "visits_done": 0}))
register(Provider("workers", ("workers", "workers_online", "workers_online_rate"),
                  frozenset({"district", "community", "worker"}), _workers,
                  lambda: {"workers": 0, "workers_online": 0, "workers_online_rate": None}, None))
