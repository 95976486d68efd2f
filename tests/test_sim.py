"""The simulator against a real Mosquitto and Redis: every message it or a scenario publishes is checked
against the hand-written CONTRACT JSON Schemas, and the scenarios produce what their alert rule needs."""

from __future__ import annotations

import json
import math
import random
import socket
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from onescreen import events, names, schemas
from onescreen.db.session import make_engine
from onescreen.geo import distance_m
from onescreen.registry.bundle import write_bundle
from onescreen.registry.importer import import_bundle
from onescreen.services import free_port
from onescreen.timeutil import on_shift, parse_ts
from sim import control, payloads
from sim.city import SimCity
from sim.citygen import generate_city
from sim.rhythm import Ticker, activity
from sim.runner import Simulator
from sim.scenarios import SCENARIOS, ScenarioError, run_scenario

pytestmark = pytest.mark.services

FAMILY = {"access": "access", "patrol": "patrol_position", "video": "edge_count", "device": "device_status"}
VALIDATORS = {name: schemas.validator(name) for name in schemas.NAMES}
SMALL = dict(districts=2, communities=4, cells=10, doors=16, cameras=10, units=3, watchlist=6, sensors=2,
             streamed_cameras=2)


@pytest.fixture(scope="module")
def small_bundle():
    return generate_city(seed=11, **SMALL)


@pytest.fixture
def city_db(settings, small_bundle, tmp_path):
    """The small city imported into the test's SQLite database, as `onescreen city import` would."""
    write_bundle(tmp_path / "city", small_bundle)
    engine = make_engine(settings.database.url)
    import_bundle(engine, tmp_path / "city")
    engine.dispose()
    return small_bundle


class Listener:
    """A plain MQTT subscriber on city/#, collecting (topic, payload bytes, receive time)."""

    def __init__(self, broker):
        self.messages: list[tuple[str, bytes, float]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        subscribed = threading.Event()
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload, time.time()))
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("city/#", qos=1)
        self.client.loop_start()
        assert subscribed.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def decoded(self) -> list[tuple[str, dict]]:
        return [(t, json.loads(p)) for t, p, _ in self.messages]


@pytest.fixture
def listener(mqtt_broker):
    lst = Listener(mqtt_broker)
    yield lst
    lst.close()


def check_contract(topic: str, payload: dict) -> None:
    """Schema-valid, ids equal to the topic's, and accepted by the ingest payload models too."""
    parts = topic.split("/")
    family = FAMILY[parts[1]]
    errors = sorted(VALIDATORS[family].iter_errors(payload), key=str)
    assert not errors, f"{topic}: {[e.message for e in errors]}"
    topic_id = parts[2]
    key = {"access": "door_id", "patrol_position": "unit_id", "edge_count": "camera_id"}.get(family)
    if key and key in payload:
        assert payload[key] == topic_id, topic
    model = {"access": events.AccessPayload, "patrol_position": events.PatrolPayload,
             "edge_count": events.CountPayload, "device_status": events.StatusPayload}[family]
    model.model_validate(payload)


def run_sim(settings, seconds: float, **kwargs) -> Simulator:
    kwargs = {"with_rtsp": False, "heartbeat_period_s": 1.5, "patrol_period_s": 0.5, "count_period_s": 0.5,
              "watch_interval_s": 2.0, "tick_s": 0.05, **kwargs}
    sim = Simulator(settings, "test", **kwargs)
    thread = threading.Thread(target=sim.run, daemon=True)
    thread.start()
    time.sleep(seconds)
    sim.stop()
    thread.join(10)
    assert not thread.is_alive()
    return sim


