"""Accounts: creating users with clear refusals, and password checks that reveal nothing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from onescreen.accounts import add_user, set_password, verify_password
from onescreen.db.models import GridNode, PatrolUnit, User
from onescreen.db.session import make_engine, session_factory


@pytest.fixture
def session(sqlite_url):
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as s:
        square = {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}
        s.add(GridNode(id="C0", level="city", parent_id=None, name="city", geometry=square, lat=0.5, lon=0.5))
        s.add(PatrolUnit(id="U-1", name="unit", post_id=None, members=2))
        s.commit()
        yield s
    engine.dispose()


def test_add_and_verify(session):
    user = add_user(session, "Zhang.Wei", "correct horse", "supervisor", scope_node_id="C0")
    session.commit()
    assert user.id is not None and user.username == "zhang.wei" and user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert verify_password(session, "zhang.wei", "correct horse").id == user.id
    assert verify_password(session, "ZHANG.WEI", "correct horse").id == user.id  # usernames ignore case
    assert verify_password(session, "zhang.wei", "wrong horse") is None
    assert verify_password(session, "nobody", "correct horse") is None
    assert verify_password(session, "bad name!", "correct horse") is None


def test_duty_user_on_a_unit(session):
    add_user(session, "duty1", "12345678", "duty", unit_id="U-1")
    session.commit()
    assert verify_password(session, "duty1", "12345678").unit_id == "U-1"


@pytest.mark.parametrize("username, password, role, kwargs, message", [
    ("ok_user", "12345678", "root", {}, "role 'root' must be one of operator, duty, supervisor, admin"),
    ("ok_user", "1234567", "operator", {}, "password must be at least 8 characters"),
    ("ok_user", "x" * 1025, "operator", {}, "at most 1024"),
    ("a", "12345678", "operator", {}, "username 'a' must be 2..64 characters"),
    ("has space", "12345678", "operator", {}, "username 'has space' must be"),
    ("_lead", "12345678", "operator", {}, "starting with a letter or digit"),
    ("ok_user", "12345678", "operator", {"scope_node_id": "X9"}, "scope_node_id 'X9' is not a grid node"),
    ("ok_user", "12345678", "duty", {"unit_id": "U-9"}, "unit_id 'U-9' is not a patrol unit"),
])
def test_add_user_refusals(session, username, password, role, kwargs, message):
    with pytest.raises(ValueError, match=message):
        add_user(session, username, password, role, **kwargs)


def test_duplicate_username_refused_case_insensitively(session):
    add_user(session, "ops", "12345678", "operator")
    with pytest.raises(ValueError, match="username 'ops' already exists"):
        add_user(session, "OPS", "87654321", "admin")


def test_inactive_user_cannot_log_in(session):
    user = add_user(session, "gone", "12345678", "operator")
    user.active = False
    session.commit()
    assert verify_password(session, "gone", "12345678") is None


def test_set_password(session):
    add_user(session, "ops", "12345678", "operator")
    set_password(session, "ops", "new-password")
    assert verify_password(session, "ops", "12345678") is None
    assert verify_password(session, "ops", "new-password") is not None
    with pytest.raises(ValueError, match="no user"):
        set_password(session, "ghost", "new-password")


def test_weak_hash_is_upgraded_at_login(session):
    user = add_user(session, "old", "12345678", "operator")
    user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("12345678")
    session.commit()
    weak = user.password_hash
    assert verify_password(session, "old", "12345678") is not None
    session.commit()
    stored = session.execute(select(User.password_hash).where(User.username == "old")).scalar()
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)


def test_set_active_deactivates_and_reactivates(session):
    from onescreen.accounts import set_active

    add_user(session, "ops", "12345678", "operator")
    assert set_active(session, "OPS", False).active is False
    assert verify_password(session, "ops", "12345678") is None
    set_active(session, "ops", True)
    assert verify_password(session, "ops", "12345678") is not None
    with pytest.raises(ValueError, match="no user"):
        set_active(session, "ghost", False)


def test_set_scope_moves_an_account_and_checks_the_registry(session):
    from onescreen.accounts import set_scope

    add_user(session, "duty1", "12345678", "duty")
    user = set_scope(session, "DUTY1", "C0", "U-1")
    assert (user.scope_node_id, user.unit_id) == ("C0", "U-1")
    assert (set_scope(session, "duty1", None, None).scope_node_id, user.unit_id) == (None, None)
    for scope, unit, reason in (("C9", None, "scope_node_id 'C9'"), (None, "U-9", "unit_id 'U-9'")):
        with pytest.raises(ValueError, match=reason):
            set_scope(session, "duty1", scope, unit)
    with pytest.raises(ValueError, match="no user"):
        set_scope(session, "ghost", None, None)
