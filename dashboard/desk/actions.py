"""What people do at the desks: thin adapters over the command layer, plus the desk-only writes.

Alert actions, receipts and silences are the commands of ``alerts.commands`` and ``alerts.silences``, run by
``dashboard.commands.run`` with the signed-in user's Actor: the same role, scope and input checks, audit rows
and announcements as the HTTP API, written once. Spot checks and account management (desk-only writes) are
still here, each with its audit row in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alerts import commands, silences, store
from dashboard.auth import audit
from dashboard.auth.sessions import SessionUser, end_sessions_of
from dashboard.commands import actor, error_text, remote_addr, run
from dashboard.context import AppContext
from dashboard.desk import data
from onescreen.accounts import set_active, set_password, set_scope
from onescreen.commands import CommandError
from onescreen.db.models import SpotCheck

log = logging.getLogger(__name__)

MAX_NOTE = commands.MAX_NOTE
RECEIPT_NOTE = commands.RECEIPT_NOTE


class DeskError(CommandError):
    """A refused desk action that is not an alert command (spot checks, accounts): the text key
    (``desk.error.*``) and values of the message the desk shows in the screen's language."""

    def __init__(self, key: str, **values: object):
        super().__init__(key, key, **values)

    def text(self, ctx: AppContext) -> str:
        return error_text(ctx, self)


def _clean_note(note: str | None) -> str | None:
    try:
        return commands.clean_note(note)
    except CommandError as exc:
        raise DeskError(exc.key, **exc.values) from None


def perform(ctx: AppContext, user: SessionUser, alert_id: str, action: str, note: str | None = None,
            unit_id: str | None = None) -> dict[str, Any]:
    """One lifecycle action by a signed-in user (``alerts.commands.act``); the alert's CONTRACT JSON after it.
    A refusal raises the command's ``CommandError``."""
    inp = commands.ActionInput(alert_id, action, note, unit_id or None)
    doc = run(ctx, commands.act, actor(ctx, user), inp,
              lambda _s, alert: store.to_contract(alert, ctx.settings.city.timezone))
    log.info("%s %s %s", user.username, action, alert_id)
    return doc


def receipt(ctx: AppContext, user: SessionUser, alert_id: str, note: str | None = None) -> None:
    """A duty unit confirms it received a dispatched alert (``alerts.commands.receipt``)."""
    run(ctx, commands.receipt, actor(ctx, user), commands.ReceiptInput(alert_id, note), lambda _s, _a: None)


def silence(ctx: AppContext, user: SessionUser, alert_id: str, minutes: Any, reason: str | None) -> datetime:
    """Silence this alert's rule on its subject in its community for ``minutes`` (``alerts.silences.create``,
    supervisor, admin, within their scope); the end instant."""
    who = actor(ctx, user)
    with Session(ctx.engine) as db:
        alert = commands.alert_in_scope(db, who, alert_id)  # NotFound outside the scope, as for the API
        inp = silences.SilenceInput(reason=reason, rule=alert.rule, subject_id=alert.subject_id,
                                    community_id=alert.community_id, minutes=_minutes(minutes))
    return run(ctx, silences.create, who, inp, lambda _s, row: row.until)


def _minutes(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise DeskError("desk.error.silence_number") from None


def lift_silence(ctx: AppContext, user: SessionUser, silence_id: int) -> None:
    """End a silence now (``alerts.silences.lift``)."""
    run(ctx, silences.lift, actor(ctx, user), silence_id, lambda _s, _row: None)


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
