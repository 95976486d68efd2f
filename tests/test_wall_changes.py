"""The wall reads the open alerts from SQL once per change, not per screen per second (``readers.changes``).

Real Redis (single and Cluster: ``both_redis``) and the city's SQLite copy; the SQL statements are counted with
an SQLAlchemy event listener on the dashboard's own engine. A burst of refreshes from many sessions after one
change makes one read; a committed alert announced as the engine does (``alerts.notify.announce``) is in the
very next refresh; a change whose signal was lost is caught by the safety re-read. The 2 s event → pixel path in
a browser is ``test_wall_live.py``'s.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import event
from sqlalchemy.orm import Session

from alerts import notify, store
from dashboard.app import build_context, create_app
from dashboard.readers import changes
from dashboard.readers.wall import WallReader
from onescreen.db.models import Alert
from onescreen.db.session import make_engine
from tests import test_alerts_engine as base
from tests.auth_helpers import create_users, logged_in_client
from tests.redis_kinds import both_redis

pytestmark = pytest.mark.services
make_settings = base.make_settings  # the shared fixture

SESSIONS, REFRESHES = 12, 5


def _count_statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, sql, *a: seen.append(sql))
    return seen


def _burst(reader: WallReader) -> set[str]:
    """SESSIONS threads refreshing REFRESHES times each at once; the open alert ids they saw (all the same)."""
    got: list[frozenset[str]] = []
    start = threading.Barrier(SESSIONS)

    def one() -> None:
        start.wait()
        for _ in range(REFRESHES):
            rows, _current = reader._alerts(None)
            got.append(frozenset(r["id"] for r in rows))

    threads = [threading.Thread(target=one) for _ in range(SESSIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(got) == SESSIONS * REFRESHES and len(set(got)) == 1
    return set(got[0])


def _add_alert(ctx, n: int, *, signal: bool) -> str:
    """Commit an open alert through an engine of its own (the wall's engine counts only the wall's reads)."""
    alert_id = f"A-20261205-9{n:05d}"
    writer = make_engine(ctx.settings.database.url)
    with Session(writer) as db:
        alert = Alert(alert_id=alert_id, rule="gathering", level="orange", status="open", subject_kind="camera_zone",
                      subject_id=f"C-{n}/gate", evidence={}, opened_at=datetime.now(UTC))
        db.add(alert)
        db.commit()
        doc = store.to_contract(alert, ctx.settings.city.timezone)
    writer.dispose()
    if signal:  # the engine's Redis side of a committed change, on a non-transactional pipeline as it runs it
        pipe = ctx.redis.pipeline(transaction=False)
        notify.announce(pipe, doc, publish=False)
        pipe.execute()
    return alert_id


@both_redis
def test_refresh_burst_reads_sql_once_per_change_and_safety_reread_catches_a_lost_signal(make_settings,
                                                                                             redis_client):
    ctx = build_context(make_settings())
    reader = WallReader(ctx)
    statements = _count_statements(ctx.engine)
    try:
        before = _burst(reader)
        assert reader.open_cache.loads == 1
        reads = len(statements)
        assert 1 <= reads <= 2  # the open alerts and the silences, once for 60 refreshes

        first = _add_alert(ctx, 1, signal=True)
        assert _burst(reader) == before | {first}  # the very next refresh after the signal has it
        assert reader.open_cache.loads == 2 and len(statements) == 2 * reads

        for _ in range(3):  # no change: refreshes cost no SQL at all
            _burst(reader)
        assert reader.open_cache.loads == 2 and len(statements) == 2 * reads

        reader.open_cache.safety_s = 0.5
        lost = _add_alert(ctx, 2, signal=False)  # committed, but its signal never came
        assert lost not in _burst(reader)
        time.sleep(0.6)
        assert _burst(reader) == before | {first, lost}  # the safety re-read
        assert reader.open_cache.loads == 3
    finally:
        ctx.engine.dispose()


@pytest.mark.parametrize("ver_then,ver_now,age,expect_load", [
    (b"5", b"5", 1.0, False),    # same counter, young entry: the cache answers
    (b"5", b"6", 0.0, True),     # the counter moved: re-read
    (b"5", b"5", 31.0, True),    # older than SAFETY_S: re-read (a lost bump)
    (b"5", None, 1.0, False),    # Redis unreadable, entry younger than UNKNOWN_S
    (b"5", None, 2.5, True),     # Redis unreadable, older: re-read at UNKNOWN_S pace
    (None, b"5", 0.0, True),     # cached while Redis was down, now readable: re-read
])
def test_change_cache_freshness(ver_then, ver_now, age, expect_load):
    cache = changes.ChangeCache()
    cache.get("k", ver_then, lambda: "old")
    cache._entries["k"].at -= age
    assert (cache.get("k", ver_now, lambda: "new") == "new") is expect_load


def test_change_cache_keeps_nothing_from_a_failed_load():
    cache = changes.ChangeCache()

    def boom():
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError):
        cache.get("k", b"1", boom)
    assert cache.get("k", b"1", lambda: "read") == "read" and cache.loads == 1


CASE_OUTPUTS = [("kpi-open-cases", "children"), ("kpi-overdue-cases", "children"),
                ("kpi-overdue-cases", "className"), ("case-feed", "children"), ("city-map-cases", "data"),
                ("wall-case-shown", "data")]


def _case_refresh(client, shown: str | None):
    """The wall's case-panel callback as the page posts it once a second (``components/wall_cases.py``)."""
    body = {"output": ".." + "...".join(f"{i}.{p}" for i, p in CASE_OUTPUTS) + "..",
            "outputs": [{"id": i, "property": p} for i, p in CASE_OUTPUTS],
            "inputs": [{"id": "wall-case-tick", "property": "n_intervals", "value": 3}],
            "state": [{"id": "city-map-scope", "property": "data", "value": None},
                      {"id": "wall-case-shown", "property": "data", "value": shown}],
            "changedPropIds": ["wall-case-tick.n_intervals"]}
    return client.post("/_dash-update-component", json=body, headers={"Origin": "http://localhost"})


