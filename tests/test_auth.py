"""Sign-in, sessions, CSRF and role gates of the dashboard (dashboard/auth), on the real Redis and SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.app import create_app
from onescreen.db.models import AuditLog
from onescreen.db.session import make_engine
from tests.auth_helpers import csrf_token, logged_in_client

pytestmark = pytest.mark.services
ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def app(settings, role_users):
    return create_app(settings)


def audit_actions(settings) -> list[tuple[str, str]]:
    engine = make_engine(settings.database.url)
    with Session(engine) as db:
        rows = db.execute(select(AuditLog.actor, AuditLog.action).order_by(AuditLog.id)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def post_login(client, username, password, **extra):
    token = csrf_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                       **extra}, headers=ORIGIN)


def test_pages_need_a_session_health_does_not(app):
    client = app.server.test_client()
    resp = client.get("/alerts")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login?next=/alerts")
    assert client.get("/api/health").status_code == 200
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/api/alerts").status_code == 401
    login = client.get("/login")
    assert login.status_code == 200 and "用户登录" in login.get_data(as_text=True)
    assert 'name="csrf_token"' in login.get_data(as_text=True)


def test_login_logout_and_audit(app, settings, role_users):
    op = role_users["operator"]
    client = app.server.test_client()
    resp = post_login(client, op.username, op.password, next="/alerts")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/alerts")
    cookie = client.get_cookie("onescreen_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert client.get("/alerts").status_code == 200
    assert client.get("/auth/session").get_json()["user"]["role"] == "operator"
    assert client.get("/api/alerts").status_code == 200  # the session works for the JSON API too
    stolen = cookie.value
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": token}, headers=ORIGIN).status_code == 303
    assert client.get("/alerts").status_code == 302
    # the old cookie is dead server-side: replaying it does not sign in
    replay = app.server.test_client()
    replay.set_cookie("onescreen_session", stolen)
    assert replay.get("/alerts").status_code == 302
    assert audit_actions(settings) == [(op.username, "login"), (op.username, "logout")]


def test_wrong_passwords_are_rate_limited_per_user(app, settings, role_users):
    sup = role_users["supervisor"]
    client = app.server.test_client()
    for _ in range(settings.dashboard.login_max_failures_user):
        resp = post_login(client, sup.username, "wrong-password")
        assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    resp = post_login(client, sup.username, sup.password)  # right password, but locked
    assert resp.status_code == 429 and "分钟后再试" in resp.get_data(as_text=True)
    # another user from the same address is not locked (the address limit is higher)
    other = role_users["admin"]
    assert post_login(app.server.test_client(), other.username, other.password).status_code == 303
    actions = [a for _, a in audit_actions(settings)]
    assert actions.count("login_failed") == 5 and "login_locked" in actions


def test_wrong_passwords_are_rate_limited_per_address(settings, role_users):
    from tests.dashboard_helpers import with_dashboard

    app = create_app(with_dashboard(settings, login_max_failures_ip=3))
    for i in range(3):
        assert post_login(app.server.test_client(), f"nobody{i}", "whatever-pw").status_code == 401
    ok = role_users["admin"]
    assert post_login(app.server.test_client(), ok.username, ok.password).status_code == 429


def test_csrf_token_and_origin_are_required(app, role_users):
    op = role_users["operator"]
    client = app.server.test_client()
    csrf_token(client)
    resp = client.post("/login", data={"username": op.username, "password": op.password, "csrf_token": "x"},
                       headers=ORIGIN)
    assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
    client = logged_in_client(app, op.username, op.password)
    body = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/alerts"}], "changedPropIds": []}
    assert client.post("/_dash-update-component", json=body).status_code == 403  # no Origin/Referer
    assert client.post("/_dash-update-component", json=body,
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post("/_dash-update-component", json=body, headers=ORIGIN).status_code == 200
    token = csrf_token(client)
    assert client.post("/logout", data={"csrf_token": "wrong"}, headers=ORIGIN).status_code == 400
    assert client.post("/logout", data={"csrf_token": token}, headers=ORIGIN).status_code == 303


@pytest.mark.parametrize("role,allowed,denied", [
    ("operator", ["/", "/alerts"], ["/duty", "/patrol", "/admin"]),
    ("duty", ["/", "/duty"], ["/alerts", "/patrol", "/admin"]),
    ("supervisor", ["/", "/alerts", "/patrol"], ["/duty", "/admin"]),
    ("admin", ["/", "/alerts", "/duty", "/patrol", "/admin"], []),
])
def test_role_matrix_of_pages_and_desk_callbacks(app, role_users, role, allowed, denied):
    user = role_users[role]
    client = logged_in_client(app, user.username, user.password)
    for path in allowed:
        assert client.get(path).status_code == 200, path
    for path in denied:
        resp = client.get(path)
        assert resp.status_code == 403 and "无权访问" in resp.get_data(as_text=True), path
        desk = path.strip("/")
        body = {"output": f"desk-{desk}-x.children", "outputs": {"id": f"desk-{desk}-x", "property": "children"},
                "inputs": [], "changedPropIds": []}
        assert client.post("/_dash-update-component", json=body, headers=ORIGIN).status_code == 403, path


def test_open_redirects_are_refused(app, role_users):
    op = role_users["operator"]
    client = app.server.test_client()
    resp = post_login(client, op.username, op.password, next="//evil.example/x")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/alerts")  # the role's home


def manage_account(client, action: str, username: str, password: str | None = None, scope: str | None = None,
                   unit: str | None = None):
    """Press one of /admin's account buttons through the real Dash endpoint, as the browser does."""
    from dashboard.desk.actions import USER_ACTIONS

    p = "desk-admin-"
    outputs = [{"id": p + "manage-msg", "property": "children"}, {"id": p + "manage-msg", "property": "className"},
               {"id": p + "manage-pw", "property": "value"}]
    body = {"output": f"..{p}manage-msg.children...{p}manage-msg.className...{p}manage-pw.value..",
            "outputs": outputs,
            "inputs": [{"id": p + "btn-" + a, "property": "n_clicks", "value": int(a == action)}
                       for a in USER_ACTIONS],
            "state": [{"id": p + "manage-user", "property": "value", "value": username},
                      {"id": p + "manage-pw", "property": "value", "value": password},
                      {"id": p + "manage-scope", "property": "value", "value": scope},
                      {"id": p + "manage-unit", "property": "value", "value": unit}],
            "changedPropIds": [f"{p}btn-{action}.n_clicks"]}
    return client.post("/_dash-update-component", json=body, headers=ORIGIN)


