"""A case as the outside sees it (CONTRACT §6 JSON), its history, and the announcement of a change.

``to_contract`` is the one JSON of a case: the API returns it, MQTT publishes it (``city/cases/{case_id}``)
and the desks read it. ``announce`` queues the Redis side of a committed change on a pipeline: the MQTT
outbox (``alerts.notify.enqueue``, drained by the alert engine's notifier with QoS 1) and the screens' change
signal (``names.CHANGES``), which the wall listens to.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.notify import enqueue
from cases import lifecycle
from onescreen import names
from onescreen.db.models import Case, CasePhoto, CaseStep
from onescreen.timeutil import iso


def aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def _iso(dt: datetime | None, tz: str) -> str | None:
    return iso(aware(dt), tz) if dt is not None else None


def is_overdue(case: Case, now: datetime) -> bool:
    """Past its deadline while still waiting to be accepted or handled (CONTRACT §6 ``overdue``)."""
    if case.deadline is None or case.status not in lifecycle.OPEN_STATUSES:
        return False
    return now > aware(case.deadline)


def to_contract(case: Case, tz: str, now: datetime) -> dict[str, Any]:
    """The case as CONTRACT §6 JSON (plus optional fields: display level, reporters, merge, reminders)."""
    assignee = {"kind": case.assignee_kind, "id": case.assignee_id} if case.assignee_kind else None
    evaluation = None
    if case.satisfaction is not None:
        evaluation = {"satisfaction": case.satisfaction, "on_time": case.on_time}
    return {
        "case_id": case.case_id, "source": case.source, "category": case.category, "level": case.level,
        "status": case.status, "reported_at": _iso(case.reported_at, tz), "updated_at": _iso(case.updated_at, tz),
        "deadline": _iso(case.deadline, tz), "overdue": is_overdue(case, now),
        "handling_level": case.handling_level,
        "location": {"district_id": case.district_id, "community_id": case.community_id, "cell_id": case.cell_id,
                     "lat": case.lat, "lon": case.lon},
        "description": case.description, "reporter": case.reporter, "assignee": assignee,
        "photos": case.photos, "alert_id": case.alert_id, "evaluation": evaluation,
        # extensions (CONTRACT: new optional fields only)
        "display_level": lifecycle.display_level(case.level, case.status), "graded": case.graded,
        "reporters": list(case.reporters or []), "outside_own_cells": case.outside_own_cells,
        "merged_into": case.merged_into, "feedback": case.feedback, "reminders": case.reminders,
        "accepted_at": _iso(case.accepted_at, tz), "handled_at": _iso(case.handled_at, tz),
        "archived_at": _iso(case.archived_at, tz),
    }


def history(session: Session, case: Case, tz: str) -> list[dict[str, Any]]:
    """Every step, oldest first: who, when, what, the note and the step's details."""
    rows = session.execute(select(CaseStep).where(CaseStep.case_pk == case.id).order_by(CaseStep.id)).scalars()
    return [{"at": _iso(s.at, tz), "action": s.action, "from": s.from_status, "to": s.to_status, "level": s.level,
             "actor": s.actor, "role": s.role, "note": s.note, "detail": s.detail or {}} for s in rows]


def photo_list(session: Session, case: Case) -> list[dict[str, Any]]:
    rows = session.execute(select(CasePhoto.n, CasePhoto.kind, CasePhoto.camera_id, CasePhoto.uploaded_by)
                           .where(CasePhoto.case_pk == case.id).order_by(CasePhoto.n)).all()
    return [{"n": r.n, "kind": r.kind, "camera_id": r.camera_id, "by": r.uploaded_by,
             "url": f"/api/cases/{case.case_id}/photos/{r.n}.jpg",
             "thumb": f"/api/cases/{case.case_id}/photos/{r.n}.jpg?thumb=1"} for r in rows]


def announce(pipe: Any, doc: dict[str, Any]) -> None:
    """Queue the Redis side of one committed case change (the caller executes the pipeline)."""
    enqueue(pipe, f"cases/{doc['case_id']}", doc)
    pipe.publish(names.CHANGES, orjson.dumps({"type": "case", "case_id": doc["case_id"], "status": doc["status"],
                                              "level": doc["level"]}))
    pipe.incr(names.CHANGES_VERSION)  # the wall's case cache re-reads on a new version


def announce_changed(session: Session, redis: Any, tz: str, now: datetime) -> int:
    """After a commit: queue and send the announcement of every case the session changed; how many."""
    ids = session.info.pop("cases_changed", set())
    if not ids or redis is None:
        return 0
    pipe = redis.pipeline(transaction=False)
    for case in session.execute(select(Case).where(Case.case_id.in_(sorted(ids)))).scalars():
        announce(pipe, to_contract(case, tz, now))
    pipe.execute()
    return len(ids)
