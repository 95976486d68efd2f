"""Dead letters of the alert engine: a poison entry leaves its partition, everything else is processed once.

The engine runs in a thread on the fixture Redis and Mosquitto, as in tests/test_alerts_engine.py. The poison
comes from a test-only rule put in the rules registry (``alerts.rules.register``) that raises on one person's
events on every attempt, as a rule with a bug would; malformed entries come from a hand-written stream entry.
The database outage is the session's real PostgreSQL stopped and started again.
"""

from __future__ import annotations

import logging
import uuid

import orjson
import psycopg
import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select

from alerts import deadletter, rules
from alerts.archiver import ArchiverWorker
from alerts.engine import AlertEngineWorker
from dashboard.app import create_app
from dashboard.context import app_context
from dashboard.pages import admin
from onescreen import names
from onescreen.db.models import AlertTransition, EventArchive
from onescreen.db.session import make_engine, upgrade
from onescreen.events import StreamRecord
from onescreen.registry.importer import import_bundle
from tests import test_alerts_engine as base
from tests.mqtt_helpers import ThreadWorker, wait_for
from tests.test_alerts_engine import access_doc, alerts_in, now_ms, pending, put

make_settings = base.make_settings  # the shared fixture

POISON = "p-poison"


class Indigestion:
    """Test-only rule: raises on every event of one person, with a credential in its message."""

    name = "test_indigestion"
    families = (names.ACCESS,)

    def on_event(self, state, event, ctx):
        if event.get("person_id") == POISON:
            raise ValueError(f"cannot digest {event['event_id']} from rtsp://admin:hunter2@10.0.0.9/cam")
        return []

    def on_timer(self, state, key, now, ctx):
        return []


@pytest.fixture
def indigestion():
    rule = rules.register(Indigestion())
    yield rule
    rules.unregister(rule.name)


def partition_of_door(registry, door: str, settings) -> int:
    return names.partition_of(registry.place_of_device(door).community_id, settings.redis.partitions)


def dead_letters(client, partition: int) -> dict[str, dict[str, str]]:
    """Dead-letter entries of a partition by source entry id."""
    out = {}
    for _id, fields in client.xrange(names.dead_letters(partition)):
        rec = {k.decode(): v.decode() for k, v in fields.items()}
        out[rec["id"]] = rec
    return out


def transitions(url: str) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(AlertTransition))]
    engine.dispose()
    return actions


def archived(url: str, family: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(EventArchive).where(EventArchive.family == family))
        count = n.scalar()
    engine.dispose()
    return count