def test_admin_deactivates_reactivates_and_resets_an_account(app, settings, role_users):
    admin, op = role_users["admin"], role_users["operator"]
    boss = logged_in_client(app, admin.username, admin.password)
    victim = logged_in_client(app, op.username, op.password)
    assert victim.get("/alerts").status_code == 200

    done = manage_account(boss, "deactivate", op.username)
    assert done.status_code == 200
    msg = done.get_json()["response"]["desk-admin-manage-msg"]
    assert msg == {"children": f"用户 {op.username} 已停用，其会话已结束", "className": "desk-msg ok"}
    assert victim.get("/alerts").status_code == 302            # the open session ended at once
    assert post_login(app.server.test_client(), op.username, op.password).status_code == 401

    refused = manage_account(boss, "deactivate", admin.username).get_json()["response"]["desk-admin-manage-msg"]
    assert refused == {"children": "不能停用自己的账号", "className": "desk-msg error"}
    sup = role_users["supervisor"]
    assert manage_account(logged_in_client(app, sup.username, sup.password), "activate",
                          op.username).status_code == 403  # not the admin's desk

    assert manage_account(boss, "activate", op.username).status_code == 200
    again = logged_in_client(app, op.username, op.password)
    short = manage_account(boss, "password", op.username, "short").get_json()["response"]["desk-admin-manage-msg"]
    assert short["className"] == "desk-msg error" and "8" in short["children"]
    assert manage_account(boss, "password", op.username, "a-new-password-42").status_code == 200
    assert again.get("/alerts").status_code == 302             # a reset password ends the sessions too
    assert post_login(app.server.test_client(), op.username, op.password).status_code == 401
    assert post_login(app.server.test_client(), op.username, "a-new-password-42").status_code == 303
    trail = [(actor, action) for actor, action in audit_actions(settings) if action.startswith("user_")]
    assert trail == [(admin.username, "user_deactivate"), (admin.username, "user_activate"),
                     (admin.username, "user_password")]


