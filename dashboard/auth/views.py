"""``/login`` (form), ``/logout`` (POST) and ``/auth/session`` (who am I + CSRF token), as plain Flask views.

The login form is server-rendered HTML rather than a Dash page: it must work before any session exists
(the Dash endpoints are behind the gate) and it is a classic form POST carrying a CSRF token.
"""

from __future__ import annotations

import logging
from html import escape

from flask import Blueprint, Response, jsonify, redirect, request

from dashboard.auth import access, audit, sessions
from dashboard.auth.ratelimit import LoginLimiter
from dashboard.context import app_context
from onescreen.accounts import normalize_username, verify_password
from onescreen.db.session import session_factory

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><link rel="stylesheet" href="/assets/desk.css"></head>
<body class="login-body"><main class="login-card">
<div class="login-brand">{center}</div><h1 class="login-title">{title}</h1>
{error}
<form method="post" action="/login" class="login-form" autocomplete="off">
<input type="hidden" name="csrf_token" value="{csrf}"><input type="hidden" name="next" value="{next}">
<label for="login-username">{user_label}</label>
<input id="login-username" name="username" value="{username}" maxlength="64" required autofocus>
<label for="login-password">{pw_label}</label>
<input id="login-password" name="password" type="password" maxlength="1024" required>
<button id="login-submit" type="submit">{submit}</button>
</form></main></body></html>"""


def _page(error: str = "", username: str = "", next_path: str = "", status: int = 200) -> Response:
    ctx = app_context()
    t = ctx.t
    html = PAGE.format(
        lang=ctx.t.locale, title=escape(t("login.title")), center=escape(ctx.settings.dashboard.center_name),
        error=f'<p class="login-error" role="alert">{escape(error)}</p>' if error else "",
        csrf=escape(sessions.csrf_token()), next=escape(next_path), username=escape(username),
        user_label=escape(t("login.username")), pw_label=escape(t("login.password")),
        submit=escape(t("login.submit")))
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/login")
def login_form() -> Response:
    user = sessions.current_user()
    next_path = access.safe_next(request.args.get("next")) or ""
    if user is not None:
        return redirect(next_path if next_path and access.may_open(user.role, next_path)
                        else access.home_of(user.role), 303)
    return _page(next_path=next_path)


@bp.post("/login")
def login_submit() -> Response:
    ctx = app_context()
    t = ctx.t
    form = request.form
    typed = (form.get("username") or "").strip()[:64]
    next_path = access.safe_next(form.get("next")) or ""
    if not sessions.csrf_ok(form.get("csrf_token")):
        return _page(t("login.expired"), typed, next_path, 400)
    password = form.get("password") or ""
    if not typed or not password:
        return _page(t("login.missing"), typed, next_path, 400)
    try:
        name = normalize_username(typed)
    except ValueError:
        name = typed.lower()
    ip = request.remote_addr or "?"
    limiter = LoginLimiter(ctx.redis, ctx.settings.dashboard)
    wait = limiter.locked(name, ip)
    if wait:
        audit.record(ctx.engine, name, "login_locked", remote_addr=ip, detail={"wait_s": wait})
        return _page(t("login.locked", minutes=max(1, (wait + 59) // 60)), typed, next_path, 429)
    with session_factory(ctx.engine)() as db:
        user = verify_password(db, name, password)
        if user is None:
            limiter.failed(name, ip)
            audit.record(db, name, "login_failed", remote_addr=ip)
            db.commit()
            return _page(t("login.wrong"), typed, next_path, 401)
        db.commit()  # a re-hashed password
        su = sessions.start(user, sessions.scope_level_of(db, user.scope_node_id))
        audit.record(db, su.username, "login", user_id=su.id, role=su.role, remote_addr=ip)
        db.commit()
    limiter.succeeded(name)
    target = next_path if next_path and access.may_open(su.role, next_path) else access.home_of(su.role)
    return redirect(target, 303)


@bp.post("/logout")
def logout() -> Response:
    if not sessions.csrf_ok(request.form.get("csrf_token")):
        return Response("CSRF token missing or wrong", status=400, mimetype="text/plain")
    user = sessions.end()
    if user is not None:
        audit.record(app_context().engine, user.username, "logout", user_id=user.id, role=user.role,
                     remote_addr=request.remote_addr)
    return redirect("/login", 303)


@bp.get("/auth/session")
def whoami() -> Response:
    user = sessions.current_user()
    body = {"user": None if user is None else {"username": user.username, "role": user.role,
                                               "scope_node_id": user.scope_node_id, "unit_id": user.unit_id},
            "csrf_token": sessions.csrf_token()}
    resp = jsonify(body)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def forbidden_page(path: str) -> Response:
    ctx = app_context()
    t = ctx.t
    user = sessions.current_user()
    home = access.home_of(user.role) if user else "/login"
    html = (f'<!DOCTYPE html><html lang="{ctx.t.locale}"><head><meta charset="utf-8"><title>403</title>'
            f'<link rel="stylesheet" href="/assets/desk.css"></head><body class="login-body">'
            f'<main class="login-card"><h1 class="login-title desk-forbidden">{escape(t("auth.forbidden"))}</h1>'
            f'<p>{escape(path)}</p><a class="desk-link" href="{escape(home)}">{escape(t("auth.home"))}</a>'
            f'</main></body></html>')
    return Response(html, status=403, mimetype="text/html")
