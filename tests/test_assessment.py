"""Assessment (issue #16): the pure figures against hand-computed fixtures (table-driven), then the whole
ranking over SQL (alerts, spot checks, camera hours) per grouping, scope and drill-down, and the sampler
against real Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import cameras, figures, periods, report, sources
from assessment.cameras import Verdict
from onescreen import names
from onescreen.db.models import (
    Alert,
    CameraHealthHour,
    Case,
    CaseStep,
    GridWorker,
    PatrolPostHour,
    PersonVisit,
    SpotCheck,
    WatchPerson,
    WorkerOnlineDay,
)
from onescreen.db.session import make_engine, session_factory, upgrade
from onescreen.registry.bundle import write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.importer import import_bundle
from onescreen.timeutil import on_shift
from sim.citygen import generate_city

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


# ---------------------------------------------------------------- periods
@pytest.mark.parametrize("kind, at, start, end, label", [
    ("day", local(2026, 12, 5, 0, 0), local(2026, 12, 5), local(2026, 12, 6), "2026-12-05"),
    ("day", local(2026, 12, 5, 23, 59), local(2026, 12, 5), local(2026, 12, 6), "2026-12-05"),
    # 23:30 UTC on the 4th is already the 5th in Shanghai
    ("day", datetime(2026, 12, 4, 16, 30, tzinfo=UTC), local(2026, 12, 5), local(2026, 12, 6), "2026-12-05"),
    ("week", local(2026, 12, 5, 12), local(2026, 11, 30), local(2026, 12, 7), "2026-W49"),  # Saturday
    ("week", local(2026, 11, 30, 0), local(2026, 11, 30), local(2026, 12, 7), "2026-W49"),  # Monday 00:00
    ("week", local(2026, 12, 31, 9), local(2026, 12, 28), local(2027, 1, 4), "2026-W53"),
    ("month", local(2026, 12, 31, 23, 59), local(2026, 12, 1), local(2027, 1, 1), "2026-12"),
    ("month", local(2027, 2, 14), local(2027, 2, 1), local(2027, 3, 1), "2027-02"),
])
def test_period_of(kind, at, start, end, label):
    p = periods.period_of(kind, at, TZ)
    assert (p.start, p.end, p.label) == (start, end, label)


@pytest.mark.parametrize("kind, at, prev_start, prev_end", [
    ("day", local(2026, 12, 1, 8), local(2026, 11, 30), local(2026, 12, 1)),
    ("week", local(2026, 12, 5), local(2026, 11, 23), local(2026, 11, 30)),
    ("month", local(2026, 3, 10), local(2026, 2, 1), local(2026, 3, 1)),
    ("month", local(2027, 1, 1), local(2026, 12, 1), local(2027, 1, 1)),
])
def test_previous_period(kind, at, prev_start, prev_end):
    prev = periods.previous(periods.period_of(kind, at, TZ))
    assert (prev.start, prev.end) == (prev_start, prev_end)


def test_bad_period_and_grouping():
    for period, by in (("year", "district"), ("day", "street"), (None, "unit"), ("month", None)):
        with pytest.raises(report.BadRequest):
            report.check(period, by)


# ---------------------------------------------------------------- pure figures
T0 = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)


def s(seconds: float | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize("clocks, status, dispatched, met", [
    ((30, 120, 240), "on_scene", True, True),
    ((60, 180, 300), "closed", True, True),           # exactly on the limits
    ((61, 120, 240), "resolved", True, False),        # ack late
    ((30, 181, 240), "on_scene", True, False),        # dispatch late
    ((30, 120, 301), "on_scene", True, False),        # on scene late
    ((30, 120, None), "dispatched", True, False),     # not on scene yet
    ((None, 100, 200), "on_scene", True, False),      # dispatched without an acknowledgement stamp
    ((20, None, None), "resolved", False, False),     # solved by phone: not in the 1-3-5 denominator
    ((None, None, None), "open", False, False),
])
def test_met_135_table(clocks, status, dispatched, met):
    assert figures.met_135(T0, *(s(c) for c in clocks)) is met
    got = figures.alert_figures([(T0, *(s(c) for c in clocks), status)])
    assert got["alerts_dispatched"] == int(dispatched) and got["alerts_135"] == int(met)


def test_alert_figures_hand_computed():
    rows = [(T0, s(30), s(120), s(240), "closed"),       # met, resolved
            (T0, s(90), s(120), s(240), "on_scene"),     # ack late
            (T0, s(10), None, None, "resolved"),         # by phone, resolved
            (T0, None, None, None, "open"),
            (T0.replace(tzinfo=None), s(50).replace(tzinfo=None), s(170).replace(tzinfo=None),
             s(290).replace(tzinfo=None), "resolved")]   # SQLite's naive UTC: met, resolved
    assert figures.alert_figures(rows) == {
        "alerts": 5, "alerts_dispatched": 3, "alerts_135": 2, "attainment_135_rate": 66.7,
        "alerts_resolved": 3, "resolution_rate": 60.0}
    assert figures.alert_figures([]) == {"alerts": 0, "alerts_dispatched": 0, "alerts_135": 0,
                                         "attainment_135_rate": None, "alerts_resolved": 0,
                                         "resolution_rate": None}


@pytest.mark.parametrize("rows, expected", [
    ([], {"spot_checks": 0, "spot_checks_on_post": 0, "spot_checks_passed": 0}),
    ([(True, True, True, True)], {"spot_checks": 1, "spot_checks_on_post": 1, "spot_checks_passed": 1}),
    ([(True, True, True, False), (False, True, True, True), (True, False, False, False)],
     {"spot_checks": 3, "spot_checks_on_post": 2, "spot_checks_passed": 0}),
    ([(True, True, True, True), (False, False, False, False), (True, True, True, True), (False, True, True, True)],
     {"spot_checks": 4, "spot_checks_on_post": 2, "spot_checks_passed": 2}),
])
def test_spot_check_figures(rows, expected):
    assert figures.spot_check_figures(rows) == expected


NOW = 1_800_000_000.0  # 2027-01-15 08:00 UTC, 16:00 in Shanghai


class Post:
    lat, lon, radius_m = 26.6, 118.1, 200.0

    def __init__(self, start: str, end: str):
        self.shift_start, self.shift_end = start, end


@pytest.mark.parametrize("post, fix, expected", [
    (None, {"lat": 26.6, "lon": 118.1, "ts": NOW * 1000}, None),                    # no post: not expected
    (Post("08:00", "12:00"), {"lat": 26.6, "lon": 118.1, "ts": NOW * 1000}, None),  # off shift at 16:00
    (Post("00:00", "00:00"), {"lat": 26.6, "lon": 118.1, "ts": NOW * 1000}, True),  # all day, at the post
    (Post("12:00", "20:00"), {"lat": 26.6, "lon": 118.1005, "ts": NOW * 1000}, True),   # 50 m away: within 200
    (Post("12:00", "20:00"), {"lat": 26.61, "lon": 118.1, "ts": NOW * 1000}, False),    # 1.1 km away
    (Post("12:00", "20:00"), {"lat": 26.6, "lon": 118.1, "ts": (NOW - 301) * 1000}, False),  # silent
    (Post("12:00", "20:00"), None, False),                                          # no position at all
    (Post("20:00", "06:00"), None, None),                                           # overnight shift, not yet
])
def test_patrol_on_post_verdict(post, fix, expected):
    from assessment import patrol

    assert patrol.verdict(post, fix, NOW, TZ) is expected


@pytest.mark.parametrize("sums, rate", [(None, None), ((0, 0), None), ((12, 9), 75.0), ((3, 1), 33.3)])
def test_on_post_figures(sums, rate):
    assert figures.on_post_figures(sums) == {"patrol_on_post_rate": rate}


@pytest.mark.parametrize("health, seen_at, online, good", [
    ({"state": "online", "last_frame_at": (NOW - 5) * 1000}, None, True, True),
    ({"state": "online", "last_frame_at": (NOW - 5) * 1000, "image": "ok"}, None, True, True),
    ({"state": "online", "last_frame_at": (NOW - 5) * 1000, "image": "dark"}, None, True, False),
    ({"state": "online", "last_frame_at": (NOW - 5) * 1000, "image": "covered"}, None, True, False),
    ({"state": "degraded", "last_frame_at": (NOW - 5) * 1000}, None, True, False),
    ({"state": "online", "last_frame_at": (NOW - 61) * 1000}, NOW, False, False),  # hash wins over a heartbeat
    ({"state": "stalled", "last_frame_at": (NOW - 5) * 1000}, None, False, False),
    ({"state": "offline", "last_frame_at": 0}, None, False, False),
    (None, NOW - 100, True, True),           # not pulled: its own heartbeat, image unknown = ok
    (None, NOW - 301, False, False),
    ({}, None, False, False),
])
def test_camera_classify(health, seen_at, online, good):
    assert cameras.classify(health, seen_at, NOW) == Verdict(online, good)


def test_community_counts_hand_computed():
    cells = {"C1": ["a", "b", "c"], "C2": ["d"]}
    cams = [("k1", "a", Verdict(True, True)), ("k2", "a", Verdict(True, False)), ("k3", "b", Verdict(False, False)),
            ("k4", "d", Verdict(False, False)), ("k5", "zz", Verdict(True, True))]  # zz: not in the registry
    got = cameras.community_counts(cells, cams)
    assert got["C1"] == cameras.Counts(cells=3, covered=1, cameras=3, online=2, good=1)
    assert got["C2"] == cameras.Counts(cells=1, covered=0, cameras=1, online=0, good=0)


@pytest.mark.parametrize("sums, expected", [
    (None, (None, None, None)),
    ((10, 5, 20, 15, 12), (50.0, 75.0, 60.0)),
    ((3, 3, 0, 0, 0), (100.0, None, None)),
    ((7, 2, 3, 1, 0), (28.6, 33.3, 0.0)),
])
def test_camera_figures(sums, expected):
    got = figures.camera_figures(sums)
    assert (got["camera_coverage_rate"], got["camera_online_rate"], got["camera_good_rate"]) == expected


# ---------------------------------------------------------------- the ranking over SQL
@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """Two districts, four communities, eight cells, three patrol units, its own SQLite database."""
    root = tmp_path_factory.mktemp("assess-city")
    url = f"sqlite:///{root / 'a.db'}"
    upgrade(url)
    bundle = generate_city(seed=5, districts=2, communities=4, cells=8, doors=4, cameras=6, units=3, watchlist=0,
                           sensors=0, streamed_cameras=0)
    write_bundle(root / "bundle", bundle)
    engine = make_engine(url)
    import_bundle(engine, root / "bundle")
    yield engine, RegistryCache.load(engine)
    engine.dispose()


def _place(reg, community):
    return {"district_id": reg.district_of(community), "community_id": community,
            "cell_id": reg.descendants(community, "cell")[0]}


def test_ranking_over_sql(city):
    engine, reg = city
    with Session(engine) as db:  # a clean slate for this module's tables
        for model in (Alert, SpotCheck, CameraHealthHour, PatrolPostHour):
            db.query(model).delete()
        db.commit()
    communities = list(reg.nodes_at("community"))
    c1, c2 = communities[0], communities[1]
    d1 = reg.district_of(c1)
    unit = reg.unit_ids()[0]
    now = local(2026, 12, 5, 15, 0)            # a Saturday afternoon
    today = local(2026, 12, 5, 9, 0).astimezone(UTC)
    yesterday = local(2026, 12, 4, 9, 0).astimezone(UTC)
    tomorrow = local(2026, 12, 6, 9, 0).astimezone(UTC)  # after "now": not in the to-date figures

    def alert(n, when, community, clocks, status, assignee=None):
        return Alert(alert_id=f"A-T-{n}", rule="gathering", level="orange", status=status, subject_kind="camera_zone",
                     subject_id=f"s{n}", **_place(reg, community), opened_at=when,
                     acknowledged_at=None if clocks[0] is None else when + timedelta(seconds=clocks[0]),
                     dispatched_at=None if clocks[1] is None else when + timedelta(seconds=clocks[1]),
                     on_scene_at=None if clocks[2] is None else when + timedelta(seconds=clocks[2]),
                     assignee=assignee, route_unit=unit)

    def check(when, community, *items):
        return SpotCheck(at=when, unit_id=unit, community_id=community, district_id=reg.district_of(community),
                         on_post=items[0], on_route=items[1], uniform=items[2], equipment=items[3], checked_by="sup")

    def hour(when, community, cells, covered, cams, online, good):
        return CameraHealthHour(hour=when.replace(minute=0), community_id=community,
                                district_id=reg.district_of(community), samples=12, cells=cells, covered=covered,
                                cameras=cams, online=online, good=good)

    with Session(engine) as db:
        db.add_all([
            alert(1, today, c1, (30, 100, 200), "closed"),           # met, resolved
            alert(2, today, c1, (120, 200, 400), "on_scene"),        # late
            alert(3, today, c2, (10, None, None), "resolved"),       # by phone
            alert(4, yesterday, c1, (30, 100, 200), "closed"),       # previous day: met
            alert(5, tomorrow, c1, (30, 100, 200), "closed"),        # not yet
            alert(6, today, communities[3], (60, 180, 300), "on_scene"),  # exactly on the limits: met
            check(today, c1, True, True, True, True), check(today, c1, False, True, True, True),
            check(yesterday, c2, True, True, True, True),
            hour(today, c1, 24, 12, 48, 36, 24), hour(today + timedelta(hours=1), c1, 24, 24, 48, 48, 48),
            hour(today, c2, 12, 12, 12, 12, 12),
            hour(yesterday, c1, 24, 0, 48, 0, 0),
            PatrolPostHour(hour=today.replace(minute=0), unit_id=unit, community_id=c1,
                           district_id=reg.district_of(c1), samples=12, on_post=9),
            PatrolPostHour(hour=today.replace(minute=0) + timedelta(hours=1), unit_id=unit, community_id=c1,
                           district_id=reg.district_of(c1), samples=12, on_post=12),
        ])
        db.commit()

    rep = report.assess(engine, reg, "day", "community", now, TZ)
    rows = {r["key"]: r for r in rep.rows}
    assert set(rows) == set(communities)
    r1 = rows[c1]
    assert (r1["alerts"], r1["alerts_dispatched"], r1["alerts_135"], r1["attainment_135_rate"]) == (2, 2, 1, 50.0)
    assert (r1["alerts_resolved"], r1["resolution_rate"]) == (1, 50.0)
    assert (r1["spot_checks"], r1["spot_checks_on_post"], r1["spot_checks_passed"]) == (2, 1, 1)
    assert r1["patrol_on_post_rate"] == 87.5 and r1["previous"]["patrol_on_post_rate"] is None  # 21 of 24 samples
    # (12 + 24) / 48 covered, (36 + 48) / 96 online, (24 + 48) / 96 good
    assert (r1["camera_coverage_rate"], r1["camera_online_rate"], r1["camera_good_rate"]) == (75.0, 87.5, 75.0)
    assert r1["previous"]["alerts"] == 1 and r1["previous"]["attainment_135_rate"] == 100.0
    assert r1["previous"]["camera_online_rate"] == 0.0 and r1["previous"]["spot_checks"] == 0
    assert r1["period"] == "2026-12-05" and r1["previous"]["period"] == "2026-12-04"
    # no cases, visits or samples of workers in this fixture: counts 0, the mean and the rate "—"
    assert (r1["cases_reported"], r1["satisfaction_mean"], r1["visits_done"], r1["workers_online_rate"]) == (0, None, 0, None)
    assert rep.unavailable == []
    r2 = rows[c2]
    assert (r2["alerts"], r2["alerts_dispatched"], r2["attainment_135_rate"], r2["resolution_rate"]) == (1, 0, None, 100.0)
    quiet = rows[communities[2]]
    assert quiet["alerts"] == 0 and quiet["resolution_rate"] is None and quiet["camera_online_rate"] is None

    edge = rows[communities[3]]
    assert (edge["alerts_135"], edge["attainment_135_rate"], edge["resolution_rate"]) == (1, 100.0, 0.0)
    # by district: the sums of its communities
    drows = {r["key"]: r for r in report.assess(engine, reg, "day", "district", now, TZ).rows}
    for d, r in drows.items():
        assert r["alerts"] == sum(rows[c]["alerts"] for c in reg.descendants(d, "community"))
        assert r["alerts_135"] == sum(rows[c]["alerts_135"] for c in reg.descendants(d, "community"))
    # by unit: alerts by their responsible unit, spot checks by the unit checked
    urows = {r["key"]: r for r in report.assess(engine, reg, "day", "unit", now, TZ).rows}
    assert urows[unit]["alerts"] == 4 and urows[unit]["spot_checks"] == 2 and urows[unit]["patrol_on_post_rate"] == 87.5 and urows[unit]["camera_online_rate"] is None
    # by worker / department: the registry's grid workers and departments
    wrows = report.assess(engine, reg, "day", "worker", now, TZ).rows
    with Session(engine) as db:
        assert [r["key"] for r in wrows] == sorted(db.scalars(select(GridWorker.id)))
    assert all(r["workers"] == 1 and r["alerts"] is None for r in wrows)  # alerts are not counted per worker
    assert len(report.assess(engine, reg, "day", "department", now, TZ).rows) == 12
    # a scoped user (community c2) sees c2 only, even by district or unit
    scoped = report.assess(engine, reg, "day", "district", now, TZ, scope={c2}).rows
    assert [r["key"] for r in scoped] == [reg.district_of(c2)] and scoped[0]["alerts"] == 1
    # drill-down: the communities within a district
    inside = report.assess(engine, reg, "day", "community", now, TZ, within=d1).rows
    assert {r["key"] for r in inside} == set(reg.descendants(d1, "community"))
    # week: Monday 30 Nov .. now holds alerts 1-4; previous week nothing
    week = {r["key"]: r for r in report.assess(engine, reg, "week", "community", now, TZ).rows}
    assert week[c1]["alerts"] == 3 and week[c1]["previous"]["alerts"] == 0
    # CSV = the same rows
    text = report.to_csv(rep.rows)
    header, *lines = text.strip().split("\n")
    assert header.split(",") == list(report.CSV_COLUMNS) and len(lines) == len(rep.rows)


def test_registered_provider_fills_its_columns(city):
    """How the cases code plugs in: a provider under the pending name replaces it, and its columns appear."""
    engine, reg = city
    pending = sources.PROVIDERS["cases"]
    c1 = reg.nodes_at("community")[0]
    try:
        sources.register(sources.Provider(
            "cases", pending.columns, pending.groupings,
            lambda session, start, end, by, communities: {c1: {"cases_reported": 7, "satisfaction_mean": 4.5}},
            lambda: {"cases_reported": 0, "satisfaction_mean": None}))
        rep = report.assess(engine, reg, "day", "community", local(2026, 12, 5, 15), TZ)
        rows = {r["key"]: r for r in rep.rows}
        assert rows[c1]["cases_reported"] == 7 and rows[c1]["satisfaction_mean"] == 4.5
        assert rows[reg.nodes_at("community")[1]]["cases_reported"] == 0
        assert "cases" not in rep.unavailable
    finally:
        sources.register(pending)


# ---------------------------------------------------------------- the sampler (real Redis)
def test_sampler_adds_samples_to_the_hour(city, redis_client):
    from assessment.sampler import sample_once

    engine, reg = city
    with Session(engine) as db:
        db.query(CameraHealthHour).delete()
        db.commit()
    now = NOW
    cams = reg.cameras()
    first, second = cams[0], cams[1]
    redis_client.hset(names.camera_health(first.id), mapping={"state": "online", "last_frame_at": int(now * 1000)})
    redis_client.hset(names.camera_health(second.id), mapping={"state": "online", "last_frame_at": int(now * 1000),
                                                               "image": "frozen"})
    third = cams[2]
    redis_client.zadd(names.DEVICE_LAST_SEEN, {third.id: now - 10})
    units = [u for u in reg.unit_ids() if reg.post_of_unit(u) is not None]
    at_post = reg.post_of_unit(units[0])
    redis_client.hset(names.PATROL_LATEST, units[0], orjson.dumps(
        {"lat": at_post.lat, "lon": at_post.lon, "ts": int(now * 1000)}))
    with Session(engine) as db:
        db.query(PatrolPostHour).delete()
        db.commit()
    sessions = session_factory(engine)
    sample_once(redis_client, reg, sessions, now, TZ)
    sample_once(redis_client, reg, sessions, now + 301, TZ)
    with Session(engine) as db:
        patrol_rows = {r.unit_id: r for r in db.query(PatrolPostHour).all()}
    local = datetime.fromtimestamp(now, SH)
    expected_units = {u for u in units if on_shift(reg.post_of_unit(u).shift_start, reg.post_of_unit(u).shift_end,
                                                   local)}
    assert set(patrol_rows) == expected_units and all(r.samples == 2 for r in patrol_rows.values())
    # on post in the first sample only (its fix is 301 s old at the second: silent): the others never
    assert {u: r.on_post for u, r in patrol_rows.items()} == {u: int(u == units[0]) for u in expected_units}
    with Session(engine) as db:
        rows = db.query(CameraHealthHour).all()
    assert {r.community_id for r in rows} == set(reg.nodes_at("community"))
    assert all(r.samples == 2 and r.hour.replace(tzinfo=UTC) == cameras.hour_of(now) for r in rows)  # SQLite: naive
    assert sum(r.cameras for r in rows) == 2 * len(cams)
    assert sum(r.cells for r in rows) == 2 * len(reg.nodes_at("cell"))
    # the first sample: 3 online, 2 good (frozen image); the second (5 min later: frames 301 s old, heartbeat 311 s
    # old) none
    assert sum(r.online for r in rows) == 3 and sum(r.good for r in rows) == 2
    covered = len({first.cell_id, second.cell_id, third.cell_id})
    assert sum(r.covered for r in rows) == covered


def test_two_workers_take_each_tick_once(city, redis_server, redis_client):
    """Two assessment workers (the process `onescreen assessment`): one sample per tick city-wide; the one that
    took it also copies the entrance counts into SQL (issue 18: their history without cron)."""
    from assessment.sampler import AssessmentWorker
    from ingest.video.entrances import add_crossings
    from onescreen.db.models import EntranceCountHour
    from onescreen.settings import load_settings
    from tests.mqtt_helpers import ThreadWorker, wait_for

    engine, reg = city
    with Session(engine) as db:
        db.query(CameraHealthHour).delete()
        db.commit()
    s = load_settings(redis={"url": redis_server.url}, database={"url": engine.url.render_as_string(False)},
                      log={"format": "text"}, assessment={"sample_every_s": 3600})
    hour = datetime.now(ZoneInfo(s.city.timezone)).strftime("%Y%m%d%H")
    pipe = redis_client.pipeline(transaction=False)
    add_crossings(pipe, "C0102", "C-0102-01", hour, {"gate": {"in": 3, "out": 2}}, 3600)
    pipe.execute()
    with ThreadWorker(AssessmentWorker(s, "a1")) as w1, ThreadWorker(AssessmentWorker(s, "a2")) as w2:
        assert wait_for(lambda: w1.last_tick >= 0 and w2.last_tick >= 0, 10)
    assert w1.samples + w2.samples == 1 and w1.errors == w2.errors == 0
    with Session(engine) as db:
        ent = [(r.camera_id, r.line, r.hour, r.n_in, r.n_out) for r in db.query(EntranceCountHour)]
    assert ent == [("C-0102-01", "gate", hour, 3, 2)]
    with Session(engine) as db:
        rows = db.query(CameraHealthHour).all()
    assert len(rows) == len(reg.nodes_at("community")) and all(r.samples == 1 for r in rows)


# ---------------------------------------------------------------- the wall's figures (same module)
def test_wall_camera_and_alert_rates():
    from dashboard.readers.camera_rates import alert_rates, camera_rates
    from dashboard.readers.wall_index import Placed, WallIndex

    def rates(got: dict) -> dict:
        return {k: v for k, v in got.items() if not k.endswith("_parts")}

    chain = {"D": frozenset({"D", "X"}), "C": frozenset({"C", "D", "X"}),
             **{cell: frozenset({cell, "C", "D", "X"}) for cell in ("g1", "g2", "g3", "g4")}}
    level = {"X": "city", "D": "district", "C": "community", "g1": "cell", "g2": "cell", "g3": "cell", "g4": "cell"}
    cams = (Placed("k1", "", "g1", 0, 0, True), Placed("k2", "", "g1", 0, 0, True), Placed("k3", "", "g2", 0, 0, True),
            Placed("k4", "", "g3", 0, 0), Placed("k5", "", "g3", 0, 0))
    ix = WallIndex(chain=chain, level=level, cameras=cams)
    fresh = str(int(NOW * 1000))
    health = {"k1": {"state": "online", "last_frame_at": fresh, "image": "ok"},
              "k2": {"state": "degraded", "last_frame_at": fresh, "image": None},
              "k3": {"state": "online", "last_frame_at": fresh, "image": "covered"}}
    got = camera_rates(ix, None, health, {"k4"}, NOW)
    # covered g1, g2, g3 of 4 cells; online k1 k2 k3 k4 of 5; good k1 k4
    assert rates(got) == {"camera_coverage": 75.0, "camera_online": 80.0, "camera_good": 40.0}
    assert got["camera_online_parts"] == (4, 5)
    assert rates(camera_rates(ix, "g4", health, set(), NOW)) == {"camera_coverage": 0.0, "camera_online": None,
                                                         "camera_good": None}
    today = [("D", "C", "g1", "closed", T0, s(30), s(100), s(200)), ("D", "C", "g1", "open", T0, None, None, None),
             ("D", "C", "g2", "resolved", T0, s(70), s(100), s(200))]
    assert rates(alert_rates(today)) == {"rapid_rate": 50.0, "resolution_rate": 66.7}


@pytest.mark.postgres
def test_alert_counts_on_postgres(postgres_url):
    """The 1-3-5 count in SQL is dialect-specific (interval epoch on PostgreSQL): the same figures there."""
    import sqlalchemy as sa

    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alert WHERE alert_id LIKE 'A-PGA-%'"))
    rows = [(30, 100, 200, "closed"), (60, 180, 300, "on_scene"), (61, 100, 200, "resolved"), (10, None, None, "open")]
    with Session(engine) as db:
        for i, (ack, disp, scene, status) in enumerate(rows):
            db.add(Alert(alert_id=f"A-PGA-{i}", rule="gathering", level="yellow", status=status,
                         subject_kind="camera_zone", subject_id=f"pga{i}", community_id="C-PGA", opened_at=T0,
                         acknowledged_at=s(ack), dispatched_at=s(disp), on_scene_at=s(scene)))
        db.commit()
        alerts = sources.PROVIDERS["alerts"]
        got = alerts.compute(db, T0 - timedelta(hours=1), T0 + timedelta(hours=1), "community", {"C-PGA"})
        # back-to-back spans in one pass: the alerts opened at T0 fall in the second, which starts at T0
        before, at = alerts.compute_spans(db, [(T0 - timedelta(hours=1), T0), (T0, T0 + timedelta(hours=1))],
                                          "community", {"C-PGA"})
    engine.dispose()
    assert got == {"C-PGA": figures.alert_figures([(T0, s(a), s(d), s(o), st) for a, d, o, st in rows])}
    assert got["C-PGA"]["alerts_135"] == 2 and got["C-PGA"]["attainment_135_rate"] == 66.7
    assert (before, at) == ({}, got)


@pytest.mark.parametrize("by", ["district", "community", "unit", "worker", "department"])
def test_desk_table_for_every_grouping(city, by):
    """The desk's table for each grouping (rows of a drillable grouping are clickable, the others not)."""
    from types import SimpleNamespace

    from dashboard.i18n import Translator
    from dashboard.pages.assessment import DRILL, _table

    engine, reg = city
    rows = report.assess(engine, reg, "day", by, local(2026, 12, 5, 15), TZ).rows
    ctx = SimpleNamespace(t=Translator("zh"))
    doc = _table(ctx, rows, by, "alerts").to_plotly_json()
    if not rows:
        assert doc["props"]["id"] == "desk-assessment-empty"
        return
    trs = doc["props"]["children"][1:]
    assert [tr.to_plotly_json()["props"]["data-key"] for tr in trs] == [r["key"] for r in rows]
    assert all(("id" in tr.to_plotly_json()["props"]) == (by in DRILL) for tr in trs)


