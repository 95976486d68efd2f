"""Log in to the dashboard from tests: a real browser (Playwright) or the Flask test client, through the real form.

Every page except ``/login`` and ``/api/health`` needs a session (``dashboard.auth``). Tests create users with
``create_users`` (or the ``role_users`` fixture: one account of each role, city-wide, no patrol unit) and log in
with ``login(page, base_url, username, password)`` or ``logged_in_client(app, username, password)``.

The login form's element ids are stable: ``#login-username``, ``#login-password``, ``#login-submit``; the
logout button in the page header is ``#logout-button``. ``GET /auth/session`` answers the signed-in user and
the CSRF token for form POSTs made outside a browser (``csrf_token(client)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest

ROLES = ("operator", "duty", "supervisor", "admin")
_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    role: str


def create_users(database_url: str, scope_node_id: str | None = None, unit_id: str | None = None,
                 prefix: str = "t") -> dict[str, Credentials]:
    """One active user per role (``{prefix}-{role}``), committed; ``unit_id`` goes to the duty user only."""
    from onescreen.accounts import add_user
    from onescreen.db.session import make_engine, session_factory

    engine = make_engine(database_url)
    users: dict[str, Credentials] = {}
    try:
        with session_factory(engine)() as session:
            for role in ROLES:
                creds = Credentials(f"{prefix}-{role}", f"pw-{role}-{prefix}-12345", role)
                add_user(session, creds.username, creds.password, role, scope_node_id=scope_node_id,
                         unit_id=unit_id if role == "duty" else None)
                users[role] = creds
            session.commit()
    finally:
        engine.dispose()
    return users


@pytest.fixture
def role_users(settings) -> dict[str, Credentials]:
    """One city-wide account per role in the test database: ``role_users["admin"].username`` …"""
    return create_users(settings.database.url)


def login(page: Any, base_url: str, username: str, password: str, next_path: str = "/",
          timeout: float = 15_000) -> Any:
    """Fill the login form in a Playwright page and wait until the browser has left ``/login``."""
    page.goto(f"{base_url}/login?next={quote(next_path)}", wait_until="load")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    with page.expect_navigation(wait_until="load", timeout=timeout):
        page.click("#login-submit")
    if "/login" in page.url:
        error = page.locator(".login-error")
        raise AssertionError(f"login of {username!r} failed: "
                             f"{error.inner_text() if error.count() else page.url}")
    return page


def logout(page: Any, timeout: float = 15_000) -> Any:
    """Press the header's logout button and wait for the login form."""
    with page.expect_navigation(wait_until="load", timeout=timeout):
        page.click("#logout-button")
    return page


def _server(app: Any) -> Any:
    return getattr(app, "server", app)  # a Dash app or its Flask server


def csrf_token(client: Any) -> str:
    """The CSRF token of the client's session (signed in or not)."""
    resp = client.get("/auth/session")
    assert resp.status_code == 200, resp.status_code
    return resp.get_json()["csrf_token"]


def logged_in_client(app: Any, username: str, password: str) -> Any:
    """A Flask test client signed in through ``POST /login`` (with its CSRF token, as a browser does)."""
    client = _server(app).test_client()
    page = client.get("/login").get_data(as_text=True)
    match = _CSRF_INPUT.search(page)
    assert match, "no csrf_token in the login form"
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": match.group(1),
                                       "next": "/"}, headers={"Origin": "http://localhost"})
    assert resp.status_code == 303, f"login of {username!r} failed: {resp.status_code}"
    return client
