"""The ``entrance_surge`` rule (出入异常): pure, table-driven, boundaries included (29 vs 30, 300 s, 23:00/05:00)."""

from __future__ import annotations

import pytest

from alerts.rules import RULES
from onescreen import names
from tests.test_rules import PLACE, T0, ctx, decisions, run

NIGHT = 15_800.0  # T0 is 19:06:40 local (Asia/Shanghai); T0 + NIGHT is 23:30:00
DAY = NIGHT - 12 * 3600  # 11:30 local
S = "camera_zone:C1/gate"


def cross(t: float, n_in: int = 0, n_out: int = 0, line: str = "gate", at: float = NIGHT) -> dict:
    per = {d: n for d, n in (("in", n_in), ("out", n_out)) if n}
    return {"family": names.VIDEO, "event_id": f"x{t}{line}", "ts": int((T0 + at + t) * 1000), "camera_id": "C1",
            "zones": {"*": {"persons": 1, "tracks": []}}, "crossings": {line: per}, **PLACE}


def tick(t: float, at: float = NIGHT) -> tuple[str, float]:
    return ("tick", at + t)


def each(n: int, t0: float = 0.0, step: float = 5.0, **kw) -> list[dict]:
    """n single crossings ``step`` seconds apart."""
    return [cross(t0 + i * step, **kw) for i in range(n)]


CASES = [  # (case, steps, expected)
    ("29 in within 5 min: nothing", each(29, n_in=1), []),
    ("30 in within 5 min: raise", each(30, n_in=1), [("raise", S, "yellow")]),
    ("30 out within 5 min: raise", each(30, n_out=1), [("raise", S, "yellow")]),
    ("15 in + 15 out: not one direction", each(15, n_in=1) + each(15, 2.5, n_out=1), []),
    ("a batch of 30 on one frame", [cross(0, n_in=30)], [("raise", S, "yellow")]),
    ("30 spread over more than 5 min", each(30, step=10.4, n_in=1), []),
    ("exactly at the window's edge", [cross(0, n_in=15), cross(299.9, n_in=15)], [("raise", S, "yellow")]),
    ("just outside the window", [cross(0, n_in=15), cross(300, n_in=15)], []),
    ("in the day: nothing", each(40, n_in=1, at=DAY), []),
    ("at 05:00 the watch is over", [cross(0, n_in=30, at=NIGHT + 5.5 * 3600)], []),
    ("at 04:59 still watched", [cross(0, n_in=30, at=NIGHT + 5.5 * 3600 - 60)], [("raise", S, "yellow")]),
    ("at 23:00 the watch starts", [cross(0, n_in=30, at=NIGHT - 1800)], [("raise", S, "yellow")]),
    ("at 22:59 not yet", [cross(0, n_in=30, at=NIGHT - 1860)], []),
    ("clears when the window empties", [cross(0, n_in=30), tick(299), tick(300)],
     [("raise", S, "yellow"), ("clear", S, "yellow")]),
    ("updates at each multiple, not each person", [cross(0, n_in=30)] + each(31, 1, 1, n_in=1),
     [("raise", S, "yellow"), ("update", S, "yellow")]),
    ("two lines, two subjects", [cross(0, n_in=30), cross(1, n_in=30, line="side")],
     [("raise", S, "yellow"), ("raise", "camera_zone:C1/side", "yellow")]),
    ("cooldown after a clear", [cross(0, n_in=30), tick(300), cross(301, n_in=30), tick(601), cross(901, n_in=30)],
     [("raise", S, "yellow"), ("clear", S, "yellow"), ("raise", S, "yellow")]),
    ("a late frame older than the window is ignored", [cross(400, n_in=29), cross(0, n_in=5)], []),
]


@pytest.mark.parametrize(("case", "steps", "expected"), CASES, ids=[c[0] for c in CASES])
def test_entrance_surge(case, steps, expected):
    assert run("entrance_surge", steps) == expected


def test_configured_thresholds_and_hours():
    c = ctx({"rules": {"entrance_surge": {"min_crossings": 5, "window_s": 60, "start": "08:00", "end": "20:00",
                                          "level": "orange"}}})
    assert run("entrance_surge", [cross(i, n_in=1, at=DAY) for i in range(5)], c) == [("raise", S, "orange")]
    assert run("entrance_surge", [cross(i, n_in=1) for i in range(5)], c) == []  # 23:30 is outside 08-20


def test_disabled_and_per_community_override():
    off = ctx({"rules": {"entrance_surge": {"enabled": False}}})
    assert run("entrance_surge", [cross(0, n_in=50)], off) == []
    lower = ctx({"overrides": {"CM1": {"entrance_surge": {"min_crossings": 10}}}})
    assert run("entrance_surge", [cross(0, n_in=10)], lower) == [("raise", S, "yellow")]


def test_evidence_and_camera():
    (d,) = decisions("entrance_surge", [cross(0, n_in=20), cross(10, n_in=12)])
    assert d.camera_id == "C1" and d.location == PLACE
    assert {k: v for k, v in d.evidence.items() if k != "since"} == {
        "crossings": 32, "direction": "in", "window_s": 300.0, "camera_id": "C1", "line": "gate",
        "hours": "23:00-05:00"}
    assert d.evidence["since"].startswith("2026-11-18T23:30:00")


def test_frames_without_crossings_cost_nothing():
    r = RULES["entrance_surge"]
    ev = cross(0)
    ev.pop("crossings")
    from alerts.rules import RuleState

    state = RuleState()
    assert r.on_event(state, ev, ctx()) == [] and state.take_changes() == ({}, {})


def test_bad_hours_are_refused():
    from alerts.config import RulesError, parse_rules

    with pytest.raises(RulesError, match="entrance_surge.start"):
        parse_rules({"rules": {"entrance_surge": {"start": "25:00"}}})


def test_replayable_over_archived_events():
    """The same events through ``alerts.replay.Replayer`` (as ``onescreen alerts replay`` does): one alert."""
    from alerts.config import parse_rules
    from alerts.replay import Replayer
    from tests.test_rules import City

    r = Replayer(City(), parse_rules({}), "Asia/Shanghai", 8)
    r.start(T0 + NIGHT - 1)
    for ev in each(35, n_in=1) + [cross(400, n_in=1)]:
        r.feed(ev)
    r.advance(T0 + NIGHT + 1000)
    assert [(a.rule, a.subject, a.level, a.raises) for a in r.report.alerts if a.rule == "entrance_surge"] == [
        ("entrance_surge", "C1/gate", "yellow", 1)]
