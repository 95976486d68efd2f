"""Cases HTTP API (CONTRACT §6): every endpoint, every refusal (400/401/403/404/409), the announcements."""

from __future__ import annotations

import orjson
import pytest

from dashboard.app import create_app
from onescreen import names
from tests.case_helpers import auth, case_world, jpeg  # noqa: F401 (fixture)

pytestmark = pytest.mark.services


@pytest.fixture
def api(case_world):  # noqa: F811 (the fixture imported above)
    app = create_app(case_world.settings)
    return case_world, app.server.test_client()


def test_the_whole_loop_and_every_refusal(api, redis_client):
    w, client = api
    tok = w.tokens

    def post(who, path, **body):
        return client.post(path, json=body, headers=auth(tok[who]))

    def act(who, cid, action, **body):
        return post(who, f"/api/cases/{cid}/{action}", **body)

    # 401 without or with a wrong credential
    assert client.get("/api/cases").status_code == 401
    assert client.post("/api/cases", json={}, headers=auth("nope")).status_code == 401
    # 400: not an object, bad category, no location, outside the city, unknown cell
    r = client.post("/api/cases", data="[1]", content_type="application/json", headers=auth(tok["grid"]))
    assert r.status_code == 400 and "JSON object" in r.get_json()["error"]
    base = {"category": "dispute", "description": "两户因停车争吵", "lat": w.lat, "lon": w.lon}
    assert post("grid", "/api/cases", **{**base, "category": "weather"}).get_json()["reason"] == "bad_category"
    assert post("grid", "/api/cases", category="dispute", description="x").get_json()["reason"] == "missing_location"
    r = post("grid", "/api/cases", **{**base, "lat": 10.0, "lon": 10.0})
    assert r.status_code == 400 and r.get_json()["reason"] == "outside_city"
    assert post("grid", "/api/cases", category="dispute", description="x", cell_id="nope").status_code == 400
    assert post("grid", "/api/cases", **{**base, "handled_on_site": True}).get_json()["reason"] == "missing_feedback"
    # 403: a department does not report
    assert post("department", "/api/cases", **base).status_code == 403

    r = post("grid", "/api/cases", **base, level="orange")
    assert r.status_code == 201, r.get_json()
    case = r.get_json()
    cid = case["case_id"]
    assert cid.startswith("E-") and len(cid) == 17 and case["status"] == "reported" and case["source"] == "grid"
    assert case["reporter"] == w.worker and case["location"]["cell_id"] == w.cell
    assert case["outside_own_cells"] is False and case["history"][0]["action"] == "report"
    # announced: MQTT outbox (topic cases/<id>) and the screens' change signal
    entries = redis_client.xrange(names.ALERT_OUTBOX)
    assert any(e[1][b"t"] == f"cases/{cid}".encode() for e in entries)

    # photos: 201, then refusals naming the reason, nothing half-stored
    r = client.post(f"/api/cases/{cid}/photos", data=jpeg(), content_type="image/jpeg", headers=auth(tok["grid"]))
    assert r.status_code == 201 and r.get_json()["n"] == 1
    r = client.post(f"/api/cases/{cid}/photos", data=b"GIF89a not really", content_type="image/jpeg",
                    headers=auth(tok["grid"]))
    assert r.status_code == 400 and r.get_json()["reason"] == "photo_not_an_image"
    big = b"\xff\xd8\xff" + b"0" * (w.settings.cases.max_photo_bytes + 10)
    r = client.post(f"/api/cases/{cid}/photos", data=big, content_type="image/jpeg", headers=auth(tok["grid"]))
    assert r.status_code == 400 and "too_large" in r.get_json()["reason"]
    photo = client.get(f"/api/cases/{cid}/photos/1.jpg", headers=auth(tok["operator"]))
    assert photo.status_code == 200 and photo.data[:3] == b"\xff\xd8\xff"
    assert client.get(f"/api/cases/{cid}/photos/7.jpg", headers=auth(tok["operator"])).status_code == 404
    detail = client.get(f"/api/cases/{cid}", headers=auth(tok["operator"])).get_json()
    assert detail["photos"] == 1
    who = detail["place"]["reporters"][0]  # the worker's name and phone, masked
    assert who["id"] == w.worker and "****" in who["phone"] and len(who["phone"]) == 11

    # scope: another community's desk and a department it is not assigned to see nothing (404)
    assert client.get(f"/api/cases/{cid}", headers=auth(tok["other_community"])).status_code == 404
    assert act("department", cid, "start").status_code == 404
    assert client.get("/api/cases", headers=auth(tok["other_community"])).get_json() == []
    # out of order: 409; a grid worker may not accept: 403; unknown action: 404
    assert act("community", cid, "handle", note="x").status_code == 409
    assert act("grid", cid, "accept").status_code == 403
    assert act("community", cid, "fly").status_code == 404
    assert act("community", cid, "grade", level="purple", note="x").status_code == 400

    r = act("community", cid, "accept", level="red", note="受理")
    assert r.status_code == 200 and r.get_json()["status"] == "accepted" and r.get_json()["level"] == "red"
    assert r.get_json()["deadline"] is not None
    assert act("community", cid, "accept").status_code == 409
    assert act("community", cid, "grade", level="orange").get_json()["reason"] == "missing_note"
    assert act("community", cid, "grade", level="orange", note="情绪缓和").get_json()["level"] == "orange"
    assert act("community", cid, "assign", assignee={"kind": "department", "id": "D-NOPE"}).status_code == 400
    assert act("community", cid, "assign", assignee="D-CG").status_code == 400
    r = act("community", cid, "assign", assignee={"kind": "department", "id": w.department}, note="请处置")
    assert r.status_code == 200 and r.get_json()["assignee"] == {"kind": "department", "id": w.department}
    assert client.get(f"/api/cases/{cid}", headers=auth(tok["department"])).status_code == 200
    assert act("other_department", cid, "start").status_code == 404
    # return (with a reason) and assign again
    assert act("department", cid, "return").get_json()["reason"] == "missing_note"
    assert act("department", cid, "return", note="不属本部门职责").get_json()["status"] == "accepted"
    assert act("department", cid, "start").status_code == 404  # no longer assigned to it
    act("community", cid, "assign", assignee={"kind": "department", "id": w.department})
    assert act("department", cid, "start", note="到场").get_json()["status"] == "in_progress"
    r = client.post(f"/api/cases/{cid}/photos", data=jpeg(colour=40), content_type="image/jpeg",
                    headers=auth(tok["department"]))
    assert r.status_code == 201
    assert act("department", cid, "handle").get_json()["reason"] == "missing_feedback"
    assert act("department", cid, "handle", note="已调解").get_json()["status"] == "handled"
    # evaluate: unsatisfied reopens, satisfied goes on; the reporter (grid) may evaluate its own report
    assert act("community", cid, "evaluate", satisfaction=9).status_code == 400
    r = act("grid", cid, "evaluate", satisfaction=2, note="仍有争吵")
    assert r.get_json()["status"] == "assigned"
    act("department", cid, "handle", note="再次调解")
    assert act("community", cid, "evaluate", satisfaction=5).get_json()["status"] == "evaluated"
    assert act("operator", cid, "archive").status_code == 403  # operators do not archive
    assert act("community", cid, "archive").status_code == 403
    r = act("supervisor", cid, "archive", note="归档")
    assert r.status_code == 200 and r.get_json()["status"] == "archived"
    history = [h["action"] for h in r.get_json()["history"]]
    assert history[:4] == ["report", "photo", "accept", "grade"] and history[-1] == "archive"
    assert act("supervisor", cid, "archive").status_code == 409

    # escalate community → district → city; the community desk then sees but may not act (403)
    r = post("grid", "/api/cases", category="hazard", description="井盖缺失", cell_id=w.cell)
    c2 = r.get_json()["case_id"]
    assert act("community", c2, "escalate").get_json()["reason"] == "missing_note"
    r = act("community", c2, "escalate", note="需区级协调")
    assert r.get_json()["handling_level"] == "district" and r.get_json()["status"] == "accepted"
    assert act("community", c2, "assign", assignee={"kind": "community", "id": w.community}).status_code == 403
    assert act("district", c2, "escalate", note="上报市级").get_json()["handling_level"] == "city"
    assert act("supervisor", c2, "escalate", note="x").status_code == 409

    # on-the-spot resolution goes straight to handled; a report outside the worker's cells is placed and marked
    r = post("grid", "/api/cases", category="request", description="路灯不亮", cell_id=w.cell,
             handled_on_site=True, feedback="已报修并修复")
    assert r.get_json()["status"] == "handled"
    r = post("grid", "/api/cases", category="environment", description="垃圾堆放", cell_id=w.other_cell)
    assert r.status_code == 201 and r.get_json()["outside_own_cells"] is True
    assert r.get_json()["location"]["cell_id"] == w.other_cell

    # list: filters and order (overdue first, then red, orange, yellow, then newest); bad filters 400
    lst = client.get("/api/cases?status=handled", headers=auth(tok["operator"])).get_json()
    assert [c["status"] for c in lst] == ["handled"]
    assert client.get("/api/cases?status=lost", headers=auth(tok["operator"])).status_code == 400
    assert client.get("/api/cases?overdue=maybe", headers=auth(tok["operator"])).status_code == 400
    assert client.get("/api/cases?overdue=true", headers=auth(tok["operator"])).get_json() == []
    mine = client.get("/api/cases", headers=auth(tok["grid"])).get_json()
    assert {c["case_id"] for c in mine} >= {cid, c2}
    # alert → case: an unknown alert is 404
    assert post("operator", "/api/cases", **base, alert_id="A-20990101-000001").status_code == 404
    # huddle CSV and heartbeat
    csv = client.get("/api/cases-huddle.csv", headers=auth(tok["operator"]))
    assert csv.status_code == 200 and "section,case_id" in csv.get_data(as_text=True)
    assert post("operator", "/api/grid/heartbeat").status_code == 403
    assert post("grid", "/api/grid/heartbeat").status_code == 200
    assert redis_client.exists(names.grid_online(w.worker))


