"""Issue 11 finding 7: the admin page speaks the screen's language (a refused message by its named reason, not
pydantic's English; camera states), and an alert list masks a door+person subject whatever the person id looks
like. Rendered by the real page functions on the real app (Redis, SQLite with the small wall city)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from flask import g
from sqlalchemy.orm import Session

from dashboard.app import create_app
from dashboard.auth.sessions import SessionUser
from dashboard.context import app_context
from dashboard.desk.data import mask_subject
from dashboard.pages import admin, alerts
from onescreen import names
from onescreen.db.models import Alert
from tests.dashboard_helpers import insert_small_city, with_dashboard
from tests.test_desk_language import strings

pytestmark = pytest.mark.services
PYDANTIC = ("Field required", "Input should be 'in', 'out' or 'unknown'")


@pytest.mark.parametrize("language", ["zh", "en"])
def test_rejections_and_camera_states_in_the_screens_language(settings, redis_client, language):
    insert_small_city(settings.database.url)
    app = create_app(with_dashboard(settings, language=language))
    for reason, detail in (("missing_field:ts", PYDANTIC[0]), ("bad_value:direction", PYDANTIC[1])):
        redis_client.xadd(names.REJECTED, {"rx": "1764900000000", "topic": "city/access/D-1", "reason": reason,
                                           "detail": detail, "payload": "{}"})
        redis_client.hincrby(names.REJECTED_COUNTS, reason.split(":")[0], 1)
    redis_client.hset(names.camera_health("CAM-1"), mapping={"state": "online", "fps": "5"})
    redis_client.hset(names.camera_health("CAM-2"), mapping={"state": "stalled", "fps": "0"})
    with app.server.app_context():
        ctx = app_context(app.server)
        shown = "\n".join(strings(orjson.loads(orjson.dumps([c.to_plotly_json() for c in admin._rejected(ctx)],
                                                            default=lambda o: o.to_plotly_json())))
                          + strings(orjson.loads(orjson.dumps(admin._cameras(ctx).to_plotly_json(),
                                                              default=lambda o: o.to_plotly_json()))))
    if language == "zh":
        assert "缺少必填字段 ts" in shown and "字段 direction 的类型或取值不符合接口约定" in shown
        assert "在线" in shown and "画面停滞" in shown
        assert not any(p in shown for p in PYDANTIC) and "online" not in shown and "stalled" not in shown
    else:
        assert "missing field ts" in shown and PYDANTIC[1] in shown and "stalled" in shown


@pytest.mark.parametrize("subject, expected", [
    ("D-0101-03/p-7f3a9c", "D-0101-03/p-7f****"),
    ("D-0101-03/ZHANG_SAN_110101199001011234", "D-0101-03/ZHAN****"),  # not p-…: masked all the same
    ("D-0101-03/42", "D-0101-03/4****"),
])
def test_a_door_person_subject_is_masked_whatever_the_person_id(subject, expected):
    assert mask_subject("door_person", subject) == expected
    assert mask_subject("person", "110101199001011234") == "1101****"


def test_the_alert_list_masks_an_unusual_person_id(settings, redis_client):
    insert_small_city(settings.database.url)
    app = create_app(settings)
    raw = "D-1/ZHANG_SAN_110101199001011234"
    with Session(app_context(app.server).engine) as db:
        db.add(Alert(alert_id="A-20261205-000001", rule="lingering", level="yellow", status="open",
                     subject_kind="door_person", subject_id=raw, district_id="D1", community_id="D1-01",
                     evidence={}, opened_at=datetime.now(UTC)))
        db.commit()
    with app.server.test_request_context():
        g.user = SessionUser(1, "op", "operator", None, None, None, 0.0)  # signed in, the whole city
        ctx = app_context(app.server)
        rows, marked = alerts._query(ctx, None, None, None, None, 24)
        text = str(alerts._table(ctx, rows, None, marked).to_plotly_json())
    assert "D-1/ZHAN****" in text and "110101199001011234" not in text
