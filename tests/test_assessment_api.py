"""``GET /api/assessment`` and ``/api/assessment.csv`` (CONTRACT §8) on the real dashboard app: 400 for a bad
period or grouping, 401 / 403 as for the alerts API, a scoped account's rows, drill-down, the CSV equal to
the JSON and both equal to what is in the database, the export in the audit log."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import people, report
from dashboard.app import create_app
from onescreen.accounts import add_user
from onescreen.accounts.tokens import create_token
from onescreen.db.models import Alert, AuditLog, Case, SpotCheck, WorkerOnlineDay
from onescreen.db.session import make_engine, session_factory
from tests import test_alerts_engine as base

make_settings = base.make_settings  # the shared fixture


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(make_settings, small_city, redis_client):
    s = make_settings()
    reg = small_city.registry
    community = reg.nodes_at("community")[0]
    engine = make_engine(s.database.url)
    toks = {}
    with session_factory(engine)() as session:
        for name, role, scope in (("sup", "supervisor", None), ("adm", "admin", None), ("op", "operator", None),
                                  ("sup-c", "supervisor", community)):
            add_user(session, name, "password-123", role, scope_node_id=scope)
            toks[name] = create_token(session, name)
        now = datetime.now(UTC)
        for i, c in enumerate(reg.nodes_at("community")):
            for j in range(i + 1):  # community i has i + 1 alerts today, the first met 1-3-5
                session.add(Alert(alert_id=f"A-API-{i}-{j}", rule="gathering", level="yellow", status="closed",
                                  subject_kind="camera_zone", subject_id=f"x{i}{j}", district_id=reg.district_of(c),
                                  community_id=c, opened_at=now - timedelta(minutes=10),
                                  acknowledged_at=now - timedelta(minutes=10) + timedelta(seconds=30),
                                  dispatched_at=now - timedelta(minutes=10) + timedelta(seconds=100 if j == 0 else 400),
                                  on_scene_at=now - timedelta(minutes=10) + timedelta(seconds=280 if j == 0 else 500)))
        wp = people.worker_places()
        worker = session.execute(select(wp.c.worker_id).where(wp.c.community_id == community)
                                 .order_by(wp.c.worker_id)).scalars().first()
        for n in range(2):  # two cases reported by a worker of the first community ten minutes ago
            session.add(Case(case_id=f"E-API-{n}", source="grid", category="environment", level="red",
                             status="reported", district_id=reg.district_of(community), community_id=community,
                             description="x", reporter=worker, reported_at=now - timedelta(minutes=10),
                             deadline=now + timedelta(minutes=20)))
        session.add(WorkerOnlineDay(day=now.astimezone(ZoneInfo(s.city.timezone)).date().isoformat(), worker_id=worker,
                                    community_id=community, district_id=reg.district_of(community), samples=3,
                                    online=1, last_online_at=now))
        session.add(SpotCheck(at=now, unit_id=small_city.unit, community_id=community,
                              district_id=reg.district_of(community), on_post=True, on_route=True, uniform=True,
                              equipment=False, checked_by="sup"))
        session.commit()
    engine.dispose()
    app = create_app(s)
    return s, app.server.test_client(), toks, community, app


def test_api_status_codes_scope_and_csv(api, small_city):
    from tests.auth_helpers import logged_in_client

    s, client, tok, community, app = api
    reg = small_city.registry
    assert client.get("/api/assessment?period=day&by=district").status_code == 401
    assert client.get("/api/assessment?period=day&by=district", headers=auth("wrong")).status_code == 401
    assert client.get("/api/assessment?period=day&by=district", headers=auth(tok["op"])).status_code == 403
    for query in ("period=year&by=district", "period=day&by=street", "by=district", "period=day",
                  "period=day&by=district&within=NOPE", "period=day&by=district&date=2026-13-01",
                  "period=day&by=district&date=2999-01-01"):
        for path in ("/api/assessment", "/api/assessment.csv"):
            resp = client.get(f"{path}?{query}", headers=auth(tok["sup"]))
            assert resp.status_code == 400, (path, query)
            assert "error" in resp.get_json()

    rows = client.get("/api/assessment?period=day&by=community", headers=auth(tok["sup"])).get_json()
    assert [r["key"] for r in rows] == list(reg.nodes_at("community"))
    for i, r in enumerate(rows):
        assert (r["alerts"], r["alerts_dispatched"], r["alerts_135"]) == (i + 1, i + 1, 1)
        assert r["attainment_135_rate"] == round(100 / (i + 1), 1) and r["resolution_rate"] == 100.0
        assert r["cases_reported"] == (2 if i == 0 else 0) and r["previous"]["alerts"] == 0
        assert r["cases_overdue"] == 0 and r["satisfaction_mean"] is None
    first = rows[0]
    assert (first["spot_checks"], first["spot_checks_on_post"], first["spot_checks_passed"]) == (1, 1, 0)
    assert first["patrol_on_post_rate"] is None  # nothing sampled

    # the same from the database, through the module
    expected = report.assess(make_engine(s.database.url), reg, "day", "community",
                             datetime.now(UTC), s.city.timezone).rows
    def same(r):  # "to" is the instant the to-date figures were read
        return {k: v for k, v in r.items() if k != "to"}

    assert [same(r) for r in rows] == [same(r) for r in json.loads(orjson.dumps(expected))]

    # CSV: the same rows, previous flattened; BOM for Excel
    resp = client.get("/api/assessment.csv?period=day&by=community", headers=auth(tok["adm"]))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    parsed = list(csv.DictReader(io.StringIO(text[1:])))
    assert len(parsed) == len(rows)
    for line, row in zip(parsed, rows):
        for col, value in report.flat(row).items():
            if col != "to":  # the instant each request read its to-date figures
                assert line[col] == ("" if value is None else str(value)), col

    # audit of the export
    with Session(make_engine(s.database.url)) as db:
        audits = db.query(AuditLog).filter(AuditLog.action == "export_csv").all()
    assert [a.target for a in audits] == ["assessment day by community"] and audits[0].actor == "adm"

    # a community-scoped supervisor: its community only, also by district
    scoped = client.get("/api/assessment?period=month&by=community", headers=auth(tok["sup-c"])).get_json()
    assert [r["key"] for r in scoped] == [community]
    by_district = client.get("/api/assessment?period=week&by=district", headers=auth(tok["sup-c"])).get_json()
    assert [r["key"] for r in by_district] == [reg.district_of(community)] and by_district[0]["alerts"] == 1
    # drill-down: the communities of a district
    district = reg.nodes_at("district")[-1]
    inside = client.get(f"/api/assessment?period=day&by=community&within={district}",
                        headers=auth(tok["sup"])).get_json()
    assert {r["key"] for r in inside} == set(reg.descendants(district, "community"))
    # a past month's review: whole, nothing in it
    past = client.get("/api/assessment?period=month&by=district&date=2026-01-15", headers=auth(tok["sup"])).get_json()
    assert past and all(r["period"] == "2026-01" and r["alerts"] == 0 for r in past)
    # ranked: best first by a figure (the desk's order); an unknown figure is a 400
    ranked = client.get("/api/assessment?period=day&by=community&sort=alerts", headers=auth(tok["sup"])).get_json()
    assert [r["alerts"] for r in ranked] == sorted((r["alerts"] for r in rows), reverse=True)
    assert client.get("/api/assessment?period=day&by=community&sort=nope", headers=auth(tok["sup"])).status_code == 400
    # the printable review (a page: the web session): same access rules
    assert logged_in_client(app, "op", "password-123").get("/assessment/review").status_code == 403
    assert logged_in_client(app, "sup", "password-123").get("/assessment/review?month=bad").status_code == 400
    page = logged_in_client(app, "sup-c", "password-123").get("/assessment/review?month=2026-12-01")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert f'data-key="{community}"' in page.get_data(as_text=True)
    others = set(reg.nodes_at("community")) - {community}
    assert not any(f'data-key="{c}"' in page.get_data(as_text=True) for c in others)
    # by worker: the registry's grid workers (a scoped supervisor: its community's only), with their figures
    workers = client.get("/api/assessment?period=day&by=worker", headers=auth(tok["sup"])).get_json()
    with Session(make_engine(s.database.url)) as db:
        wp = people.worker_places()
        places = dict(db.execute(select(wp.c.worker_id, wp.c.community_id)).all())
    assert {r["key"] for r in workers} == set(places) and len(workers) > 1
    mine = client.get("/api/assessment?period=day&by=worker", headers=auth(tok["sup-c"])).get_json()
    assert {r["key"] for r in mine} == {w for w, c in places.items() if c == community}
    top = next(r for r in mine if r["cases_reported"] == 2)
    assert (top["workers"], top["workers_online"], top["workers_online_rate"]) == (1, 1, 33.3)
    # by department: every department (city-wide), the figures cut to the caller's cases
    depts = client.get("/api/assessment.csv?period=day&by=department", headers=auth(tok["sup"]))
    assert depts.status_code == 200 and len(list(csv.DictReader(io.StringIO(depts.get_data(as_text=True)[1:])))) > 0