# ---------------------------------------------------------------- cases, visits, grid workers (hand-computed)
W1, W2 = "W-0101-01", "W-0102-01"  # the generated city's workers of communities C0101 and C0102 (district D01)


def u(*args: int) -> datetime:
    """A local time as UTC, as the commands get it (SQLite keeps the wall clock of what it is given)."""
    return local(*args).astimezone(UTC)


def _people_fixture(engine, reg):
    """Six cases walked through cases.commands (so the steps hold exactly what the cases code writes), five
    watch-list persons with their visits, and sampled worker hours. The day is Saturday 5 Dec, now 15:00."""
    from cases import commands as cc
    from cases.places import places_for
    from onescreen.commands import Actor
    from onescreen.settings import CaseSettings

    with Session(engine) as db:
        for model in (CaseStep, Case, PersonVisit, WatchPerson, WorkerOnlineDay):
            db.query(model).delete()
        db.commit()
    env = cc.CaseEnv(settings=CaseSettings(), tz=TZ, places=places_for(engine))
    admin = Actor("admin", "admin")
    cell = {W1: "G010101", W2: "G010201"}
    unit = reg.unit_ids()[0]

    def grid(worker):
        return Actor(worker.lower(), "grid", worker_id=worker, cells=frozenset({cell[worker]}))

    def report_(db, actor, when, worker_cell, level, **extra):
        return cc.report(db, actor, {"category": "environment", "description": "x", "level": level,
                                     "cell_id": worker_cell, **extra}, when, env).case_id

    def act(db, case_id, action, when, **data):
        cc.act(db, admin, case_id, action, {"note": "n", **data}, when, env)

    with Session(engine) as db:
        k1 = report_(db, grid(W1), u(2026, 12, 5, 9), cell[W1], "red")
        act(db, k1, "accept", u(2026, 12, 5, 9, 20))                                   # 20 min: in time
        act(db, k1, "assign", u(2026, 12, 5, 9, 30), assignee={"kind": "department", "id": "D-CG"})
        act(db, k1, "handle", u(2026, 12, 5, 10))                                      # before its deadline
        act(db, k1, "evaluate", u(2026, 12, 5, 11), satisfaction=5)
        k2 = report_(db, grid(W1), u(2026, 12, 5, 9), cell[W1], "yellow")
        act(db, k2, "accept", u(2026, 12, 5, 9, 40))                                   # 40 min: late
        act(db, k2, "assign", u(2026, 12, 5, 9, 45), assignee={"kind": "unit", "id": unit})
        act(db, k2, "return", u(2026, 12, 5, 10))                                      # returned by the unit
        act(db, k2, "assign", u(2026, 12, 5, 10, 5), assignee={"kind": "department", "id": "D-CG"})
        act(db, k2, "return", u(2026, 12, 5, 10, 10))                                  # … and by D-CG
        k3 = report_(db, admin, u(2026, 12, 5, 9), cell[W2], "yellow", source="hotline",
                     handled_on_site=True, feedback="done")                                # on the spot: on time
        act(db, k3, "evaluate", u(2026, 12, 5, 12), satisfaction=3)
        report_(db, grid(W2), u(2026, 12, 5, 6), cell[W2], "red")                      # never accepted: overdue 06:30
        k5 = report_(db, grid(W2), u(2026, 12, 4, 10), cell[W2], "red")                # yesterday
        act(db, k5, "accept", u(2026, 12, 4, 10, 5))                                   # deadline today 10:05
        act(db, k5, "assign", u(2026, 12, 4, 10, 10), assignee={"kind": "department", "id": "D-CG"})
        act(db, k5, "handle", u(2026, 12, 5, 12))                                      # late: overdue today
        act(db, k5, "evaluate", u(2026, 12, 5, 13), satisfaction=4)
        report_(db, grid(W1), u(2026, 12, 5, 16), cell[W1], "red")                     # after now: not yet
        c1, c2 = "C0101", "C0102"
        db.add_all([
            WatchPerson(person_id="P1", level="red", home_community_id=c1, grid_worker_id=W1),
            WatchPerson(person_id="P2", level="orange", home_community_id=c1, grid_worker_id=W1),  # never visited
            WatchPerson(person_id="P3", level="yellow", home_community_id=c2, grid_worker_id=W2),
            WatchPerson(person_id="P4", level="green", home_community_id=c2, grid_worker_id=W2),   # no cadence
            WatchPerson(person_id="P5", level="red", home_community_id=c2, grid_worker_id=W2),
        ])

        def visit(person, when, community, visitor="someone"):
            db.add(PersonVisit(person_id=person, at=when, recorded_at=when, method="home", visitor=visitor,
                               community_id=community))
        visit("P1", u(2026, 12, 1, 10), c1)   # next due 8 Dec
        visit("P1", u(2026, 12, 5, 10), c1)
        visit("P3", u(2026, 11, 1, 10), c2)   # due 1 Dec: overdue
        visit("P5", u(2026, 11, 28, 10), c2)  # due 5 Dec 10:00
        visit("P5", u(2026, 12, 5, 14), c2)
        visit("P4", u(2026, 12, 4, 9), c2, visitor="W-0202-01")  # an entry of W-0202-01 yesterday

        def day(worker, when, community, samples, online):
            db.add(WorkerOnlineDay(day=when.astimezone(SH).date().isoformat(), worker_id=worker,
                                   community_id=community, district_id="D01", samples=samples, online=online,
                                   last_online_at=when if online else None))
        day(W1, u(2026, 12, 5, 9), c1, 24, 12)
        day(W2, u(2026, 12, 5, 9), c2, 12, 0)
        day(W2, u(2026, 12, 4, 20), c2, 12, 6)
        db.commit()
    return unit


