"""The alerts HTTP API (CONTRACT §3) on the real dashboard app: lifecycle, 401/403/409, audit, snapshot,
automatic on_scene, escalation (the OpenAPI document: tests/test_api_openapi.py)."""

from __future__ import annotations

import time

import pytest

from alerts.engine import AlertEngineWorker
from dashboard.app import create_app
from onescreen import names
from onescreen.accounts import add_user
from onescreen.accounts.tokens import create_token
from onescreen.db.session import make_engine, session_factory
from tests import test_alerts_engine as base
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.test_alerts_engine import Collector, access_doc, alerts_in, now_ms, place, put

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


make_settings = base.make_settings  # the shared fixture


def tokens(url: str, unit: str) -> dict[str, str]:
    engine = make_engine(url)
    out = {}
    with session_factory(engine)() as session:
        for role in ("operator", "duty", "supervisor", "admin"):
            add_user(session, f"{role}1", "password-123", role, unit_id=unit if role == "duty" else None)
            out[role] = create_token(session, f"{role}1")
        add_user(session, "duty2", "password-123", "duty")
        out["other_duty"] = create_token(session, "duty2")
        session.commit()
    engine.dispose()
    return out


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(make_settings, small_city, redis_client):
    s = make_settings(escalate_after_s=3600)
    toks = tokens(s.database.url, small_city.unit)
    app = create_app(s)
    return s, app.server.test_client(), toks


def raise_lingering(s, small_city, redis_client, person="p-api") -> str:
    reg, door = small_city.registry, small_city.door
    for i in range(4):
        put(redis_client, s, access_doc(reg, door, person, now_ms(-10 + i)))
    assert wait_for(
        lambda: [a for a in alerts_in(s.database.url, "lingering") if a.subject_id.endswith(person)], 5
    )
    return [a for a in alerts_in(s.database.url, "lingering") if a.subject_id.endswith(person)][0].alert_id


def test_lifecycle_roles_and_audit(api, small_city, redis_client):
    s, client, tok = api
    col = Collector(s)
    try:
        with ThreadWorker(AlertEngineWorker(s, "api-e")):
            aid = raise_lingering(s, small_city, redis_client)
            assert client.get("/api/alerts").status_code == 401
            assert client.get("/api/alerts", headers=auth("nope")).status_code == 401
            listing = client.get("/api/alerts?status=open", headers=auth(tok["operator"])).get_json()
            assert [a["alert_id"] for a in listing] == [aid]
            assert client.get("/api/alerts?status=closed", headers=auth(tok["operator"])).get_json() == []

            def post(who, action, **body):
                return client.post(f"/api/alerts/{aid}/{action}", json=body, headers=auth(tok[who]))

            assert post("duty", "ack").status_code == 403  # not dispatched to its unit
            assert post("operator", "on_scene").status_code == 409  # open → on_scene is illegal
            r = post("operator", "ack", note="seen")
            assert r.status_code == 200 and r.get_json()["status"] == "acknowledged"
            assert post("operator", "ack").status_code == 409
            r = post("operator", "dispatch", unit_id=small_city.unit, note="go")
            assert r.status_code == 200 and r.get_json()["assignee"] == small_city.unit
            assert post("other_duty", "on_scene").status_code == 403
            assert post("duty", "on_scene", note="here").status_code == 200
            assert post("duty", "resolve", note="dispersed").status_code == 200
            assert post("operator", "close").status_code == 403  # operators do not close
            r = post("supervisor", "close", note="archived")
            assert r.status_code == 200 and r.get_json()["status"] == "closed"
            assert wait_for(lambda: len(col.of("lingering")) >= 6, 5)
            assert wait_for(lambda: col.of("lingering", f"/duty/{small_city.unit}/"), 5)
    finally:
        col.close()
    detail = client.get(f"/api/alerts/{aid}", headers=auth(tok["admin"])).get_json()
    hist = [(h["action"], h["actor"]) for h in detail["history"] if h["action"] not in ("update",)]
    assert hist == [
        ("open", "system"),
        ("ack", "operator1"),
        ("dispatch", "operator1"),
        ("on_scene", "duty1"),
        ("resolve", "duty1"),
        ("close", "supervisor1"),
    ]
    assert all(h["remote_addr"] for h in detail["history"] if h["actor"] != "system")
    clocks = detail["clocks"]
    assert 0 <= clocks["ack_s"] <= clocks["dispatch_s"] <= clocks["on_scene_s"]
    statuses = [m["status"] for m in col.of("lingering")]
    assert statuses[:1] == ["open"] and statuses[-1] == "closed"
    assert redis_client.zscore(names.OPEN_ALERTS, aid) is None
    assert client.get("/api/alerts/A-19990101-000001", headers=auth(tok["admin"])).status_code == 404


def test_auto_on_scene_and_escalation(make_settings, small_city, redis_client):
    s = make_settings(escalate_after_s=1, remind_every_s=1)
    tok = tokens(s.database.url, small_city.unit)
    client = create_app(s).server.test_client()
    with ThreadWorker(AlertEngineWorker(s, "esc-e")):
        aid = raise_lingering(s, small_city, redis_client, "p-esc")

        def history():
            return [
                h["action"]
                for h in client.get(f"/api/alerts/{aid}", headers=auth(tok["admin"])).get_json()["history"]
            ]

        assert wait_for(lambda: {"escalate", "remind"} <= set(history()), 8)
        client.post(f"/api/alerts/{aid}/ack", json={}, headers=auth(tok["operator"]))
        client.post(
            f"/api/alerts/{aid}/dispatch", json={"unit_id": small_city.unit}, headers=auth(tok["operator"])
        )
        n_reminders = history().count("remind")
        door_place = place(small_city.registry, small_city.door)
        unit_place = small_city.registry.place_of_unit(small_city.unit)
        put(
            redis_client,
            s,
            {
                "family": names.PATROL,
                "ts": now_ms(),
                "unit_id": small_city.unit,
                "lat": door_place["lat"] + 0.0003,
                "lon": door_place["lon"],
                "accuracy_m": 5.0,
                "status": "responding",
                "cell_id": unit_place.cell_id,
                "community_id": unit_place.community_id,
                "district_id": unit_place.district_id,
            },
        )
        assert wait_for(
            lambda: (
                client.get(f"/api/alerts/{aid}", headers=auth(tok["admin"])).get_json()["status"]
                == "on_scene"
            ),
            5,
        )
        time.sleep(1.5)
    assert history().count("remind") == n_reminders  # acknowledged: the reminders stopped


