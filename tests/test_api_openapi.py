"""``/api/openapi.json`` is true, for the whole HTTP API (alerts, cases, key persons, assessment, the rest).

1. Every ``/api/...`` route of the Flask url_map is documented with its methods, and nothing else is: a route
   added without documentation fails here.
2. schemathesis generates requests from the document for every operation, one test per API area, and sends
   them to the real dashboard app (in process, WSGI) with valid tokens of several roles; each answer must be
   no 5xx (but a documented one: health's strict 503), of a documented status code, and match the documented
   schema and content type. Path ids and the ids in bodies are drawn from real rows (seeded alerts, cases
   reported and moved through the API, the city's key persons, a camera with a frame), so many answers are
   real rows, not only 404s. Bounded: EXAMPLES per operation.
3. The bugs found while building it, one test each (``test_found_*`` and the two before them).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)
from sqlalchemy import select

from alerts.lifecycle import ACTIONS as ALERT_ACTIONS
from cases.commands import ACTIONS as CASE_ACTIONS
from cases.lifecycle import CATEGORIES
from dashboard.api.openapi import document
from dashboard.app import create_app
from onescreen import names
from onescreen.db.models import Alert, AlertSnapshot, WatchPerson
from onescreen.db.session import make_engine, session_factory
from tests.case_helpers import auth, case_world, jpeg

__all__ = ["case_world"]
pytestmark = pytest.mark.services
EXAMPLES = 6


def no_undocumented_server_error(ctx, response, case):
    """No 5xx, but one the document lists for the operation (/api/health?strict=1 → 503 while a dependency is
    not ok; a camera frame → 503 while Redis is away) is an answer, not a crash."""
    if str(response.status_code) in case.operation.definition.raw["responses"]:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_undocumented_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]
ACTION_ROUTES = {"alerts.act": tuple(ALERT_ACTIONS), "cases.act": tuple(CASE_ACTIONS)}
CATCH_ALL = "alerts.unknown"  # any other /api/ path: 404 as JSON


def served_operations(app) -> set[tuple[str, str]]:
    """(METHOD, OpenAPI path) of every /api route; ``<action>`` expanded to the module's actions."""
    out = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == CATCH_ALL:
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        paths = [path.replace("{action}", a) for a in ACTION_ROUTES[rule.endpoint]] if "{action}" in path else [path]
        out |= {(m, p) for m in rule.methods - {"HEAD", "OPTIONS"} for p in paths}
    return out


def test_every_api_route_is_documented_and_nothing_else(case_world):
    app = create_app(case_world.settings).server
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert doc == document()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = served_operations(app)
    assert served - documented == set(), "routes without documentation"
    assert documented - served == set(), "documented operations the app does not serve"
    assert {p.split("/")[2] for _m, p in served} >= {"alerts", "cases", "persons", "assessment", "health"}


def test_a_route_added_without_documentation_is_caught(case_world):
    """The comparison above can fail: a new blueprint route shows up in served_operations."""
    app = create_app(case_world.settings).server
    app.add_url_rule("/api/cases/<case_id>/undocumented", "cases.undocumented", lambda case_id: "")
    documented = {(m.upper(), p) for p, ops in document()["paths"].items() for m in ops}
    assert served_operations(app) - documented == {("GET", "/api/cases/{case_id}/undocumented")}