CASE_COLS = ("cases_reported", "cases_accepted_in_time", "cases_handled_on_time", "cases_overdue", "cases_returned",
             "satisfaction_mean")
PEOPLE_COLS = CASE_COLS + ("visits_due", "visits_done", "workers", "workers_online", "workers_online_rate")
N = None  # a column the grouping does not have


@pytest.mark.parametrize("by, key, today, yesterday", [
    # reported, accepted in time, handled on time, overdue, returned, satisfaction | visits due, done | workers,
    # online, rate. C0101: k1 (in time, handled, 5) and k2 (late, returned twice); P2 due, P1 visited; W1 12 of 24
    ("community", "C0101", (2, 1, 1, 0, 2, 5.0, 1, 1, 1, 1, 50.0), (0, 0, 0, 0, 0, None, 1, 0, 1, 0, None)),
    # C0102: k3 (hotline, on the spot, 3), k4 (overdue), k5's late handling (overdue, 4); P3, P5 due, P5 visited;
    # yesterday: k5 reported and accepted in 5 min, P4 visited, W2 online 6 of 12
    ("community", "C0102", (2, 0, 1, 2, 0, 3.5, 2, 1, 1, 0, 0.0), (1, 1, 0, 0, 0, None, 1, 1, 1, 1, 50.0)),
    ("community", "C0201", (0, 0, 0, 0, 0, None, 0, 0, 1, 0, None), (0, 0, 0, 0, 0, None, 0, 0, 1, 0, None)),
    ("district", "D01", (4, 1, 2, 2, 2, 4.0, 3, 2, 2, 1, 33.3), (1, 1, 0, 0, 0, None, 2, 1, 2, 1, 50.0)),
    ("worker", W1, (2, 1, 1, 0, 2, 5.0, 1, 1, 1, 1, 50.0), (0, 0, 0, 0, 0, None, 1, 0, 1, 0, None)),
    ("worker", W2, (1, 0, 0, 2, 0, 4.0, 2, 1, 1, 0, 0.0), (1, 1, 0, 0, 0, None, 1, 1, 1, 1, 50.0)),  # k3 is no one's
    ("department", "D-CG", (1, 1, 1, 1, 1, 4.5, N, N, N, N, N), (1, 1, 0, 0, 0, None, N, N, N, N, N)),
    ("department", "D-GA", (0, 0, 0, 0, 0, None, N, N, N, N, N), (0, 0, 0, 0, 0, None, N, N, N, N, N)),
    ("unit", "UNIT", (0, 0, 0, 0, 1, None, N, N, N, N, N), (0, 0, 0, 0, 0, None, N, N, N, N, N)),
])
def test_people_figures_hand_computed(city, by, key, today, yesterday):
    engine, reg = city
    unit = _people_fixture(engine, reg)
    key = unit if key == "UNIT" else key
    rows = {r["key"]: r for r in report.assess(engine, reg, "day", by, local(2026, 12, 5, 15), TZ).rows}
    assert tuple(rows[key][c] for c in PEOPLE_COLS) == today
    assert tuple(rows[key]["previous"][c] for c in PEOPLE_COLS) == yesterday


