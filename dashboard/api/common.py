"""What every HTTP API module shares: JSON answers and errors, the strict JSON body, and ``authed``.

``authed`` resolves the bearer token (``onescreen.accounts.tokens``) or the signed-in web session to an
``Actor`` (``g.actor``) and a session (``g.db``), answering 401 without one; a ``CommandError`` raised by the
view (a refused command, a bad body) is rolled back and becomes its status (400/403/404/409) with
``{"error": message, "reason": name}``, so the views hold no error plumbing of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import orjson
from flask import Response, g, request
from sqlalchemy.orm import Session

from dashboard.commands import actor
from dashboard.context import app_context
from onescreen.accounts.tokens import authenticate
from onescreen.commands import CommandError, Invalid
from onescreen.db.models import User
from onescreen.db.session import session_factory


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``data`` as a JSON answer (orjson: datetimes, dataclasses)."""
    return Response(orjson.dumps(data), status=status, mimetype="application/json", headers=headers)


# the machine-readable reason of an error that names none of its own (every error body carries one)
REASONS = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict",
           503: "unavailable"}


def error(status: int, message: str, reason: str | None = None) -> Response:
    """``{"error": message, "reason": reason}`` with ``status`` (401 with the Bearer challenge); ``reason``
    defaults to the status' name (REASONS)."""
    headers = {"WWW-Authenticate": 'Bearer realm="onescreen"'} if status == 401 else None
    return json_response({"error": message, "reason": reason or REASONS.get(status, "error")}, status, headers)


def _session() -> Session:
    ctx = app_context()
    factory = ctx.__dict__.get("_alert_sessions")
    if factory is None:
        factory = ctx.__dict__["_alert_sessions"] = session_factory(ctx.engine)
    return factory()


def authed(view: Callable[..., Response]) -> Callable[..., Response]:
    """Resolve the bearer token (or the web session) to an Actor (g.actor) and a read session (g.db), or 401;
    a refused command becomes its HTTP answer."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        with _session() as session:
            header = request.headers.get("Authorization")
            user = authenticate(session, header)
            if user is None and not header:  # the web pages: the signed-in user (dashboard.auth)
                from dashboard.auth.sessions import current_user

                signed_in = current_user()
                user = session.get(User, signed_in.id) if signed_in is not None else None
                user = user if user is not None and user.active else None
            if user is None:
                return error(401, "missing or invalid credential (Authorization: Bearer <token>)",
                             "unauthorized")
            g.actor, g.db = actor(app_context(), user), session
            try:
                return view(*args, **kwargs)
            except CommandError as exc:
                session.rollback()
                return json_response(exc.to_json(), exc.status)

    return wrapper


def body() -> dict[str, Any]:
    """The request's JSON object ({} for an empty body); Invalid for anything else."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid("desk.error.bad_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Invalid("desk.error.bad_json", "body must be a JSON object")
    return doc