def test_a_report_near_a_camera_keeps_its_latest_frame(api, redis_client):
    """The frame a camera near the report holds in Redis becomes the case's evidence photo (the dashboard's shared
    Redis client decodes replies to str, a JPEG must be read as bytes: this once answered 500)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from onescreen.db.models import Camera
    from onescreen.db.session import make_engine

    w, client = api
    engine = make_engine(w.settings.database.url)
    with Session(engine) as s:
        cam = s.execute(select(Camera).where(Camera.lat.is_not(None)).order_by(Camera.id)).scalars().first()
    engine.dispose()
    redis_client.set(names.camera_snapshot(cam.id), jpeg(320, 240))
    r = client.post("/api/cases", json={"category": "hazard", "description": "井盖缺失", "lat": cam.lat,
                                        "lon": cam.lon}, headers=auth(w.tokens["grid"]))
    assert r.status_code == 201, r.get_json()
    from onescreen.db.models import Case, CasePhoto

    engine = make_engine(w.settings.database.url)
    with Session(engine) as s:
        kept = s.execute(select(CasePhoto.kind, CasePhoto.camera_id).join(Case, Case.id == CasePhoto.case_pk)
                         .where(Case.case_id == r.get_json()["case_id"])).all()
    engine.dispose()
    assert ("camera", cam.id) in [tuple(k) for k in kept]  # evidence, not one of the people's photos
    assert r.get_json()["photos"] == 0


def test_too_many_photos_and_merge(api):
    w, client = api
    tok = w.tokens
    w.settings.cases.max_photos = 2
    r = client.post("/api/cases", json={"category": "dispute", "description": "a", "lat": w.lat, "lon": w.lon},
                    headers=auth(tok["grid"]))
    first = r.get_json()["case_id"]
    for _ in range(2):
        assert client.post(f"/api/cases/{first}/photos", data=jpeg(), content_type="image/jpeg",
                           headers=auth(tok["grid"])).status_code == 201
    r = client.post(f"/api/cases/{first}/photos", data=jpeg(), content_type="image/jpeg", headers=auth(tok["grid"]))
    assert r.status_code == 400 and r.get_json()["reason"] == "too_many_photos"
    r = client.post("/api/cases", json={"category": "dispute", "description": "b", "lat": w.lat + 0.0005,
                                        "lon": w.lon}, headers=auth(tok["operator"]))
    second = r.get_json()["case_id"]
    dups = client.get(f"/api/cases/{second}/duplicates", headers=auth(tok["operator"])).get_json()
    assert [d["case_id"] for d in dups] == [first]
    r = client.post(f"/api/cases/{second}/merge", json={"into": first}, headers=auth(tok["community"]))
    assert r.status_code == 200 and r.get_json()["case_id"] == first
    assert r.get_json()["reporters"] == [w.worker, "operator1"]
    merged = client.get(f"/api/cases/{second}", headers=auth(tok["operator"])).get_json()
    assert merged["status"] == "archived" and merged["merged_into"] == first
    doc = orjson.loads(orjson.dumps(merged))
    assert doc["history"][-1]["action"] == "merge"


def test_a_patrol_unit_handles_what_is_dispatched_to_it(api):
    w, client = api
    tok = w.tokens

    def act(who, cid, action, **body):
        return client.post(f"/api/cases/{cid}/{action}", json=body, headers=auth(tok[who]))

    cid = client.post("/api/cases", json={"category": "public_order", "description": "夜间喧哗", "cell_id": w.cell},
                      headers=auth(tok["operator"])).get_json()["case_id"]
    assert client.get(f"/api/cases/{cid}", headers=auth(tok["duty"])).status_code == 404  # not its case yet
    act("operator", cid, "accept")
    from onescreen.db.models import PatrolUnit  # the fixture's duty account rides with this unit

    assert act("operator", cid, "assign", assignee={"kind": "unit", "id": "P-nope"}).status_code == 400
    from onescreen.db.models import User
    from onescreen.db.session import make_engine, session_factory

    engine = make_engine(w.url)
    with session_factory(engine)() as s:
        unit_id = s.query(User.unit_id).filter(User.username == "duty1").scalar()
        assert s.get(PatrolUnit, unit_id) is not None
    engine.dispose()
    assert act("operator", cid, "assign", assignee={"kind": "unit", "id": unit_id}).status_code == 200
    assert act("duty", cid, "assign", assignee={"kind": "unit", "id": unit_id}).status_code == 403
    assert act("duty", cid, "start").get_json()["status"] == "in_progress"
    assert act("duty", cid, "handle", note="已劝散").get_json()["status"] == "handled"


def test_every_change_is_published_on_mqtt(api):
    """``city/cases/{case_id}`` (QoS 1) on every change, the same JSON as GET, through the alert engine's
    outbox notifier (CONTRACT §6)."""
    import threading
    import time
    import uuid

    import paho.mqtt.client as mqtt

    from alerts.engine import AlertEngineWorker
    from tests.mqtt_helpers import ThreadWorker, wait_for

    w, client = api
    got: list[tuple[str, dict]] = []
    lock = threading.Lock()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cases-{uuid.uuid4().hex[:8]}")

    def on_message(_c, _u, m) -> None:
        with lock:
            got.append((m.topic, orjson.loads(m.payload)))

    sub.on_message = on_message
    sub.connect(w.settings.mqtt.host, w.settings.mqtt.port)
    sub.subscribe(f"{w.settings.mqtt.prefix}/cases/#", qos=1)
    sub.loop_start()
    time.sleep(0.2)
    try:
        with ThreadWorker(AlertEngineWorker(w.settings, "cases-e")):
            r = client.post("/api/cases", json={"category": "hazard", "description": "井盖缺失", "cell_id": w.cell},
                            headers=auth(w.tokens["grid"]))
            cid = r.get_json()["case_id"]
            client.post(f"/api/cases/{cid}/accept", json={"level": "red"}, headers=auth(w.tokens["community"]))
            topic = f"{w.settings.mqtt.prefix}/cases/{cid}"
            assert wait_for(lambda: len([d for t, d in got if t == topic]) >= 2, 10)
    finally:
        sub.loop_stop()
        sub.disconnect()
    docs = [d for t, d in got if t == topic]
    assert [d["status"] for d in docs[:2]] == ["reported", "accepted"] and docs[1]["level"] == "red"
    now = client.get(f"/api/cases/{cid}", headers=auth(w.tokens["operator"])).get_json()
    assert set(docs[1]) <= set(now) and docs[1]["case_id"] == now["case_id"]