def test_people_figures_scope_and_week(city):
    engine, reg = city
    _people_fixture(engine, reg)
    now = local(2026, 12, 5, 15)
    # a supervisor of C0102 only: the worker ranking holds its worker, the district its community's figures
    scoped = report.assess(engine, reg, "day", "worker", now, TZ, scope={"C0102"}).rows
    assert [r["key"] for r in scoped] == [W2]
    d = report.assess(engine, reg, "day", "district", now, TZ, scope={"C0102"}).rows
    assert [(r["key"], r["cases_reported"], r["cases_overdue"]) for r in d] == [("D01", 2, 2)]
    dept = {r["key"]: r for r in report.assess(engine, reg, "day", "department", now, TZ, scope={"C0101"}).rows}
    assert (dept["D-CG"]["cases_reported"], dept["D-CG"]["satisfaction_mean"]) == (1, 5.0)  # k5 is C0102's
    # the week from Monday 30 Nov: k5 reported this week too; P1's visit on the 1st is done this week
    week = {r["key"]: r for r in report.assess(engine, reg, "week", "community", now, TZ).rows}
    assert (week["C0102"]["cases_reported"], week["C0102"]["cases_accepted_in_time"]) == (3, 1)
    assert week["C0101"]["visits_done"] == 2


def test_morning_check_lists(city):
    from assessment import morning

    engine, reg = city
    _people_fixture(engine, reg)
    with Session(engine) as db:
        got = morning.lists(db, None, local(2026, 12, 5).date(), TZ)
        scoped = morning.lists(db, {"C0102"}, local(2026, 12, 5).date(), TZ)
    offline = {r["worker_id"]: r["detail"] for r in got["workers_offline"]}
    assert set(offline) == {W2, "W-0201-01", "W-0202-01", "W-0202-02"}  # W1 was online at 09:00
    assert offline["W-0201-01"] is None  # never online
    assert offline[W2].replace(tzinfo=UTC) == u(2026, 12, 4, 20)  # last online last night (SQLite: naive UTC)
    # W1 and W2 reported cases, W-0202-01 recorded a visit yesterday
    assert [r["worker_id"] for r in got["workers_no_entries"]] == ["W-0201-01", "W-0202-02"]
    # P2 (never visited) is W1's; P3 (overdue) is W2's; P5 was visited today, P4 is green
    assert [(r["worker_id"], r["detail"]) for r in got["visits_due"]] == [(W1, 1), (W2, 1)]
    assert [r["worker_id"] for r in scoped["visits_due"]] == [W2] and scoped["workers_no_entries"] == []