# ------------------------------------------------------------------ the engine
def test_poison_event_is_dead_lettered_and_its_partition_moves_on(
    make_settings, small_city, redis_client, indigestion, caplog
):
    s = make_settings(max_attempts=3)
    reg, door = small_city.registry, small_city.door
    p = partition_of_door(reg, door, s)
    stream = names.event_stream(names.ACCESS, p)
    t = now_ms(-30)
    poison_id = None
    for i in range(4):  # one batch: three lingering persons, and the poison in the middle of it
        for k, person in enumerate(("p-a1", "p-a2", "p-a3")):
            put(redis_client, s, access_doc(reg, door, person, t + i * 1000 + k))
        if i == 1:
            poison_id = put(redis_client, s, access_doc(reg, door, POISON, t + i * 1000 + 5))
    raw = StreamRecord.raw(redis_client.xrange(stream, poison_id, poison_id)[0][1])
    worker = AlertEngineWorker(s, "dl")
    with caplog.at_level(logging.INFO), ThreadWorker(worker), ThreadWorker(ArchiverWorker(s, "dl-archive")):
        assert wait_for(lambda: redis_client.xlen(names.dead_letters(p)) == 1 and pending(redis_client, s) == 0, 20)
        assert wait_for(lambda: len(alerts_in(s.database.url, "lingering")) == 3, 5)
        for i in range(4):  # later events of the same partition keep flowing
            put(redis_client, s, access_doc(reg, door, "p-after", now_ms(-5 + i)))
        assert wait_for(lambda: len(alerts_in(s.database.url, "lingering")) == 4 and pending(redis_client, s) == 0,
                        10)
        health = worker.health()

    rows = alerts_in(s.database.url, "lingering")
    assert sorted(r.subject_id for r in rows) == [f"{door}/{x}" for x in ("p-a1", "p-a2", "p-a3", "p-after")]
    assert transitions(s.database.url) == ["open"] * 4  # a batch processed twice would have added updates
    # the archiver archives every record once, the poison too: it arrived (replay counts a rule failing on it)
    assert wait_for(lambda: archived(s.database.url, names.ACCESS) == 17, 10)
    assert redis_client.xlen(names.dead_letters(p)) == 1

    rec = dead_letters(redis_client, p)[poison_id.decode()]
    assert rec["stream"] == stream and rec[StreamRecord.FIELD].encode() == raw
    assert rec["error"] == "ValueError" and rec["attempts"] == "3" and rec["instance"] == "dl"
    assert "cannot digest" in rec["message"] and "hunter2" not in rec["message"]
    assert rec["where"].startswith("tests/test_alerts_deadletter.py:") and rec["where"].endswith(" on_event")
    assert abs(int(rec["at"]) - now_ms()) < 60_000

    assert health["dead_lettered"] == 1
    assert redis_client.hgetall(names.ALERT_DEAD_LETTER_COUNTS) == {b"ValueError": b"1"}
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("alerts")]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert poison_id.decode() in line and "ValueError" in line and names.dead_letters(p) in line
    assert "hunter2" not in line and POISON not in line and errors[0].exc_info is None  # one line, no payload
    tries = [r.getMessage() for r in caplog.records if "failed alone" in r.getMessage()]
    assert len(tries) == 2 and "attempt 1 of 3" in tries[0] and "attempt 2 of 3" in tries[1]


def test_undecodable_and_malformed_entries_are_dead_lettered(make_settings, small_city, redis_client):
    """Not JSON or no payload field: moved at once (no retry changes bytes); a missing field: after attempts."""
    s = make_settings(max_attempts=2)
    reg, door = small_city.registry, small_city.door
    p = partition_of_door(reg, door, s)
    stream = names.event_stream(names.ACCESS, p)
    not_json = redis_client.xadd(stream, {StreamRecord.FIELD: b'{"family": "access", \xff'})
    no_payload = redis_client.xadd(stream, {"x": b"1"})
    doc = access_doc(reg, door, "p-gone", now_ms(-8))
    del doc["person_id"]
    no_person = put(redis_client, s, doc)
    for i in range(4):
        put(redis_client, s, access_doc(reg, door, "p-good", now_ms(-6 + i)))
    with ThreadWorker(AlertEngineWorker(s, "dl-bad")):
        assert wait_for(lambda: redis_client.xlen(names.dead_letters(p)) == 3 and pending(redis_client, s) == 0, 20)
        assert wait_for(lambda: alerts_in(s.database.url, "lingering"), 5)
    recs = dead_letters(redis_client, p)
    assert recs[not_json.decode()]["error"] == "JSONDecodeError" and recs[not_json.decode()]["attempts"] == "1"
    assert recs[not_json.decode()][StreamRecord.FIELD] == '{"family": "access", \\xff'  # kept, readable as UTF-8
    assert recs[no_payload.decode()]["error"] == "KeyError" and recs[no_payload.decode()]["x"] == "1"
    missing = recs[no_person.decode()]
    assert (missing["error"], missing["message"], missing["attempts"]) == ("KeyError", "'person_id'", "2")
    assert missing["where"].startswith("rules/lingering.py:")
    assert [r.subject_id for r in alerts_in(s.database.url, "lingering")] == [f"{door}/p-good"]
    assert transitions(s.database.url) == ["open"]


class TimeBomb:
    """Test-only rule: arms a timer for each person's first event; the poison person's timer raises."""

    name = "test_time_bomb"
    families = (names.ACCESS,)

    def on_event(self, state, event, ctx):
        key = f"person:{event['person_id']}"
        if state.get(key) is None:
            state.put(key, {"seen": event["ts"]})
            state.arm(key, event["ts"] / 1000)  # due at once
        return []

    def on_timer(self, state, key, now, ctx):
        if key == f"person:{POISON}":
            raise ZeroDivisionError("timer of a rule with a bug")
        state.drop(key)
        return []


