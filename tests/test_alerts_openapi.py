"""``/api/openapi.json`` is true: schemathesis generates requests from it for every operation, sends them to the
real dashboard app (in process, WSGI) with a valid supervisor token, and checks each answer: never a 5xx,
always the documented schema and content type. Bounded (a few examples per operation) to stay well under a
minute; the alerts it acts on are real rows in the test database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from dashboard.app import create_app
from onescreen.db.models import Alert
from onescreen.db.session import make_engine, session_factory
from tests import test_alerts_engine as base
from tests.test_alerts_api import auth, tokens

pytestmark = pytest.mark.services
make_settings = base.make_settings  # the shared fixture
EXAMPLES = 8
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def test_every_operation_answers_within_its_schema(make_settings, small_city):
    s = make_settings()
    toks = tokens(s.database.url, small_city.unit)
    engine = make_engine(s.database.url)
    community = small_city.registry.nodes_at("community")[0]
    with session_factory(engine)() as db:
        for i, status in enumerate(("open", "acknowledged", "dispatched"), 1):
            db.add(Alert(alert_id=f"A-20261205-00000{i}", rule="gathering", level="orange", status=status,
                         subject_kind="camera_zone", subject_id=f"C-{i}/gate", community_id=community,
                         assignee=small_city.unit if status == "dispatched" else None, evidence={},
                         opened_at=datetime.now(UTC)))
        db.commit()
    engine.dispose()
    app = create_app(s)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app.server)
    headers = auth(toks["supervisor"])
    ran = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
        ran += 1
    assert ran >= 10  # every documented operation was exercised