def test_admin_moves_an_account_to_another_scope(app, settings, role_users, monkeypatch):
    """A transfer: the account's scope and unit change, audited; its open sessions (which carry the old scope)
    end at once from /admin, and within the session check's period when changed behind the dashboard's back."""
    from dashboard.auth import sessions
    from onescreen.accounts import set_scope
    from onescreen.db.models import GridNode, PatrolUnit, User

    engine = make_engine(settings.database.url)
    square = {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}
    with Session(engine) as db:
        db.add(GridNode(id="C0", level="city", parent_id=None, name="city", geometry=square, lat=0.5, lon=0.5))
        db.add(GridNode(id="D1", level="district", parent_id="C0", name="d", geometry=square, lat=0.5, lon=0.5))
        db.add(PatrolUnit(id="U-1", name="unit", post_id=None, members=2))
        db.commit()
    admin, duty = role_users["admin"], role_users["duty"]
    boss = logged_in_client(app, admin.username, admin.password)
    moved = logged_in_client(app, duty.username, duty.password)
    assert moved.get("/duty").status_code == 200

    bad = manage_account(boss, "scope", duty.username, scope="nowhere").get_json()["response"]
    assert bad["desk-admin-manage-msg"]["className"] == "desk-msg error" and "nowhere" in \
        bad["desk-admin-manage-msg"]["children"]
    done = manage_account(boss, "scope", duty.username, scope="D1", unit="U-1").get_json()["response"]
    assert done["desk-admin-manage-msg"]["className"] == "desk-msg ok"
    assert moved.get("/duty").status_code == 302              # the session with the old scope ended
    with Session(engine) as db:
        user = db.execute(select(User).where(User.username == duty.username)).scalar_one()
        assert (user.scope_node_id, user.unit_id) == ("D1", "U-1")
        row = db.execute(select(AuditLog).where(AuditLog.action == "user_scope")).scalar_one()
        assert (row.actor, row.target, row.detail) == (admin.username, duty.username, {"scope": "D1", "unit": "U-1"})

    again = logged_in_client(app, duty.username, duty.password)
    assert again.get("/duty").status_code == 200
    with Session(engine) as db:                               # as `onescreen users scope` does, from a shell
        set_scope(db, duty.username, None, "U-1")
        db.commit()
    assert again.get("/duty").status_code == 200              # within the check's period the session holds
    monkeypatch.setattr(sessions, "_VALID_CACHE", {})         # the period over
    assert again.get("/duty").status_code == 302
    engine.dispose()


def test_a_password_set_from_the_shell_ends_the_open_sessions(app, settings, role_users, monkeypatch):
    """`onescreen users password` after a leak: the sessions opened with the old password end within the
    session check's period (from /admin they end at once, see above)."""
    from dashboard.auth import sessions
    from onescreen.accounts import set_password

    op = role_users["operator"]
    leaked = logged_in_client(app, op.username, op.password)
    assert leaked.get("/alerts").status_code == 200
    engine = make_engine(settings.database.url)
    with Session(engine) as db:
        set_password(db, op.username, "a-fresh-password-77")
        db.commit()
    engine.dispose()
    monkeypatch.setattr(sessions, "_VALID_CACHE", {})         # the period over
    assert leaked.get("/alerts").status_code == 302
    fresh = logged_in_client(app, op.username, "a-fresh-password-77")
    assert fresh.get("/alerts").status_code == 200 and fresh.get("/alerts").status_code == 200
