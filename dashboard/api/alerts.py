"""Alerts HTTP API (CONTRACT §3): list, detail with history, lifecycle actions, evidence frame, silences.

Bearer tokens (``alerts.tokens``) or the web session (``dashboard.auth``): 401 for a wrong or missing
credential, 403 for a role without the
right
(matrix in ``alerts.lifecycle.ROLE_ACTIONS``), 409 for an illegal transition. Every action is written with the
user and remote address into ``alert_transition``: that table is the audit trail. A change is announced on
Redis (screens, MQTT outbox drained by the alert engine) after the SQL commit. ``/api/openapi.json`` is the
static description in ``alerts/openapi.json``, kept honest by a test that compares it with these routes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Response, g, request
from sqlalchemy.orm import Session

from alerts import lifecycle, store
from alerts.notify import announce
from alerts.tokens import authenticate
from dashboard.context import app_context
from onescreen.db.models import AlertSilence, User
from onescreen.db.session import session_factory

bp = Blueprint("alerts", __name__)
OPENAPI = Path(__file__).resolve().parents[2] / "alerts" / "openapi.json"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(data), status=status, mimetype="application/json", headers=headers)


def _error(status: int, message: str) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="onescreen"'} if status == 401 else None
    return _json({"error": message}, status, headers)


def _session() -> Session:
    ctx = app_context()
    factory = ctx.__dict__.get("_alert_sessions")
    if factory is None:
        factory = ctx.__dict__["_alert_sessions"] = session_factory(ctx.engine)
    return factory()


def authed(view: Callable[..., Response]) -> Callable[..., Response]:
    """Resolve the bearer token (or the web session) to a user (g.user) and open a session (g.db), or 401."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        with _session() as session:
            header = request.headers.get("Authorization")
            user = authenticate(session, header)
            if user is None and not header:  # the web pages: the signed-in user (dashboard.auth)
                from dashboard.auth.sessions import current_user

                signed_in = current_user()
                user = session.get(User, signed_in.id) if signed_in is not None else None
            if user is None:
                return _error(401, "missing or invalid bearer token")
            g.user, g.db = user, session
            return view(*args, **kwargs)

    return wrapper


def _tz() -> str:
    return app_context().settings.city.timezone


def _visible() -> set[str] | None:
    """The communities whose alerts the user may see (a district's, a community, a cell's), None: all."""
    from dashboard.desk.data import visible_communities

    return visible_communities(app_context(), g.user)


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return Response(OPENAPI.read_bytes(), mimetype="application/json")


@bp.get("/api/alerts")
@authed
def list_alerts() -> Response:
    try:
        limit = max(1, min(1000, int(request.args.get("limit", 200))))
    except ValueError:
        return _error(400, "limit must be an integer")
    asked, visible = request.args.get("community_id") or None, _visible()
    if visible is None:
        communities = [asked] if asked else None
    else:
        communities = sorted(visible & {asked} if asked else visible)
    rows = store.listing(
        g.db, request.args.get("status") or None, request.args.get("level") or None, communities, limit
    )
    return _json([store.to_contract(a, _tz()) for a in rows])


def _find(alert_id: str):
    alert = store.get(g.db, alert_id)
    visible = _visible()
    if alert is None or (visible is not None and alert.community_id not in visible):
        return None  # outside the user's scope: as if it did not exist
    return alert


@bp.get("/api/alerts/<alert_id>")
@authed
def get_alert(alert_id: str) -> Response:
    alert = _find(alert_id)
    if alert is None:
        return _error(404, f"no alert {alert_id}")
    return _json({**store.to_contract(alert, _tz()), "history": store.history(g.db, alert, _tz())})


@bp.post("/api/alerts/<alert_id>/<action>")
@authed
def act(alert_id: str, action: str) -> Response:
    if action not in lifecycle.ACTIONS:
        return _error(404, f"no action {action}; one of {', '.join(lifecycle.ACTIONS)}")
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        return _error(400, "body must be a JSON object")
    note, unit_id = body.get("note"), body.get("unit_id")
    if (note is not None and not isinstance(note, str)) or (
        unit_id is not None and not isinstance(unit_id, str)
    ):
        return _error(400, "note and unit_id must be strings")
    alert = _find(alert_id)
    if alert is None:
        return _error(404, f"no alert {alert_id}")
    user = g.user
    try:
        lifecycle.check_role(user.role, action, user.unit_id, alert.assignee)
    except lifecycle.Forbidden as exc:
        return _error(403, str(exc))
    previous_unit = alert.assignee
    try:
        store.act(
            g.db,
            alert,
            action,
            datetime.now(UTC),
            actor=user.username,
            user_id=user.id,
            remote_addr=request.remote_addr,
            note=(note or None) and note[:2000],
            unit_id=unit_id,
        )
    except lifecycle.IllegalTransition as exc:
        g.db.rollback()
        return _error(409, str(exc))
    g.db.commit()
    doc = store.to_contract(alert, _tz())
    pipe = app_context().redis.pipeline(transaction=False)
    if previous_unit and previous_unit != alert.assignee:
        from onescreen import names

        pipe.hdel(names.alert_dispatched(previous_unit), alert.alert_id)
    announce(pipe, doc, publish=True, duty_unit=alert.assignee if action == "dispatch" else None)
    pipe.execute()
    return _json({**doc, "history": store.history(g.db, alert, _tz())})


@bp.get("/api/alerts/<alert_id>/snapshot.jpg")
@authed
def snapshot(alert_id: str) -> Response:
    alert = _find(alert_id)
    jpeg = store.snapshot(g.db, alert) if alert is not None else None
    if jpeg is None:
        return _error(404, f"no evidence frame for {alert_id}")
    return Response(jpeg, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


@bp.post("/api/silences")
@authed
def add_silence() -> Response:
    if g.user.role not in lifecycle.SILENCE_ROLES:
        return _error(403, f"role {g.user.role} may not silence alerts")
    body = request.get_json(silent=True) or {}
    try:
        minutes = float(body.get("minutes", 60))
        if not 0 < minutes <= 7 * 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        return _error(400, "minutes must be a number in (0, 10080]")
    until = datetime.now(UTC) + timedelta(minutes=minutes)
    row = AlertSilence(
        rule=body.get("rule"),
        subject_id=body.get("subject_id"),
        community_id=body.get("community_id"),
        until=until,
        created_by=g.user.username,
        note=body.get("note"),
    )
    g.db.add(row)
    g.db.commit()
    return _json(
        {
            "id": row.id,
            "rule": row.rule,
            "subject_id": row.subject_id,
            "community_id": row.community_id,
            "until": until.isoformat(),
            "created_by": row.created_by,
        },
        201,
    )
