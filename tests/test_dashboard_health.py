"""``/api/health`` and ``/metrics`` of the dashboard, against the real Redis and SQLite of the fixtures."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import orjson
import pytest

from dashboard.app import create_app
from onescreen import names
from onescreen.services import free_port
from tests.dashboard_helpers import RunningWorker, with_dashboard

pytestmark = pytest.mark.services


def write_heartbeat(client, kind: str, instance: str, age_s: float = 0.0, detail: dict | None = None) -> None:
    """What Worker.beat() writes, with a chosen age."""
    beat = time.time() - age_s
    client.hset(names.process_health(kind, instance), mapping={
        "kind": kind, "instance": instance, "pid": 4242, "started_at": beat - 100, "heartbeat_at": beat,
        "detail": orjson.dumps(detail or {}).decode(),
    })
    client.zadd(names.PROCESSES, {f"{kind}:{instance}": beat})


def get_health(app, query: str = ""):
    resp = app.server.test_client().get(f"/api/health{query}")
    assert resp.mimetype == "application/json"
    return resp.status_code, resp.get_json()


def test_health_ok_with_live_process(settings, redis_client):
    write_heartbeat(redis_client, "ingest-mqtt", "host-1", detail={"received": 12})
    status, body = get_health(create_app(settings))
    assert status == 200
    assert body["status"] == "ok"
    assert body["components"]["redis"]["status"] == "ok"
    database = body["components"]["database"]
    assert database["status"] == "ok" and database["dialect"] == "sqlite" and database["latency_ms"] >= 0
    assert body["components"]["processes"] == {"status": "ok", "alive": 1, "total": 1, "kinds_down": []}
    [proc] = body["processes"]
    assert proc["kind"] == "ingest-mqtt" and proc["instance"] == "host-1" and proc["pid"] == 4242
    assert proc["alive"] is True and proc["age_s"] < 5
    assert proc["detail"] == {"received": 12}
    assert proc["heartbeat_at"].endswith("+08:00")  # output instants carry the display offset


def test_health_degraded_when_a_kind_has_no_live_instance(settings, redis_client):
    write_heartbeat(redis_client, "ingest-mqtt", "host-1")
    write_heartbeat(redis_client, "alerts", "host-1", age_s=60)       # dead, nobody replaced it
    write_heartbeat(redis_client, "ingest-video", "old", age_s=30)    # dead but restarted as "new"
    write_heartbeat(redis_client, "ingest-video", "new")
    write_heartbeat(redis_client, "sim", "long-gone", age_s=7200)     # older than an hour: forgotten
    status, body = get_health(create_app(settings))
    assert status == 200
    assert body["status"] == "degraded"
    assert body["components"]["processes"]["kinds_down"] == ["alerts"]
    alive = {(p["kind"], p["instance"]): p["alive"] for p in body["processes"]}
    assert alive == {("alerts", "host-1"): False, ("ingest-mqtt", "host-1"): True,
                     ("ingest-video", "new"): True, ("ingest-video", "old"): False}
    assert get_health(create_app(settings), "?strict=1")[0] == 503


def test_health_answers_200_with_redis_down(settings):
    """Redis on a closed port: still JSON and 200 (the dashboard itself is up); strict mode gives 503."""
    down = settings.model_copy(update={"redis": settings.redis.model_copy(
        update={"url": f"redis://127.0.0.1:{free_port()}/0"})})
    app = create_app(down)
    t0 = time.monotonic()
    status, body = get_health(app)
    assert time.monotonic() - t0 < 5
    assert status == 200
    assert body["status"] == "down"
    assert body["components"]["redis"]["status"] == "error"
    assert "Connection" in body["components"]["redis"]["error"]
    assert body["components"]["database"]["status"] == "ok"
    assert body["components"]["processes"]["status"] == "unknown"
    assert body["processes"] == []
    assert get_health(app, "?strict=1")[0] == 503


def test_health_reports_database_error(settings, redis_client):
    """A database that refuses connections: error in the body, no credentials in it, wall still creatable."""
    url = f"postgresql+psycopg://onescreen:hunter2@127.0.0.1:{free_port()}/onescreen"
    database = settings.database.model_copy(update={"url": url})
    app = create_app(settings.model_copy(update={"database": database}))
    status, body = get_health(app)
    assert status == 200 and body["status"] == "down"
    assert body["components"]["database"]["status"] == "error"
    assert "hunter2" not in json.dumps(body)
    assert body["components"]["redis"]["status"] == "ok"


def test_metrics_endpoint(settings):
    client = create_app(settings).server.test_client()
    client.get("/api/health")
    resp = client.get("/metrics")
    assert resp.status_code == 200
    text = resp.get_data(as_text=True)
    assert 'onescreen_dashboard_requests_total{code="200",method="GET",rule="/api/health"}' in text
    assert "onescreen_dashboard_registry_nodes" in text


def test_worker_heartbeat_shows_in_health_and_stop_frees_the_port(settings, redis_client):
    running = RunningWorker(with_dashboard(settings)).start()
    port = running.worker.port
    try:
        deadline = time.monotonic() + 10
        while True:
            with urllib.request.urlopen(f"{running.url}/api/health", timeout=5) as resp:
                body = json.load(resp)
            kinds = {p["kind"]: p for p in body["processes"]}
            if "dashboard" in kinds or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert kinds["dashboard"]["alive"] is True
        assert kinds["dashboard"]["detail"]["url"] == running.url
        assert body["status"] == "ok"
    finally:
        running.stop()
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with socket.socket() as sock:  # and a restarted server can bind the port at once (as waitress does)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()
    assert redis_client.zscore(names.PROCESSES, "dashboard:test") is None