def test_case_panel_sends_nothing_while_what_it_shows_is_unchanged(make_settings):
    """Issue 13: a wall re-drew its case feed and the map's case layer every second, changed or not (the biggest
    steady cost of a browser wall with 20 open); now an unchanged second is an empty 204."""
    s = make_settings()
    users = create_users(s.database.url)
    op = logged_in_client(create_app(s), users["operator"].username, users["operator"].password)

    first = _case_refresh(op, None)  # a fresh page: everything
    assert first.status_code == 200
    shown = first.get_json()["response"]
    assert set(shown) == {i for i, _p in CASE_OUTPUTS} and shown["wall-case-shown"]["data"]
    digest = shown["wall-case-shown"]["data"]

    assert _case_refresh(op, digest).status_code == 204  # the page shows exactly this: nothing to send
    again = _case_refresh(op, "0123456789abcdef")  # the page shows something else (an older state)
    assert again.status_code == 200 and again.get_json()["response"]["wall-case-shown"]["data"] == digest


class _Counter:
    """A stand-in Redis holding the change counter (``None``: unreadable, as ``changes.version`` reports it)."""

    def __init__(self, value):
        self.value = value

    def get(self, _key):
        if self.value is None:
            raise redis.ConnectionError("down")
        return self.value


@pytest.mark.parametrize("seen,now_ver,key,age,again", [
    (None, b"5", ("A-1",), 0.0, True),           # the first poll of a session reads
    (["5", 0.0, "A-1"], b"5", ("A-1",), 1.0, False),  # nothing changed: no SQL
    (["5", 0.0, "A-1"], b"6", ("A-1",), 1.0, True),   # the counter moved
    (["5", 0.0, "A-1"], b"5", ("A-2",), 1.0, True),   # another row selected
    (["5", 0.0, "A-1"], b"5", ("A-1",), 31.0, True),  # older than SAFETY_S: a lost bump is caught
    (["5", 0.0], None, (), 1.0, True),           # Redis unreadable: every poll reads, as before
])
def test_desk_poll_reads_sql_only_after_a_change(seen, now_ver, key, age, again):
    if seen:
        seen = [seen[0], time.time() - age, *seen[2:]]
    got, new_seen = changes.poll(_Counter(now_ver), seen, *key)
    assert got is again
    assert new_seen[2:] == list(key) and (new_seen is seen) is (not again)
