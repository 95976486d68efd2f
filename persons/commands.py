"""Every write a person makes on a key person's file: re-grade, record a visit, unmask the id.

Each is one function over ``(session, actor, input, now)`` (BRIEF: commands once): it checks role, scope and
input, writes the change and its audit row (``audit_log``) in the caller's transaction, and raises a
``CommandError`` the HTTP API turns into 400/403/404/409 and the desk into a message in its language. The
caller commits and announces (``announce``) after the commit.

A re-grading also bumps ``registry_version``: the rules read a person's level from the registry cache
(``RegistryCache.watch_level``), and the bump makes every engine and screen reload it, so a person graded
green stops raising at once and one graded red starts the 24 h clock.

Who may do what (``ROLE_ACTIONS``; the desk and the API show the same matrix, docs/desks.md):
operators read the files and record visits (a call they made, a visit reported to them); supervisors and
admins also re-grade and unmask; a grid worker (``grid``) reads and records visits of the persons it answers
for (``grid_worker_id``) and no one else's, from ``/grid`` ("我的重点人员").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from onescreen import names
from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import AuditLog, PersonGrade, PersonVisit, RegistryVersion, WatchPerson
from persons.cadence import LEVELS, METHODS

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "read": frozenset({"operator", "supervisor", "admin", "grid"}),
    "visit": frozenset({"operator", "supervisor", "admin", "grid"}),
    "grade": frozenset({"supervisor", "admin"}),
    "unmask": frozenset({"supervisor", "admin"}),
}
REASON_MAX, NOTE_MAX = 1000, 2000
VISIT_PAST_DAYS = 31  # a visit recorded later than this after it happened is refused (the report is stale)
VISIT_FUTURE_S = 300  # clock skew of a phone


def may(actor: Actor | None, action: str) -> bool:
    return actor is not None and actor.role in ROLE_ACTIONS.get(action, frozenset())


def _check_role(actor: Actor, action: str) -> None:
    if not may(actor, action):
        raise Forbidden("persons.err.forbidden", f"role {actor.role!r} may not {action} key persons",
                        role=actor.role)


def sees(actor: Actor, person: WatchPerson) -> bool:
    """A person is in scope when the home community is; a grid worker sees only the persons it answers for
    (another worker's person in the same community is not found), whatever its account's scope says."""
    if actor.role == "grid":
        return actor.worker_id is not None and person.grid_worker_id == actor.worker_id
    if actor.worker_id is not None and person.grid_worker_id == actor.worker_id:
        return True
    if actor.cells is not None and actor.communities is None:
        return False
    return actor.sees_community(person.home_community_id)


def find(session: Session, actor: Actor, person_id: str, *, lock: bool = False) -> WatchPerson:
    """The person, or NotFound (also when out of the actor's scope: both look the same from outside)."""
    stmt = select(WatchPerson).where(WatchPerson.person_id == person_id)
    if lock:
        stmt = stmt.with_for_update()
    person = session.execute(stmt).scalar_one_or_none() if person_id else None
    if person is None or not sees(actor, person):
        raise NotFound("persons.err.not_found", f"no key person {person_id}")
    return person


def _text(value: Any, field: str, maxlen: int, required: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"persons.err.{field}_missing", f"{field} is required")
        return None
    if not isinstance(value, str):
        raise Invalid(f"persons.err.{field}_bad", f"{field} must be a string")
    if len(value) > maxlen:
        raise Invalid(f"persons.err.{field}_long", f"{field} is longer than {maxlen} characters", max=maxlen)
    return value.strip()


def _audit(session: Session, actor: Actor, action: str, person_id: str, detail: dict[str, Any],
           now: datetime) -> None:
    session.add(AuditLog(at=now, actor=actor.username[:64], user_id=actor.user_id, role=actor.role,
                         action=action, target=f"person:{person_id}", detail=detail,
                         remote_addr=actor.remote_addr))


@dataclass(frozen=True, slots=True)
class GradeInput:
    level: Any
    reason: Any


def grade(session: Session, actor: Actor, person_id: str, data: GradeInput, now: datetime) -> PersonGrade:
    """Re-grade a person with a reason: the level changes, the history and the audit log say who, when, why."""
    _check_role(actor, "grade")
    if data.level not in LEVELS:
        raise Invalid("persons.err.level_bad", f"level must be one of {', '.join(LEVELS)}")
    reason = _text(data.reason, "reason", REASON_MAX, required=True)
    person = find(session, actor, person_id, lock=True)
    if person.level == data.level:
        raise Conflict("persons.err.same_level", f"{person_id} is already {data.level}", level=data.level)
    row = PersonGrade(person_id=person.person_id, at=now, from_level=person.level, to_level=data.level,
                      actor=actor.username[:64], user_id=actor.user_id, reason=reason)
    session.add(row)
    _audit(session, actor, "person_grade", person.person_id,
           {"from": person.level, "to": data.level, "reason": reason}, now)
    person.level = data.level
    # the rules read levels from the registry cache: make every process reload it
    session.execute(update(RegistryVersion).where(RegistryVersion.id == 1)
                    .values(version=RegistryVersion.version + 1))
    session.flush()
    return row


@dataclass(frozen=True, slots=True)
class VisitInput:
    at: datetime | None
    method: Any
    note: Any = None


def record_visit(session: Session, actor: Actor, person_id: str, data: VisitInput, now: datetime) -> PersonVisit:
    """Record one visit (走访): when (default now), how (home | phone | video), by the actor, a note."""
    _check_role(actor, "visit")
    if data.method not in METHODS:
        raise Invalid("persons.err.method_bad", f"method must be one of {', '.join(METHODS)}")
    at = data.at or now
    if at.tzinfo is None:
        raise Invalid("persons.err.at_bad", "at must carry a UTC offset")
    if at > now + timedelta(seconds=VISIT_FUTURE_S):
        raise Invalid("persons.err.at_future", "a visit cannot be in the future")
    if at < now - timedelta(days=VISIT_PAST_DAYS):
        raise Invalid("persons.err.at_old", f"a visit older than {VISIT_PAST_DAYS} days cannot be recorded",
                      days=VISIT_PAST_DAYS)
    note = _text(data.note, "note", NOTE_MAX, required=False)
    person = find(session, actor, person_id)
    row = PersonVisit(person_id=person.person_id, at=at, method=data.method,
                      visitor=(actor.worker_id or actor.username)[:128], user_id=actor.user_id,
                      community_id=person.home_community_id, note=note, recorded_at=now)
    session.add(row)
    _audit(session, actor, "person_visit", person.person_id, {"method": data.method, "at": at.isoformat()}, now)
    session.flush()
    return row


def unmask(session: Session, actor: Actor, person_id: str, now: datetime, reason: Any = None) -> str:
    """The person's full pseudonymous id, for a role allowed to see it; every unmask is audited."""
    _check_role(actor, "unmask")
    person = find(session, actor, person_id)
    _audit(session, actor, "person_unmask", person.person_id,
           {"reason": _text(reason, "reason", REASON_MAX, required=False)}, now)
    session.flush()
    return person.person_id


def announce(redis: Any, person_id: str) -> None:
    """Tell the screens a file changed (after the commit); best effort: the record is already safe in SQL."""
    if redis is None:
        return
    try:
        redis.publish(names.CHANGES, f"person:{person_id}")
    except Exception:  # noqa: BLE001 - a screen refreshes on its own timer anyway
        return