# ------------------------------------------------------------------ the running simulator
def test_simulator_publishes_contract_messages(settings, city_db, listener):
    settings = settings.model_copy(update={"sim": settings.sim.model_copy(update={"rate": 300.0})})
    sim = run_sim(settings, 4.0)
    time.sleep(0.3)
    msgs = listener.decoded()
    families = Counter(t.split("/")[1] for t, _ in msgs)
    assert set(families) == set(FAMILY), families
    assert sum(sim.counts.values()) == len(msgs)  # QoS 1, nothing lost

    devices = {d.id for kind in ("doors", "cameras", "sensors", "units") for d in getattr(city_db, kind)}
    now = datetime.now(UTC)
    ts_kinds = Counter()
    for (topic, payload), (_, raw, _) in zip(msgs, listener.messages, strict=True):
        assert len(raw) < 64 * 1024
        check_contract(topic, payload)
        assert topic.split("/")[2] in devices, topic
        ts_kinds[type(payload["ts"]).__name__] += 1
        assert abs((parse_ts(payload["ts"]) - now).total_seconds()) < 10
        if isinstance(payload["ts"], str):
            assert payload["ts"].endswith("+08:00")
    assert ts_kinds["str"] > ts_kinds["int"] > 0  # mostly ISO with offset, some epoch ms

    access = [p for t, p in msgs if t.startswith("city/access/")]
    denied = sum(p["result"] == "denied" for p in access) / len(access)
    assert 0.0 < denied < 0.2
    assert len({p["event_id"] for p in access}) == len(access)
    # watched persons turn up (watch_interval_s is short here)
    assert {p["person_id"] for p in access} & {w.person_id for w in city_db.watchlist}
    # normal edge counts stay below the gathering threshold
    assert max(p["persons"] for t, p in msgs if t.endswith("/count")) < 10
    posts = {p.id: p for p in city_db.posts}
    unit_post = {u.id: posts[u.post_id] for u in city_db.units}
    for t, p in msgs:
        if t.endswith("/position") and p.get("status") != "off_duty":
            post = unit_post[t.split("/")[2]]
            assert distance_m(p["lat"], p["lon"], post.lat, post.lon) < post.radius_m


def test_scenario_commands_reach_the_simulator(settings, city_db, listener, redis_client):
    city = SimCity.from_bundle(city_db)
    local = datetime.now(timezone(timedelta(hours=8)))
    unit = next(u for u in city.units if on_shift(u.post.shift_start, u.post.shift_end, local))
    camera = next(c for c in city.cameras if c.streamed)
    person = city.watchlist[0]
    control.send(redis_client, "off_post", unit_id=unit.id, distance_m=400, duration_s=60)
    control.send(redis_client, "camera_down", camera_id=camera.id, duration_s=60)
    control.send(redis_client, "exclude_person", person_id=person.person_id, duration_s=None)
    hider = next(w for w in city.watchlist if w.level in ("red", "orange") and w.person_id != person.person_id)
    away = next(c for c in city.doors_by_community if c != hider.home_community_id)
    control.send(redis_client, "hide_person", person_id=hider.person_id, community_id=away, duration_s=60)
    control.send(redis_client, "off_post", unit_id="P-999", duration_s=60)  # unknown: logged, ignored
    sim = run_sim(settings, 3.0, watch_interval_s=0.3)
    assert redis_client.llen(names.SIM_CONTROL) == 0
    msgs = listener.decoded()
    fixes = [p for t, p in msgs if t == f"city/patrol/{unit.id}/position"]
    assert fixes and all(distance_m(p["lat"], p["lon"], unit.post.lat, unit.post.lon) > 350 for p in fixes)
    assert not [t for t, _ in msgs if t == f"city/device/{camera.id}/status"]
    assert not [p for t, p in msgs if t.startswith("city/access/") and p["person_id"] == person.person_id]
    assert sim.overrides.summary() == {"excluded": 1, "away": 1, "silent": 1, "muted": 0, "hiding": 1}
    # the hiding person is seen at once, and only at the doors of the community it keeps to
    doors = {d.id for d in city.doors_by_community[away]}
    hid = [t.split("/")[2] for t, p in msgs if t.startswith("city/access/") and p["person_id"] == hider.person_id]
    assert hid and set(hid) <= doors


