"""OneScreen on Redis Cluster: the URL, the client adapter, and a real failover under load.

The failover test kills -9 the master that holds a door's stream in the middle of an MQTT burst, with the
ingestor waiting for one replica (``redis.ack_replicas = 1``) before it acknowledges a batch to the broker and
the alert engine running: the replica takes over, both processes recover by themselves, every accepted event is
stored exactly once and every alert condition gives exactly one alert. (The single-Redis outage tests live in
test_mqtt_ingest.py and test_wall_live.py.)
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
import redis

from alerts.engine import AlertEngineWorker
from ingest.mqtt.worker import MqttIngestWorker
from onescreen import names
from onescreen.redisconn import cluster_nodes, connect, is_cluster_url
from onescreen.settings import ConfigError, RedisSettings, load_settings
from tests import test_alerts_engine as base
from tests.mqtt_helpers import Publisher, ThreadWorker, access_event, stream_docs, wait_for

pytestmark = pytest.mark.services
make_settings = base.make_settings  # the shared fixture


@pytest.mark.parametrize(("url", "nodes"), [
    ("redis+cluster://10.0.0.1:7000,10.0.0.2:7001", [("10.0.0.1", 7000), ("10.0.0.2", 7001)]),
    ("redis+cluster://r1:6379", [("r1", 6379)]),
    ("rediss+cluster://r1:6380,r2:6380/0", [("r1", 6380), ("r2", 6380)]),
    ("redis+cluster://[::1]:7000", [("::1", 7000)]),
])
def test_cluster_urls_name_the_startup_nodes(url, nodes):
    assert is_cluster_url(url) and cluster_nodes(url) == nodes
    assert load_settings(redis={"url": url}).redis.url == url


@pytest.mark.parametrize("url", ["redis+cluster://", "redis+cluster://host", "redis+cluster://h:0",
                                 "redis+cluster://h:x", "cluster://h:1", "http://h:1"])
def test_bad_redis_urls_are_refused_at_load(url):
    with pytest.raises(ConfigError, match="redis.url"):
        load_settings(redis={"url": url})


@pytest.mark.parametrize("redis_target", ["single", "cluster"], indirect=True)
def test_one_client_api_on_both(redis_target, redis_client):
    """What a cluster pipeline refuses in redis-py (scripts, PUBLISH, WAIT per node, XREADGROUP over several slots)
    works the same through onescreen.redisconn on both kinds."""
    r = connect(RedisSettings(url=redis_target.url))
    streams = [names.event_stream(names.ACCESS, p) for p in range(4)]
    for s in streams:
        r.xgroup_create(s, "g", id="0", mkstream=True)
        r.xadd(s, {"d": s})
    script = r.register_script("return redis.call('XLEN', KEYS[1])")
    sha = r.script_load("return redis.call('INCR', KEYS[1])")
    pipe = r.pipeline(transaction=False)
    for p in range(4):
        pipe.evalsha(sha, 1, names.rule_state(p, "x"))
        script(keys=[streams[p]], client=pipe)
    pipe.publish(names.CHANGES, "x")
    pipe.replicated(1, 1000)
    out = pipe.execute()
    assert out == [1, 1] * 4 + [0]
    assert pipe.replica_acks == (1 if redis_target.kind == "cluster" else 0)
    got = r.xreadgroup("g", "c", {s: ">" for s in streams}, count=10, block=100)
    assert sorted(s.decode() for s, _entries in got) == sorted(streams)
    t0 = time.monotonic()
    assert r.xreadgroup("g", "c", {s: ">" for s in streams}, count=10, block=300) == []
    assert 0.25 < time.monotonic() - t0 < 2
    tx = r.pipeline(transaction=True)  # MULTI over one partition's keys: one slot
    tx.xadd(names.dead_letters(1), {"a": 1})
    tx.xack(streams[1], "g", "0-1")
    assert len(tx.execute()) == 2
    r.close()


PERSONS = 12        # each makes 5 denied entries at the door: one lingering alert each
EVENTS = 6000


@pytest.mark.parametrize("redis_target", ["cluster"], indirect=True)
def test_master_killed_mid_burst_loses_no_accepted_event_and_doubles_no_alert(
        redis_target, make_settings, small_city, redis_client):
    cluster = redis_target.server
    s = make_settings()
    s = s.model_copy(update={"redis": s.redis.model_copy(update={"ack_replicas": 1})})
    door, prefix = small_city.door, s.mqtt.prefix
    stream = names.event_stream(names.ACCESS, names.partition_of(
        small_city.registry.place_of_device(door).community_id, s.redis.partitions))
    t = int(time.time() * 1000)
    messages = [(f"{prefix}/access/{door}", access_event(door, t, event_id=f"fo-{i}")) for i in range(EVENTS)]
    for k in range(PERSONS * 5):   # interleaved through the burst, so some land on each side of the kill
        messages[k * (EVENTS // (PERSONS * 5))] = (f"{prefix}/access/{door}", access_event(
            door, t - 60_000 + k, event_id=f"fo-linger-{k}", person_id=f"p-fo{k % PERSONS:02d}", result="denied"))
    pub = Publisher(s.mqtt.host, s.mqtt.port)
    dead = None
    try:
        with ThreadWorker(MqttIngestWorker(s, "fo-ing")) as ingest, ThreadWorker(AlertEngineWorker(s, "fo-eng")) as eng:
            assert wait_for(lambda: ingest.subscribed and len(eng.owned) == s.redis.partitions, 15)
            pub.publish_many(messages[: EVENTS // 2], rate=3000)
            wait_for(lambda: redis_client.xlen(stream) > 1000, 10)
            at_kill = redis_client.xlen(stream)
            dead = cluster.kill_master_of(stream)
            killed = time.monotonic()
            pub.publish_many(messages[EVENTS // 2:], rate=3000)
            pub.flush()
            cluster.wait_healthy(timeout=30, replicas=False)
            failover_s = time.monotonic() - killed
            assert wait_for(lambda: _xlen(redis_client, stream) == EVENTS, 60), _xlen(redis_client, stream)
            assert wait_for(lambda: len(base.alerts_in(s.database.url, "lingering")) >= PERSONS, 30)
            assert wait_for(lambda: base.pending(redis_client, s) == 0, 30)
            time.sleep(1.0)   # a doubled alert would show up now
            print(f"\nfailover: slots served again {failover_s:.1f} s after kill -9; "
                  f"{ingest.store.unreplicated} batches acked without a replica")
    finally:
        pub.close()
        if dead is not None:
            dead.start()              # comes back as a replica of its successor
            cluster.wait_healthy(timeout=60)
    assert 0 < at_kill < EVENTS, "the kill did not land mid-burst"
    ids = Counter(d["event_id"] for d in stream_docs(redis_client, names.ACCESS, s.redis.partitions))
    assert len(ids) == EVENTS, f"{EVENTS - len(ids)} accepted events lost"
    assert max(ids.values()) == 1
    subjects = Counter(a.subject_id for a in base.alerts_in(s.database.url, "lingering"))
    assert len(subjects) == PERSONS and max(subjects.values()) == 1, subjects


def _xlen(client, stream: str) -> int:
    try:
        return client.xlen(stream)
    except redis.RedisError:
        return -1
