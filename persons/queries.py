"""Reads of key persons, cut to the actor's scope: the list (overdue visits first) and the file (一人一档).

The file gathers what OneScreen already keeps about a person, found by the pseudonymous id: the level
history (``person_grade``), the visits (``person_visit``), the alerts about the person (subject
``person:<id>`` or ``door_person`` ``<door>/<id>``), the sightings (door events by the person's credential in
``event_archive``, which the alert engine fills and trims by retention) and the cases made of those alerts
(``cases_of``: an operator turning 疑似脱管 or 重点人员聚集 into a case, CONTRACT §6 ``alert_id``).

Sightings query: ``event_archive`` has no column for the person, so the id is read from the JSON document,
bounded by the ``ts`` index (``SIGHTINGS_DAYS``). On PostgreSQL an expression index on
``(doc->>'person_id')`` makes it cheap for any window; see docs/persons.md.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from onescreen import names
from onescreen.commands import Actor
from onescreen.db.models import Alert, Case, EventArchive, PersonGrade, PersonVisit, WatchPerson
from onescreen.timeutil import epoch_ms, iso
from persons.cadence import LEVEL_RANK, Cadence, visit_due
from persons.commands import find, may, sees
from onescreen.commands import Forbidden

SIGHTINGS_DAYS = 7
SIGHTINGS_MAX = 100
PERSON_RULES = ("key_person_missing", "key_person_hiding", "lingering", "key_person_gathering")


def _aware(dt: datetime | None) -> datetime | None:
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def last_visits(session: Session, person_ids: list[str] | None = None) -> dict[str, datetime]:
    """person_id -> time of the latest visit."""
    stmt = select(PersonVisit.person_id, func.max(PersonVisit.at)).group_by(PersonVisit.person_id)
    if person_ids is not None:
        stmt = stmt.where(PersonVisit.person_id.in_(person_ids))
    return {p: _aware(at) for p, at in session.execute(stmt).all()}


def summary(person: WatchPerson, last: datetime | None, now: datetime, cadence: Cadence, tz: str,
            shown_id: str | None = None) -> dict[str, Any]:
    """One row of the list (and the head of the file)."""
    due = visit_due(person.level, last, now, cadence)
    return {
        "person_id": shown_id if shown_id is not None else person.person_id,
        "level": person.level,
        "home_community_id": person.home_community_id,
        "category": person.category,
        "officer": person.officer,
        "grid_worker_id": person.grid_worker_id,
        "plan": person.plan,
        "last_visit": iso(last, tz) if last else None,
        "next_visit_due": iso(due.due, tz) if due.due else None,
        "visit_overdue": due.overdue,
    }


def check_read(actor: Actor) -> None:
    if not may(actor, "read"):
        raise Forbidden("persons.err.forbidden", f"role {actor.role!r} may not read key persons", role=actor.role)


def listing(session: Session, actor: Actor, now: datetime, cadence: Cadence, tz: str, *,
            level: str | None = None, community_id: str | None = None,
            visit_overdue: bool | None = None) -> list[dict[str, Any]]:
    """The persons the actor may see: overdue visits first, then by level (red first), then by id."""
    check_read(actor)
    stmt = select(WatchPerson)
    if level:
        stmt = stmt.where(WatchPerson.level == level)
    if community_id:
        stmt = stmt.where(WatchPerson.home_community_id == community_id)
    if actor.communities is not None and actor.worker_id is None:
        stmt = stmt.where(WatchPerson.home_community_id.in_(sorted(actor.communities)))
    persons = [p for p in session.execute(stmt).scalars() if sees(actor, p)]
    last = last_visits(session)
    rows = [summary(p, last.get(p.person_id), now, cadence, tz) for p in persons]
    if visit_overdue is not None:
        rows = [r for r in rows if r["visit_overdue"] == visit_overdue]
    rows.sort(key=lambda r: (not r["visit_overdue"], LEVEL_RANK.get(r["level"], 9), r["person_id"]))
    return rows


def counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Persons by level and overdue visits, for the desk's header and the wall."""
    out = {level: 0 for level in LEVEL_RANK}
    for r in rows:
        out[r["level"]] = out.get(r["level"], 0) + 1
    out["visit_overdue"] = sum(1 for r in rows if r["visit_overdue"])
    return out


def history(session: Session, person_id: str, tz: str) -> list[dict[str, Any]]:
    rows = session.execute(select(PersonGrade).where(PersonGrade.person_id == person_id)
                           .order_by(PersonGrade.at.desc(), PersonGrade.id.desc())).scalars()
    return [{"at": iso(_aware(r.at), tz), "from": r.from_level, "to": r.to_level, "by": r.actor,
             "reason": r.reason} for r in rows]


def visits(session: Session, person_id: str, tz: str) -> list[dict[str, Any]]:
    rows = session.execute(select(PersonVisit).where(PersonVisit.person_id == person_id)
                           .order_by(PersonVisit.at.desc(), PersonVisit.id.desc())).scalars()
    return [{"at": iso(_aware(r.at), tz), "method": r.method, "by": r.visitor, "note": r.note,
             "recorded_at": iso(_aware(r.recorded_at), tz)} for r in rows]


