"""Alert rules as pure functions: table-driven, boundaries included (59 s vs 60 s, 9 vs 10 persons, …).

The registry here is a tiny in-memory city (a lookup table, not a stand-in for a service we ship against).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from alerts.config import parse_rules
from alerts.rules import RULES, RuleContext, RuleState
from onescreen import names
from onescreen.timeutil import local_time, on_shift

T0 = 1_795_000_000.0  # epoch s


@dataclass
class Cam:
    zones: dict[str, Any]


@dataclass
class Post:
    id: str = "POST-1"
    lat: float = 26.64
    lon: float = 118.17
    shift_start: str = "00:00"
    shift_end: str = "00:00"


@dataclass
class Node:
    lat: float = 26.6
    lon: float = 118.1


@dataclass
class City:
    watch: dict[str, str] = field(
        default_factory=lambda: {"k1": "red", "k2": "orange", "k3": "yellow", "k4": "red"}
    )
    post: Post = field(default_factory=Post)

    def camera(self, cid):
        return Cam({"gate": {"door_id": "D1"}, "square": {"door_id": None}}) if cid == "C1" else None

    def cameras_watching_door(self, door):
        return ("C1",) if door == "D1" else ()

    def post_of_unit(self, unit):
        return self.post if unit == "U1" else None

    def place_of_unit(self, unit):
        return None

    def watch_level(self, p):
        return self.watch.get(p)

    def watch_home(self, p):
        return "CM1" if p in self.watch else None

    def watched_persons(self):
        return tuple(sorted(self.watch))

    def node(self, nid):
        return Node()

    def district_of(self, nid):
        return "DS1"


PLACE = {"community_id": "CM1", "district_id": "DS1", "cell_id": "CL1", "lat": 26.64, "lon": 118.17}


def ctx(rules: dict | None = None) -> RuleContext:
    return RuleContext(City(), parse_rules(rules or {}), partitions=8)


def count(t: float, persons: int, cam: str = "C1", zone: str = "square") -> dict:
    return {
        "family": names.COUNT,
        "event_id": f"c{t}",
        "ts": int((T0 + t) * 1000),
        "camera_id": cam,
        "zone": zone,
        "persons": persons,
        **PLACE,
    }


def video(t: float, zone: str, tracks: list, persons: int | None = None) -> dict:
    return {
        "family": names.VIDEO,
        "event_id": f"v{t}",
        "ts": int((T0 + t) * 1000),
        "camera_id": "C1",
        "zones": {zone: {"persons": len(tracks) if persons is None else persons, "tracks": tracks}},
        **PLACE,
    }


def access(t: float, person: str, direction: str = "in", result: str = "denied", door: str = "D1") -> dict:
    return {
        "family": names.ACCESS,
        "event_id": f"a{t}{person}",
        "ts": int((T0 + t) * 1000),
        "door_id": door,
        "person_id": person,
        "direction": direction,
        "result": result,
        **PLACE,
    }


def patrol(t: float, north_m: float, unit: str = "U1") -> dict:
    lat = 26.64 + north_m / 111_195.0
    return {
        **PLACE,
        "family": names.PATROL,
        "event_id": f"p{t}",
        "ts": int((T0 + t) * 1000),
        "unit_id": unit,
        "lat": lat,
        "lon": 118.17,
    }


def status(t: float, online: bool, device: str = "D9", kind: str = "door") -> dict:
    return {
        "family": names.STATUS,
        "event_id": f"s{t}",
        "ts": int((T0 + t) * 1000),
        "device_id": device,
        "device_kind": kind,
        "online": online,
        **PLACE,
    }


def run(rule: str, steps: list, c: RuleContext | None = None) -> list[tuple[str, str, str]]:
    """Feed events (dicts) and timer ticks (("tick", t)) to one rule; (action, subject key, level) out."""
    return [(d.action, d.subject.key, d.level) for d in decisions(rule, steps, c)]


def decisions(rule: str, steps: list, c: RuleContext | None = None) -> list:
    """Feed events (dicts) and timer ticks (("tick", t)) to one rule; its decisions out.

    A tick fires every armed timer due by then, as the engine does.
    """
    c = c or ctx()
    r = RULES[rule]
    state = RuleState()
    timers: dict[str, float] = {}
    out = []
    for step in steps:
        if isinstance(step, tuple):
            now = T0 + step[1]
            for key, due in sorted(timers.items(), key=lambda kv: kv[1]):
                if due <= now:
                    del timers[key]
                    out += r.on_timer(state, key, now, c)
                    _apply(state, timers)
        else:
            out += r.on_event(state, step, c)
        _apply(state, timers)
    return out


def _apply(state: RuleState, timers: dict[str, float]) -> None:
    _values, changes = state.take_changes()
    for k, due in changes.items():
        if due is None:
            timers.pop(k, None)
        else:
            timers[k] = due


Z = "camera_zone:C1/square"


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([count(0, 10), count(59, 10)], []),  # 59 s: not yet
        ([count(0, 10), count(30, 10), count(60, 10)], [("raise", Z, "orange")]),  # 60 s: raise
        ([count(0, 9), count(30, 9), count(60, 9)], []),  # 9 persons: never
        ([count(0, 10), count(40, 10), ("tick", 60)], [("raise", Z, "orange")]),  # timer fires at 60 s
        ([count(0, 10), count(61, 10), count(100, 10)], []),  # a 61 s gap breaks the run
        ([count(0, 12), count(20, 11), ("tick", 59.9)], []),
        ([count(0, 30), count(20, 30), count(60, 30)], [("raise", Z, "red")]),  # red at 30
        (
            [count(0, 12), count(20, 12), count(60, 12), count(70, 30)],
            [("raise", Z, "orange"), ("update", Z, "red")],
        ),  # level change = update
        ([count(0, 12), count(20, 5), count(40, 12), count(60, 12)], []),  # the run was broken
        (
            [count(0, 12), count(20, 12), count(60, 12), count(55, 3)],
            [("raise", Z, "orange")],
        ),  # late sample ignored
    ],
)
def test_gathering(steps, expected):
    assert run("gathering", steps) == expected


def test_gathering_peak_is_the_running_maximum_before_the_raise():
    """Issue 11 finding 8: 20 persons before the raise, 17 at it: the evidence says peak 20, not 17; a new
    condition after a clear starts its own peak."""
    (raised,) = decisions("gathering", [count(0, 12), count(20, 20), count(60, 17)])
    assert raised.action == "raise" and raised.evidence["peak"] == 20 and raised.evidence["persons"] == 17
    steps = [count(0, 25), count(60, 25), count(70, 3), count(130, 3), ("tick", 400), count(500, 12), count(560, 12)]
    out = decisions("gathering", steps)
    assert [d.action for d in out] == ["raise", "clear", "raise"] and out[-1].evidence["peak"] == 12


def test_gathering_hovering_count_does_not_flap():
    steps = [count(0, 10), count(20, 10), count(60, 10)]
    t = 60
    for i in range(60):  # ten minutes hovering 9..11
        t += 10
        steps.append(count(t, (9, 10, 11)[i % 3]))
    assert run("gathering", steps) == [("raise", Z, "orange")]


def test_gathering_clears_below_band_after_hold_then_cooldown():
    steps = [
        count(0, 15),
        count(20, 15),
        count(60, 15),
        count(70, 7),
        count(99, 7),
        count(100, 7),
        count(110, 15),
        count(150, 15),
        count(170, 15),
        ("tick", 220),
        count(221, 15),
    ]
    assert run("gathering", steps) == [("raise", Z, "orange"), ("clear", Z, "orange"), ("raise", Z, "orange")]


def test_gathering_flapping_holds_the_alert():
    c = ctx(
        {
            "rules": {"gathering": {"hold_s": 0, "clear_hold_s": 0, "cooldown_s": 0}},
            "storm": {"flap_max": 2, "flap_window_s": 600},
        }
    )
    steps = []
    for i in range(6):
        steps += [count(i * 20, 15), count(i * 20 + 10, 2)]
    out = run("gathering", steps, c)
    assert out[:4] == [
        ("raise", Z, "orange"),
        ("clear", Z, "orange"),
        ("raise", Z, "orange"),
        ("clear", Z, "orange"),
    ]
    assert out[4:] == [("raise", Z, "orange"), ("update", Z, "orange")]  # then held open: no more cycles


def test_gathering_per_community_override():
    c = ctx({"overrides": {"CM1": {"gathering": {"min_persons": 20, "clear_below": 10}}}})
    assert run("gathering", [count(0, 15), count(30, 15), count(60, 15)], c) == []
    assert run("gathering", [count(0, 20), count(30, 20), count(60, 20)], c) == [("raise", Z, "orange")]


def test_gathering_from_video_zone():
    steps = [video(t, "square", [], persons=11) for t in (0, 30, 60)]
    assert run("gathering", steps) == [("raise", Z, "orange")]


DP = "door_person:D2/x"


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([access(t, "x", door="D2") for t in (0, 60, 120)], []),  # 3 attempts
        ([access(t, "x", door="D2") for t in (0, 60, 120, 180)], [("raise", DP, "yellow")]),  # 4th
        ([access(t, "x", door="D2") for t in (0, 200, 400, 600)], []),  # 600 s span: first expired
        ([access(t, "x", door="D2") for t in (0, 200, 400, 599)], [("raise", DP, "yellow")]),
        (
            [
                access(0, "x", door="D2"),
                access(1, "x", "in", "granted", "D2"),
                access(2, "x", door="D2"),
                access(3, "x", door="D2"),
                access(4, "x", door="D2"),
            ],
            [],
        ),  # a granted in resets
        ([access(t, "x", "out", "granted", door="D2") for t in (0, 1, 2, 3)], [("raise", DP, "yellow")]),
        (
            [*(access(t, "x", door="D2") for t in (0, 1, 2, 3)), access(4, "x", "in", "granted", "D2")],
            [("raise", DP, "yellow"), ("clear", DP, "yellow")],
        ),
        (
            [*(access(t, "x", door="D2") for t in (0, 1, 2, 3)), ("tick", 604)],
            [("raise", DP, "yellow"), ("clear", DP, "yellow")],
        ),  # the window ran out
        ([access(t, "x", door="D2") for t in (100, 50, 0, 150)], [("raise", DP, "yellow")]),  # out of order
    ],
)
def test_lingering_door(steps, expected):
    assert run("lingering", steps) == expected


LZ = "camera_zone:C1/square"
LG = "camera_zone:C1/gate"


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([video(0, "square", [[7, 119.9]])], []),
        ([video(0, "square", [[7, 120.0]])], [("raise", LZ, "yellow")]),
        (
            [video(0, "square", [[7, 130]]), video(1, "square", [[7, 131]])],
            [("raise", LZ, "yellow")],
        ),  # one alert
        (
            [video(0, "square", [[7, 130]]), video(1, "square", [[7, 131], [8, 125]])],
            [("raise", LZ, "yellow"), ("update", LZ, "yellow")],
        ),  # new evidence
        (
            [video(0, "square", [[7, 130]]), video(10, "square", []), video(40, "square", [])],
            [("raise", LZ, "yellow"), ("clear", LZ, "yellow")],
        ),
        # cameras publish on change: after the last entry, the engine's timer clears at quiet + clear_hold_s
        (
            [video(0, "square", [[7, 130]]), video(10, "square", []), ("tick", 39.9), ("tick", 40)],
            [("raise", LZ, "yellow"), ("clear", LZ, "yellow")],
        ),
        (
            [video(0, "square", [[7, 130]]), video(10, "square", []), video(20, "square", [[7, 150]]), ("tick", 60)],
            [("raise", LZ, "yellow")],
        ),  # back within the hold: no clear
        # fusion: a zone watching door D1
        ([access(-100, "y"), access(-50, "y"), video(0, "gate", [[7, 130]])], [("raise", LG, "yellow")]),
        ([access(-100, "y"), access(-50, "y", "in", "granted"), video(0, "gate", [[7, 130]])], []),
        ([access(-200, "y", "in", "granted"), video(0, "gate", [[7, 130]])], [("raise", LG, "yellow")]),
    ],
)
def test_lingering_video_and_fusion(steps, expected):
    assert run("lingering", steps) == expected


def test_lingering_door_carries_the_attempts():
    c, state = ctx(), RuleState()
    r = RULES["lingering"]
    out = [d for t in (0, 10, 30, 20) for d in r.on_event(state, access(t, "x", "out", "denied", door="D2"), c)]
    (d,) = out
    assert d.evidence["attempts"] == 4 and d.evidence["door_id"] == "D2"
    events = d.evidence["events"]
    assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)  # in time order, a late one slotted in
    assert {(e["person_id"], e["direction"], e["result"]) for e in events} == {("x", "out", "denied")}


def test_lingering_fusion_carries_door_evidence():
    c, state = ctx(), RuleState()
    r = RULES["lingering"]
    r.on_event(state, access(-60, "y"), c)
    (d,) = r.on_event(state, video(0, "gate", [[7, 130]]), c)
    assert d.evidence["track_id"] == 7 and d.evidence["dwell_s"] == 130
    assert d.evidence["door"]["door_id"] == "D1" and d.evidence["door"]["events"][0]["person_id"] == "y"
    assert d.camera_id == "C1"


KC = "community:CM1"


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([access(0, "k1"), access(60, "k2")], []),
        ([access(0, "k1"), access(60, "k2"), access(120, "k3")], [("raise", KC, "red")]),  # 3rd person
        ([access(0, "k1"), access(60, "k1"), access(120, "k2")], []),  # not distinct
        ([access(0, "k1"), access(60, "k2"), access(1800, "k3")], []),  # 30 min: k1 expired
        ([access(0, "k1"), access(60, "k2"), access(1799, "k3")], [("raise", KC, "red")]),
        (
            [access(0, "k1"), access(1, "k2"), access(2, "k3"), access(3, "k4")],
            [("raise", KC, "red"), ("update", KC, "red")],
        ),
        (
            [access(0, "k1"), access(1, "k2"), access(2, "k3"), ("tick", 1801)],
            [("raise", KC, "red"), ("clear", KC, "red")],
        ),
        ([access(0, "nobody"), access(1, "k2"), access(2, "k3")], []),
    ],
)
def test_key_person_gathering(steps, expected):
    assert run("key_person_gathering", steps) == expected


def watch(t: float, person: str) -> dict:
    return RULES["key_person_missing"].derive(access(t, person), ctx())[0][1]


H = 3600


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([watch(0, "k1"), ("tick", 24 * H)], []),  # exactly 24 h: not "more than"
        ([watch(0, "k1"), ("tick", 24 * H), ("tick", 24 * H + 1)], [("raise", "person:k1", "orange")]),
        ([watch(0, "k2"), ("tick", 24 * H + 1)], []),  # orange: 72 h
        ([watch(0, "k2"), ("tick", 72 * H + 1)], [("raise", "person:k2", "orange")]),
        (
            [watch(0, "k1"), ("tick", 25 * H), watch(25 * H + 5, "k1")],
            [("raise", "person:k1", "orange"), ("clear", "person:k1", "orange")],
        ),
        ([watch(0, "k1"), watch(20 * H, "k1"), ("tick", 25 * H)], []),  # seen again: clock restarts
    ],
)
def test_key_person_missing(steps, expected):
    assert run("key_person_missing", steps) == expected


def test_key_person_missing_derives_only_red_orange_to_home_partition():
    r, c = RULES["key_person_missing"], ctx()
    assert r.derive(access(0, "k3"), c) == [] and r.derive(access(0, "zz"), c) == []
    ((part, doc),) = r.derive(access(0, "k1"), c)
    assert part == names.partition_of("CM1", 8) and doc["family"] == names.WATCH


def test_key_person_missing_starts_the_clock_of_never_seen_persons():
    r, c, state = RULES["key_person_missing"], ctx(), RuleState()
    r.on_start(state, names.partition_of("CM1", 8), T0, c)
    _values, timers = state.take_changes()
    assert timers == {"person:k1": T0 + 24 * H, "person:k2": T0 + 72 * H, "person:k4": T0 + 24 * H}


U = "unit:U1"


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([patrol(0, 250), patrol(299, 250)], []),
        ([patrol(0, 250), patrol(300, 250)], [("raise", U, "yellow")]),
        ([patrol(0, 199), patrol(400, 199)], []),  # inside 200 m
        ([patrol(0, 201), patrol(100, 201), ("tick", 300)], [("raise", U, "yellow")]),
        (
            [patrol(0, 250), patrol(300, 250), patrol(310, 10)],
            [("raise", U, "yellow"), ("clear", U, "yellow")],
        ),
        ([patrol(0, 10), ("tick", 299)], []),  # silent 299 s
        ([patrol(0, 10), ("tick", 300)], [("raise", U, "yellow")]),  # silent 300 s
    ],
)
def test_off_post(steps, expected):
    assert run("off_post", steps) == expected


def test_off_post_distance_boundary():
    """200.0 m is at the limit (not "more than"); 200.5 m is away."""
    assert run("off_post", [patrol(0, 200.0 - 0.3), patrol(301, 200.0 - 0.3)]) == []
    assert run("off_post", [patrol(0, 200.5), patrol(301, 200.5)]) == [("raise", U, "yellow")]


@pytest.mark.parametrize(
    "start, end, local_hm, expected",
    [
        ("08:00", "20:00", "07:59", False),
        ("08:00", "20:00", "08:00", True),
        ("08:00", "20:00", "20:00", False),
        ("20:00", "08:00", "23:00", True),
        ("20:00", "08:00", "07:59", True),
        ("20:00", "08:00", "12:00", False),
        ("00:00", "00:00", "12:00", True),
    ],
)
def test_on_shift(start, end, local_hm, expected):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    h, m = map(int, local_hm.split(":"))
    ts = datetime(2026, 11, 22, h, m, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    assert on_shift(start, end, local_time(ts, "Asia/Shanghai")) is expected


def test_off_post_outside_shift_is_silent():
    c = ctx()
    c.registry.post = Post(shift_start="00:00", shift_end="00:01")
    assert run("off_post", [patrol(0, 900), patrol(400, 900)], c) == []


DV = "device:D9"
CAM = "device:C1"


@pytest.mark.parametrize(
    "steps, expected",
    [
        ([status(0, True), ("tick", 299)], []),
        ([status(0, True), ("tick", 300)], [("raise", DV, "yellow")]),
        ([status(0, True), status(200, False), ("tick", 300)], []),  # last will at 200
        ([status(0, True), status(200, False), ("tick", 500)], [("raise", DV, "yellow")]),
        (
            [status(0, True), ("tick", 300), status(301, True)],
            [("raise", DV, "yellow"), ("clear", DV, "yellow")],
        ),
        ([access(0, "x", door="D9"), ("tick", 200), access(250, "x", door="D9"), ("tick", 500)], []),
        ([video(0, "square", []), ("tick", 59)], []),
        ([video(0, "square", []), ("tick", 60)], [("raise", CAM, "yellow")]),  # camera: 60 s without frame
        (
            [video(0, "square", []), status(30, True, "C1", "camera"), ("tick", 60)],
            [("raise", CAM, "yellow")],
        ),
        (
            [video(0, "square", []), ("tick", 60), video(61, "square", [])],
            [("raise", CAM, "yellow"), ("clear", CAM, "yellow")],
        ),
        ([status(0, True, "P-1", "unit"), ("tick", 1000)], []),  # patrol terminals: off_post
    ],
)
def test_device_offline(steps, expected):
    assert run("device_offline", steps) == expected


def test_disabled_rule_is_silent():
    c = ctx({"rules": {"gathering": {"enabled": False}}})
    assert run("gathering", [count(0, 50), count(61, 50)], c) == []
