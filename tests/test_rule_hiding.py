"""``key_person_hiding`` (疑似隐匿): table-driven over local days, and properties over day boundaries and zones.

The property test drives the rule as the engine does (timers fire when due, before a later event) and compares
its open/closed condition after every step with a direct reading of CONTRACT §3 over the sightings so far.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.config import parse_rules
from alerts.rules import RULES, RuleContext, RuleState
from alerts.rules.key_person_hiding import local_day
from onescreen import names
from tests.test_rules import City

SH = "Asia/Shanghai"
DAY0 = datetime(2026, 11, 2, tzinfo=ZoneInfo(SH)).timestamp()  # local midnight, a Monday
H = 3600.0


def ctx(tz: str = SH, rules: dict | None = None, watch: dict | None = None) -> RuleContext:
    city = City(watch=watch) if watch else City()
    return RuleContext(city, parse_rules(rules or {}), tz=tz, partitions=8)


def seen(t: float, person: str = "k1", home: bool = False, n: int = 0) -> dict:
    """A re-routed sighting (``watch`` event) at DAY0 + t seconds; outside the home community CM1 unless home."""
    community = "CM1" if home else "CM2"
    return {"family": names.WATCH, "event_id": f"w{t}{person}{n}", "ts": int((DAY0 + t) * 1000),
            "person_id": person, "door_id": "D9", "home_community_id": "CM1", "community_id": community,
            "district_id": "DS1", "cell_id": "CL9", "lat": 26.6, "lon": 118.1}


def drive(steps: list, c: RuleContext) -> list:
    """Events (dicts) and ticks (("tick", t)); every timer due by an event's time fires before it."""
    rule, state, timers, out = RULES["key_person_hiding"], RuleState(), {}, []

    def fire(now: float) -> None:
        nonlocal out
        while True:
            due = sorted((d, k) for k, d in timers.items() if d <= now)
            if not due:
                return
            d, k = due[0]
            del timers[k]
            out += rule.on_timer(state, k, d, c)
            _apply(state, timers)

    for step in steps:
        if isinstance(step, tuple):
            fire(DAY0 + step[1])
        else:
            fire(step["ts"] / 1000)
            out += rule.on_event(state, step, c)
            _apply(state, timers)
    return out, state


def _apply(state: RuleState, timers: dict) -> None:
    _values, changes = state.take_changes()
    for k, due in changes.items():
        if due is None:
            timers.pop(k, None)
        else:
            timers[k] = due


def run(steps: list, c: RuleContext | None = None) -> list[tuple[str, int]]:
    out, _state = drive(steps, c or ctx())
    return [(d.action, d.evidence["days_away"]) for d in out]


D = 24 * H
P = "person:k1"


@pytest.mark.parametrize("steps, expected", [
    ([seen(10 * H), seen(D + 10 * H), seen(2 * D + 10 * H)], [("raise", 3)]),
    ([seen(10 * H), seen(D + 10 * H)], []),                                        # two days only
    ([seen(1 * H), seen(2 * H, n=1), seen(23 * H), seen(D + H)], []),              # many sightings, two days
    ([seen(D - 1), seen(D), seen(2 * D + H)], [("raise", 3)]),                      # 23:59:59 and 00:00 local
    ([seen(10 * H), seen(D + H, home=True), seen(D + 10 * H), seen(2 * D)], []),    # seen at home in the window
    ([seen(0, home=True), seen(D), seen(2 * D), seen(3 * D), ("tick", 7 * D - 1)], []),
    ([seen(0, home=True), seen(D), seen(2 * D), seen(3 * D), ("tick", 7 * D)], [("raise", 3)]),  # home day left
    ([seen(0), seen(D), seen(2 * D), seen(3 * D, home=True)], [("raise", 3), ("clear", 3)]),
    ([seen(0), seen(D), seen(2 * D), ("tick", 7 * D - 1)], [("raise", 3)]),
    ([seen(0), seen(D), seen(2 * D), ("tick", 7 * D)], [("raise", 3), ("clear", 2)]),  # day 0 left the window
    ([seen(0), seen(D), seen(2 * D), seen(3 * D), seen(3 * D + H)], [("raise", 3), ("update", 4)]),
    ([seen(0), seen(3 * D), seen(6 * D + 23 * H)], [("raise", 3)]),                 # days 0, 3, 6: one window
    ([seen(0), seen(3 * D), seen(7 * D)], []),                                      # days 0, 3, 7: not
    ([seen(0, "k3"), seen(D, "k3"), seen(2 * D, "k3")], []),                        # yellow: not watched
    ([seen(0, "k2"), seen(D, "k2"), seen(2 * D, "k2")], [("raise", 3)]),            # orange
    ([seen(2 * D), seen(D), seen(0)], [("raise", 3)]),                              # late events, same window
])
def test_hiding(steps, expected):
    assert run(steps) == expected


def test_hiding_level_evidence_and_config():
    out, _ = drive([seen(0), seen(D), seen(2 * D)], ctx())
    (d,) = out
    assert (d.rule, d.subject.key, d.level) == ("key_person_hiding", P, "orange")
    assert d.evidence["days"] == ["2026-11-02", "2026-11-03", "2026-11-04"] and d.evidence["seen_in"] == ["CM2"]
    assert d.evidence["home_community_id"] == "CM1" and d.location["community_id"] == "CM2"
    assert run([seen(0), seen(D)], ctx(rules={"rules": {"key_person_hiding": {"min_days": 2}}})) == [("raise", 2)]
    assert run([seen(0), seen(D), seen(2 * D)], ctx(rules={"rules": {"key_person_hiding": {"enabled": False}}})) == []
    with pytest.raises(ValueError, match="min_days"):
        parse_rules({"rules": {"key_person_hiding": {"min_days": 8}}})


