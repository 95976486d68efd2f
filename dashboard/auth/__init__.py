"""Sign-in, sessions, CSRF and role checks for the dashboard (issue #7).

``init_auth(server, ctx)`` sets up the signed session cookie and puts one gate in front of every request:

- public: ``/login``, ``/auth/session``, ``/api/health`` (CONTRACT §3), ``/metrics``, static files;
- ``/api/...`` with an ``Authorization`` header goes on to the blueprint, which checks the token (401, CONTRACT
  §3); without it a session is needed, and a request with neither gets 401 *before* any cross-site check (a
  client without credentials learns it must sign in, not that its origin is wrong); the role is the
  blueprint's (403);
- every state-changing request made with the session cookie must come from this server's own pages
  (``Origin``, else ``Referer``), on top of ``SameSite=Strict``: that is the CSRF defence of the Dash
  callbacks (``/_dash-update-component`` is a JSON POST a form on another site cannot forge with the
  cookie); classic forms (login, logout) also carry a CSRF token;
- Dash callbacks need a session, and a callback that drives a desk needs a role that may open that desk;
- pages: no session → ``/login?next=…``; a role that may not open the page → 403.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from urllib.parse import quote

from flask import Flask, Response, jsonify, redirect, request

from dashboard.auth import access, sessions
from dashboard.auth.views import bp, forbidden_page
from dashboard.context import AppContext

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _secret(ctx: AppContext) -> str:
    key = ctx.settings.dashboard.secret_key
    if key is not None and key.get_secret_value():
        return key.get_secret_value()
    log.warning("dashboard.secret_key is not set (ONESCREEN_DASHBOARD_SECRET_KEY): using a random key, so "
                "sessions will not survive a restart and several dashboard processes will not share them")
    return secrets.token_hex(32)


def _json_error(status: int, message: str, reason: str) -> Response:
    resp = jsonify({"error": message, "reason": reason})
    resp.status_code = status
    return resp


def init_auth(server: Flask, ctx: AppContext) -> None:
    """Session cookie settings, the login views and the request gate."""
    cfg = ctx.settings.dashboard
    server.secret_key = _secret(ctx)
    server.config.update(
        SESSION_COOKIE_NAME="onescreen_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=cfg.session_max_hours),
    )
    server.register_blueprint(bp)
    server.before_request(_gate)


def _gate() -> Response | None:
    path = request.path
    if access.is_public(path) and path != "/logout":
        return None
    if path.startswith("/api/") and request.headers.get("Authorization"):
        return None  # token API: the blueprint authenticates (401) and authorises (403)
    if path.startswith("/api/") and sessions.current_user() is None:
        return _json_error(401, "missing or invalid credential: a bearer token or a signed-in session",
                           "unauthorized")
    if request.method not in SAFE_METHODS and not access.same_origin(
            request.headers.get("Origin"), request.headers.get("Referer"), request.host_url):
        return _json_error(403, "cross-site request refused (Origin/Referer is not this server)", "cross_site")
    if path == "/logout":
        return None
    user = sessions.current_user()
    if path.startswith("/api/") or path.startswith("/_dash-") or path.startswith("/_reload-hash"):
        if user is None:
            return _json_error(401, "not signed in or session expired", "unauthorized")
        if path == "/_dash-update-component" and not access.callback_allowed(
                user.role, request.get_json(silent=True)):
            return _json_error(403, f"role {user.role} may not use this desk", "forbidden")
        return None
    if user is None:
        return redirect(f"/login?next={quote(path)}", 302)
    if not access.may_open(user.role, path):
        return forbidden_page(path)
    return None
