"""Alerts in SQL (the system of record): open / update / clear from rule decisions, lifecycle actions, reads.

Every change writes an ``alert_transition`` row in the same transaction (who, when, from where, note): that
table is the audit trail and the full history the API shows. Functions take a Session and flush; the caller
commits, so the engine can put a whole batch of decisions (and the event archive) in one transaction.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import notes
from alerts.ids import alert_id as make_alert_id
from alerts.lifecycle import IllegalTransition, check_transition
from alerts.rules.base import Decision
from onescreen.db.models import Alert, AlertSnapshot, AlertTransition
from onescreen.timeutil import iso

SYSTEM = "system"


def active_key(rule: str, kind: str, ident: str) -> str:
    return f"{rule}|{kind}|{ident}"


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def _aware(dt: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were written as UTC."""
    return dt.replace(tzinfo=UTC) if dt is not None and dt.tzinfo is None else dt


def find_active(session: Session, rule: str, kind: str, ident: str) -> Alert | None:
    """The not-closed alert of this (rule, subject), if any."""
    return session.execute(select(Alert).where(Alert.active_key == active_key(rule, kind, ident))).scalar()


def get(session: Session, alert_id: str) -> Alert | None:
    return session.execute(select(Alert).where(Alert.alert_id == alert_id)).scalar()


def _transition(
    session: Session,
    alert: Alert,
    action: str,
    from_status: str | None,
    at: datetime,
    actor: str = SYSTEM,
    user_id: int | None = None,
    remote_addr: str | None = None,
    unit_id: str | None = None,
    note: str | None = None,
) -> None:
    session.add(
        AlertTransition(
            alert_pk=alert.id,
            at=at,
            action=action,
            from_status=from_status,
            to_status=alert.status,
            level=alert.level,
            actor=actor,
            user_id=user_id,
            remote_addr=remote_addr,
            unit_id=unit_id,
            note=note,
        )
    )


def open_alert(
    session: Session,
    d: Decision,
    tz: str,
    route_unit: str | None = None,
    snapshot: tuple[str, bytes] | None = None,
) -> Alert:
    """Insert a new alert for a raise decision (flushed: it has its id)."""
    at = _dt(d.at)
    loc = d.location
    alert = Alert(
        rule=d.rule,
        level=d.level,
        status="open",
        subject_kind=d.subject.kind,
        subject_id=d.subject.id,
        active_key=active_key(d.rule, d.subject.kind, d.subject.id),
        district_id=loc.get("district_id"),
        community_id=loc.get("community_id"),
        cell_id=loc.get("cell_id"),
        lat=loc.get("lat"),
        lon=loc.get("lon"),
        evidence=dict(d.evidence),
        condition="active",
        route_unit=route_unit,
        opened_at=at,
        updated_at=at,
        reminders=0,
    )
    session.add(alert)
    session.flush()
    alert.alert_id = make_alert_id(alert.id, at, tz)
    if snapshot is not None:
        alert.evidence = {**alert.evidence, "snapshot_url": f"/api/alerts/{alert.alert_id}/snapshot.jpg"}
        session.add(AlertSnapshot(alert_pk=alert.id, camera_id=snapshot[0], taken_at=at, jpeg=snapshot[1]))
    _transition(session, alert, "open", None, at, note=notes.RAISED.format(rule=d.rule))
    session.flush()
    return alert


def apply_decision(session: Session, alert: Alert, d: Decision) -> bool:
    """New evidence / level / cleared condition on an existing alert; True when its level changed.

    A clear keeps the evidence that raised and updated the alert (what the operator judges it by: the peak,
    since when, the door events); the history records when the condition ended."""
    at = _dt(d.at)
    level_changed = d.level != alert.level and d.action != "clear"
    if d.action != "clear":
        keep = {k: v for k, v in (alert.evidence or {}).items() if k == "snapshot_url"}
        alert.evidence = {**d.evidence, **keep}
    alert.updated_at = at
    if d.action == "clear":
        alert.condition = "cleared"
        _transition(session, alert, "clear", alert.status, at, note=notes.CLEARED)
    else:
        if d.action == "raise":
            alert.condition = "active"  # the condition came back before anyone closed the alert
        if level_changed:
            alert.level = d.level
        _transition(
            session,
            alert,
            "level" if level_changed else "update",
            alert.status,
            at,
            note=notes.LEVEL.format(level=d.level) if level_changed else None,
        )
    return level_changed


