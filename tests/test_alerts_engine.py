"""The alert engine on real Redis, Mosquitto and SQLite: events in the partition streams → alerts in SQL, on
MQTT and in the screens' index; storm control, reload, leases and takeover.

Events are appended to the streams exactly as ingest-mqtt / ingest-video write them (one field ``d``), so
these
tests exercise the engine alone; tests/test_alerts_e2e.py goes through MQTT and the real ingestor.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid

import orjson
import paho.mqtt.client as mqtt
import pytest
import yaml
from sqlalchemy import func, select

from alerts.archiver import ArchiverWorker
from alerts.engine import AlertEngineWorker
from onescreen import names
from onescreen.db.models import Alert, AlertTransition
from onescreen.db.session import make_engine
from onescreen.events import StreamRecord
from onescreen.settings import load_settings
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.redis_kinds import both_redis


# ------------------------------------------------------------------ helpers shared by the alert tests
def copy_city(small_city, dest) -> str:
    """A private copy of the small city (registry + schema at head) for one test."""
    src = sqlite3.connect(small_city.url[len("sqlite:///") :])
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{dest}"


@pytest.fixture
def make_settings(tmp_path, small_city, redis_target, mqtt_broker, redis_client):
    """Settings factory: own database copy, own MQTT prefix, a rules file with the given sections."""
    url = copy_city(small_city, tmp_path / "city.db")
    prefix = "t" + uuid.uuid4().hex[:8]

    def make(rules: dict | None = None, **alerts):
        path = tmp_path / "rules.yaml"
        path.write_text(yaml.safe_dump(rules or {}), encoding="utf-8")
        return load_settings(
            redis={"url": redis_target.url},
            mqtt={"host": mqtt_broker.host, "port": mqtt_broker.port, "prefix": prefix, "metrics_port": 0},
            database={"url": url},
            log={"format": "text"},
            alerts={
                "rules_file": str(path),
                "lease_s": 3,
                "rules_reload_s": 0.3,
                "escalate_after_s": 3600,
                **alerts,
            },
        )

    return make


class Collector:
    """Subscribes to the alert topics and keeps what arrives (topic, JSON)."""

    def __init__(self, settings):
        self.messages: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"col-{uuid.uuid4().hex[:8]}")
        self.client.on_message = self._on
        self.client.connect(settings.mqtt.host, settings.mqtt.port)
        p = settings.mqtt.prefix
        self.client.subscribe([(f"{p}/alerts/#", 1), (f"{p}/duty/#", 1)])
        self.client.loop_start()
        time.sleep(0.2)

    def _on(self, _c, _u, msg):
        with self.lock:
            self.messages.append((msg.topic, orjson.loads(msg.payload)))

    def of(self, rule: str | None = None, topic_part: str = "/alerts/") -> list[dict]:
        with self.lock:
            return [d for t, d in self.messages if topic_part in t and (rule is None or d["rule"] == rule)]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def place(registry, device: str) -> dict:
    pl = registry.place_of_device(device)
    return {
        "cell_id": pl.cell_id,
        "community_id": pl.community_id,
        "district_id": pl.district_id,
        "lat": pl.lat,
        "lon": pl.lon,
    }


def put(client, settings, doc: dict) -> bytes:
    """Append an enriched event to its partition stream, as the ingestors do; returns the entry id."""
    doc.setdefault("event_id", uuid.uuid4().hex)
    doc.setdefault("rx", doc["ts"])
    stream = names.event_stream(
        doc["family"], names.partition_of(doc["community_id"], settings.redis.partitions)
    )
    return client.xadd(stream, StreamRecord.encode(doc))


def now_ms(offset_s: float = 0) -> int:
    return int((time.time() + offset_s) * 1000)


def count_doc(registry, camera: str, persons: int, ts: int, zone: str = "square") -> dict:
    return {
        "family": names.COUNT,
        "ts": ts,
        "camera_id": camera,
        "zone": zone,
        "persons": persons,
        "source": "edge",
        **place(registry, camera),
    }


def access_doc(registry, door: str, person: str, ts: int, direction="in", result="denied") -> dict:
    return {
        "family": names.ACCESS,
        "ts": ts,
        "door_id": door,
        "person_id": person,
        "direction": direction,
        "result": result,
        "method": "card",
        "resident": None,
        **place(registry, door),
    }


def alerts_in(url: str, rule: str | None = None) -> list[Alert]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            q = select(Alert) if rule is None else select(Alert).where(Alert.rule == rule)
            return list(conn.execute(q).all())
    finally:
        engine.dispose()


def pending(client, settings) -> int:
    total = 0
    for p in range(settings.redis.partitions):
        for f in (*names.FAMILIES, names.WATCH):
            try:
                total += client.xpending(names.event_stream(f, p), names.ALERT_GROUP)["pending"]
            except Exception:  # noqa: BLE001 - no such stream/group yet
                pass
    return total


# ------------------------------------------------------------------ tests
@both_redis
def test_gathering_raises_one_alert_then_turns_red(make_settings, small_city, redis_client):
    s = make_settings({"rules": {"gathering": {"hold_s": 1}}})
    reg, cam = small_city.registry, small_city.camera
    col = Collector(s)
    try:
        with ThreadWorker(AlertEngineWorker(s, "e1")):
            t0 = time.time()
            put(redis_client, s, count_doc(reg, cam, 12, now_ms(-1.5)))
            put(redis_client, s, count_doc(reg, cam, 12, now_ms()))
            assert wait_for(lambda: col.of("gathering"), 5)
            first = col.of("gathering")[0]
            assert time.time() - t0 < 3
            for i in range(5):  # more evidence: the same alert
                put(redis_client, s, count_doc(reg, cam, 14 + i, now_ms()))
            put(redis_client, s, count_doc(reg, cam, 31, now_ms()))
            assert wait_for(lambda: len(col.of("gathering")) >= 2, 5)
    finally:
        col.close()
    assert first["rule"] == "gathering" and first["level"] == "orange" and first["status"] == "open"
    assert first["subject"] == {"kind": "camera_zone", "id": f"{cam}/square"}
    assert set(first) >= {"alert_id", "opened_at", "updated_at", "location", "evidence", "assignee"}
    assert first["alert_id"].startswith("A-") and first["evidence"]["persons"] == 12
    assert first["location"]["community_id"] == reg.place_of_device(cam).community_id
    assert col.of("gathering")[-1]["level"] == "red"
    rows = alerts_in(s.database.url, "gathering")
    assert len(rows) == 1 and rows[0].level == "red"
    assert redis_client.zscore(names.OPEN_ALERTS, first["alert_id"]) is not None
    assert pending(redis_client, s) == 0


def test_bad_rules_file_is_refused_and_running_rules_stay(make_settings, small_city, redis_client):
    s = make_settings({"rules": {"gathering": {"hold_s": 1}}})
    worker = AlertEngineWorker(s, "e-reload")
    worker.setup()
    try:
        assert worker.ctx.rules.rules.gathering.hold_s == 1
        s.alerts.rules_file.write_text("rules:\n  gathering:\n    hold_secs: 5\n", encoding="utf-8")
        assert worker.reload_rules(force=True) is False
        assert "rules.gathering.hold_secs" in worker.rules_error
        assert worker.ctx.rules.rules.gathering.hold_s == 1
        assert b"hold_secs" in redis_client.hget(names.ALERT_RULES_STATUS, "error")
        s.alerts.rules_file.write_text("rules:\n  gathering:\n    hold_s: 7\n", encoding="utf-8")
        assert worker.reload_rules(force=True) is True
        assert worker.ctx.rules.rules.gathering.hold_s == 7 and worker.rules_error is None
    finally:
        worker.teardown()


def test_lingering_door_late_and_unknown_events(make_settings, small_city, redis_client):
    """Out-of-order attempts within the window count; an event for an unknown subject does no harm."""
    s = make_settings()
    reg, door = small_city.registry, small_city.door
    with ThreadWorker(AlertEngineWorker(s, "e2")):
        for off in (-5, -200, -100, -1):  # arrive out of order
            put(redis_client, s, access_doc(reg, door, "p-late", now_ms(off)))
        put(redis_client, s, {**access_doc(reg, door, "p-x", now_ms()), "door_id": "D-NOPE"})
        assert wait_for(lambda: alerts_in(s.database.url, "lingering"), 5)
        assert wait_for(lambda: pending(redis_client, s) == 0, 5)
    (row,) = alerts_in(s.database.url, "lingering")
    assert row.subject_kind == "door_person" and row.subject_id == f"{door}/p-late"


def test_device_offline_suppresses_video_alerts_of_that_camera(make_settings, small_city, redis_client):
    s = make_settings({"rules": {"device_offline": {"camera_silent_s": 1}, "gathering": {"hold_s": 0}}})
    reg, cam = small_city.registry, small_city.camera
    video = {
        "family": names.VIDEO,
        "camera_id": cam,
        "zones": {"square": {"persons": 0, "tracks": []}},
        **place(reg, cam),
    }
    with ThreadWorker(AlertEngineWorker(s, "e3")):
        put(redis_client, s, {**video, "ts": now_ms()})
        assert wait_for(lambda: alerts_in(s.database.url, "device_offline"), 6)
        assert redis_client.sismember(names.OFFLINE_DEVICES, cam)
        # a late, stale analysis result of the dark camera must not open a gathering alert
        put(
            redis_client, s, {**video, "ts": now_ms(-0.5), "zones": {"square": {"persons": 40, "tracks": []}}}
        )
        assert wait_for(lambda: pending(redis_client, s) == 0, 5)
        time.sleep(0.5)
        assert alerts_in(s.database.url, "gathering") == []


@both_redis
def test_takeover_claims_a_dead_engines_pending_entries(make_settings, small_city, redis_client):
    """An engine that read entries and died (never acked) loses them to the next owner: nothing lost."""
    s = make_settings()
    reg, door = small_city.registry, small_city.door
    p = names.partition_of(reg.place_of_device(door).community_id, s.redis.partitions)
    stream = names.event_stream(names.ACCESS, p)
    redis_client.xgroup_create(stream, names.ALERT_GROUP, id="0", mkstream=True)
    for i in range(4):
        put(redis_client, s, access_doc(reg, door, "p-dead", now_ms(-10 + i)))
    got = redis_client.xreadgroup(names.ALERT_GROUP, "dead-engine", {stream: ">"}, count=10)
    assert len(got[0][1]) == 4  # delivered to the dead engine, never acknowledged
    with ThreadWorker(AlertEngineWorker(s, "heir")):
        assert wait_for(lambda: alerts_in(s.database.url, "lingering"), 8)
        assert wait_for(lambda: pending(redis_client, s) == 0, 5)
    assert len(alerts_in(s.database.url, "lingering")) == 1


@both_redis
def test_two_engines_share_partitions(make_settings, small_city, redis_client):
    s = make_settings()
    a, b = AlertEngineWorker(s, "share-a"), AlertEngineWorker(s, "share-b")
    with ThreadWorker(a), ThreadWorker(b):
        assert wait_for(
            lambda: (
                len(a.owned) + len(b.owned) == s.redis.partitions
                and a.owned
                and b.owned
                and not set(a.owned) & set(b.owned)
            ),
            15,
        )


def test_transitions_audit_each_change(make_settings, small_city, redis_client):
    s = make_settings()
    reg, door = small_city.registry, small_city.door
    with ThreadWorker(AlertEngineWorker(s, "e4")):
        for i in range(6):
            put(redis_client, s, access_doc(reg, door, "p-many", now_ms(-10 + i)))
        assert wait_for(lambda: pending(redis_client, s) == 0 and alerts_in(s.database.url, "lingering"), 5)
    engine = make_engine(s.database.url)
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(AlertTransition).order_by(AlertTransition.id))]
        n = conn.execute(select(func.count()).select_from(Alert)).scalar()
    engine.dispose()
    assert n == 1 and actions[0] == "open" and set(actions[1:]) <= {"update"}


def test_video_entries_as_ingest_video_writes_them(make_settings, small_city, redis_client):
    """No event_id and no lat/lon in video entries: every frame is archived, and the alert is on the map."""
    s = make_settings({"rules": {"lingering": {"dwell_s": 2}}})
    reg, cam = small_city.registry, small_city.camera
    pl = reg.place_of_device(cam)
    ids = {"cell_id": pl.cell_id, "community_id": pl.community_id, "district_id": pl.district_id}
    stream = names.event_stream(names.VIDEO, names.partition_of(pl.community_id, s.redis.partitions))
    with ThreadWorker(AlertEngineWorker(s, "video-e")), ThreadWorker(ArchiverWorker(s, "video-a")):
        for i, dwell in enumerate((1.0, 2.0, 3.0)):
            doc = {
                "family": names.VIDEO,
                "camera_id": cam,
                "ts": now_ms(-3 + i),
                **ids,
                "zones": {"square": {"persons": 1, "tracks": [[5, dwell]]}},
            }
            redis_client.xadd(stream, StreamRecord.encode(doc))
        assert wait_for(lambda: pending(redis_client, s) == 0 and alerts_in(s.database.url, "lingering"), 5)
        assert wait_for(lambda: archived_video(s.database.url) == 3, 10)
    (row,) = alerts_in(s.database.url, "lingering")
    assert (row.lat, row.lon) == (pl.lat, pl.lon)


def archived_video(url: str) -> int:
    """Video entries in the archive (the archiver's work: the engine does not archive)."""
    from onescreen.db.models import EventArchive

    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(EventArchive).where(EventArchive.family == "video"))
        count = n.scalar()
    engine.dispose()
    return count