@pytest.fixture
def world(case_world, small_city, redis_client):
    """The app with real rows: alerts, cases in several states (reported through the API), a photo, a
    visit, a silence, a camera frame; and the ids schemathesis draws from."""
    w = case_world
    engine = make_engine(w.url)
    with session_factory(engine)() as db:
        for i, status in enumerate(("open", "acknowledged", "dispatched", "resolved"), 1):
            db.add(Alert(alert_id=f"A-20261205-00000{i}", rule="gathering", level="orange", status=status,
                         subject_kind="camera_zone", subject_id=f"C-{i}/gate", community_id=w.community,
                         district_id=w.district, cell_id=w.cell, assignee=small_city.unit
                         if status == "dispatched" else None, evidence={"persons": 12},
                         opened_at=datetime.now(UTC)))
        db.flush()
        first = db.execute(select(Alert).where(Alert.alert_id == "A-20261205-000001")).scalar_one()
        db.add(AlertSnapshot(alert_pk=first.id, camera_id=small_city.camera, jpeg=jpeg()))
        db.commit()
        persons = db.execute(select(WatchPerson.person_id).order_by(WatchPerson.person_id)).scalars().all()
    engine.dispose()
    app = create_app(w.settings).server
    client = app.test_client()
    sup = auth(w.tokens["supervisor"])

    def post(url, body, status=200, headers=sup):
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == status, (url, r.get_json())
        return r.get_json()

    case_ids = []
    steps = ([], [("accept", {})], [("accept", {"level": "red"}), ("assign", {"assignee": {
        "kind": "department", "id": w.department}})],
        [("accept", {}), ("assign", {"assignee": {"kind": "community", "id": w.community}}), ("start", {}),
         ("handle", {"note": "已处理"})])
    for n, chain in enumerate(steps):
        doc = post("/api/cases", {"category": CATEGORIES[n], "description": f"案件 {n}", "cell_id": w.cell}, 201,
                   auth(w.tokens["grid"]) if n % 2 else sup)
        case_ids.append(doc["case_id"])
        for action, body in chain:
            post(f"/api/cases/{doc['case_id']}/{action}", body)
    r = client.post(f"/api/cases/{case_ids[0]}/photos", data=jpeg(), content_type="image/jpeg", headers=sup)
    assert r.status_code == 201, r.get_json()
    post(f"/api/persons/{persons[0]}/visits", {"method": "home", "note": "在家"}, 201)
    silence = post("/api/silences", {"reason": "演练", "rule": "gathering", "minutes": 30}, 201)
    redis_client.set(names.camera_snapshot(small_city.camera), jpeg())
    reals = {"alert_id": [f"A-20261205-00000{i}" for i in range(1, 5)], "case_id": case_ids, "into": case_ids,
             "person_id": persons[:4], "camera_id": [small_city.camera], "silence_id": [silence["id"]],
             "n": [1], "cell_id": [w.cell], "community_id": [w.community], "category": list(CATEGORIES),
             "within": [w.community, w.district]}
    tokens = [auth(w.tokens[name]) for name in ("supervisor", "supervisor", "operator", "grid", "department",
                                                "district", "duty")]
    return app, reals, tokens


def run_area(app, reals, tokens, tag: str) -> int:
    """schemathesis over the operations of ``tag``; how many ran."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if tag not in operation.definition.raw.get("tags", ()):
            continue

        @given(case=operation.as_strategy(), data=st.data())
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case, data):
            real = lambda name, generated: data.draw(st.sampled_from([*reals[name], generated]))  # noqa: E731
            for name, value in (case.path_parameters or {}).items():
                if name in reals:
                    case.path_parameters[name] = real(name, value)
            for name, value in (case.query or {}).items():
                if name in reals:
                    case.query[name] = real(name, value)
            if isinstance(case.body, dict):
                for name, value in case.body.items():
                    if name in reals:
                        case.body[name] = real(name, value)
            case.call_and_validate(headers=data.draw(st.sampled_from(tokens)), checks=CHECKS)

        check()
        ran += 1
    return ran


# system: schemathesis leaves out the document's own URL (/api/openapi.json: the first test covers it)
@pytest.mark.parametrize("tag, operations", [("system", 4), ("alerts", 11), ("cases", 18), ("persons", 4),
                                             ("assessment", 2)])
def test_every_operation_answers_within_its_schema(world, tag, operations):
    app, reals, tokens = world
    assert run_area(app, reals, tokens, tag) == operations  # every documented operation of the area ran


def test_the_desk_downloads_take_a_bearer_token_too(case_world, small_city, redis_client):
    """CONTRACT §3: the API takes ``Authorization: Bearer``; the desk's two /api/patrol downloads took only the
    web session (a token got 401). Found documenting them; now 200 for a supervisor's token, 403 for an
    operator's, 401 for a bad one or none."""
    client = create_app(case_world.settings).server.test_client()
    sup, op = auth(case_world.tokens["supervisor"]), auth(case_world.tokens["operator"])
    redis_client.set(names.camera_snapshot(small_city.camera), jpeg())
    frame = f"/api/patrol/cameras/{small_city.camera}/snapshot.jpg"
    for url, media in (("/api/patrol/report.csv?by=district&days=2", "text/csv"), (frame, "image/jpeg")):
        r = client.get(url, headers=sup)
        assert (r.status_code, r.mimetype) == (200, media), url
        assert client.get(url, headers=op).status_code == 403
        assert client.get(url, headers=auth("wrong")).status_code == 401
        assert client.get(url).status_code == 401
    assert client.get("/api/patrol/report.csv?days=0", headers=sup).status_code == 400
    assert client.get("/api/patrol/cameras/C-nowhere/snapshot.jpg", headers=sup).status_code == 404