def test_snapshot_kept_at_trigger_time(make_settings, small_city, redis_client):
    s = make_settings({"rules": {"lingering": {"dwell_s": 2}}})
    tok = tokens(s.database.url, small_city.unit)
    client = create_app(s).server.test_client()
    reg, cam = small_city.registry, small_city.camera
    redis_client.set(names.camera_snapshot(cam), JPEG)
    with ThreadWorker(AlertEngineWorker(s, "snap-e")):
        put(
            redis_client,
            s,
            {
                "family": names.VIDEO,
                "ts": now_ms(),
                "camera_id": cam,
                "zones": {"square": {"persons": 1, "tracks": [[42, 3.5]]}},
                **place(reg, cam),
            },
        )
        assert wait_for(lambda: alerts_in(s.database.url, "lingering"), 5)
    redis_client.set(names.camera_snapshot(cam), b"later frame")
    (row,) = alerts_in(s.database.url, "lingering")
    r = client.get(f"/api/alerts/{row.alert_id}/snapshot.jpg", headers=auth(tok["operator"]))
    assert r.status_code == 200 and r.data == JPEG and r.mimetype == "image/jpeg"
    alert = client.get(f"/api/alerts/{row.alert_id}", headers=auth(tok["operator"])).get_json()
    assert alert["evidence"]["snapshot_url"] == f"/api/alerts/{row.alert_id}/snapshot.jpg"
    assert alert["evidence"]["track_id"] == 42


def test_silence_needs_supervisor(api):
    s, client, tok = api
    assert (
        client.post("/api/silences", json={"rule": "gathering"}, headers=auth(tok["operator"])).status_code
        == 403
    )
    r = client.post(
        "/api/silences", json={"rule": "gathering", "minutes": 5, "reason": "drill"},
        headers=auth(tok["supervisor"]),
    )
    assert r.status_code == 201 and r.get_json()["created_by"] == "supervisor1"


def test_a_scoped_user_sees_and_acts_on_its_part_of_the_city_only(api, small_city, redis_client):
    """District, community and cell scopes on the alerts and camera APIs: what is outside is as if it did not
    exist (404), the list holds only what is inside, a community_id filter cannot reach outside."""
    from datetime import datetime, timezone

    from sqlalchemy.orm import Session

    from onescreen.db.models import Alert

    s, client, _toks = api
    reg = small_city.registry
    d1, d2 = reg.nodes_at("district")[:2]
    c1, c2 = reg.descendants(d1, "community")[0], reg.descendants(d2, "community")[0]
    cell1 = reg.descendants(c1, "cell")[0]
    engine = make_engine(s.database.url)
    with Session(engine) as db:
        for i, community in enumerate((c1, c2), 1):
            db.add(Alert(alert_id=f"A-20261128-00000{i}", rule="gathering", level="orange", status="open",
                         subject_kind="camera_zone", subject_id=f"C-{i}/gate", district_id=reg.district_of(community),
                         community_id=community, cell_id=None, lat=None, lon=None, evidence={},
                         opened_at=datetime.now(timezone.utc)))
        db.commit()
    toks = {}
    with session_factory(engine)() as session:
        for name, scope in (("d1op", d1), ("c1op", c1), ("cellop", cell1), ("d2op", d2)):
            add_user(session, name, "password-123", "operator", scope_node_id=scope)
            toks[name] = create_token(session, name)
        session.commit()
    engine.dispose()

    def listed(name, query=""):
        resp = client.get(f"/api/alerts{query}", headers=auth(toks[name]))
        assert resp.status_code == 200
        return [a["alert_id"] for a in resp.get_json()]

    for name in ("d1op", "c1op", "cellop"):
        assert listed(name) == ["A-20261128-000001"], name
        assert listed(name, f"?community_id={c2}") == [], name  # the filter cannot reach outside
        assert client.get("/api/alerts/A-20261128-000002", headers=auth(toks[name])).status_code == 404
        assert client.post("/api/alerts/A-20261128-000002/ack", json={"note": "x"},
                           headers=auth(toks[name])).status_code == 404
    assert listed("d2op") == ["A-20261128-000002"]
    assert client.post("/api/alerts/A-20261128-000001/ack", json={"note": "mine"},
                       headers=auth(toks["c1op"])).status_code == 200

    inside = next(c.id for c in reg.cameras() if reg.community_of(c.cell_id) == c1)
    outside = next(c.id for c in reg.cameras() if reg.district_of(c.cell_id) == d2)
    for cam in (inside, outside):
        redis_client.set(names.camera_snapshot(cam), JPEG, ex=60)
    assert client.get(f"/api/cameras/{inside}/snapshot.jpg", headers=auth(toks["c1op"])).data == JPEG
    assert client.get(f"/api/cameras/{outside}/snapshot.jpg", headers=auth(toks["c1op"])).status_code == 404
    assert client.get(f"/api/cameras/{outside}/snapshot.jpg", headers=auth(toks["d2op"])).status_code == 200
