"""ingest-mqtt end to end on a real Mosquitto and a real Redis: families, rejections, duplicates, and no loss
through a Redis outage, a kill -9 of the ingestor, and two ingestors sharing the subscription."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest
import redis

from ingest.mqtt.worker import MqttIngestWorker
from onescreen import names
from onescreen.services import RedisServer
from onescreen.settings import load_settings
from tests.mqtt_helpers import Publisher, ThreadWorker, access_event, ingest_process, stream_docs, wait_for
from tests.redis_kinds import both_redis

PARTITIONS = 8


def make_settings(redis_url: str, broker, city_url: str, **mqtt):
    group = "g" + uuid.uuid4().hex[:8]  # a fresh shared group per test: no session left by another test
    return load_settings(
        redis={"url": redis_url, "partitions": PARTITIONS},
        mqtt={"host": broker.host, "port": broker.port, "shared_group": group, "client_id": group,
              "metrics_port": 0, "session_expiry_s": 300, **mqtt},
        database={"url": city_url}, log={"format": "text"},
    )


@pytest.fixture
def s(redis_target, redis_client, mqtt_broker, small_city):
    return make_settings(redis_target.url, mqtt_broker, small_city.url)


@pytest.fixture
def publisher(mqtt_broker):
    pub = Publisher(mqtt_broker.host, mqtt_broker.port)
    yield pub
    pub.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def test_each_family_end_to_end(s, publisher, redis_client, small_city):
    c = small_city
    with ThreadWorker(MqttIngestWorker(s, "t-fam")) as worker:
        wait_for(lambda: worker.subscribed)
        publisher.publish(f"city/access/{c.door}", access_event(c.door, now_ms(), event_id="acc-1"))
        publisher.publish(f"city/patrol/{c.unit}/position", {"ts": now_ms(), "lat": 26.64, "lon": 118.17,
                                                             "status": "on_post"})
        publisher.publish(f"city/video/{c.camera}/count", {"ts": now_ms(), "persons": 14, "zone": "gate"})
        publisher.publish(f"city/device/{c.door}/status", {"ts": now_ms(), "online": True})
        publisher.flush()
        assert wait_for(lambda: worker.counts["stored"] == 4), worker.counts
    docs = {f: stream_docs(redis_client, f, PARTITIONS) for f in (names.ACCESS, names.PATROL, names.COUNT,
                                                                   names.STATUS)}
    assert [d["event_id"] for d in docs[names.ACCESS]] == ["acc-1"]
    place = c.registry.place_of_device(c.door)
    assert docs[names.ACCESS][0]["community_id"] == place.community_id
    assert docs[names.PATROL][0]["unit_id"] == c.unit and docs[names.COUNT][0]["persons"] == 14
    assert docs[names.STATUS][0]["online"] is True
    # hot state for the screens and the rules
    assert orjson.loads(redis_client.hget(names.PATROL_LATEST, c.unit))["status"] == "on_post"
    assert orjson.loads(redis_client.hget(names.EDGE_COUNT_LATEST, f"{c.camera}/gate"))["persons"] == 14
    assert redis_client.zscore(names.DEVICE_LAST_SEEN, c.door) is not None
    # the partition is the community's, so one engine consumer sees a community's events in one place
    part = names.partition_of(place.community_id, PARTITIONS)
    assert redis_client.xlen(names.event_stream(names.ACCESS, part)) == 1


def test_every_rejection_reason_lands_in_the_rejected_store(s, publisher, redis_client, small_city):
    c, t = small_city, now_ms()
    bad = {
        "invalid_json": (f"city/access/{c.door}", b"{oops"),
        "missing_field": (f"city/access/{c.door}", {"event_id": "x", "ts": t}),
        "bad_value": (f"city/video/{c.camera}/count", {"ts": t, "persons": -1}),
        "unknown_device": ("city/access/D-NOPE", access_event("D-NOPE", t)),
        # every filter we subscribe matches only CONTRACT shapes; an empty id level is what still gets through
        "unknown_topic": ("city/access/", access_event(c.door, t)),
        "too_large": (f"city/access/{c.door}", b"{" + b" " * 70_000 + b"}"),
        "clock_skew": (f"city/access/{c.door}", access_event(c.door, t + 3_600_000)),
        "topic_mismatch": (f"city/access/{c.door}", access_event(c.door, t, door_id=c.other_door)),
    }
    with ThreadWorker(MqttIngestWorker(s, "t-rej")) as worker:
        wait_for(lambda: worker.subscribed)
        for topic, payload in bad.values():
            publisher.publish(topic, payload)
        publisher.flush()
        assert wait_for(lambda: worker.counts["rejected"] == len(bad)), worker.counts
    entries = redis_client.xrange(names.REJECTED)
    reasons = Counter(e[b"reason"].decode().split(":")[0] for _id, e in entries)
    assert set(reasons) == set(bad), reasons
    counts = {k.decode(): int(v) for k, v in redis_client.hgetall(names.REJECTED_COUNTS).items()}
    assert counts == {r: 1 for r in bad}
    raw = next(e for _id, e in entries if e[b"reason"] == b"invalid_json")
    assert raw[b"payload"] == b"{oops" and raw[b"topic"] == f"city/access/{c.door}".encode() and int(raw[b"rx"]) > 0
    large = next(e for _id, e in entries if e[b"reason"] == b"too_large")
    assert len(large[b"payload"]) == 65536  # cut at 64 KiB


@both_redis
def test_duplicates_are_stored_once_and_counted(s, publisher, redis_client, small_city):
    c = small_city
    ev = access_event(c.door, now_ms())
    with ThreadWorker(MqttIngestWorker(s, "t-dup")) as worker:
        wait_for(lambda: worker.subscribed)
        for _ in range(3):
            publisher.publish(f"city/access/{c.door}", ev)
        publisher.flush()
        assert wait_for(lambda: worker.counts["received"] == 3)
        assert worker.counts["stored"] == 1 and worker.counts["duplicates"] == 2
    (doc,) = stream_docs(redis_client, names.ACCESS, PARTITIONS)
    # the hourly aggregate the screens read counts the event once too, in the city's local hour
    hour = datetime.fromtimestamp(doc["ts"] / 1000, ZoneInfo("Asia/Shanghai")).strftime("%Y%m%d%H")
    part = names.partition_of(doc["community_id"], PARTITIONS)
    assert redis_client.hgetall(names.hourly_counts(part, hour)) == {f"{doc['district_id']}|access".encode(): b"1"}
    assert 0 < redis_client.ttl(names.hourly_counts(part, hour)) <= 9 * 86400
    # … and in its community's hash, by cell (the wall's figures below a district)
    by_cell = names.community_hourly_counts(part, doc["community_id"], hour)
    assert redis_client.hgetall(by_cell) == {f"{doc['cell_id']}|access".encode(): b"1"}
    assert 0 < redis_client.ttl(by_cell) <= 9 * 86400


def burst(c, n: int) -> list[tuple[str, dict]]:
    t = now_ms()
    doors = [c.door, c.other_door]
    return [(f"city/access/{doors[i % 2]}", access_event(doors[i % 2], t, event_id=f"b-{i}")) for i in range(n)]


def assert_exactly_once(client: redis.Redis, n: int) -> None:
    ids = [d["event_id"] for d in stream_docs(client, names.ACCESS, PARTITIONS)]
    counts = Counter(ids)
    assert len(counts) == n, f"{n - len(counts)} of {n} missing"
    assert max(counts.values()) == 1, f"doubled: {[k for k, v in counts.items() if v > 1][:5]}"


def test_redis_down_for_10_s_mid_burst_loses_and_doubles_nothing(mqtt_broker, small_city, tmp_path, publisher):
    with RedisServer(workdir=tmp_path / "redis", appendonly=True) as own_redis:
        s = make_settings(own_redis.url, mqtt_broker, small_city.url)
        client = redis.Redis.from_url(own_redis.url)
        n = 6000
        with ThreadWorker(MqttIngestWorker(s, "t-outage")) as worker:
            wait_for(lambda: worker.subscribed)
            messages = burst(small_city, n)
            publisher.publish_many(messages[: n // 3], rate=3000)
            own_redis.stop()  # mid-burst
            publisher.publish_many(messages[n // 3:], rate=3000)
            publisher.flush()
            time.sleep(10)
            assert not worker.redis_ok
            own_redis.start()
            assert wait_for(lambda: _stored(client) == n, timeout=60), (worker.counts, _stored(client))
        assert_exactly_once(client, n)
        client.close()


def _stored(client: redis.Redis) -> int:
    try:
        return sum(client.xlen(names.event_stream(names.ACCESS, p)) for p in range(PARTITIONS))
    except redis.RedisError:
        return -1


@both_redis
def test_kill_9_mid_burst_then_restart_loses_nothing(s, publisher, redis_client, small_city, tmp_path):
    n = 8000
    proc = ingest_process(s, "kill9", tmp_path / "ingest.log")
    try:
        assert wait_for(lambda: redis_client.exists(names.process_health("ingest-mqtt", "kill9")), 30)
        messages = burst(small_city, n)
        publisher.publish_many(messages[: n // 2])
        wait_for(lambda: _stored(redis_client) > 500, 20)
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the burst
        proc.wait()
        killed_at = _stored(redis_client)
        publisher.publish_many(messages[n // 2:])
        publisher.flush()
        proc = ingest_process(s, "kill9", tmp_path / "ingest.log")  # same instance: same MQTT session
        assert wait_for(lambda: _stored(redis_client) == n, 60), (killed_at, _stored(redis_client))
    finally:
        proc.terminate()
        proc.wait(20)
    assert 0 < killed_at < n, "the kill did not land mid-burst"
    assert_exactly_once(redis_client, n)


@both_redis
def test_two_ingestors_split_the_load_with_nothing_doubled(s, publisher, redis_client, small_city):
    n = 4000
    with ThreadWorker(MqttIngestWorker(s, "t-a")) as a, ThreadWorker(MqttIngestWorker(s, "t-b")) as b:
        wait_for(lambda: a.subscribed and b.subscribed)
        time.sleep(0.5)  # both subscriptions in place before the first message
        publisher.publish_many(burst(small_city, n))
        publisher.flush()
        assert wait_for(lambda: _stored(redis_client) == n, 30)
        # a batch is counted just after its write: the last one may be in Redis before its count
        wait_for(lambda: a.counts["received"] + b.counts["received"] >= n, 5)
        time.sleep(0.2)  # and a stray duplicate delivery would be counted by now too
        share_a, share_b = a.counts["received"], b.counts["received"]
    assert share_a + share_b == n
    assert min(share_a, share_b) > n * 0.2, (share_a, share_b)
    assert_exactly_once(redis_client, n)


def test_a_departed_instance_is_drained_and_retired(s, publisher, redis_client, small_city):
    """Mosquitto deals a shared group's messages to offline persistent members too; --drain takes them back."""
    with ThreadWorker(MqttIngestWorker(s, "t-old")) as old:
        wait_for(lambda: old.subscribed)
    with ThreadWorker(MqttIngestWorker(s, "t-new")) as new:
        wait_for(lambda: new.subscribed)
        publisher.publish_many(burst(small_city, 400))
        publisher.flush()
        wait_for(lambda: new.counts["received"] > 0 and _stored(redis_client) == new.counts["stored"], 10)
        time.sleep(1)
        parked = 400 - _stored(redis_client)
        assert parked > 0, "the broker did not park messages for the offline member (behaviour changed?)"
        drain = MqttIngestWorker(s, "t-old", drain=True)
        drain.run()  # returns once the session's queue is empty and the session is ended
        assert drain.counts["stored"] == parked
        assert_exactly_once(redis_client, 400)
        # the old session is gone: everything published now goes to the live member
        before = new.counts["received"]
        t = now_ms()
        publisher.publish_many((f"city/access/{small_city.door}", access_event(small_city.door, t, event_id=f"x-{i}"))
                               for i in range(100))
        publisher.flush()
        assert wait_for(lambda: new.counts["received"] - before == 100, 15)