def test_a_timer_that_raises_is_dead_lettered_once_and_the_partition_moves_on(
    make_settings, small_city, redis_client, caplog
):
    s = make_settings(max_attempts=3)
    reg, door = small_city.registry, small_city.door
    p = partition_of_door(reg, door, s)
    rule = rules.register(TimeBomb())
    try:
        put(redis_client, s, access_doc(reg, door, POISON, now_ms(-10)))
        worker = AlertEngineWorker(s, "dl-timer")
        with caplog.at_level(logging.INFO), ThreadWorker(worker):
            assert wait_for(lambda: redis_client.xlen(names.dead_letters(p)) == 1, 20)
            for i in range(4):  # the partition keeps flowing: a lingering alert, and the others' timers
                put(redis_client, s, access_doc(reg, door, "p-after", now_ms(-5 + i)))
            assert wait_for(lambda: alerts_in(s.database.url, "lingering") and pending(redis_client, s) == 0, 10)
            def bombs():
                return [m for m in redis_client.zrange(names.rule_timers(p), 0, -1) if m.startswith(b"test_time_bomb|")]
            assert wait_for(lambda: bombs() == [], 10)  # p-after's timer fired too, the poison's is gone
            health = worker.health()
    finally:
        rules.unregister(rule.name)
    assert redis_client.xlen(names.dead_letters(p)) == 1  # not again at every step
    (rec,) = dead_letters(redis_client, p).values()
    assert rec["stream"] == names.rule_timers(p) and rec["id"] == f"test_time_bomb|person:{POISON}"
    assert rec["error"] == "ZeroDivisionError" and rec["where"].endswith(" on_timer")
    assert orjson.loads(rec[StreamRecord.FIELD])["seen"] > 0  # the subject's state as it was
    assert health["dead_lettered"] == 1 and health.get("errors", 0) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("alerts")]
    assert len(errors) == 1 and "test_time_bomb" in errors[0] and POISON not in errors[0]