def test_green_persons_raise_nothing_in_any_key_person_rule():
    green = {"k1": "green", "k2": "green", "k3": "green", "k4": "green"}
    c = ctx(watch=green)
    assert run([seen(0), seen(D), seen(2 * D)], c) == []
    access = {**seen(0), "family": names.ACCESS}
    assert RULES["key_person_missing"].derive(access, c) == []
    state = RuleState()
    RULES["key_person_missing"].on_start(state, names.partition_of("CM1", 8), DAY0, c)
    assert state.take_changes() == ({}, {})
    for i, p in enumerate(("k1", "k2", "k3")):
        assert RULES["key_person_gathering"].on_event(state, {**access, "person_id": p, "ts": int(DAY0 + i)}, c) == []


def test_regraded_to_green_while_open_clears():
    c = ctx()
    out, state = drive([seen(0), seen(D), seen(2 * D)], c)
    c.registry.watch["k1"] = "green"
    out2 = RULES["key_person_hiding"].on_timer(state, P, DAY0 + 3 * D, c)
    assert [d.action for d in out2] == ["clear"] and state.get(P) is None


ZONES = ["Asia/Shanghai", "UTC", "America/New_York", "Pacific/Kiritimati", "America/St_Johns",
         "Australia/Lord_Howe", "Pacific/Pago_Pago", "Europe/London"]


def oracle(events: list[tuple[float, bool]], now: float, tz: str, min_days: int = 3, window_days: int = 7) -> bool:
    """CONTRACT §3 read directly: local days within the window ending today, out of home, none at home."""
    today = local_day(now, tz)
    first = today - timedelta(days=window_days - 1)
    days = [(local_day(t, tz), home) for t, home in events if t <= now]
    out = {d for d, home in days if not home and first <= d <= today}
    at_home = any(home and first <= d <= today for d, home in days)
    return len(out) >= min_days and not at_home


@settings(max_examples=150, deadline=None)
@given(tz=st.sampled_from(ZONES),
       times=st.lists(st.tuples(st.floats(0, 12 * D, allow_nan=False), st.integers(0, 9)), max_size=14),
       jitter=st.sampled_from([0.0, -1.0, 1.0, 0.001]),
       start=st.integers(0, 23), tail=st.floats(0, 9 * D))
def test_hiding_matches_the_contract_everywhere(tz, times, jitter, start, tail):
    """Sightings near local midnights (start hour + jitter) in many zones; home iff the digit is 0."""
    c = ctx(tz=tz)
    base = datetime(2026, 3, 1, start, tzinfo=ZoneInfo(tz)).timestamp() - DAY0  # around DST changes too
    evs = sorted((base + round(t / H) * H + jitter, n == 0) for t, n in times)
    so_far = []
    rule, state, timers, active = RULES["key_person_hiding"], RuleState(), {}, False
    for i, (t, home) in enumerate(evs):
        now = DAY0 + t
        while True:  # timers due by now fire first, as the engine does
            due = sorted((d, k) for k, d in timers.items() if d <= now)
            if not due:
                break
            d, k = due[0]
            del timers[k]
            for dec in rule.on_timer(state, k, d, c):
                active = dec.action != "clear"
            _apply(state, timers)
            assert active == oracle(so_far, d, tz), ("timer", d)
        for dec in rule.on_event(state, seen(t, home=home, n=i), c):
            assert dec.action != "raise" or not active  # one alert per condition
            active = dec.action != "clear"
        _apply(state, timers)
        so_far.append((now, home))
        assert active == oracle(so_far, now, tz), ("event", now, home)
    end = DAY0 + (evs[-1][0] if evs else 0) + tail
    while True:
        due = sorted((d, k) for k, d in timers.items() if d <= end)
        if not due:
            break
        d, k = due[0]
        del timers[k]
        for dec in rule.on_timer(state, k, d, c):
            active = dec.action != "clear"
        _apply(state, timers)
    assert active == oracle(so_far, end, tz)


def test_local_day_boundaries():
    assert local_day(DAY0 - 1, SH) == date(2026, 11, 1) and local_day(DAY0, SH) == date(2026, 11, 2)
    assert local_day(DAY0, "UTC") == date(2026, 11, 1)  # 16:00 UTC the day before


def test_replay_raises_hiding_from_door_events():
    """The replayer (alerts/replay.py) runs the derive → watch → hiding path like the engine; duplicates of the
    re-routed events (the archive keeps them too) change nothing."""
    from alerts.replay import Replayer

    r = Replayer(City(), parse_rules({}), SH, 8)
    r.start(DAY0)
    for day in range(3):
        ev = {**seen(day * D + 9 * H), "family": names.ACCESS, "event_id": f"a{day}", "direction": "in",
              "result": "granted"}
        ev["community_id"] = "CM2"
        r.feed(ev)
        r.feed(RULES["key_person_missing"].derive(ev, r.ctx)[0][1])  # the archived copy, replayed again
    hiding = [a for a in r.report.alerts if a.rule == "key_person_hiding"]
    assert [(a.subject, a.level, a.raises) for a in hiding] == [("k1", "orange", 1)]
    # the door events reached key_person_missing too (derive is called for the door events themselves)
    last = r.states["key_person_missing"].get("person:k1")
    assert last["never_seen"] is False and last["last_seen"] == (DAY0 + 2 * D + 9 * H)
