"""The archiver (``onescreen archiver``) against real Redis and SQLite: kill -9 mid-burst loses and doubles
nothing, two archivers share the partitions, replay reads what they archived."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

from sqlalchemy import func, select

from alerts.archiver import ArchiverWorker
from alerts.replay import archived as replay_archived
from onescreen import names
from onescreen.db.models import EventArchive
from onescreen.db.session import make_engine
from onescreen.events import StreamRecord
from tests import test_alerts_engine as base
from tests.mqtt_helpers import ThreadWorker, ingest_env, wait_for
from tests.redis_kinds import both_redis
from tests.test_alerts_engine import access_doc, now_ms, put

make_settings = base.make_settings  # the shared fixture


def archived_count(url: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(EventArchive)).scalar()
    engine.dispose()
    return n


def archive_pending(client, settings) -> int:
    total = 0
    for p in range(settings.redis.partitions):
        for f in (*names.FAMILIES, names.WATCH):
            try:
                total += client.xpending(names.event_stream(f, p), names.ARCHIVE_GROUP)["pending"]
            except Exception:  # noqa: BLE001 - no such stream/group yet
                pass
    return total


def archive_behind(client, settings) -> int:
    """Entries the archivers have not acknowledged yet (not delivered + pending), over every stream."""
    total = 0
    for p in range(settings.redis.partitions):
        for f in (*names.FAMILIES, names.WATCH):
            stream = names.event_stream(f, p)
            groups = {g["name"].decode(): g for g in client.xinfo_groups(stream)} if client.exists(stream) else {}
            g = groups.get(names.ARCHIVE_GROUP)
            if g is None:
                total += client.xlen(stream) if client.exists(stream) else 0
            else:
                total += (g["lag"] if g["lag"] is not None else client.xlen(stream)) + g["pending"]
    return total


def archiver_process(s, instance: str, log_path) -> subprocess.Popen:
    env = ingest_env(s)
    env.update({"ONESCREEN_ALERTS_LEASE_S": "2", "ONESCREEN_ALERTS_ARCHIVE_BATCH_SIZE": "50"})
    out = open(log_path, "ab")
    return subprocess.Popen([sys.executable, "-m", "onescreen.cli", "--instance", instance, "archiver"],
                            env=env, stdout=out, stderr=subprocess.STDOUT)


def test_kill_9_mid_burst_loses_nothing_and_replay_sees_every_event(make_settings, small_city, redis_client,
                                                                    tmp_path):
    s = make_settings()
    reg, door = small_city.registry, small_city.door
    t0 = now_ms(-600)
    n = 4000
    pipe_docs = [access_doc(reg, door, f"p-{i % 50}", t0 + i) for i in range(n)]
    for doc in pipe_docs[:1000]:
        put(redis_client, s, doc)
    first = archiver_process(s, "arch-a", tmp_path / "a.log")
    try:
        for doc in pipe_docs[1000:]:  # the burst goes on while the first archiver works
            put(redis_client, s, doc)
        assert wait_for(lambda: archived_count(s.database.url) > 200, 30), (tmp_path / "a.log").read_text()
        os.kill(first.pid, signal.SIGKILL)  # mid-burst: a batch may be committed and not acknowledged
        first.wait(10)
        assert archived_count(s.database.url) < n
    finally:
        if first.poll() is None:
            first.kill()
    second = archiver_process(s, "arch-b", tmp_path / "b.log")
    try:  # takes the partitions when arch-a's leases lapse, and arch-a's pending entries with them
        assert wait_for(lambda: archived_count(s.database.url) == n and archive_pending(redis_client, s) == 0,
                        60), (tmp_path / "b.log").read_text()[-3000:]
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    engine = make_engine(s.database.url)
    ids = {d["event_id"] for d in replay_archived(engine, t0, t0 + n)}
    engine.dispose()
    assert ids == {d["event_id"] for d in pipe_docs}  # each once (unique), none lost, replay reads them all


@both_redis
def test_two_archivers_share_partitions_and_report_lag(make_settings, small_city, redis_client):
    s = make_settings(lease_s=2)
    reg, door = small_city.registry, small_city.door
    a, b = ArchiverWorker(s, "share-a"), ArchiverWorker(s, "share-b")
    with ThreadWorker(a), ThreadWorker(b):
        assert wait_for(lambda: a.owned and b.owned and len(a.owned | b.owned) == s.redis.partitions, 20)
        assert not a.owned & b.owned
        docs = [access_doc(reg, door, f"p-{uuid.uuid4().hex[:6]}", now_ms(-60) + i) for i in range(30)]
        for doc in docs:
            put(redis_client, s, doc)
        assert wait_for(lambda: archived_count(s.database.url) == 30 and archive_pending(redis_client, s) == 0,
                        20)
        time.sleep(0.1)
        a._measure_lag()
        assert a.health()["lag"]["lost_to_trim"] == 0 and a.health()["lag"]["max"] == 0
        assert a.health()["archived"] + b.health()["archived"] == 30
    idle = ArchiverWorker(s, "idle")  # no archiver running: what arrives now is lag, in health
    idle.setup()
    try:
        idle.owned = set(range(s.redis.partitions))
        for doc in docs[:5]:
            put(redis_client, s, {**doc, "event_id": uuid.uuid4().hex})
        idle._measure_lag()
        assert idle.health()["lag"]["total"] == 5 and idle.health()["lag"]["lost_to_trim"] == 0
        stream = names.event_stream(names.ACCESS, names.partition_of(docs[0]["community_id"], s.redis.partitions))
        redis_client.xtrim(stream, maxlen=2, approximate=False)  # trimmed before an archiver read them
        idle._measure_lag()
        assert idle.health()["lag"]["lost_to_trim"] == 1
    finally:
        idle.owned = set()
        idle.teardown()


def test_an_entry_that_is_no_record_is_skipped_not_blocking(make_settings, small_city, redis_client):
    s = make_settings()
    reg, door = small_city.registry, small_city.door
    doc = access_doc(reg, door, "p-ok", now_ms(-30))
    stream = names.event_stream(names.ACCESS, names.partition_of(doc["community_id"], s.redis.partitions))
    redis_client.xadd(stream, {"junk": b"\xff"})  # not a record
    redis_client.xadd(stream, {StreamRecord.FIELD: b'{"family": "access"}'})  # a record without ts
    put(redis_client, s, doc)
    worker = ArchiverWorker(s, "skip")
    with ThreadWorker(worker):
        assert wait_for(lambda: archived_count(s.database.url) == 1 and archive_behind(redis_client, s) == 0, 10)
    assert worker.counts["skipped"] == 2 and worker.counts["errors"] == 0