def test_undecodable_payloads_are_kept_raw_and_shown_to_the_admin(s, publisher, redis_client, small_city):
    """Bytes that are not UTF-8 (or a payload cut inside a character) are stored as they came and still render."""
    from dashboard.app import create_app
    from dashboard.context import app_context
    from dashboard.pages import admin

    c = small_city
    broken = b"\xff\xfe{"
    large = ("{" + "门" * 30_000 + "}").encode()          # 90 kB: cut at 64 KiB in the middle of a character
    with ThreadWorker(MqttIngestWorker(s, "t-bytes")) as worker:
        wait_for(lambda: worker.subscribed)
        publisher.publish(f"city/access/{c.door}", broken)
        publisher.publish(f"city/access/{c.door}", large)
        publisher.flush()
        assert wait_for(lambda: worker.counts["rejected"] == 2), worker.counts
    stored = {e[b"reason"]: e[b"payload"] for _id, e in redis_client.xrange(names.REJECTED)}
    assert stored[b"invalid_json"] == broken and stored[b"too_large"] == large[:65536]
    app = create_app(s)
    with app.server.app_context():
        _counts, table = admin._rejected(app_context(app.server))
    shown = [str(td.children) for tr in table.children[1:] for td in tr.children]
    assert any("\\xff\\xfe{" in cell for cell in shown), shown
    assert any(cell.startswith("{门门") for cell in shown), shown
