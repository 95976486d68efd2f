"""On-change publishing (ingest/video/onchange.py): which analysed frames a camera publishes, and that the rules
reading them keep their timing. Pure and table-driven: frame sequences in, published frames out."""

from __future__ import annotations

import pytest

from ingest.video.onchange import OnChange
from tests.test_rules import T0, decisions, video

FPS = 5


def doc(t: float, *tracks: tuple[int, float], zone: str = "z", crossings: bool = False) -> dict:
    """A frame's zone document at t (s) with (track id, dwell) in one zone."""
    d = {"family": "video", "camera_id": "C1", "ts": round(t * 1000),
         "zones": {zone: {"persons": len(tracks), "tracks": [list(tr) for tr in tracks]}}}
    if crossings:
        d["crossings"] = {"gate": {"in": 1}}
    return d


def frames(t0: float, t1: float, *tracks: tuple[int, float]) -> list[dict]:
    """Frames at FPS from t0 (incl.) to t1 (excl.); each track's dwell grows with the clock from (id, dwell at t0)."""
    n = round((t1 - t0) * FPS)
    return [doc(t0 + i / FPS, *[(tid, round(d + i / FPS, 1)) for tid, d in tracks]) for i in range(n)]


def published(seq: list[dict], heartbeat_s: float = 5, step_s: float = 10, mark_s: float = 120,
              flush: bool = False) -> list[tuple[float, str]]:
    oc = OnChange(heartbeat_s, step_s, mark_s)
    out = [p for d in seq for p in oc.offer(d)]
    if flush:
        out += oc.flush()
    return [round(p["ts"] / 1000, 1) for p in out]


@pytest.mark.parametrize(
    "seq, kw, want",
    [
        # an empty view for 12 s: the first frame, then a heartbeat every 5 s
        (frames(0, 12), {}, [0, 5, 10]),
        # the same with a 2 s heartbeat
        (frames(0, 5), {"heartbeat_s": 2}, [0, 2, 4]),
        # someone walks in at 3 s (the frame before it too), stands: heartbeats; the count changes back at 9 s
        (frames(0, 3) + frames(3, 9, (1, 0.1)) + frames(9, 10), {},
         [0, 2.8, 3, 8, 8.8, 9]),
        # dwell crossing 10 s steps while standing (heartbeat 30 s, so only the steps show)
        (frames(0, 25, (1, 5.0)), {"heartbeat_s": 30}, [0, 5, 15]),
        # the lingering mark (mark_dwell_s 7, not a multiple of the step) is a step too
        (frames(0, 4, (1, 5.0)), {"heartbeat_s": 30, "mark_s": 7}, [0, 2]),
        # a frame with entrance crossings is always published (with the frame before it); the next is not
        ([doc(0), doc(0.2), doc(0.4, crossings=True), doc(0.6)], {}, [0, 0.2, 0.4]),
        # an id switch (same count, other track) is a change
        ([doc(0, (1, 3)), doc(0.2, (1, 3.2)), doc(0.4, (2, 3.4))], {}, [0, 0.2, 0.4]),
        # a count that flickers every frame: every frame, never twice
        ([doc(i / 5, *[(1, 1 + i / 5)] * (i % 2)) for i in range(6)], {}, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        # the stream stops: flush publishes the last analysed frame (device_offline's "last frame")
        (frames(0, 2), {"flush": True}, [0, 1.8]),
    ],
)
def test_what_a_frame_sequence_publishes(seq, kw, want):
    assert published(seq, **kw) == want


def test_every_frame_publishes_each_frame_once():
    oc = OnChange(5, 10, 120, every_frame=True)
    assert sum(len(oc.offer(d)) for d in frames(0, 3) + frames(3, 4, (1, 0.1))) == 20
    assert oc.flush() == []


def test_a_quiet_camera_publishes_a_heartbeat_rate_and_a_busy_one_its_changes():
    quiet = frames(0, 60)
    assert len(published(quiet)) / 60 == pytest.approx(0.2, abs=0.02)
    busy = [doc(i / 5, *[(k, 1.0) for k in range(i % 3)]) for i in range(300)]
    assert len(published(busy)) == 300


def to_rule_events(seq: list[dict], **kw) -> list[dict]:
    """The published frames as the rules receive them (one zone "square", times relative to the rules' T0)."""
    oc = OnChange(kw.get("heartbeat_s", 5), kw.get("step_s", 10), kw.get("mark_s", 120))
    out = []
    for d in seq:
        for p in oc.offer(d):
            out.append(video(p["ts"] / 1000, "square", p["zones"]["z"]["tracks"]))
    return out


def test_lingering_raises_on_the_frame_the_dwell_reaches_the_threshold_and_clears_on_time():
    # someone stands from t=10 (dwell 0.1) to t=140; then the view is empty: heartbeats only
    seq = frames(0, 10) + frames(10, 140, (1, 0.1)) + frames(140, 200)
    events = to_rule_events(seq)
    assert len(events) < 0.1 * len(seq)
    ticks = [("tick", t) for t in range(141, 200)]
    until = [e for e in events if e["ts"] <= (T0 + 140) * 1000]   # no heartbeat after the visit: the timer clears
    got = decisions("lingering", until + ticks)
    assert [d.action for d in got] == ["raise", "clear"]
    raise_, clear = got
    first = next(d for d in seq if any(t[1] >= 120 for t in d["zones"]["z"]["tracks"]))
    assert raise_.at - T0 == pytest.approx(first["ts"] / 1000, abs=0.001)   # the very frame that reached 120 s
    assert raise_.evidence["dwell_s"] == first["zones"]["z"]["tracks"][0][1]
    assert clear.at - T0 == pytest.approx(140 + 30, abs=0.01)       # quiet at 140, clear_hold_s 30


def test_gathering_and_device_offline_keep_their_timing_on_heartbeats():
    crowd = [(k, 1.0) for k in range(12)]
    seq = frames(0, 5) + frames(5, 100, *crowd)
    events = to_rule_events(seq)
    events = [{**e, "zones": {"square": {**e["zones"]["square"], "persons": len(e["zones"]["square"]["tracks"])}}}
              for e in events]
    # the engine fires its timers as wall-clock time passes, between the entries it reads: a tick every second
    steps = sorted(events + [("tick", t) for t in range(1, 100)],
                   key=lambda e: e[1] if isinstance(e, tuple) else e["ts"] / 1000 - T0)
    got = decisions("gathering", steps)
    assert [(d.action, round(d.at - T0, 1)) for d in got] == [("raise", 65.0)]   # 10 persons from 5 s, hold 60 s
    # the stream stops at 100 s: the flushed last frame is at 99.8; no frame for 60 s from then, not from a heartbeat
    oc = OnChange(5, 10, 120)
    for d in seq:
        oc.offer(d)
    last = oc.flush()[0]
    assert last["ts"] == 99_800
    got = decisions("device_offline", [video(last["ts"] / 1000, "square", [])]
                    + [("tick", 99.8 + 59.9), ("tick", 99.8 + 60)])
    assert [(d.action, round(d.at - T0, 1)) for d in got] == [("raise", 159.8)]
