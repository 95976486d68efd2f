"""Issue 11: one command layer for every alert write, scoped and audited silences, a strict API.

Each test names the finding of the issue it pins (they all failed on the code before the command layer), and
runs against the real parts: the dashboard app, SQLite with the schema at head, Redis, Mosquitto and the alert
engine for the pushes.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts import silences
from alerts.engine import AlertEngineWorker
from dashboard.app import create_app
from dashboard.auth.sessions import SessionUser
from dashboard.context import app_context
from dashboard.desk import actions
from onescreen.accounts import add_user
from onescreen.accounts.tokens import create_token
from onescreen.commands import CommandError
from onescreen.db.models import Alert, AlertSilence, AuditLog
from onescreen.db.session import make_engine, session_factory
from tests import test_alerts_engine as base
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.test_alerts_api import auth, raise_lingering, tokens

pytestmark = pytest.mark.services
make_settings = base.make_settings  # the shared fixture


@pytest.fixture
def city(make_settings, small_city, redis_client):
    """The app, city-wide tokens per role, and a supervisor confined to the community of the test door
    (``home``) with a token, plus another community (``away``) and an open alert in each."""
    s = make_settings(escalate_after_s=3600)
    reg = small_city.registry
    home = reg.place_of_device(small_city.door).community_id
    away = next(c for c in reg.nodes_at("community") if c != home)
    toks = tokens(s.database.url, small_city.unit)
    engine = make_engine(s.database.url)
    with session_factory(engine)() as db:
        add_user(db, "sup-home", "password-123", "supervisor", scope_node_id=home)
        toks["sup_home"] = create_token(db, "sup-home")
        for i, community in enumerate((home, away), 1):
            db.add(Alert(alert_id=f"A-20261205-00000{i}", rule="gathering", level="orange", status="open",
                         subject_kind="camera_zone", subject_id=f"C-{i}/gate", district_id=reg.district_of(community),
                         community_id=community, cell_id=None, evidence={}, opened_at=datetime.now(UTC)))
        db.commit()
    engine.dispose()
    app = create_app(s)
    return s, app, app.server.test_client(), toks, home, away


def silences_in(url: str) -> list[AlertSilence]:
    engine = make_engine(url)
    with Session(engine) as db:
        rows = list(db.execute(select(AlertSilence).order_by(AlertSilence.id)).scalars())
        db.expunge_all()
    engine.dispose()
    return rows


def audit_actions(url: str) -> list[str]:
    engine = make_engine(url)
    with Session(engine) as db:
        rows = [r.action for r in db.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]
    engine.dispose()
    return rows


def test_finding_1_a_community_supervisors_silence_stays_in_its_community(city, small_city):
    """An empty matcher is "my whole area", never the city; another community is 403; a silence needs a
    reason, is audited, listed (JSON, in the configured zone), lifted early, and the desk is held the same."""
    s, app, client, tok, home, away = city
    sup = auth(tok["sup_home"])
    r = client.post("/api/silences", json={}, headers=sup)
    assert r.status_code == 400 and r.get_json()["reason"] == "silence_reason"
    r = client.post("/api/silences", json={"community_id": away, "reason": "drill"}, headers=sup)
    assert r.status_code == 403 and away in r.get_json()["error"]
    other_district = small_city.registry.district_of(away)
    if other_district != small_city.registry.district_of(home):
        assert client.post("/api/silences", json={"district_id": other_district, "reason": "x"},
                           headers=sup).status_code == 403
    assert client.post("/api/silences", json={"community_id": "NOPE", "reason": "x"},
                       headers=sup).status_code == 400
    r = client.post("/api/silences", json={"reason": "market day", "minutes": 30}, headers=sup)
    assert r.status_code == 201, r.get_json()
    created = r.get_json()
    assert created["scope"] == [home] and created["matchers"]["community_id"] is None
    assert created["until"].endswith("+08:00") and created["reason"] == "market day"

    (row,) = silences_in(s.database.url)
    now = datetime.now(UTC)
    assert silences.matches(row, "gathering", "C-1/gate", {"community_id": home}, now)
    assert not silences.matches(row, "gathering", "C-2/gate", {"community_id": away}, now)

    listed = client.get("/api/alerts", headers=auth(tok["admin"])).get_json()
    marks = {a["alert_id"]: a["silenced"] for a in listed}
    assert marks == {"A-20261205-000001": True, "A-20261205-000002": False}

    assert [x["id"] for x in client.get("/api/silences", headers=sup).get_json()] == [created["id"]]
    assert client.get("/api/silences", headers=auth(tok["operator"])).status_code == 200
    assert client.delete(f"/api/silences/{created['id']}", headers=auth(tok["operator"])).status_code == 403
    r = client.delete(f"/api/silences/{created['id']}", headers=sup)
    assert r.status_code == 200 and r.get_json()["state"] == "lifted" and r.get_json()["lifted_by"] == "sup-home"
    assert client.get("/api/silences", headers=sup).get_json() == []
    assert client.delete(f"/api/silences/{created['id']}", headers=sup).status_code == 409
    assert client.delete(f"/api/silences/{2**64}", headers=sup).status_code == 404  # no column holds it: not 500
    assert audit_actions(s.database.url) == ["silence_create", "silence_lift"]

    # the desk: the same command, the same scope (an alert of another community is as if absent)
    user = SessionUser(99, "sup-home", "supervisor", home, "community", None, 0.0)
    with app.server.app_context():
        ctx = app_context(app.server)
        with pytest.raises(CommandError) as refused:
            actions.silence(ctx, user, "A-20261205-000002", 60, "not mine")
        assert refused.value.status == 404
        with pytest.raises(CommandError) as refused:
            actions.silence(ctx, user, "A-20261205-000001", 60, "")
        assert refused.value.key == "desk.error.silence_reason"
        actions.silence(ctx, user, "A-20261205-000001", 60, "gate works")
    desk_row = silences_in(s.database.url)[-1]
    assert (desk_row.scope, desk_row.community_id, desk_row.rule) == ([home], home, "gathering")
    assert audit_actions(s.database.url)[-1] == "silence_create"


def test_finding_1_a_silence_stops_pushes_only_inside_its_scope(city, small_city, redis_client):
    """Against the engine and Mosquitto: the home supervisor's empty-matcher silence keeps an alert at home
    off MQTT (and marked), while a silence by a supervisor of another community silences nothing here."""
    s, _app, client, tok, home, away = city
    engine = make_engine(s.database.url)
    with session_factory(engine)() as db:
        add_user(db, "sup-away", "password-123", "supervisor", scope_node_id=away)
        away_token = create_token(db, "sup-away")
        db.commit()
    engine.dispose()
    assert client.post("/api/silences", json={"reason": "elsewhere"}, headers=auth(away_token)).status_code == 201
    col = base.Collector(s)
    try:
        with ThreadWorker(AlertEngineWorker(s, "sil-e")):
            loud = raise_lingering(s, small_city, redis_client, "p-loud")
            assert wait_for(lambda: [m for m in col.of("lingering") if m["alert_id"] == loud], 5)
            assert client.post("/api/silences", json={"reason": "drill", "rule": "lingering"},
                               headers=auth(tok["sup_home"])).status_code == 201
            time.sleep(2.5)  # the engine re-reads silences every 2 s
            quiet = raise_lingering(s, small_city, redis_client, "p-quiet")
            time.sleep(1.0)
            assert not [m for m in col.of("lingering") if m["alert_id"] == quiet]
    finally:
        col.close()
    detail = client.get(f"/api/alerts/{quiet}", headers=auth(tok["operator"])).get_json()
    assert detail["silenced"] is True and detail["evidence"]["silenced"] is True
    assert client.get(f"/api/alerts/{loud}", headers=auth(tok["operator"])).get_json()["silenced"] is True
    metrics = client.get("/metrics").get_data(as_text=True)
    assert "onescreen_alerts_silences_active 2.0" in metrics
    assert "onescreen_alerts_silenced_open 3.0" in metrics  # loud, quiet, and the alert away


def test_finding_2_no_credential_is_401_before_any_cross_site_check(city):
    _s, _app, client, _tok, _home, _away = city
    for headers in ({}, {"Origin": "http://evil.example"}):
        r = client.post("/api/silences", json={"reason": "x"}, headers=headers)
        assert r.status_code == 401 and r.is_json, (headers, r.status_code)
        assert client.post("/api/alerts/A-20261205-000001/ack", headers=headers).status_code == 401
    r = client.post("/api/silences", json={"reason": "x"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")


def test_findings_3_4_5_strict_bodies_units_paths_and_zones(city, small_city):
    s, _app, client, tok, _home, _away = city
    op = auth(tok["operator"])
    aid = "A-20261205-000001"
    r = client.post(f"/api/alerts/{aid}/ack", data="{bad", content_type="application/json", headers=op)
    assert r.status_code == 400 and "JSON" in r.get_json()["error"]
    for body in ("[1]", '"ack"', "null"):
        assert client.post(f"/api/alerts/{aid}/ack", data=body, content_type="application/json",
                           headers=op).status_code == 400
    assert client.get(f"/api/alerts/{aid}", headers=op).get_json()["status"] == "open"  # nothing acknowledged
    assert client.post(f"/api/alerts/{aid}/ack", json={"note": "seen"}, headers=op).get_json()["status"] \
        == "acknowledged"
    r = client.post(f"/api/alerts/{aid}/dispatch", json={"unit_id": "P-999"}, headers=op)
    assert r.status_code == 400 and "P-999" in r.get_json()["error"]
    after = client.get(f"/api/alerts/{aid}", headers=op).get_json()
    assert after["status"] == "acknowledged" and after["assignee"] is None
    assert client.post(f"/api/alerts/{aid}/dispatch", json={"unit_id": small_city.unit},
                       headers=op).get_json()["assignee"] == small_city.unit
    assert client.post(f"/api/alerts/{aid}/resolve", json={}, headers=op).status_code == 400  # feedback
    for method in ("get", "post", "delete"):
        r = getattr(client, method)("/api/no/such/thing", headers=op)
        assert r.status_code == 404 and r.is_json and "error" in r.get_json(), method
    assert after["opened_at"].endswith("+08:00") and after["clocks"]["acknowledged_at"].endswith("+08:00")
    until = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = client.post("/api/silences", json={"reason": "r", "until": until}, headers=auth(tok["supervisor"]))
    assert r.status_code == 201 and r.get_json()["until"].endswith("+08:00")
    assert client.post("/api/silences", json={"reason": "r", "colour": "red"},
                       headers=auth(tok["supervisor"])).status_code == 400


def test_finding_1_through_the_desk_callback(city):
    """The /alerts desk's silence button, as the browser calls it (Dash callback over the signed-in session):
    a community supervisor's silence of another community's alert is refused and writes nothing."""
    from tests.auth_helpers import create_users, logged_in_client

    s, app, _client, _tok, home, _away = city
    sup = create_users(s.database.url, scope_node_id=home, prefix="h")["supervisor"]
    client = logged_in_client(app, sup.username, sup.password)
    buttons = ["ack", "dispatch", "on_scene", "resolve", "close", "silence"]

    def press_silence(alert_id: str, reason: str) -> str:
        body = {"output": "..desk-alerts-msg.children...desk-alerts-msg.className...desk-alerts-note.value..",
                "outputs": [{"id": "desk-alerts-msg", "property": p} for p in ("children", "className")]
                + [{"id": "desk-alerts-note", "property": "value"}],
                "inputs": [{"id": f"desk-alerts-btn-{b}", "property": "n_clicks", "value": int(b == "silence")}
                           for b in buttons],
                "state": [{"id": "desk-alerts-selected", "property": "data", "value": alert_id},
                          {"id": "desk-alerts-note", "property": "value", "value": reason},
                          {"id": "desk-alerts-unit", "property": "value", "value": None},
                          {"id": "desk-alerts-silence-minutes", "property": "value", "value": 30}],
                "changedPropIds": ["desk-alerts-btn-silence.n_clicks"]}
        r = client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})
        assert r.status_code == 200, r.status_code
        return str(r.get_json()["response"]["desk-alerts-msg"])

    refused = press_silence("A-20261205-000002", "not mine")
    assert "不存在或不在您的管辖范围" in refused and silences_in(s.database.url) == []
    assert "已静默至" in press_silence("A-20261205-000001", "mine")
    (row,) = silences_in(s.database.url)
    assert row.scope == [home] and row.created_by == sup.username


def test_finding_1_a_silenced_alert_does_not_escalate(city, redis_client):
    """The escalation sweep (alerts.followup) skips an alert a silence covers and looks again later; an alert
    outside the silence's scope escalates as usual."""
    from alerts.followup import escalate_due
    from onescreen import names

    s, _app, client, tok, home, away = city
    assert client.post("/api/silences", json={"reason": "drill"}, headers=auth(tok["sup_home"])).status_code == 201
    now = time.time()
    redis_client.zadd(names.ALERT_ESCALATIONS, {"A-20261205-000001": now - 1, "A-20261205-000002": now - 1})
    engine = make_engine(s.database.url)
    assert escalate_due(redis_client, session_factory(engine), s, now) == 1
    with Session(engine) as db:
        escalated = {a.alert_id: a.escalated_at is not None for a in db.execute(select(Alert)).scalars()}
    engine.dispose()
    assert escalated == {"A-20261205-000001": False, "A-20261205-000002": True}
    later = redis_client.zscore(names.ALERT_ESCALATIONS, "A-20261205-000001")
    assert later is not None and now < later <= now + 60
