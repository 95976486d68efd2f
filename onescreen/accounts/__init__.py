"""User accounts: create users and check passwords. API bearer tokens are ``onescreen.accounts.tokens``; the
helpers of the ``onescreen users`` commands ``onescreen.accounts.cli``.

Passwords are hashed with Argon2id (argon2-cffi's defaults follow RFC 9106); a hash made with older
parameters is upgraded at the next successful login. Usernames are case-insensitive (stored lower-case)
because operators type them on shared consoles. A failed login for an unknown user costs the same time as
a wrong password, so the login form does not reveal which usernames exist.
"""

from __future__ import annotations

import logging
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from onescreen.db.models import ROLES, Department, GridNode, GridWorker, PatrolUnit, User

log = logging.getLogger(__name__)

USERNAME = re.compile(r"[a-z0-9][a-z0-9_.-]{1,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024  # bound the hashing work one request can ask for

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("onescreen-timing-equaliser")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise ValueError(f"password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"password must be at most {MAX_PASSWORD} characters")


def normalize_username(username: str) -> str:
    """Lower-cased, stripped username; ValueError naming the allowed pattern."""
    name = (username or "").strip().lower()
    if not USERNAME.fullmatch(name):
        raise ValueError(f"username {username!r} must be 2..64 characters: letters, digits, '_', '.', '-', "
                         "starting with a letter or digit")
    return name


def _check_refs(session: Session, scope_node_id: str | None, unit_id: str | None) -> None:
    if scope_node_id is not None and session.get(GridNode, scope_node_id) is None:
        raise ValueError(f"scope_node_id {scope_node_id!r} is not a grid node of the registry")
    if unit_id is not None and session.get(PatrolUnit, unit_id) is None:
        raise ValueError(f"unit_id {unit_id!r} is not a patrol unit of the registry")


def _user(session: Session, username: str) -> User:
    user = session.execute(select(User).where(User.username == normalize_username(username))).scalar()
    if user is None:
        raise ValueError(f"no user {username!r}")
    return user


def _check_binding(session: Session, role: str, worker_id: str | None, department_id: str | None) -> None:
    """A ``grid`` account is one grid worker, a ``department`` account one department; no other role is."""
    if role == "grid" and worker_id is None:
        raise ValueError("a grid account needs its grid worker (--worker W-…)")
    if role == "department" and department_id is None:
        raise ValueError("a department account needs its department (--department …)")
    if worker_id is not None and role != "grid":
        raise ValueError("only a grid account is bound to a grid worker")
    if department_id is not None and role != "department":
        raise ValueError("only a department account is bound to a department")
    if worker_id is not None and session.get(GridWorker, worker_id) is None:
        raise ValueError(f"worker {worker_id!r} is not a grid worker of the registry")
    if department_id is not None and session.get(Department, department_id) is None:
        raise ValueError(f"department {department_id!r} is not a department of the registry")


def add_user(session: Session, username: str, password: str, role: str, scope_node_id: str | None = None,
             unit_id: str | None = None, worker_id: str | None = None,
             department_id: str | None = None) -> User:
    """Create an account (flushed, not committed: the caller commits); ValueError with a clear reason."""
    name = normalize_username(username)
    if role not in ROLES:
        raise ValueError(f"role {role!r} must be one of {', '.join(ROLES)}")
    _check_password(password)
    if session.execute(select(User.id).where(User.username == name)).first() is not None:
        raise ValueError(f"username {name!r} already exists")
    _check_refs(session, scope_node_id, unit_id)
    _check_binding(session, role, worker_id, department_id)
    user = User(username=name, password_hash=_hasher.hash(password), role=role, scope_node_id=scope_node_id,
                unit_id=unit_id, worker_id=worker_id, department_id=department_id, active=True)
    session.add(user)
    session.flush()
    log.info("user %s added with role %s", name, role)
    return user


def set_password(session: Session, username: str, password: str) -> User:
    """Replace a user's password (flushed, not committed); ValueError if the user does not exist."""
    _check_password(password)
    user = _user(session, username)
    user.password_hash = _hasher.hash(password)
    session.flush()
    return user


def set_active(session: Session, username: str, active: bool) -> User:
    """Deactivate (sign-in, sessions and bearer tokens stop working) or reactivate an account (flushed, not
    committed); ValueError if the user does not exist. Accounts are never deleted: the audit trail names them."""
    user = _user(session, username)
    user.active = active
    session.flush()
    log.info("user %s %s", user.username, "reactivated" if active else "deactivated")
    return user


def set_scope(session: Session, username: str, scope_node_id: str | None, unit_id: str | None) -> User:
    """Give an account another scope (None: the whole city) and patrol unit (None: none), flushed, not
    committed; ValueError naming a node or unit the registry does not hold. Open sessions carry the old scope:
    they end (``dashboard.auth.sessions`` compares them with the account)."""
    user = _user(session, username)
    _check_refs(session, scope_node_id, unit_id)
    user.scope_node_id, user.unit_id = scope_node_id, unit_id
    session.flush()
    log.info("user %s: scope %s, unit %s", user.username, scope_node_id or "whole city", unit_id or "none")
    return user


def verify_password(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, else None (never says which part was wrong)."""
    try:
        name = normalize_username(username)
    except ValueError:
        name = None
    user = None
    if name is not None:
        user = session.execute(select(User).where(User.username == name, User.active.is_(True))).scalar()
    if user is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        try:  # same cost as a real check
            _hasher.verify(_DUMMY_HASH, "x" if not isinstance(password, str) else password[:MAX_PASSWORD])
        except VerificationError:
            pass
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
        session.flush()
    return user
