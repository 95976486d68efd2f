"""Entrance lines in the registry (cameras.yaml ``lines:``) and the hourly entrance counts in Redis (issue #18)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.video.entrances import add_crossings, hourly_increments, local_hour, read_hours
from onescreen.db.session import make_engine
from onescreen.registry.bundle import RegistryError, read_bundle, write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.exporter import export_bundle
from onescreen.registry.importer import import_bundle
from onescreen.registry.records import LineRec
from tests.test_registry import FILES, _same_dirs, write_city

LINES = """\
  lines:
    main-gate:
      a: [0.1, 0.6]
      b: [0.9, 0.6]
      in: right
    side:
      a: [0, 0.2]
      b: [0.3, 1]
      in: left
"""
ZONES_END = "      door_id: D-1\n"
assert ZONES_END in FILES["cameras.yaml"]


def cameras_with(lines: str) -> dict[str, str]:
    return {"cameras_yaml": FILES["cameras.yaml"].replace(ZONES_END, ZONES_END + lines, 1)}


def test_lines_read_and_round_trip_exactly(sqlite_url, tmp_path):
    hand = write_city(tmp_path / "hand", **cameras_with(LINES))
    b = read_bundle(hand)
    cam = next(c for c in b.cameras if c.id == "C-1")
    assert cam.lines == {"main-gate": LineRec((0.1, 0.6), (0.9, 0.6), "right"),
                         "side": LineRec((0.0, 0.2), (0.3, 1.0), "left")}
    assert next(c for c in b.cameras if c.id == "C-2").lines == {}
    engine = make_engine(sqlite_url)
    try:
        import_bundle(engine, hand)
        export_bundle(engine, tmp_path / "e1")
        import_bundle(engine, tmp_path / "e1")
        export_bundle(engine, tmp_path / "e2")
        _same_dirs(tmp_path / "e1", tmp_path / "e2")
        write_bundle(tmp_path / "w", read_bundle(tmp_path / "e1"))
        _same_dirs(tmp_path / "e1", tmp_path / "w")
        text = (tmp_path / "e1" / "cameras.yaml").read_text()
        assert "lines:\n    main-gate:\n      a: [0.1, 0.6]\n      b: [0.9, 0.6]\n      in: right\n" in text
        assert text.count("lines:") == 1  # a camera without lines writes none (old bundles stay identical)
        info = RegistryCache.load(engine).camera("C-1")
        assert info.lines["main-gate"] == {"a": [0.1, 0.6], "b": [0.9, 0.6], "in": "right"}
    finally:
        engine.dispose()


BAD = [  # (case, lines text, fragments of the message)
    ("not a mapping", "  lines: [1, 2]\n", ["lines must be a mapping"]),
    ("point outside", "  lines:\n    g: {a: [0.1, 1.5], b: [0.9, 0.6], in: left}\n", ["line 'g' point", "outside 0..1"]),
    ("unknown side", "  lines:\n    g: {a: [0.1, 0.5], b: [0.9, 0.6], in: up}\n", ["in 'up' is not one of left, right"]),
    ("missing b", "  lines:\n    g: {a: [0.1, 0.5], in: left}\n", ["line 'g': missing b"]),
    ("unknown key", "  lines:\n    g: {a: [0.1, 0.5], b: [0.9, 0.6], in: left, c: 1}\n", ["unknown field(s) c"]),
    ("too short", "  lines:\n    g: {a: [0.5, 0.5], b: [0.5, 0.501], in: left}\n", ["shorter than"]),
    ("bad point", "  lines:\n    g: {a: [0.5], b: [0.9, 0.6], in: left}\n", ["two numbers"]),
    ("star name", "  lines:\n    '*': {a: [0.1, 0.5], b: [0.9, 0.6], in: left}\n", ["line name '*'"]),
]


@pytest.mark.parametrize(("case", "lines", "fragments"), BAD, ids=[c[0] for c in BAD])
def test_bad_lines_are_refused_with_file_and_line(tmp_path, case, lines, fragments):
    with pytest.raises(RegistryError) as exc:
        read_bundle(write_city(tmp_path, **cameras_with(lines)))
    msg = str(exc.value)
    assert "cameras.yaml line 1 (id 'C-1'): lines:" in msg, msg
    for f in fragments:
        assert f in msg, msg


_UNIT = st.floats(0, 1, allow_nan=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ax=_UNIT, ay=_UNIT, bx=_UNIT, by=_UNIT, side=st.sampled_from(["left", "right"]))
def test_any_line_round_trips_exactly_through_the_files(tmp_path_factory, ax, ay, bx, by, side):
    root: Path = tmp_path_factory.mktemp("lines")
    b = read_bundle(write_city(root / "hand"))
    b.cameras[0].lines = {"g": LineRec((ax, ay), (bx, by), side)}
    try:
        write_bundle(root / "w1", b)
    except RegistryError as exc:
        assert "shorter than" in str(exc)  # a and b (nearly) the same point: refused, not mangled
        return
    again = read_bundle(root / "w1")
    assert next(c for c in again.cameras if c.id == b.cameras[0].id).lines == {"g": LineRec((ax, ay), (bx, by), side)}
    write_bundle(root / "w2", again)
    _same_dirs(root / "w1", root / "w2")


# ---------------------------------------------------------------- hourly counts in Redis
def test_hourly_increments_per_gate_and_community():
    assert hourly_increments("C-1", {"gate": {"in": 2, "out": 1}, "side": {"in": 1}}) == {
        "C-1/gate|in": 2, "C-1/gate|out": 1, "C-1/side|in": 1, "*|in": 3, "*|out": 1}


def test_hourly_counts_kept_in_redis_with_expiry(redis_client):
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Asia/Shanghai")
    ts = 1_764_950_400.0  # 2025-12-06 00:00 local
    hour = local_hour(ts, zone)
    assert hour == "2025120600"
    for cam, crossed in (("C-1", {"gate": {"in": 2}}), ("C-1", {"gate": {"out": 1}}), ("C-2", {"east": {"in": 4}})):
        pipe = redis_client.pipeline(transaction=False)
        add_crossings(pipe, "M1", cam, hour, crossed, ttl_s=3600)
        pipe.execute()
    got = read_hours(redis_client, "M1", [hour, "2025120523"])
    assert got[0].gates == {"C-1/gate": {"in": 2, "out": 1}, "C-2/east": {"in": 4, "out": 0}}
    assert (got[0].total_in, got[0].total_out) == (6, 1)
    assert got[1].gates == {} and got[1].total_in == 0
    from onescreen import names

    assert 0 < redis_client.ttl(names.entrance_hourly("M1", hour)) <= 3600


def test_rollup_copies_the_hours_into_sql_and_can_run_again(redis_client, sqlite_url):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from ingest.video.entrance_history import rollup
    from onescreen import names
    from onescreen.db.models import EntranceCountHour
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 12, 6, 1, 30, tzinfo=zone)
    for community, cam, hour, crossed in (("M1", "C-1", "2026120600", {"gate": {"in": 3, "out": 1}}),
                                          ("M1", "C-1", "2026120601", {"gate": {"in": 2}}),
                                          ("M2", "C-9", "2026120523", {"east": {"out": 5}}),
                                          ("M2", "C-9", "2026120300", {"east": {"out": 7}})):  # too old
        pipe = redis_client.pipeline(transaction=False)
        add_crossings(pipe, community, cam, hour, crossed, ttl_s=3600)
        pipe.execute()
    redis_client.set("os:ent:not-a-count", "x")  # not ours by shape: ignored
    assert names.parse_entrance_hourly(names.entrance_hourly("M1", "2026120600")) == ("M1", "2026120600")
    engine = make_engine(sqlite_url)
    try:
        assert rollup(redis_client, engine, zone, hours=24, now=now) == 3
        pipe = redis_client.pipeline(transaction=False)
        add_crossings(pipe, "M1", "C-1", "2026120601", {"gate": {"in": 1}}, ttl_s=3600)  # a late crossing
        pipe.execute()
        assert rollup(redis_client, engine, zone, hours=24, now=now) == 3  # again: replaced, not doubled
        with Session(engine) as s:
            rows = s.execute(select(EntranceCountHour.community_id, EntranceCountHour.camera_id,
                                    EntranceCountHour.line, EntranceCountHour.hour, EntranceCountHour.n_in,
                                    EntranceCountHour.n_out).order_by(EntranceCountHour.hour)).all()
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [("M2", "C-9", "east", "2026120523", 0, 5),
                                        ("M1", "C-1", "gate", "2026120600", 3, 1),
                                        ("M1", "C-1", "gate", "2026120601", 3, 0)]


def test_screen_figures_of_a_day():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from ingest.video.entrances import EntranceHour, screen_figures, today_hours

    now = datetime(2026, 12, 6, 2, 40, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert today_hours(now) == ["2026120602", "2026120601", "2026120600"]
    hours = [EntranceHour("2026120602", {"C-1/gate": {"in": 2, "out": 0}}, 2, 0),
             EntranceHour("2026120601", {}, 0, 0),
             EntranceHour("2026120600", {"C-1/gate": {"in": 1, "out": 1}, "C-2/east": {"in": 5, "out": 4}}, 6, 5)]
    assert screen_figures(hours, top=1) == {"today_in": 8, "today_out": 5, "hour_in": 2, "hour_out": 0,
                                            "busiest": [{"gate": "C-2/east", "in": 5, "out": 4}]}
    assert screen_figures([]) == {"today_in": 0, "today_out": 0, "hour_in": 0, "hour_out": 0, "busiest": []}
