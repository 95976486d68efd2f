"""API bearer tokens: 32 random bytes shown once, stored as SHA-256 (enough for random secrets).

``create_token`` is what ``onescreen users token USERNAME`` (``onescreen.accounts.cli``) calls; ``authenticate``
is what the HTTP API does with an ``Authorization: Bearer`` header. An inactive user's tokens stop working at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from onescreen.accounts import normalize_username
from onescreen.db.models import ApiToken, User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, username: str, days: float | None = 365, label: str | None = None) -> str:
    """A new token for an existing user (flushed, not committed); ValueError if no such active user."""
    user = session.execute(
        select(User).where(User.username == normalize_username(username), User.active.is_(True))
    ).scalar()
    if user is None:
        raise ValueError(f"no active user {username!r}")
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(days=days) if days else None
    session.add(ApiToken(token_hash=_hash(token), user_id=user.id, expires_at=expires, label=label))
    session.flush()
    return token


def authenticate(session: Session, header: str | None) -> User | None:
    """The active user of a valid, unexpired bearer token in an Authorization header, else None."""
    if not header or not header.startswith("Bearer "):
        return None
    token = header[len("Bearer ") :].strip()
    if not token or len(token) > 200:
        return None
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == _hash(token))).scalar()
    if row is None:
        return None
    expires = row.expires_at
    if expires is not None:
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        if expires <= datetime.now(UTC):
            return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None
