"""What people do at the desks, each a small function with the audit in the same transaction.

Alert actions go through ``alerts.store.act`` (the one lifecycle implementation: transitions, clocks, the
``alert_transition`` audit row with who / note / remote address) and are announced like the HTTP API does
(``alerts.notify.announce``: screens, the MQTT outbox, ``city/duty/{unit}/alerts`` on dispatch).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from alerts import lifecycle, store
from alerts.notify import announce
from dashboard.auth import audit
from dashboard.auth.sessions import SessionUser, end_sessions_of
from dashboard.context import AppContext
from dashboard.desk import data
from onescreen import names
from onescreen.accounts import set_active, set_password, set_scope
from onescreen.db.models import AlertSilence, AlertTransition, SpotCheck

log = logging.getLogger(__name__)

MAX_NOTE = 2000


# A receipt (接单) without a note is stored with this note. It is audit data, so it is written the same whatever
# the screen language; the timeline shows it as the language's "received" (dashboard.desk.widgets).
RECEIPT_NOTE = "已接单"


class DeskError(Exception):
    """A refused action: the text key (``desk.error.*``) and values of the message the desk shows, so the page
    words it in the screen's language."""

    def __init__(self, key: str, **values: object):
        super().__init__(key)
        self.key, self.values = key, values

    def text(self, ctx: AppContext) -> str:
        return ctx.t(self.key, **self.values)


def remote_addr() -> str | None:
    return request.remote_addr if has_request_context() else None


def _clean_note(note: str | None, required: bool = False) -> str | None:
    """The note stripped (None when empty); a required one is the feedback that resolves an alert."""
    note = (note or "").strip()
    if required and not note:
        raise DeskError("desk.error.feedback_required")
    if len(note) > MAX_NOTE:
        raise DeskError("desk.error.note_too_long", n=MAX_NOTE)
    return note or None


def _alert_in_scope(ctx: AppContext, db: Session, user: SessionUser, alert_id: str):
    alert = store.get(db, alert_id) if alert_id else None
    if alert is None or not data.in_scope(ctx, user, alert.community_id):
        raise DeskError("desk.error.alert_unknown", alert=alert_id)
    return alert


def perform(ctx: AppContext, user: SessionUser, alert_id: str, action: str, note: str | None = None,
            unit_id: str | None = None) -> dict[str, Any]:
    """One lifecycle action by a signed-in user; the alert's CONTRACT JSON after it. DeskError if refused."""
    note = _clean_note(note, required=action == "resolve")
    if unit_id is not None and unit_id and data.registry(ctx).unit(unit_id) is None:
        raise DeskError("desk.error.unit_unknown", unit=unit_id)
    with Session(ctx.engine) as db:
        alert = _alert_in_scope(ctx, db, user, alert_id)
        try:
            lifecycle.check_role(user.role, action, user.unit_id, alert.assignee)
        except lifecycle.Forbidden as exc:
            raise DeskError("desk.error.forbidden", reason=exc) from exc
        previous_unit = alert.assignee
        try:
            store.act(db, alert, action, datetime.now(UTC), actor=user.username, user_id=user.id,
                      remote_addr=remote_addr(), note=note, unit_id=unit_id or None)
        except lifecycle.IllegalTransition as exc:
            db.rollback()
            raise DeskError("desk.error.illegal", reason=exc) from exc
        db.commit()
        doc = store.to_contract(alert, ctx.settings.city.timezone)
        pipe = ctx.redis.pipeline(transaction=False)
        if previous_unit and previous_unit != alert.assignee:
            pipe.hdel(names.alert_dispatched(previous_unit), alert.alert_id)
        announce(pipe, doc, publish=True, duty_unit=alert.assignee if action == "dispatch" else None)
        pipe.execute()
    log.info("%s %s %s", user.username, action, alert_id)
    return doc


def receipt(ctx: AppContext, user: SessionUser, alert_id: str, note: str | None = None) -> None:
    """A duty unit confirms it received a dispatched alert (接单): a history entry, no status change."""
    note = _clean_note(note)
    with Session(ctx.engine) as db:
        alert = _alert_in_scope(ctx, db, user, alert_id)
        if user.role == "duty" and alert.assignee != user.unit_id:
            raise DeskError("desk.error.receipt_own_unit")
        now = datetime.now(UTC)
        db.add(AlertTransition(alert_pk=alert.id, at=now, action="receipt", from_status=alert.status,
                               to_status=alert.status, level=alert.level, actor=user.username, user_id=user.id,
                               remote_addr=remote_addr(), unit_id=user.unit_id, note=note or RECEIPT_NOTE))
        alert.updated_at = now
        db.commit()


