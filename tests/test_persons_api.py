"""Key persons HTTP API (CONTRACT §7) on the real dashboard app: list filters, the file, visits, re-grading,
401/403/404/400/409, scope, and the audit rows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from onescreen.accounts import add_user
from onescreen.accounts.tokens import create_token
from onescreen.db.models import AuditLog, WatchPerson
from onescreen.db.session import make_engine, session_factory
from tests.test_alerts_api import api, auth, make_settings

__all__ = ["api", "make_settings"]


def test_persons_api(api, small_city):
    s, client, tok = api
    engine = make_engine(s.database.url)
    with session_factory(engine)() as db:
        persons = db.execute(select(WatchPerson)).scalars().all()
        red = next(p for p in persons if p.level == "red")
        other = next(p for p in persons if p.home_community_id != red.home_community_id)
        add_user(db, "op-community", "password-123", "operator", scope_node_id=other.home_community_id)
        scoped = create_token(db, "op-community")
        db.commit()

    assert client.get("/api/persons").status_code == 401
    assert client.get("/api/persons", headers=auth("nope")).status_code == 401
    assert client.get("/api/persons", headers=auth(tok["duty"])).status_code == 403
    assert client.get("/api/persons?level=blue", headers=auth(tok["operator"])).status_code == 400
    assert client.get("/api/persons?visit_overdue=maybe", headers=auth(tok["operator"])).status_code == 400

    everyone = client.get("/api/persons", headers=auth(tok["operator"])).get_json()
    assert {p["person_id"] for p in everyone} == {p.person_id for p in persons}
    assert all(p["visit_overdue"] for p in everyone if p["level"] != "green")  # nobody visited yet
    reds = client.get("/api/persons?level=red", headers=auth(tok["operator"])).get_json()
    assert {p["level"] for p in reds} == {"red"}
    mine = client.get("/api/persons", headers=auth(scoped)).get_json()
    assert {p["home_community_id"] for p in mine} == {other.home_community_id}
    outside = client.get(f"/api/persons?community_id={red.home_community_id}", headers=auth(scoped)).get_json()
    assert outside == [] or red.home_community_id == other.home_community_id
    if red.home_community_id != other.home_community_id:
        assert client.get(f"/api/persons/{red.person_id}", headers=auth(scoped)).status_code == 404

    url = f"/api/persons/{red.person_id}"
    r = client.post(url + "/visits", headers=auth(tok["operator"]), json={"method": "home", "note": "在家"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["by"] == "operator1" and r.get_json()["method"] == "home"
    at = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    assert client.post(url + "/visits", headers=auth(tok["supervisor"]),
                       json={"method": "phone", "at": at}).status_code == 201
    for body in ({"method": "fax"}, {"method": "home", "at": "yesterday"}, {"method": "home", "at": "2026-01-01"}):
        assert client.post(url + "/visits", headers=auth(tok["operator"]), json=body).status_code == 400
    assert client.post(url + "/visits", headers=auth(tok["operator"]), data="[1]",
                       content_type="application/json").status_code == 400
    assert client.post(url + "/visits", headers=auth(tok["duty"]), json={"method": "home"}).status_code == 403
    assert client.post("/api/persons/p-nobody/visits", headers=auth(tok["operator"]),
                       json={"method": "home"}).status_code == 404

    assert client.post(url + "/grade", headers=auth(tok["operator"]),
                       json={"level": "orange", "reason": "x"}).status_code == 403
    r = client.post(url + "/grade", headers=auth(tok["supervisor"]), json={"level": "orange"})
    assert r.status_code == 400 and r.get_json()["reason"] == "reason_missing"
    r = client.post(url + "/grade", headers=auth(tok["supervisor"]), json={"level": "orange", "reason": "稳定"})
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["level"] == "orange" and doc["level_history"][0]["reason"] == "稳定"
    assert client.post(url + "/grade", headers=auth(tok["supervisor"]),
                       json={"level": "orange", "note": "again"}).status_code == 409

    doc = client.get(url, headers=auth(tok["admin"])).get_json()
    assert doc["person_id"] == red.person_id and not doc["visit_overdue"]
    assert [v["method"] for v in doc["visits"]] == ["home", "phone"]
    assert set(doc) >= {"level_history", "sightings", "alerts", "cases", "visits"}
    overdue = client.get("/api/persons?visit_overdue=true", headers=auth(tok["operator"])).get_json()
    assert red.person_id not in {p["person_id"] for p in overdue}
    assert red.person_id in {p["person_id"] for p in client.get(
        "/api/persons?visit_overdue=false", headers=auth(tok["operator"])).get_json()}

    with session_factory(engine)() as db:
        actions = [a.action for a in db.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]
    assert actions.count("person_visit") == 2 and actions.count("person_grade") == 1
    assert actions.count("person_read") == 1
    engine.dispose()


def test_hiding_through_the_engine_into_the_file(api, small_city, redis_client):
    """Door events of a red person away from home on three local days (put straight into the streams, with
    the engine's late window off so back-dated events move state): the real engine raises key_person_hiding
    (疑似隐匿) once, and the person's file lists it with the sightings."""
    from alerts.archiver import ArchiverWorker
    from alerts.engine import AlertEngineWorker
    from onescreen.db.models import Door
    from tests.mqtt_helpers import ThreadWorker, wait_for
    from tests.test_alerts_archiver import archive_behind
    from tests.test_alerts_engine import access_doc, alerts_in, now_ms, put

    s, client, tok = api
    s = s.model_copy(update={"alerts": s.alerts.model_copy(update={"late_window_s": 0})})
    reg = small_city.registry
    engine = make_engine(s.database.url)
    with session_factory(engine)() as db:
        red = next(p for p in db.execute(select(WatchPerson)).scalars() if p.level == "red")
        doors = db.execute(select(Door.id)).scalars().all()
    engine.dispose()
    away = next(d for d in doors if reg.place_of_device(d).community_id != red.home_community_id)
    with ThreadWorker(AlertEngineWorker(s, "hiding")), ThreadWorker(ArchiverWorker(s, "hiding-archive")):
        for hours in (50, 26, 1):
            put(redis_client, s, access_doc(reg, away, red.person_id, now_ms(-hours * 3600), "in", "granted"))
        assert wait_for(lambda: alerts_in(s.database.url, "key_person_hiding"), 10)
        put(redis_client, s, access_doc(reg, away, red.person_id, now_ms(-1800), "in", "granted"))  # same day
        time.sleep(1.0)
        assert wait_for(lambda: archive_behind(redis_client, s) == 0, 10)  # the sightings are the archive's
    (alert,) = alerts_in(s.database.url, "key_person_hiding")
    assert (alert.subject_kind, alert.subject_id, alert.level) == ("person", red.person_id, "orange")
    assert alert.evidence["days_away"] == 3 and alert.evidence["home_community_id"] == red.home_community_id
    doc = client.get(f"/api/persons/{red.person_id}", headers=auth(tok["supervisor"])).get_json()
    assert [a["rule"] for a in doc["alerts"]] == ["key_person_hiding"]
    assert len(doc["sightings"]) == 4 and {x["door_id"] for x in doc["sightings"]} == {away}


def test_a_grid_worker_reads_and_visits_only_its_own_persons(api, small_city):
    """/grid's "我的重点人员": a grid account (bound to its worker, scope the whole city) lists only the persons
    it answers for and records a visit of one; another worker's person is not found (404), to read or to visit."""
    s, client, _tok = api
    engine = make_engine(s.database.url)
    with session_factory(engine)() as db:
        persons = db.execute(select(WatchPerson).where(WatchPerson.grid_worker_id.is_not(None))).scalars().all()
        worker = persons[0].grid_worker_id
        own = sorted(p.person_id for p in persons if p.grid_worker_id == worker)
        stranger = next(p.person_id for p in persons if p.grid_worker_id != worker)
        add_user(db, "grid-kp", "password-123", "grid", worker_id=worker)
        token = create_token(db, "grid-kp")
        db.commit()
    listed = client.get("/api/persons", headers=auth(token)).get_json()
    assert sorted(p["person_id"] for p in listed) == own and {p["grid_worker_id"] for p in listed} == {worker}
    r = client.post(f"/api/persons/{own[0]}/visits", headers=auth(token), json={"method": "video", "note": "视频回访"})
    assert r.status_code == 201 and r.get_json()["by"] == worker
    assert client.post(f"/api/persons/{stranger}/visits", headers=auth(token),
                       json={"method": "home"}).status_code == 404
    assert client.get(f"/api/persons/{stranger}", headers=auth(token)).status_code == 404
    with session_factory(engine)() as db:
        rows = db.execute(select(AuditLog.action, AuditLog.target).where(AuditLog.actor == "grid-kp")).all()
    engine.dispose()
    assert ("person_visit", f"person:{own[0]}") in rows and all(t != f"person:{stranger}" for _a, t in rows)


def test_the_file_lists_the_cases_made_of_the_persons_alerts(api, small_city):
    """CONTRACT §7: the file holds the person's cases: an operator turning 疑似脱管 about the person into a case
    (CONTRACT §6 ``alert_id``) puts that case in the file; a case about nobody in particular does not."""
    from onescreen.db.models import Alert

    s, client, tok = api
    engine = make_engine(s.database.url)
    with session_factory(engine)() as db:
        red = next(p for p in db.execute(select(WatchPerson)).scalars() if p.level == "red")
        db.add(Alert(alert_id="A-20261205-000901", rule="key_person_missing", level="orange", status="open",
                     subject_kind="person", subject_id=red.person_id, community_id=red.home_community_id,
                     evidence={}, opened_at=datetime.now(UTC)))
        db.commit()
        person_id, community = red.person_id, red.home_community_id
    cell = small_city.registry.descendants(community, "cell")[0]
    op = auth(tok["operator"])
    made = client.post("/api/cases", headers=op, json={"category": "key_person", "description": "连续三天未见",
                                                       "cell_id": cell, "alert_id": "A-20261205-000901"})
    assert made.status_code == 201, made.get_json()
    other = client.post("/api/cases", headers=op, json={"category": "hazard", "description": "井盖缺失",
                                                        "cell_id": cell})
    assert other.status_code == 201, other.get_json()
    cases = client.get(f"/api/persons/{person_id}", headers=op).get_json()["cases"]
    assert [c["case_id"] for c in cases] == [made.get_json()["case_id"]]
    assert cases[0]["alert_id"] == "A-20261205-000901" and cases[0]["category"] == "key_person"
