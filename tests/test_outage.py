"""A Redis outage, short, quiet and self-healing (issue 13): against a real Redis that a test stops and starts.

- the dashboard answers 503 during the outage and logs one WARNING for it and one INFO for the recovery, never
  an ERROR with a traceback per request;
- ``/api/health`` never calls a live process dead: just after Redis is back, an old heartbeat is "unknown";
- the supervisor restarts a service ended from outside, on its port, with a log line, and gives up on a
  crash loop (the policy, table-driven).
"""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest
import redis

from dashboard.app import create_app
from onescreen.services import RedisServer
from onescreen.supervise import ServiceUnit, Supervisor
from tests.auth_helpers import create_users, logged_in_client
from tests.test_dashboard_health import get_health, write_heartbeat

pytestmark = pytest.mark.services

ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test alone, with an append-only file (what survives its restart, as in the demo)."""
    server = RedisServer(workdir=tmp_path / "redis", appendonly=True).start()
    yield server
    server.close()


def outage_records(caplog) -> tuple[list[str], list[str], list[logging.LogRecord]]:
    warnings = [r.getMessage() for r in caplog.records if r.name == "dashboard.outage" and r.levelno == logging.WARNING]
    infos = [r.getMessage() for r in caplog.records if r.name == "dashboard.outage" and r.levelno == logging.INFO]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    return warnings, infos, errors


def test_dashboard_outage_is_one_warning_and_one_info_and_health_stays_true(settings, own_redis, caplog):
    s = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": own_redis.url})})
    users = create_users(s.database.url)
    app = create_app(s)
    op = logged_in_client(app, users["operator"].username, users["operator"].password)
    client = redis.Redis.from_url(own_redis.url)
    assert op.get("/alerts").status_code == 200
    write_heartbeat(client, "alerts", "eng-1", age_s=9.0)    # alive now; its next beat will come after the outage
    write_heartbeat(client, "ingest-mqtt", "gone", age_s=60)  # dead long before the outage
    client.close()

    caplog.clear()
    with caplog.at_level(logging.INFO):
        own_redis.stop()  # SIGTERM: Redis writes its AOF and ends
        codes = [op.get("/alerts").status_code for _ in range(5)]
        body = {"output": "page-content.children", "outputs": {"id": "page-content", "property": "children"},
                "inputs": [{"id": "url", "property": "pathname", "value": "/alerts"}], "changedPropIds": []}
        callback = op.post("/_dash-update-component", json=body, headers=ORIGIN)
        down = get_health(app)[1]
        time.sleep(1.0)  # long enough for eng-1's heartbeat to age past "alive" (10 s)
        own_redis.start()
        time.sleep(0.6)  # the outage re-check runs at most twice a second
        after = get_health(app)[1]
        assert op.get("/alerts").status_code == 200  # the session survived (AOF), nobody signs in again
        assert op.get("/alerts").status_code == 200

    assert codes == [503] * 5 and callback.status_code == 503 and callback.is_json
    assert down["status"] == "down" and down["components"]["redis"]["status"] == "error"
    warnings, infos, errors = outage_records(caplog)
    assert len(warnings) == 1 and warnings[0].startswith("Redis unavailable"), warnings
    assert len(infos) == 1 and "Redis reachable again" in infos[0], infos
    assert not errors, [r.getMessage() for r in errors]

    # just after the outage: the engine's heartbeat is 10 s old but it was alive when Redis went away
    procs = {p["instance"]: p for p in after["processes"]}
    assert procs["eng-1"]["age_s"] > 10 and procs["eng-1"]["alive"] is None  # unknown, not dead
    assert procs["gone"]["alive"] is False  # dead before the outage: still dead
    assert after["components"]["processes"]["kinds_down"] == ["ingest-mqtt"]
    client = redis.Redis.from_url(own_redis.url)
    write_heartbeat(client, "alerts", "eng-1")  # its next beat
    client.close()
    procs = {p["instance"]: p for p in get_health(app)[1]["processes"]}
    assert procs["eng-1"]["alive"] is True


def test_health_after_a_redis_restart_it_did_not_see(settings, own_redis):
    """A fresh dashboard (no failed probe) and a Redis that restarted a moment ago from its AOF: Redis' uptime
    tells; a heartbeat of 12 s is unknown for the grace, not dead."""
    s = settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": own_redis.url})})
    client = redis.Redis.from_url(own_redis.url)
    write_heartbeat(client, "dashboard", "web-1", age_s=12.0)
    client.close()
    own_redis.stop()
    own_redis.start()
    body = get_health(create_app(s))[1]
    [proc] = body["processes"]
    assert proc["alive"] is None and body["components"]["processes"]["status"] == "unknown"
    assert body["components"]["processes"]["kinds_unknown"] == ["dashboard"]
    assert body["components"]["processes"]["redis_back_s"] < 6


def test_supervisor_restarts_a_service_ended_from_outside(own_redis, caplog):
    sup = Supervisor([ServiceUnit(own_redis)])
    port = own_redis.port
    assert sup.check() == []
    os.kill(own_redis._proc.pid, signal.SIGTERM)  # as someone ending it by hand
    own_redis._proc.wait(10)
    with caplog.at_level(logging.INFO, logger="onescreen.supervise"):
        assert sup.check() == ["redis"]
    assert own_redis.port == port and redis.Redis.from_url(own_redis.url).ping()
    lines = [r.getMessage() for r in caplog.records if r.name == "onescreen.supervise"]
    assert lines[0].startswith("redis exited with 0: restarting it") and lines[1] == "redis restarted"


class Unit:
    """A unit of the supervisor's own protocol whose life a test scripts (no component is stood in for)."""

    def __init__(self, name: str, fails_to_start: bool = False):
        self.name, self.up, self.fails_to_start, self.revived = name, False, fails_to_start, 0

    def alive(self) -> bool:
        return self.up

    def exit_reason(self) -> str:
        return "exited with 1"

    def revive(self) -> None:
        self.revived += 1
        if self.fails_to_start:
            raise RuntimeError("port taken")
        self.up = True

    def where(self) -> str:
        return f"{self.name}.log"


@pytest.mark.parametrize("deaths, spacing_s, revived, gave_up", [
    (3, 1.0, 3, False),    # a few deaths: each one restarted
    (8, 1.0, 5, True),     # a crash loop: five restarts a minute, then left down (one ERROR)
    (8, 20.0, 8, False),   # deaths far apart: the window forgets the old ones
])
def test_restart_policy(deaths, spacing_s, revived, gave_up, caplog):
    now = [0.0]
    unit = Unit("alerts")
    sup = Supervisor([unit], max_restarts=5, window_s=60, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="onescreen.supervise"):
        for _ in range(deaths):
            unit.up = False
            sup.check()
            now[0] += spacing_s
    assert unit.revived == revived
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == (1 if gave_up else 0)


def test_a_failed_restart_is_logged_and_retried():
    unit = Unit("mosquitto", fails_to_start=True)
    sup = Supervisor([unit])
    assert sup.check() == [] and sup.check() == []
    assert unit.revived == 2