def test_every_error_answer_names_its_reason(case_world, small_city):
    """``{"error", "reason"}`` everywhere: the errors without a reason of their own (assessment, persons, case
    photos, camera frames, the desk, the sign-in gate) answered ``{"error"}`` alone; now the status' name."""
    client = create_app(case_world.settings).server.test_client()
    tok = {name: auth(t) for name, t in case_world.tokens.items()}
    table = [
        ("/api/assessment?period=day&by=district", tok["operator"], 403, "forbidden"),
        ("/api/assessment?period=year&by=district", tok["supervisor"], 400, "bad_request"),
        ("/api/persons?level=blue", tok["operator"], 400, "bad_request"),
        ("/api/cases?limit=many", tok["operator"], 400, "bad_request"),
        (f"/api/cameras/{small_city.camera}/snapshot.jpg", {}, 401, "unauthorized"),
        ("/api/cameras/C-nowhere/snapshot.jpg", tok["supervisor"], 404, "not_found"),
        ("/api/patrol/report.csv", tok["operator"], 403, "forbidden"),
        ("/api/cases", {}, 401, "unauthorized"),  # the sign-in gate, before any view
        ("/api/nothing-here", tok["operator"], 404, "not_found"),
    ]
    for url, headers, status, reason in table:
        r = client.get(url, headers=headers)
        assert (r.status_code, r.get_json()["reason"]) == (status, reason), url
        assert r.get_json()["error"]


@pytest.mark.parametrize("date, status", [("0963-08-15", 400), ("0001-01-01", 400), ("1969-12-31", 400),
                                          ("1970-01-01", 200), ("2026-12-01", 200), ("2126-12-01", 400)])
def test_found_by_schemathesis_an_assessment_date_before_1970_is_400(case_world, date, status):
    """``date=0963-08-15`` answered 200 with ``from`` "0963-08-15T00:00:00+08:05:43" (Asia/Shanghai's local mean
    time): not an ISO 8601 date-time. A date before 1970 is now a bad request, like one in the future."""
    client = create_app(case_world.settings).server.test_client()
    r = client.get(f"/api/assessment?period=week&by=district&date={date}",
                   headers=auth(case_world.tokens["supervisor"]))
    assert r.status_code == status, r.get_json()
    if status == 200:
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", row[k]) for row in r.get_json()
                   for k in ("from", "to"))


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_found_documenting_a_time_out_of_range_is_400_not_500(case_world, at):
    """An ISO 8601 time whose UTC instant is before year 1 or after 9999 made ``parse_ts`` raise OverflowError:
    a 500 from the visit API and the silences' starts_at/until (found reading the code behind the documented
    ``at``, not by the generated runs). Now a bad value, 400."""
    client = create_app(case_world.settings).server.test_client()
    sup = auth(case_world.tokens["supervisor"])
    engine = make_engine(case_world.url)
    with session_factory(engine)() as db:
        person = db.execute(select(WatchPerson.person_id).order_by(WatchPerson.person_id)).scalars().first()
    engine.dispose()
    r = client.post(f"/api/persons/{person}/visits", json={"method": "home", "at": at}, headers=sup)
    assert r.status_code == 400 and r.get_json()["reason"] == "bad_request"
    for field in ("starts_at", "until"):
        r = client.post("/api/silences", json={"reason": "演练", field: at}, headers=sup)
        assert r.status_code == 400 and r.get_json()["reason"] == "silence_value", r.get_json()


def test_found_documenting_the_desk_frame_is_cut_to_the_accounts_area(case_world, small_city, redis_client):
    """``/api/patrol/cameras/{id}/snapshot.jpg`` gave a district-scoped supervisor the frame of any camera in the
    city, where ``/api/cameras/{id}/snapshot.jpg`` answers 404 outside its area. Now both answer the same."""
    client = create_app(case_world.settings).server.test_client()
    reg = small_city.registry
    inside = [c.id for c in reg.cameras() if reg.district_of(c.cell_id) == case_world.district]
    outside = [c.id for c in reg.cameras() if reg.district_of(c.cell_id) != case_world.district]
    assert inside and outside
    district = auth(case_world.tokens["district"])
    for cam, status in ((inside[0], 200), (outside[0], 404)):
        redis_client.set(names.camera_snapshot(cam), jpeg())
        for url in (f"/api/patrol/cameras/{cam}/snapshot.jpg", f"/api/cameras/{cam}/snapshot.jpg"):
            assert client.get(url, headers=district).status_code == status, url
        assert client.get(f"/api/patrol/cameras/{cam}/snapshot.jpg",
                          headers=auth(case_world.tokens["supervisor"])).status_code == 200
