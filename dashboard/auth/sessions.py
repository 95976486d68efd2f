"""Sessions: a signed Flask cookie that names a server-side session record in Redis.

The cookie (signed with ``dashboard.secret_key``, ``HttpOnly``, ``SameSite=Strict``) carries only a random
session id and the CSRF token. The record ``os:auth:session:<sid>`` holds the user and the login time, with a
TTL of ``session_idle_minutes`` renewed on use: so logout and an admin's deactivation end a session at once
(a bare signed cookie could not be revoked), idle sessions expire by themselves, and ``session_max_hours``
bounds a session's whole life.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import asdict, dataclass

import orjson
from flask import g, has_request_context, session

from dashboard.context import app_context
from onescreen import names
from onescreen.db.models import GridNode, User

PREFIX = f"{names.ROOT}:auth:session"


@dataclass(frozen=True)
class SessionUser:
    """The signed-in user as the pages need it (no password hash in sight)."""

    id: int
    username: str
    role: str
    scope_node_id: str | None
    scope_level: str | None
    unit_id: str | None
    login_at: float
    credential: str = ""  # fingerprint of the password hash the session was opened with (_credential)


def _key(sid: str) -> str:
    return f"{PREFIX}:{sid}"


def csrf_token() -> str:
    """The CSRF token of this browser session (created on first use)."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok(sent: str | None) -> bool:
    token = session.get("csrf")
    return bool(token and sent and hmac.compare_digest(token, sent))


def start(user: User, scope_level: str | None) -> SessionUser:
    """A fresh session for ``user`` (new id and CSRF token: no fixation of a pre-login cookie)."""
    ctx = app_context()
    cfg = ctx.settings.dashboard
    su = SessionUser(id=user.id, username=user.username, role=user.role, scope_node_id=user.scope_node_id,
                     scope_level=scope_level, unit_id=user.unit_id, login_at=time.time(),
                     credential=_credential(user.password_hash))
    sid = secrets.token_urlsafe(32)
    ctx.redis.set(_key(sid), orjson.dumps(asdict(su)), ex=cfg.session_idle_minutes * 60)
    session.clear()
    session.permanent = True
    session["sid"] = sid
    session["csrf"] = secrets.token_urlsafe(32)
    g.user = su
    return su


def end() -> SessionUser | None:
    """Forget this browser's session, server side and cookie; the user it had, if any."""
    user = current_user()
    sid = session.get("sid")
    if sid:
        app_context().redis.delete(_key(sid))
    session.clear()
    g.user = None
    return user


def current_user() -> SessionUser | None:
    """The signed-in user of this request (None outside a request, or when expired / logged out)."""
    if not has_request_context():
        return None
    if "user" in g:
        return g.user
    g.user = None
    sid = session.get("sid")
    if not sid:
        return None
    ctx = app_context()
    cfg = ctx.settings.dashboard
    key = _key(sid)
    raw = ctx.redis.get(key)
    if raw is None:
        return None
    su = SessionUser(**orjson.loads(raw))
    if time.time() - su.login_at > cfg.session_max_hours * 3600 or not _still_valid(su):
        ctx.redis.delete(key)
        return None
    ctx.redis.expire(key, cfg.session_idle_minutes * 60)
    g.user = su
    return su


_VALID_CACHE: dict[tuple, float] = {}  # (app, user id, role, scope, unit, credential) -> valid until
_VALID_TTL_S = 10.0


def _credential(password_hash: str) -> str:
    """A short one-way fingerprint of a password hash: tells a changed password without keeping the hash."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def _still_valid(su: SessionUser) -> bool:
    """Is the account still active, with the password, role, scope and unit this session was opened with
    (checked in SQL at most every 10 s per user and app)? A deactivation, a new password or a move to another
    scope from the CLI ends the session within 10 s; from ``/admin`` at once (``end_sessions_of``)."""
    ctx = app_context()
    key = (id(ctx), su.id, su.role, su.scope_node_id, su.unit_id, su.credential)
    now = time.monotonic()
    if _VALID_CACHE.get(key, 0) > now:
        return True
    from sqlalchemy.orm import Session

    with Session(ctx.engine) as db:
        user = db.get(User, su.id)
        ok = (user is not None and user.active and _credential(user.password_hash) == su.credential
              and (user.role, user.scope_node_id, user.unit_id) == (su.role, su.scope_node_id, su.unit_id))
    if ok:
        _VALID_CACHE[key] = now + _VALID_TTL_S
    else:
        _VALID_CACHE.pop(key, None)
    return ok


def end_sessions_of(user_id: int) -> int:
    """Drop every session of a user (deactivation); the number dropped."""
    ctx = app_context()
    gone = 0
    for key in ctx.redis.scan_iter(f"{PREFIX}:*", count=500):
        raw = ctx.redis.get(key)
        if raw and orjson.loads(raw).get("id") == user_id:
            gone += ctx.redis.delete(key)
    for key in [k for k in _VALID_CACHE if k[:2] == (id(ctx), user_id)]:
        _VALID_CACHE.pop(key, None)
    return gone


def scope_level_of(db, node_id: str | None) -> str | None:
    if node_id is None:
        return None
    node = db.get(GridNode, node_id)
    return node.level if node is not None else None