def test_sampler_counts_workers_online(city, redis_client):
    from assessment.sampler import sample_once

    engine, reg = city
    with Session(engine) as db:
        db.query(WorkerOnlineDay).delete()
        db.commit()
    redis_client.set(names.grid_online(W1), "1", ex=90)
    sessions = session_factory(engine)
    sample_once(redis_client, reg, sessions, NOW, TZ)
    redis_client.delete(names.grid_online(W1))
    sample_once(redis_client, reg, sessions, NOW + 300, TZ)
    with Session(engine) as db:
        rows = {r.worker_id: r for r in db.query(WorkerOnlineDay).all()}
        workers = set(db.scalars(select(GridWorker.id)))
    assert set(rows) == workers and all(r.samples == 2 for r in rows.values())
    assert {w: r.online for w, r in rows.items() if r.online} == {W1: 1}
    assert (rows[W1].community_id, rows[W1].district_id) == ("C0101", "D01")
    assert rows[W1].day == datetime.fromtimestamp(NOW, SH).date().isoformat()
    assert rows[W1].last_online_at.replace(tzinfo=UTC) == datetime.fromtimestamp(NOW, UTC)


@pytest.mark.postgres
def test_people_figures_on_postgres(postgres_cluster, tmp_path):
    """The JSON step details (on_time, on_site, previous assignee, satisfaction) and the worker's first cell are
    read with dialect-specific SQL: the same hand-computed figures on PostgreSQL, in a database of its own."""
    import uuid

    import psycopg

    name = "assess_" + uuid.uuid4().hex[:8]
    with psycopg.connect(host="127.0.0.1", port=postgres_cluster.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = postgres_cluster.url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    bundle = generate_city(seed=5, districts=2, communities=4, cells=8, doors=4, cameras=6, units=3, watchlist=0,
                           sensors=0, streamed_cameras=0)
    write_bundle(tmp_path / "bundle", bundle)
    engine = make_engine(url)
    try:
        import_bundle(engine, tmp_path / "bundle")
        reg = RegistryCache.load(engine)
        unit = _people_fixture(engine, reg)
        now = local(2026, 12, 5, 15)
        for by, key, want in [("district", "D01", (4, 1, 2, 2, 2, 4.0)), ("worker", W2, (1, 0, 0, 2, 0, 4.0)),
                              ("department", "D-CG", (1, 1, 1, 1, 1, 4.5)), ("unit", unit, (0, 0, 0, 0, 1, None))]:
            rows = {r["key"]: r for r in report.assess(engine, reg, "day", by, now, TZ).rows}
            assert tuple(rows[key][c] for c in CASE_COLS) == want, by
        d01 = {r["key"]: r for r in report.assess(engine, reg, "day", "district", now, TZ).rows}["D01"]
        assert (d01["visits_due"], d01["visits_done"], d01["workers_online"], d01["workers_online_rate"]) == (3, 2, 1, 33.3)
        from assessment import morning
        with Session(engine) as db:
            got = morning.lists(db, None, now.date(), TZ)
        assert [r["worker_id"] for r in got["workers_no_entries"]] == ["W-0201-01", "W-0202-02"]
        assert [(r["worker_id"], r["detail"]) for r in got["visits_due"]] == [(W1, 1), (W2, 1)]
    finally:
        engine.dispose()


def test_people_limits_follow_the_settings(city):
    """The acceptance limit and the visit cadence are the settings' (people.configure)."""
    from assessment import people
    from onescreen.settings import load_settings

    engine, reg = city
    _people_fixture(engine, reg)
    saved = dict(people.LIMITS)
    try:
        people.configure(load_settings(cases={"accept_within_min": 45}, persons={"visit_yellow_days": 60}))
        r = {x["key"]: x for x in report.assess(engine, reg, "day", "community", local(2026, 12, 5, 15), TZ).rows}
        assert r["C0101"]["cases_accepted_in_time"] == 2  # k2's 40 minutes are in time now
        assert r["C0102"]["visits_due"] == 1  # P3's yellow visit (1 Nov) is due on 31 Dec now: P5 only
    finally:
        people.LIMITS.update(saved)