def sightings(session: Session, person_id: str, now: datetime, tz: str,
              days: int = SIGHTINGS_DAYS) -> list[dict[str, Any]]:
    """Door events by the person's credential in the last ``days`` (newest first, at most SIGHTINGS_MAX)."""
    since = epoch_ms(now - timedelta(days=days))
    rows = session.execute(
        select(EventArchive.ts, EventArchive.community_id, EventArchive.doc)
        .where(EventArchive.family == names.ACCESS, EventArchive.ts >= since,
               EventArchive.doc["person_id"].as_string() == person_id)
        .order_by(EventArchive.ts.desc()).limit(SIGHTINGS_MAX)
    ).all()
    out = []
    for ts, community, doc in rows:
        out.append({"at": iso(datetime.fromtimestamp(ts / 1000, tz=UTC), tz), "door_id": doc.get("door_id"),
                    "community_id": community or doc.get("community_id"), "cell_id": doc.get("cell_id"),
                    "direction": doc.get("direction"), "result": doc.get("result")})
    return out


def _about(person_id: str) -> Any:
    """The alerts about a person: its subject (missing, hiding), the person at a door (lingering), or a gathering
    whose evidence lists the person (the JSON read as text: portable, fine for one person's file)."""
    named = f'%"person_id": "{person_id}"%'  # key_person_gathering lists its persons in the evidence
    return Alert.rule.in_(PERSON_RULES) & or_(
        Alert.subject_id == person_id, Alert.subject_id.like(f"%/{person_id}"),
        (Alert.rule == "key_person_gathering") & or_(cast(Alert.evidence, String).like(named),
                                                     cast(Alert.evidence, String).like(named.replace(": ", ":"))))


def alerts(session: Session, person_id: str, tz: str, limit: int = 50) -> list[dict[str, Any]]:
    """The alerts about the person, newest first."""
    rows = session.execute(select(Alert).where(_about(person_id)).order_by(Alert.opened_at.desc()).limit(limit)
                           ).scalars()
    return [{"alert_id": a.alert_id, "rule": a.rule, "level": a.level, "status": a.status,
             "opened_at": iso(_aware(a.opened_at), tz), "community_id": a.community_id} for a in rows]


def cases_of(session: Session, person_id: str, tz: str, limit: int = 50) -> list[dict[str, Any]]:
    """The cases made of an alert about the person (the desk's 转为事件 on 疑似脱管 or 重点人员聚集), newest first."""
    about = select(Alert.alert_id).where(_about(person_id))
    rows = session.execute(select(Case).where(Case.alert_id.in_(about), Case.merged_into.is_(None))
                           .order_by(Case.reported_at.desc()).limit(limit)).scalars()
    return [{"case_id": c.case_id, "category": c.category, "level": c.level, "status": c.status,
             "reported_at": iso(_aware(c.reported_at), tz), "alert_id": c.alert_id,
             "community_id": c.community_id} for c in rows]


def person_file(session: Session, actor: Actor, person_id: str, now: datetime, cadence: Cadence,
                tz: str) -> dict[str, Any]:
    """The whole file (CONTRACT §7): the summary plus level history, sightings, alerts, cases, visits."""
    check_read(actor)
    person = find(session, actor, person_id)
    last = last_visits(session, [person.person_id]).get(person.person_id)
    doc = summary(person, last, now, cadence, tz)
    doc.update(
        level_history=history(session, person.person_id, tz),
        sightings=sightings(session, person.person_id, now, tz),
        alerts=alerts(session, person.person_id, tz),
        cases=cases_of(session, person.person_id, tz),
        visits=visits(session, person.person_id, tz),
    )
    return doc


def highest_level_by_community(session: Session) -> dict[str, str]:
    """community_id -> the highest level among its key persons (the wall's shading; never positions)."""
    out: dict[str, str] = {}
    for community, level in session.execute(select(WatchPerson.home_community_id, WatchPerson.level)).all():
        cur = out.get(community)
        if cur is None or LEVEL_RANK.get(level, 9) < LEVEL_RANK.get(cur, 9):
            out[community] = level
    return out


def in_control(session: Session, now: datetime, hours: float, communities: set[str] | None = None) -> dict[str, int]:
    """在控率 parts: red/orange persons, and those seen by a device or visited within ``hours``."""
    stmt = select(WatchPerson.person_id, WatchPerson.home_community_id).where(
        WatchPerson.level.in_(("red", "orange")))
    persons = {p for p, c in session.execute(stmt).all() if communities is None or c in communities}
    if not persons:
        return {"watched": 0, "in_control": 0}
    since = now - timedelta(hours=hours)
    visited = {p for (p,) in session.execute(select(PersonVisit.person_id).where(
        PersonVisit.at >= since, PersonVisit.person_id.in_(sorted(persons)))).all()}
    # the alert engine re-routes every sighting of a red/orange person as a ``watch`` event and archives it
    seen = {p for (p,) in session.execute(select(EventArchive.doc["person_id"].as_string()).where(
        EventArchive.family == names.WATCH, EventArchive.ts >= epoch_ms(since))).all()}
    return {"watched": len(persons), "in_control": len(persons & (visited | seen))}
