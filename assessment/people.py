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
from assessment.sources import Provider, Span, _secs, check_spans, in_spans, register, rows_of, span_of
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
        return [(k, n, c) for k, n, c in rows_of(session, q)]
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


def _cases(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    """A few grouped scans for all the spans at once (GROUP BY span, key), reading plain columns only."""
    key = _case_key(by)
    starts = [a for a, _ in spans]
    out: list[dict[str, dict[str, Any]]] = [defaultdict(_case_empty) for _ in spans]
    # reported, and of them accepted in time: the acceptance (first_accepted_at; a case is accepted once, from
    # "reported") within the limit of the report, limit included
    limit = LIMITS["accept_within_min"] * 60 + EPS
    in_time = and_(Case.first_accepted_at.is_not(None),
                   _secs(session, Case.reported_at, Case.first_accepted_at) <= limit)
    i = span_of(Case.reported_at, starts)
    q = (select(i, key, func.count(), func.sum(case((in_time, 1), else_=0)))
         .where(in_spans(Case.reported_at, spans)).group_by(i, key))
    for n, k, reported, ok in rows_of(session, _scoped(q, communities)):
        out[n][k].update(cases_reported=int(reported), cases_accepted_in_time=int(ok or 0))
    # the spans' steps (index action + at): returned — return steps (for a department / unit: the assignee
    # that returned it, since a return clears the case's assignee); satisfaction — the evaluate steps' mean;
    # handled on time — cases with a handle step that was on time (the step's on_time, which cases.handle judged
    # against the deadline in force then; on the spot = on time), each case once per span
    for n, k, figs in _steps(session, spans, by, key, communities):
        out[n][k].update(figs)
    # overdue: the deadline in force now passed within the span while not handled by it
    late = or_(and_(Case.handled_at.is_(None), Case.status.in_(OPEN)), Case.handled_at > Case.deadline)
    i = span_of(Case.deadline, starts)
    q = (select(i, key, func.count()).where(in_spans(Case.deadline, spans), Case.merged_into.is_(None), late)
         .group_by(i, key))
    for n, k, overdue in rows_of(session, _scoped(q, communities)):
        out[n][k]["cases_overdue"] = int(overdue)
    for o in out:
        o.pop(None, None)
    return [dict(o) for o in out]


def _steps(session: Session, spans: list[Span], by: str, key: Any, communities: set[str] | None) -> list:
    """(span, key, {returned, satisfaction, handled on time}) of the spans' handle, return and evaluate steps.

    By district, community or worker the step's own copies of its case's place and reporter are the key: no
    join, and "each case once" is a DISTINCT over the on-time handle steps alone (one ``count(DISTINCT)`` over
    all the steps sorted them all, about twice the CPU). By department or unit the key is the case's current
    assignee, so the steps are joined with case_record, once, and counted in one query."""
    s = CaseStep
    place = {"district": s.district_id, "community": s.community_id, "worker": s.grid_worker_id}.get(by)
    i = span_of(s.at, [a for a, _ in spans])
    sat = case((s.action == "evaluate", s.satisfaction))
    returned = func.sum(case((s.action == "return", 1), else_=0))

    def steps(q: Any) -> Any:
        q = q.where(in_spans(s.at, spans))
        if place is None:
            q = q.join_from(s, Case, s.case_pk == Case.id)
        return q if communities is None else q.where(s.community_id.in_(sorted(communities)))

    def figs(returned: Any, rated: Any, total: Any) -> dict[str, Any]:
        return {"cases_returned": int(returned or 0),
                "satisfaction_mean": round(int(total) / int(rated), 2) if rated else None}

    if place is None:
        skey = case((s.action == "return", case((s.previous_kind == by, s.previous_id))), else_=key)
        on_time = and_(s.action == "handle", s.on_time.is_(True))
        q = steps(select(i, skey, func.count(func.distinct(case((on_time, s.case_pk)))), returned, func.count(sat),
                         func.sum(sat)).where(s.action.in_(("handle", "return", "evaluate"))).group_by(i, skey))
        return [(n, k, {"cases_handled_on_time": int(ok or 0), **figs(r, rated, total)})
                for n, k, ok, r, rated, total in rows_of(session, q)]
    q = steps(select(i, place, returned, func.count(sat), func.sum(sat))
              .where(s.action.in_(("return", "evaluate"))).group_by(i, place))
    got = [(n, k, figs(r, rated, total)) for n, k, r, rated, total in rows_of(session, q)]
    handled = steps(select(i.label("span"), place.label("key"), s.case_pk)
                    .where(s.action == "handle", s.on_time.is_(True)).distinct()).subquery()
    q = select(handled.c.span, handled.c.key, func.count()).group_by(handled.c.span, handled.c.key)
    return got + [(n, k, {"cases_handled_on_time": int(ok)}) for n, k, ok in rows_of(session, q)]


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


def _visits(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    out: list[dict[str, dict[str, Any]]] = [defaultdict(lambda: {"visits_due": 0, "visits_done": 0}) for _ in spans]
    p, v = WatchPerson, PersonVisit
    home = aliased(GridNode)
    # due: watch-list persons with a visit due at some time in the span (never visited before it, or the
    # last visit before it + the level's cadence < its end): each person once. A small table (the watch
    # list), one query per span: "the last visit before the span" differs per span
    for n, (start, end) in enumerate(spans):
        last = (select(v.person_id, func.max(v.at).label("at")).where(v.at < start).group_by(v.person_id)
                .subquery())
        key = _by_place(by, p.home_community_id, home.parent_id, p.grid_worker_id)
        q = (select(key, func.count()).select_from(p).outerjoin(last, last.c.person_id == p.person_id)
             .outerjoin(home, home.id == p.home_community_id)
             .where(_due_before(end, last.c.at, p.level)).group_by(key))
        if communities is not None:
            q = q.where(p.home_community_id.in_(sorted(communities)))
        for k, due in rows_of(session, q):
            out[n][k]["visits_due"] = int(due)
    # done: visits recorded in the span (at = when it took place), by the home community at the time
    community = func.coalesce(v.community_id, p.home_community_id)
    key = _by_place(by, community, home.parent_id, p.grid_worker_id)
    i = span_of(v.at, [a for a, _ in spans])
    q = (select(i, key, func.count()).select_from(v).outerjoin(p, p.person_id == v.person_id)
         .outerjoin(home, home.id == community).where(in_spans(v.at, spans)).group_by(i, key))
    if communities is not None:
        q = q.where(community.in_(sorted(communities)))
    for n, k, done in rows_of(session, q):
        out[n][k]["visits_done"] = int(done)
    for o in out:
        o.pop(None, None)
    return [dict(o) for o in out]


# ---------------------------------------------------------------- grid workers online
def _workers(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    registered: dict[str, int] = {}
    wp = worker_places()
    key = _by_place(by, wp.c.community_id, wp.c.district_id, wp.c.worker_id)
    q = select(key, func.count()).select_from(wp).group_by(key)
    if communities is not None:
        q = q.where(wp.c.community_id.in_(sorted(communities)))
    for k, n in rows_of(session, q):
        if k is not None:
            registered[k] = int(n)
    out = [{k: {"workers": n, "workers_online": 0, "workers_online_rate": None} for k, n in registered.items()}
           for _ in spans]
    # the sampled days of the registered workers per span: online at least once, and the time-weighted rate.
    # A span is whole local days (the current one to date: its last day so far); days are ISO strings
    h = WorkerOnlineDay
    zone = ZoneInfo(LIMITS["tz"])
    check_spans(spans)
    firsts = [a.astimezone(zone).date().isoformat() for a, _ in spans]
    last = (spans[-1][1] - timedelta(microseconds=1)).astimezone(zone).date().isoformat()
    i = span_of(h.day, firsts)
    per_worker = (select(i.label("span"), h.worker_id, func.sum(h.samples).label("samples"),
                         func.sum(h.online).label("online"))
                  .where(h.day >= firsts[0], h.day <= last).group_by(i, h.worker_id).subquery())
    pw = per_worker.c
    q = (select(pw.span, key, func.sum(case((pw.online > 0, 1), else_=0)), func.sum(pw.samples), func.sum(pw.online))
         .select_from(wp).join(per_worker, pw.worker_id == wp.c.worker_id).group_by(pw.span, key))
    if communities is not None:
        q = q.where(wp.c.community_id.in_(sorted(communities)))
    for n, k, online_once, samples, online in rows_of(session, q):
        if k in registered:
            out[int(n)][k].update(workers_online=int(online_once or 0),
                                  workers_online_rate=figures.rate(int(online or 0), int(samples or 0)))
    return out


register(Provider("cases", tuple(_case_empty()), frozenset({"district", "community", "worker", "department", "unit"}),
                  None, _case_empty, rows, spans=_cases))
register(Provider("visits", ("visits_due", "visits_done"), frozenset({"district", "community", "worker"}), None,
                  lambda: {"visits_due": 0, "visits_done": 0}, spans=_visits))
register(Provider("workers", ("workers", "workers_online", "workers_online_rate"),
                  frozenset({"district", "community", "worker"}), None,
                  lambda: {"workers": 0, "workers_online": 0, "workers_online_rate": None}, None, spans=_workers))