def silence(ctx: AppContext, user: SessionUser, alert_id: str, minutes: Any, note: str | None) -> datetime:
    """Silence this alert's rule on its subject for ``minutes`` (supervisor, admin); the end instant."""
    if user.role not in lifecycle.SILENCE_ROLES:
        raise DeskError("desk.error.silence_role")
    try:
        minutes = float(minutes)
    except (TypeError, ValueError):
        raise DeskError("desk.error.silence_number") from None
    if not 0 < minutes <= 7 * 24 * 60:
        raise DeskError("desk.error.silence_range")
    note = _clean_note(note)
    with Session(ctx.engine) as db:
        alert = _alert_in_scope(ctx, db, user, alert_id)
        until = datetime.now(UTC) + timedelta(minutes=minutes)
        row = AlertSilence(rule=alert.rule, subject_id=alert.subject_id, community_id=alert.community_id,
                           until=until, created_by=user.username, note=note)
        db.add(row)
        audit.record(db, user.username, "silence", user_id=user.id, role=user.role, target=alert.alert_id,
                     detail={"rule": alert.rule, "minutes": minutes, "note": note}, remote_addr=remote_addr())
        db.commit()
    return until


@dataclass
class Checklist:
    on_post: bool
    on_route: bool
    uniform: bool
    equipment: bool
    note: str | None


def save_spot_check(ctx: AppContext, user: SessionUser, unit_id: str, checklist: Checklist) -> int:
    """Record a spot check of ``unit_id`` with where it is now; the new row id."""
    if user.role not in ("supervisor", "admin"):
        raise DeskError("desk.error.spot_check_role")
    note = _clean_note(checklist.note)
    states = {u.unit_id: u for u in data.unit_states(ctx, user)}
    unit = states.get(unit_id or "")
    if unit is None:
        raise DeskError("desk.error.pick_unit")
    cam = data.nearest_camera(ctx, unit.lat, unit.lon) if unit.lat is not None else (
        data.nearest_camera(ctx, unit.post_lat, unit.post_lon) if unit.post_lat is not None else None)
    with Session(ctx.engine) as db:
        row = SpotCheck(unit_id=unit.unit_id, post_id=unit.post_id, community_id=unit.community_id,
                        district_id=unit.district_id, camera_id=cam[0].id if cam else None, lat=unit.lat,
                        lon=unit.lon, distance_m=unit.distance_m, on_post=checklist.on_post,
                        on_route=checklist.on_route, uniform=checklist.uniform, equipment=checklist.equipment,
                        note=note, checked_by=user.username, user_id=user.id)
        db.add(row)
        db.flush()
        audit.record(db, user.username, "spot_check", user_id=user.id, role=user.role, target=unit.unit_id,
                     detail={"spot_check_id": row.id, "on_post": checklist.on_post}, remote_addr=remote_addr())
        db.commit()
        return row.id


USER_ACTIONS = ("deactivate", "activate", "password", "scope")
_ENDS_SESSIONS = ("deactivate", "password", "scope")


def manage_user(ctx: AppContext, admin: SessionUser, username: str | None, action: str,
                password: str | None = None, scope: str | None = None, unit: str | None = None) -> str:
    """Deactivate, reactivate, set a new password of an account, or give it another scope and patrol unit
    (``scope``/``unit``, None: whole city / no unit), audited (``user_<action>``); the username.

    Deactivating, a new password or a new scope also ends the account's open sessions at once, as after a lost
    phone, a leaked password or a transfer (a session keeps the scope it was opened with); an admin cannot
    deactivate themselves (someone must be left to undo it)."""
    if admin.role != "admin":
        raise DeskError("desk.error.admin_only")
    if action not in USER_ACTIONS:
        raise DeskError("desk.error.unknown_action", action=action)
    if not username:
        raise DeskError("desk.error.pick_user")
    if action == "deactivate" and username == admin.username:
        raise DeskError("desk.error.not_yourself")
    detail = {"scope": scope, "unit": unit} if action == "scope" else None
    with Session(ctx.engine) as db:
        try:
            if action == "password":
                user = set_password(db, username, password or "")
            elif action == "scope":
                user = set_scope(db, username, scope or None, unit or None)
            else:
                user = set_active(db, username, action == "activate")
        except ValueError as exc:
            raise DeskError("desk.admin.not_saved", reason=exc) from None
        user_id, name = user.id, user.username
        audit.record(db, admin.username, f"user_{action}", user_id=admin.id, role=admin.role, target=name,
                     detail=detail, remote_addr=remote_addr())
        db.commit()
    if action in _ENDS_SESSIONS:
        ended = end_sessions_of(user_id)
        log.info("user %s: %s by %s, %d session(s) ended", name, action, admin.username, ended)
    return name