def act(
    session: Session,
    alert: Alert,
    action: str,
    at: datetime,
    actor: str = SYSTEM,
    user_id: int | None = None,
    remote_addr: str | None = None,
    note: str | None = None,
    unit_id: str | None = None,
) -> Alert:
    """A lifecycle action (ack, dispatch, on_scene, resolve, close); IllegalTransition if not allowed now."""
    a = check_transition(action, alert.status)
    if action == "dispatch":
        unit_id = unit_id or alert.assignee or alert.route_unit
        if not unit_id:
            raise IllegalTransition("dispatch needs a unit_id (no responsible unit is known for this alert)")
        alert.assignee = unit_id
    before = alert.status
    alert.status = a.to
    alert.updated_at = at
    if a.clock and getattr(alert, a.clock) is None:
        setattr(alert, a.clock, at)
    if action == "close":
        alert.active_key = None
    _transition(session, alert, action, before, at, actor, user_id, remote_addr, unit_id, note)
    session.flush()
    return alert


def note_event(session: Session, alert: Alert, action: str, at: datetime, note: str) -> None:
    """A non-status event in the history (escalate, remind)."""
    alert.updated_at = at
    _transition(session, alert, action, alert.status, at, note=note)


def snapshot(session: Session, alert: Alert) -> bytes | None:
    row = session.get(AlertSnapshot, alert.id)
    return row.jpeg if row is not None else None


# ------------------------------------------------------------------ views
def _secs(a: datetime | None, b: datetime | None) -> float | None:
    a, b = _aware(a), _aware(b)
    return round((b - a).total_seconds(), 3) if a is not None and b is not None else None


def to_contract(alert: Alert, tz: str) -> dict[str, Any]:
    """The CONTRACT §3 alert JSON (MQTT payload and API item), plus the response clocks."""

    def t(dt: datetime | None) -> str | None:
        return iso(_aware(dt), tz) if dt is not None else None

    return {
        "alert_id": alert.alert_id,
        "rule": alert.rule,
        "level": alert.level,
        "status": alert.status,
        "opened_at": t(alert.opened_at),
        "updated_at": t(alert.updated_at),
        "location": {
            "district_id": alert.district_id,
            "community_id": alert.community_id,
            "cell_id": alert.cell_id,
            "lat": alert.lat,
            "lon": alert.lon,
        },
        "subject": {"kind": alert.subject_kind, "id": alert.subject_id},
        "evidence": alert.evidence or {},
        "assignee": alert.assignee,
        "condition": alert.condition,
        "route_unit": alert.route_unit,
        "escalated_at": t(alert.escalated_at),
        "clocks": {
            "ack_s": _secs(alert.opened_at, alert.acknowledged_at),
            "dispatch_s": _secs(alert.opened_at, alert.dispatched_at),
            "on_scene_s": _secs(alert.opened_at, alert.on_scene_at),
            "acknowledged_at": t(alert.acknowledged_at),
            "dispatched_at": t(alert.dispatched_at),
            "on_scene_at": t(alert.on_scene_at),
            "resolved_at": t(alert.resolved_at),
            "closed_at": t(alert.closed_at),
        },
    }


def history(session: Session, alert: Alert, tz: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AlertTransition).where(AlertTransition.alert_pk == alert.id).order_by(AlertTransition.id)
    ).scalars()
    return [
        {
            "at": iso(_aware(r.at), tz),
            "action": r.action,
            "from": r.from_status,
            "to": r.to_status,
            "level": r.level,
            "actor": r.actor,
            "remote_addr": r.remote_addr,
            "unit_id": r.unit_id,
            "note": r.note,
        }
        for r in rows
    ]


def listing(
    session: Session,
    status: str | None = None,
    level: str | None = None,
    community_ids: Collection[str] | None = None,
    limit: int = 200,
) -> list[Alert]:
    """Alerts newest first, filtered; ``status``/``level`` may be comma-separated lists; ``community_ids``
    None: every community (an empty collection: none)."""
    q = select(Alert).where(Alert.alert_id.is_not(None))
    if status:
        q = q.where(Alert.status.in_(status.split(",")))
    if level:
        q = q.where(Alert.level.in_(level.split(",")))
    if community_ids is not None:
        q = q.where(Alert.community_id.in_(list(community_ids)))
    return list(session.execute(q.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit)).scalars())
