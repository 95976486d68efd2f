"""Every write a person makes on an alert, once: ``act`` (ack, dispatch, on_scene, resolve, close) and
``receipt`` (a duty unit's 接单). Silences are in ``alerts.silences``, in the same shape.

Each command is a plain function over ``(session, actor, input, now, out)``:

1. checks the actor's role (``alerts.lifecycle``) and scope (``Actor.communities``: an alert outside it is
   ``NotFound``, as if it did not exist);
2. validates the input (the unit exists in the registry; a note is at most ``MAX_NOTE`` characters; resolving
   needs the feedback note);
3. writes the transition with its audit row (``alert_transition``: who, when, from where, note) on ``session``;
4. queues the announcement on ``out.pipe`` (``alerts.notify.announce``: screens, MQTT outbox, duty unit).

It flushes, never commits: the caller commits, then executes ``out.pipe``, so nothing is announced that is not
committed (``dashboard.commands.run`` does both for the API and the desks). A refusal is a
``onescreen.commands.CommandError`` (400/403/404/409) with a text key for the desks and an English message
for the API; the session is then left for the caller to roll back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from alerts import lifecycle, store
from alerts.notify import announce
from onescreen import names
from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import Alert, AlertTransition, PatrolUnit

MAX_NOTE = 2000
# A receipt (接单) without a note is stored with this note. It is audit data, so it is written the same whatever
# the screen language; the desks show it as the language's "received" (dashboard.desk.widgets).
RECEIPT_NOTE = "已接单"


@dataclass(frozen=True, slots=True)
class Effects:
    """Where a command queues its announcement (a Redis pipeline the caller executes after its commit) and the
    zone the announced documents are written in (``city.timezone``)."""

    pipe: Any
    tz: str


@dataclass(frozen=True, slots=True)
class ActionInput:
    """``POST /api/alerts/{alert_id}/{action}`` with ``{"note", "unit_id"}``, or a desk button."""

    alert_id: str
    action: str
    note: str | None = None
    unit_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReceiptInput:
    alert_id: str
    note: str | None = None


def clean_note(note: Any, required: bool = False) -> str | None:
    """The note stripped (None when empty); Invalid if it is not text, too long, or missing when required."""
    if note is not None and not isinstance(note, str):
        raise Invalid("desk.error.note_type", "note must be a string")
    note = (note or "").strip()
    if required and not note:
        raise Invalid("desk.error.feedback_required", "note is required: the feedback that resolves the alert")
    if len(note) > MAX_NOTE:
        raise Invalid("desk.error.note_too_long", f"note is longer than {MAX_NOTE} characters", n=MAX_NOTE)
    return note or None


def alert_in_scope(session: Session, actor: Actor, alert_id: Any) -> Alert:
    """The alert, if it exists and lies in the actor's scope; NotFound otherwise (the same answer for both)."""
    alert = store.get(session, alert_id) if isinstance(alert_id, str) and alert_id else None
    if alert is None or not actor.sees_community(alert.community_id):
        raise NotFound("desk.error.alert_unknown", f"no alert {alert_id}", alert=alert_id)
    return alert


def act(session: Session, actor: Actor, inp: ActionInput, now: datetime, out: Effects) -> Alert:
    """One lifecycle action on an alert; the alert after it (flushed)."""
    if inp.action not in lifecycle.ACTIONS:
        raise Invalid("desk.error.unknown_action", f"no action {inp.action}; one of "
                      f"{', '.join(lifecycle.ACTIONS)}", action=inp.action)
    note = clean_note(inp.note, required=inp.action == "resolve")
    unit_id = inp.unit_id or None
    if unit_id is not None and (not isinstance(unit_id, str) or session.get(PatrolUnit, unit_id) is None):
        raise Invalid("desk.error.unit_unknown", f"unit_id {unit_id!r} is not a patrol unit of the registry",
                      unit=unit_id)
    alert = alert_in_scope(session, actor, inp.alert_id)
    try:
        lifecycle.check_role(actor.role, inp.action, actor.unit_id, alert.assignee)
    except lifecycle.Forbidden as exc:
        raise Forbidden("desk.error.forbidden", str(exc), reason=exc) from None
    previous_unit = alert.assignee
    try:
        store.act(session, alert, inp.action, now, actor=actor.username, user_id=actor.user_id,
                  remote_addr=actor.remote_addr, note=note, unit_id=unit_id)
    except lifecycle.IllegalTransition as exc:
        raise Conflict("desk.error.illegal", str(exc), reason=exc) from None
    if previous_unit and previous_unit != alert.assignee:
        out.pipe.hdel(names.alert_dispatched(previous_unit), alert.alert_id)
    announce(out.pipe, store.to_contract(alert, out.tz), publish=True,
             duty_unit=alert.assignee if inp.action == "dispatch" else None)
    return alert


def receipt(session: Session, actor: Actor, inp: ReceiptInput, now: datetime, out: Effects) -> Alert:
    """A duty unit confirms it received a dispatched alert (接单): a history entry, no status change."""
    note = clean_note(inp.note)
    alert = alert_in_scope(session, actor, inp.alert_id)
    if actor.role not in lifecycle.ROLE_ACTIONS:
        raise Forbidden("desk.error.forbidden", f"role {actor.role} may not confirm receipts",
                        reason=actor.role)
    if actor.role == "duty" and alert.assignee != actor.unit_id:
        raise Forbidden("desk.error.receipt_own_unit", "a duty unit confirms only alerts dispatched to it")
    session.add(AlertTransition(alert_pk=alert.id, at=now, action="receipt", from_status=alert.status,
                                to_status=alert.status, level=alert.level, actor=actor.username,
                                user_id=actor.user_id, remote_addr=actor.remote_addr, unit_id=actor.unit_id,
                                note=note or RECEIPT_NOTE))
    alert.updated_at = now
    session.flush()
    announce(out.pipe, store.to_contract(alert, out.tz), publish=False)  # the screens' change signal only
    return alert
