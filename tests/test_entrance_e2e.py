"""entrance_surge end to end: the scenario writes ingest-video's crossing output for a gate camera of the
small city, the real alert engine (thread, real Redis, Mosquitto, SQLite) raises the alert and publishes it.
Hours all day in the rules file, so the test does not depend on the time it runs at."""

from __future__ import annotations

import pytest

from alerts.engine import AlertEngineWorker
from sim.city import SimCity
from sim.scenarios import run_scenario
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.test_alerts_engine import Collector, make_settings  # noqa: F401  (make_settings: fixture)

pytestmark = pytest.mark.services
ALL_DAY = {"rules": {"entrance_surge": {"start": "00:00", "end": "00:00", "min_crossings": 30}}}


def test_the_scenario_raises_entrance_surge(make_settings, small_city, redis_client):  # noqa: F811
    s = make_settings(ALL_DAY)
    from onescreen.db.session import make_engine

    engine = make_engine(s.database.url)
    city = SimCity.from_engine(engine)
    engine.dispose()
    col = Collector(s)
    try:
        with ThreadWorker(AlertEngineWorker(s, "e2e-entrance")):
            out: list[str] = []
            sc = run_scenario(s, "entrance_surge", duration=1.0, city=city, out=out.append, seed=5, persons=32)
            subject = f"{sc.camera.id}/{sc.line}"
            assert "expect: alert entrance_surge" in out[0], out[0]
            got = wait_for(lambda: [m for m in col.of("entrance_surge") if m["subject"]["id"] == subject], 10)
    finally:
        col.close()
    assert got, "no entrance_surge alert"
    alert = got[0]
    assert alert["level"] == "yellow" and alert["subject"]["kind"] == "camera_zone"
    assert alert["evidence"]["direction"] == "in" and alert["evidence"]["crossings"] >= 30
    assert alert["location"]["community_id"] == sc.camera.community_id and alert["location"]["lat"] is not None