@pytest.fixture
def pg_city(postgres_cluster, small_city):
    """The small city in a database of its own on the session's PostgreSQL."""
    name = "dl_" + uuid.uuid4().hex[:8]
    with psycopg.connect(host="127.0.0.1", port=postgres_cluster.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_cluster.url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    engine = make_engine(url)
    import_bundle(engine, small_city.folder)
    engine.dispose()
    return url


@pytest.mark.postgres
def test_database_briefly_down_dead_letters_nothing(make_settings, small_city, redis_client, postgres_cluster,
                                                    pg_city):
    """PostgreSQL stopped under a batch: retried until it is back, with max_attempts 1 nothing may leave."""
    s = make_settings(max_attempts=1)
    s = s.model_copy(update={"database": s.database.model_copy(update={"url": pg_city})})
    reg, door = small_city.registry, small_city.door
    worker = AlertEngineWorker(s, "dl-db")
    try:
        with ThreadWorker(worker):
            assert wait_for(lambda: worker.owned, 10)
            postgres_cluster.stop()
            for i in range(4):
                put(redis_client, s, access_doc(reg, door, "p-outage", now_ms(-5 + i)))
            errors = worker.counts["errors"]  # the batches read meanwhile fail again and again, entries pending
            assert wait_for(lambda: worker.counts["errors"] >= errors + 3 and pending(redis_client, s) >= 1, 20)
            postgres_cluster.start()
            assert wait_for(lambda: alerts_in(pg_city, "lingering") and pending(redis_client, s) == 0, 20)
    finally:
        postgres_cluster.start()  # no-op when it runs: the session's cluster is left as found
    assert [r.subject_id for r in alerts_in(pg_city, "lingering")] == [f"{door}/p-outage"]
    assert worker.health()["dead_lettered"] == 0
    assert not any(redis_client.xlen(names.dead_letters(q)) for q in range(s.redis.partitions))
    assert redis_client.hgetall(names.ALERT_DEAD_LETTER_COUNTS) == {}


# ------------------------------------------------------------------ the pure parts
@given(n=st.integers(0, 60), data=st.data())
def test_bisect_runs_every_good_entry_once_in_order_and_isolates_the_bad(n, data):
    bad = data.draw(st.sets(st.integers(0, max(n - 1, 0)), max_size=n))
    done: list[int] = []
    alone: list[int] = []

    def run(batch):
        if bad & set(batch):
            raise ValueError("bad entry in batch")
        done.extend(batch)

    deadletter.bisect(list(range(n)), run, lambda e, _exc: alone.append(e))
    assert done == [i for i in range(n) if i not in bad]
    assert alone == sorted(bad)


def test_bisect_lets_an_outage_through_and_counts_nothing():
    alone = []

    def run(_batch):
        raise sa_exc.OperationalError("SELECT 1", {}, OSError("connection refused"))

    with pytest.raises(sa_exc.OperationalError):
        deadletter.bisect([1, 2, 3], run, lambda e, _exc: alone.append(e))
    assert alone == []


@pytest.mark.parametrize("exc, outage", [
    (redis.ConnectionError("gone"), True),
    (ConnectionRefusedError(), True),
    (sa_exc.OperationalError("x", {}, Exception("server closed the connection")), True),
    (sa_exc.InterfaceError("x", {}, Exception("connection already closed")), True),
    (sa_exc.TimeoutError("QueuePool limit reached"), True),
    (sa_exc.DBAPIError("x", {}, Exception("lost"), connection_invalidated=True), True),
    (sa_exc.IntegrityError("x", {}, Exception("duplicate key")), False),
    (sa_exc.DataError("x", {}, Exception("value too long")), False),
    (KeyError("person_id"), False),
    (ValueError("bad"), False),
])
def test_what_counts_as_an_outage(exc, outage):
    assert deadletter.is_outage(exc) is outage


# ------------------------------------------------------------------ what an operator sees
def test_dead_letters_on_metrics_and_admin_page(settings, redis_client):
    stream = names.event_stream(names.ACCESS, 2)
    doc = {"family": "access", "event_id": "e-1", "person_id": "p-7f3a9c"}
    entry_id = redis_client.xadd(stream, StreamRecord.encode(doc))
    try:
        raise KeyError("door_id")
    except KeyError as exc:
        deadletter.DeadLetters(redis_client, 3, "eng-1").move((2, stream, entry_id, doc), exc, 3)
    app = create_app(settings)
    text = app.server.test_client().get("/metrics").get_data(as_text=True)
    assert 'onescreen_alerts_dead_lettered_total{error="KeyError"} 1.0' in text
    # no archiver ran: the entry is archive lag (a stopped archiver shows on /metrics), nothing trimmed unread
    assert 'onescreen_archive_lag_entries{scope="total"} 1.0' in text
    assert "onescreen_archive_trimmed_unread_streams 0.0" in text
    with app.server.app_context():
        counts, table = admin._dead_letters(app_context(app.server))
    assert counts.children == "KeyError: 1"
    cells = [[td.children for td in tr.children] for tr in table.children[1:]]
    assert len(cells) == 1
    assert cells[0][1:6] == [stream, entry_id.decode(), "KeyError: 'door_id'", cells[0][4], "3"]
    assert cells[0][4].startswith("tests/test_alerts_deadletter.py:")
    assert "p-7f****" in cells[0][6] and "p-7f3a9c" not in cells[0][6]  # person ids masked as elsewhere


def test_replay_counts_an_archived_poison_event_and_goes_on(settings, small_city, indigestion):
    """The archiver archives a poison event (it arrived); replaying it must not stop the replay."""
    from alerts.config import parse_rules
    from alerts.replay import Replayer

    reg, door = small_city.registry, small_city.door
    r = Replayer(reg, parse_rules({}), settings.city.timezone, settings.redis.partitions)
    t = now_ms(-60)
    r.start(t / 1000)
    r.feed(access_doc(reg, door, POISON, t) | {"event_id": "poison"})
    for k in range(4):  # a lingering person behind it is still replayed
        r.feed(access_doc(reg, door, "p-behind", t + 1000 + k) | {"event_id": f"b{k}"})
    assert r.report.failed == 1 and r.report.events == 5
    assert [a.rule for a in r.report.alerts] == ["lingering"]