def _rtsp_status(url: str) -> int:
    """Status code of an RTSP DESCRIBE: 200 while a mount plays, 404 once it is down."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode())
        return int(sock.recv(1024).split(b" ", 2)[1])


def _await_status(url: str, status: int, timeout: float = 8.0) -> int:
    """Poll until the mount answers ``status``; spaced out because back-to-back bare DESCRIBEs of one shared
    media can get a transient 503 while the server unprepares it after the previous client left."""
    deadline = time.monotonic() + timeout
    while (got := _rtsp_status(url)) != status and time.monotonic() < deadline:
        time.sleep(0.3)
    time.sleep(0.3)
    return got


def test_camera_down_takes_the_rtsp_mount_down(settings, redis_client):
    """The simulator serves its streamed cameras; camera_down takes one mount away for a while."""
    bundle = generate_city(seed=11, **{**SMALL, "rtsp_port": free_port()})
    city = SimCity.from_bundle(bundle)
    down, up = [c for c in city.cameras if c.streamed]
    sim = Simulator(settings, "rtsp", city=city, with_rtsp=True, tick_s=0.05)
    thread = threading.Thread(target=sim.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while sim.rtsp is None and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sim.rtsp is not None and sim.rtsp.running
        assert _await_status(down.rtsp_url, 200) == 200 and _await_status(up.rtsp_url, 200) == 200
        control.send(redis_client, "camera_down", camera_id=down.id, duration_s=2.0)
        assert _await_status(down.rtsp_url, 404, timeout=1.5) == 404
        assert _await_status(up.rtsp_url, 200) == 200
        assert _await_status(down.rtsp_url, 200) == 200  # back after the duration
        # the RTSP server crashes: the simulator restarts it on the same port (onescreen.supervise)
        crashed = sim.rtsp._proc
        crashed.kill()
        crashed.wait(10)
        deadline, status = time.monotonic() + 20, None
        while status != 200 and time.monotonic() < deadline:
            try:
                status = _rtsp_status(up.rtsp_url)
            except OSError:  # refused until the new server listens
                time.sleep(0.2)
        assert status == 200 and sim.rtsp.running and sim.rtsp._proc.pid != crashed.pid
    finally:
        sim.stop()
        thread.join(20)
    assert sim.rtsp is not None and not sim.rtsp.running


def test_scenario_registry_shape():
    assert set(SCENARIOS) == {"gathering", "lingering", "key_person_gathering", "key_person_missing",
                              "off_post", "camera_down", "key_person_hiding",
                              "entrance_surge", "dispute", "hazard"}
    for name, cls in SCENARIOS.items():
        assert cls.name == name and cls.rule and cls.default_duration_s > 0
        for method in ("pick", "describe", "run"):
            assert callable(getattr(cls, method))


def test_gathering_scenario(settings, small_bundle, listener, redis_client):
    out: list[str] = []
    city = SimCity.from_bundle(small_bundle)
    sc = run_scenario(settings, "gathering", duration=3.0, city=city, out=out.append, seed=1, period_s=0.2)
    time.sleep(0.3)
    msgs = [(t, p) for t, p in listener.decoded() if t.endswith("/count")]
    assert len(msgs) == sc.published >= 10
    assert {t for t, _ in msgs} == {f"city/video/{sc.camera_id}/count"}
    for t, p in msgs:
        check_contract(t, p)
        assert p["zone"] == sc.zone and p["persons"] >= 10  # the rule: a zone holds >= 10 persons
    assert "gathering" in out[0] and "orange" in out[0]
    # it asked the running simulator to keep its own (low) counts off that camera meanwhile
    cmd = json.loads(redis_client.lpop(names.SIM_CONTROL))
    assert cmd["cmd"] == "mute_counts" and cmd["device_id"] == sc.camera_id


def test_lingering_scenario(settings, small_bundle, listener):
    out: list[str] = []
    city = SimCity.from_bundle(small_bundle)
    sc = run_scenario(settings, "lingering", duration=1.2, city=city, out=out.append, seed=2)
    time.sleep(0.3)
    msgs = [(t, p) for t, p in listener.decoded() if t.startswith("city/access/")]
    for t, p in msgs:
        check_contract(t, p)
    mine = [p for t, p in msgs if p["person_id"] == sc.person_id and t == f"city/access/{sc.door_id}"]
    assert len(mine) >= 4  # the rule: >= 4 events of one person at one door ...
    assert not [p for p in mine if p["direction"] == "in" and p["result"] == "granted"]  # ... never let in
    spread = parse_ts(mine[-1]["ts"]) - parse_ts(mine[0]["ts"])
    assert spread < timedelta(minutes=10)
    assert "lingering" in out[0] and sc.door_id in out[0]


def test_key_person_gathering_scenario(settings, small_bundle, listener):
    sc = run_scenario(settings, "key_person_gathering", duration=0.6, city=SimCity.from_bundle(small_bundle),
                      out=lambda _s: None, seed=3)
    time.sleep(0.3)
    city = SimCity.from_bundle(small_bundle)
    doors = {d.id for d in city.doors_by_community[sc.community_id]}
    watched = {w.person_id for w in small_bundle.watchlist}
    seen = {p["person_id"] for t, p in listener.decoded()
            if t.split("/")[-1] in doors and p["person_id"] in watched}
    assert len(seen) >= 3


def test_cooperative_scenarios_send_commands(settings, small_bundle, redis_client):
    city = SimCity.from_bundle(small_bundle)
    out: list[str] = []
    run_scenario(settings, "key_person_missing", city=city, out=out.append, seed=4)
    run_scenario(settings, "camera_down", city=city, out=out.append, seed=4, duration=90)
    run_scenario(settings, "off_post", city=city, out=out.append, seed=4, target=city.units[0].id)
    run_scenario(settings, "key_person_hiding", city=city, out=out.append, seed=4)
    cmds = [json.loads(x) for x in redis_client.lrange(names.SIM_CONTROL, 0, -1)]
    assert [c["cmd"] for c in cmds] == ["exclude_person", "camera_down", "off_post", "hide_person"]
    hide = cmds[3]
    home = {w.person_id: w.home_community_id for w in city.watchlist}
    assert hide["person_id"] in {w.person_id for w in city.watchlist if w.level == "red"} and hide["community_id"] != home[hide["person_id"]]
    assert "key_person_hiding (疑似隐匿, orange)" in out[-2] and "3rd distinct local day" in out[-2]
    red = {w.person_id for w in city.watchlist if w.level == "red"}
    assert cmds[0]["person_id"] in red and cmds[0]["duration_s"] is None
    assert "24 h" in out[0] and "no running simulator" in out[1]
    with pytest.raises(ScenarioError):
        run_scenario(settings, "camera_down", city=city, target="C-9999-99", out=out.append)


# ------------------------------------------------------------------ pure parts
# an id that can be one topic level: no separator, no wildcards, no NUL
TOPIC_LEVEL = st.text(st.characters(exclude_characters="/+#\x00", exclude_categories=("Cs",)), min_size=1,
                      max_size=128)


@hsettings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), ident=TOPIC_LEVEL,
       when=st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)),
       persons=st.integers(0, 10_000), lat=st.floats(-90, 90), lon=st.floats(-180, 180))
def test_schemas_accept_what_the_builders_make(seed, ident, when, persons, lat, lon):
    rng = random.Random(seed)
    for direction in ("in", "out", "unknown"):
        for result in ("granted", "denied"):
            doc = payloads.access(rng, when, ident, ident, direction=direction, result=result,
                                  resident=rng.random() < 0.5)
            check_contract(f"city/access/{ident}", doc)
    status = rng.choice(["patrolling", "on_post", "responding", "off_duty"])
    doc = payloads.patrol(rng, when, ident, lat, lon, accuracy_m=rng.uniform(0, 50), status=status)
    check_contract(f"city/patrol/{ident}/position", doc)
    check_contract(f"city/video/{ident}/count", payloads.count(rng, when, ident, "square", persons))
    check_contract(f"city/device/{ident}/status", payloads.status(rng, when, online=rng.random() < 0.5))


OK_ACCESS = {"event_id": "e1", "ts": "2026-11-22T21:15:30.123+08:00", "person_id": "p-1", "direction": "in",
             "result": "granted"}


@pytest.mark.parametrize("schema, doc, ok", [
    ("access", OK_ACCESS, True),
    ("access", {**OK_ACCESS, "ts": 1795350312594}, True),
    ("access", {**OK_ACCESS, "ts": "2026-11-22T21:15:30Z"}, True),
    ("access", {**OK_ACCESS, "vendor_field": 1}, True),  # the CONTRACT may be extended
    ("access", {k: v for k, v in OK_ACCESS.items() if k != "person_id"}, False),
    ("access", {**OK_ACCESS, "ts": "2026-11-22T21:15:30"}, False),  # no offset
    ("access", {**OK_ACCESS, "ts": True}, False),
    ("access", {**OK_ACCESS, "ts": 1.5}, False),
    ("access", {**OK_ACCESS, "direction": "up"}, False),
    ("access", {**OK_ACCESS, "method": "iris"}, False),
    ("access", {**OK_ACCESS, "event_id": "x" * 129}, False),
    ("access", {**OK_ACCESS, "resident": "yes"}, False),
    ("patrol_position", {"ts": 0, "lat": 26.6, "lon": 118.1}, True),
    ("patrol_position", {"ts": 0, "lat": 91, "lon": 118.1}, False),
    ("patrol_position", {"ts": 0, "lat": 26.6, "lon": 118.1, "status": "asleep"}, False),
    ("patrol_position", {"ts": 0, "lat": 26.6, "lon": 118.1, "accuracy_m": -1}, False),
    ("edge_count", {"ts": 0, "persons": 10_000}, True),
    ("edge_count", {"ts": 0, "persons": 10_001}, False),
    ("edge_count", {"ts": 0, "persons": 3.5}, False),
    ("edge_count", {"ts": 0}, False),
    ("device_status", {"ts": 0, "online": False}, True),
    ("device_status", {"ts": 0, "online": "false"}, False),
    ("device_status", {"online": True}, False),
])
def test_schemas_table(schema, doc, ok):
    assert VALIDATORS[schema].is_valid(doc) is ok



def test_ticker_spreads_work_evenly():
    """19,000 heartbeats a minute arrive as a flat ~317/s, each device exactly once per period."""
    items = [f"C-{i:05d}" for i in range(19_000)]
    ticker = Ticker(items, 60.0)
    ticker.due(1000.0)
    per_second = [len(ticker.due(1000.0 + s)) for s in range(1, 61)]
    assert sum(per_second) == len(items)
    assert max(per_second) < 1.3 * len(items) / 60
    assert activity(datetime(2026, 1, 1, 8)) > 5 * activity(datetime(2026, 1, 1, 3))
    assert math.isclose(activity(datetime(2026, 1, 1, 18)), 1.0)


def test_watched_persons_have_a_routine():
    """Home and a workplace of its own; the workplace is never home and stays the same."""
    from sim.sources import work_community

    communities = ["C1", "C2", "C3"]
    for pid in ("p-000001", "p-abcdef", "p-123456"):
        work = work_community(pid, "C2", communities)
        assert work in ("C1", "C3") and work == work_community(pid, "C2", communities)
    assert work_community("p-1", "C1", ["C1"]) is None


def test_hiding_scenario_says_when_a_recent_home_sighting_holds_the_alert_back(settings, small_bundle,
                                                                                 redis_client):
    from onescreen.db.models import EventArchive
    from onescreen.db.session import session_factory

    city = SimCity.from_bundle(small_bundle)
    person = next(w for w in city.watchlist if w.level in ("red", "orange"))
    engine = make_engine(settings.database.url)
    with session_factory(engine)() as s:
        s.add(EventArchive(family=names.WATCH, event_id="w-home", ts=int((time.time() - 86_400) * 1000),
                           community_id=person.home_community_id, doc={"person_id": person.person_id}))
        s.commit()
    engine.dispose()
    out: list[str] = []
    run_scenario(settings, "key_person_hiding", target=person.person_id, city=city, out=out.append, seed=1)
    assert "leaves the 7-day window" in out[0] and "key_person_hiding (疑似隐匿, orange)" in out[0]
