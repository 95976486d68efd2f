"""Pure parts of ingest-video, table-driven: tracker, zones and dwell on the clock, watchdog verdicts,
backoff, the YOLO output decoder, lease arithmetic, the motion gate. No services, no video: fast."""

from __future__ import annotations

import functools
import random

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.video.capture import Backoff, CaptureStatus
from ingest.video.detectors import Box, DetectorError
from ingest.video.detectors.yolo_onnx import decode, letterbox
from ingest.video.gate import _KERNEL, MotionGate
from ingest.video.health import classify, health_record
from ingest.video.leases import fair_share, preference
from ingest.video.tracker import Tracker, iou
from ingest.video.zones import WHOLE_VIEW, ZoneCounter, inside, zone_polygons
from onescreen.settings import VideoSettings

CFG = VideoSettings()
MID = {"mid": {"polygon": [[0.4, 0.5], [0.6, 0.5], [0.6, 1.0], [0.4, 1.0]], "door_id": None}}


def person(cx: float, foot: float = 0.9, h: float = 0.4) -> Box:
    return Box(cx - h / 5, foot - h, cx + h / 5, foot, 1.0)


def run_scene(fps: float, enter: float, leave: float, t_end: float, jitter: float = 0.0, drop_every: int = 0,
              id_switch_at: float | None = None, occlude: tuple[float, float] | None = None, seed: int = 1):
    """A person walks left to right, stands in ``mid`` from ``enter`` to ``leave``; returns the max dwell.

    Frame times are wall-clock with optional jitter and dropped frames; the tracker sees what a detector
    would report, with an optional occlusion (no box) and an id switch (the track is forgotten)."""
    rng = random.Random(seed)
    tracker = Tracker(CFG.track_iou, CFG.track_gap_s, CFG.track_reassoc, CFG.track_hold_s)
    zones = ZoneCounter(zone_polygons(MID), CFG.track_gap_s, CFG.track_reassoc)
    best, n, t = 0.0, 0, 0.0
    while t < t_end:
        n += 1
        t = n / fps + rng.uniform(-jitter, jitter)
        if drop_every and n % drop_every == 0:
            continue
        if t < enter - 1:
            x = 0.1 + 0.2 * t / (enter - 1)
        elif t < enter:
            x = 0.3 + 0.2 * (t - (enter - 1))        # crosses x=0.4 at enter - 0.5
        elif t < leave:
            x = 0.5
        else:
            x = 0.5 + 0.2 * (t - leave)              # crosses x=0.6 at leave + 0.5
        boxes = [] if x > 1.0 or (occlude and occlude[0] <= t < occlude[1]) else [person(x)]
        if id_switch_at is not None and abs(t - id_switch_at) < 0.5 / fps:
            tracker.tracks.clear()                   # the tracker loses the identity: a new id follows
        figures = zones.update(tracker.update(boxes, t), t)["mid"]
        for _tid, dwell in figures["tracks"]:
            best = max(best, dwell)
    return best


# the person is inside ``mid`` from enter - 0.5 to leave + 0.5: true dwell = leave - enter + 1
@pytest.mark.parametrize("fps", [5.0, 2.0, 1.0])
@pytest.mark.parametrize("case", [
    {},
    {"jitter": 0.08},
    {"drop_every": 3},
    {"occlude": (40.0, 41.5)},
    {"id_switch_at": 60.0},
])
def test_dwell_is_wall_clock_whatever_the_frame_rate(fps, case):
    true_dwell = 120.0 - 10.0 + 1.0
    measured = run_scene(fps, enter=10.0, leave=120.0, t_end=130.0, **case)
    assert abs(measured - true_dwell) <= max(1.0, 1.0 / fps), (fps, case, measured)


def test_long_occlusion_ends_the_visit():
    """Past the gap tolerance the person is someone new: dwell restarts rather than being invented."""
    measured = run_scene(5.0, enter=10.0, leave=60.0, t_end=70.0, occlude=(30.0, 30.0 + CFG.track_gap_s + 2))
    assert measured < 35.0


def test_tracker_keeps_ids_and_reassociates():
    tr = Tracker(0.2, gap_s=3.0, reassoc=1.0, hold_s=1.0)
    a = tr.update([person(0.2), person(0.7)], 0.0)
    ids = [t.id for t in a]
    b = tr.update([person(0.21), person(0.71)], 0.2)
    assert [t.id for t in b] == ids
    # a jump of half a body height with no overlap (2 fps walker) is still the same person
    c = tr.update([person(0.21 + 0.2), person(0.71)], 0.7)
    assert sorted(t.id for t in c) == ids
    # unseen for longer than hold: not present; after the gap: gone, a box there is a new track
    assert [t.id for t in tr.update([person(0.71)], 2.0)] == [ids[1]]
    d = tr.update([person(0.41), person(0.71)], 4.5)
    assert ids[1] in [t.id for t in d] and ids[0] not in [t.id for t in d] and len(d) == 2


def test_iou():
    a = Box(0, 0, 0.5, 0.5)
    assert iou(a, a) == pytest.approx(1.0)
    assert iou(a, Box(0.5, 0.5, 1, 1)) == 0.0
    assert iou(a, Box(0.25, 0, 0.75, 0.5)) == pytest.approx(1 / 3)


@pytest.mark.parametrize("point,expected", [
    ((0.5, 0.75), True), ((0.39, 0.75), False), ((0.5, 0.49), False), ((0.61, 0.99), False),
])
def test_inside_polygon(point, expected):
    assert inside(point, zone_polygons(MID)["mid"]) is expected


def test_camera_without_zones_counts_the_whole_view():
    polys = zone_polygons({})
    assert list(polys) == [WHOLE_VIEW]
    zc = ZoneCounter(polys, 3.0, 1.0)
    tracks = Tracker(0.2, 3.0, 1.0, 1.0).update([person(0.1, foot=1.0), person(0.9, foot=0.3)], 0.0)
    assert zc.update(tracks, 0.0)[WHOLE_VIEW]["persons"] == 2


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=0, max_size=12))
def test_counts_never_exceed_present_tracks(points):
    tracker = Tracker(0.2, 3.0, 1.0, 1.0)
    zc = ZoneCounter(zone_polygons(MID), 3.0, 1.0)
    boxes = [Box(x, max(0.0, y - 0.2), min(1.0, x + 0.05), y) for x, y in points]
    tracks = tracker.update(boxes, 1.0)
    figures = zc.update(tracks, 1.0)["mid"]
    assert figures["persons"] == len(figures["tracks"]) <= len(tracks)
    assert all(d >= 0 for _, d in figures["tracks"])


# ---------------------------------------------------------------- watchdog
def status(**kw) -> CaptureStatus:
    base = {"connected": True, "opened_at": 100.0, "last_frame_at": 109.9, "fps": 25.0, "nominal_fps": 25.0,
            "reconnects": 0, "reason": "", "abandoned": 0, "attempts": 1}
    base.update(kw)
    return CaptureStatus(**base)


@pytest.mark.parametrize("kw,now,state,reason", [
    ({"connected": False, "attempts": 0, "reason": "connecting", "opened_at": 0.0}, 110, "connecting", ""),
    ({"connected": False, "reason": "connection refused (camera or server down?)"}, 110, "offline", "refused"),
    ({}, 110.0, "online", ""),
    ({"last_frame_at": 103.0}, 110.0, "stalled", "no frame for 7 s"),
    ({"last_frame_at": 0.0}, 106.0, "stalled", "no frame yet"),
    ({"fps": 6.0}, 110.0, "degraded", "6.0 fps, nominal 25"),
    ({"fps": 6.0}, 102.0, "online", ""),                      # fps window not warm yet
    ({"fps": 6.0, "nominal_fps": 0.0}, 110.0, "online", ""),  # no nominal rate: cannot judge
])
def test_watchdog_verdicts(kw, now, state, reason):
    got_state, got_reason = classify(status(**kw), now, CFG)
    assert got_state == state and reason in got_reason


def test_health_record_fields():
    rec = health_record(status(reconnects=2), 110.0, CFG, url="rtsp://***@cam/1")
    assert rec["state"] == "online" and rec["reconnects"] == 2 and rec["last_frame_at"] == 109_900
    assert set(rec) >= {"state", "reason", "fps", "last_frame_at", "reconnects", "updated_at"}


def test_backoff_grows_with_jitter_and_caps():
    b = Backoff(0.5, 8.0, random.Random(3))
    delays = [b.next() for _ in range(8)]
    caps = [min(8.0, 0.5 * 2 ** i) for i in range(8)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, caps))
    assert len({round(d, 6) for d in delays}) == len(delays)      # jittered, not lock-step
    b.reset()
    assert b.next() <= 0.5


# ---------------------------------------------------------------- YOLO output decoding
def yolo_v8(rows: list[tuple], classes: int = 80) -> np.ndarray:
    """(1, 4 + classes, N) from rows (cx, cy, w, h, class, score)."""
    out = np.zeros((1, 4 + classes, len(rows)), np.float32)
    for j, (cx, cy, w, h, cls, score) in enumerate(rows):
        out[0, :4, j] = (cx, cy, w, h)
        out[0, 4 + cls, j] = score
    return out


def test_decode_v8_keeps_confident_persons_only():
    out = yolo_v8([(50, 60, 20, 40, 0, 0.9), (10, 10, 5, 5, 0, 0.1), (80, 80, 10, 10, 2, 0.95)])
    boxes, scores = decode(out, "yolov8", 0, 0.35)
    assert boxes.tolist() == [[40, 40, 20, 40]] and scores.tolist() == pytest.approx([0.9])


def test_decode_v5_multiplies_objectness():
    out = np.zeros((1, 2, 85), np.float32)
    out[0, 0, :6] = (50, 60, 20, 40, 0.5, 0.9)     # 0.45 >= 0.35: kept
    out[0, 1, :6] = (50, 60, 20, 40, 0.3, 0.9)     # 0.27: dropped
    boxes, scores = decode(out, "yolov5", 0, 0.35)
    assert len(boxes) == 1 and scores[0] == pytest.approx(0.45)


@pytest.mark.parametrize("shape,fmt", [((84, 10), "yolov8"), ((1, 3, 4), "yolov8"), ((1, 10, 4), "yolov5")])
def test_decode_rejects_wrong_layouts(shape, fmt):
    with pytest.raises(DetectorError):
        decode(np.zeros(shape, np.float32), fmt, 0, 0.35)


def test_letterbox_keeps_aspect():
    img, scale, px, py = letterbox(np.zeros((360, 640, 3), np.uint8), 320, 320)
    assert img.shape == (320, 320, 3) and scale == 0.5 and px == 0 and py == 70


# ---------------------------------------------------------------- leases
@pytest.mark.parametrize("cams,live,cap,want", [(4, 1, 16, 4), (4, 2, 16, 2), (5, 2, 16, 3), (40, 2, 16, 16),
                                                (0, 3, 16, 0), (3, 0, 16, 3)])
def test_fair_share(cams, live, cap, want):
    assert fair_share(cams, live, cap) == want


def test_preferences_differ_between_workers():
    cams = [f"C-{i:02d}" for i in range(20)]
    top = {w: sorted(cams, key=lambda c: preference(w, c), reverse=True)[:10] for w in ("a-1", "b-2")}
    assert top["a-1"] != top["b-2"]


# ---------------------------------------------------------------- motion gate
@functools.cache
def gate_frames(seed: int = 3) -> list[np.ndarray]:
    """A noisy still street, then a dark block (a person-sized thing) walking across it, then still again.

    Each frame also has 45 bright specks at random places (one pixel each in the gate's 160 px frame, 0.3 % of
    it): what the opening is there to remove."""
    rng = np.random.default_rng(seed)
    street = np.zeros((360, 640, 3), np.uint8)
    street[:140], street[140:220], street[220:] = (62, 52, 52), (114, 120, 122), (92, 86, 86)
    frames = []
    for i in range(120):
        frame = np.clip(street + rng.normal(0, 2.5, street.shape), 0, 255).astype(np.uint8)
        for y, x in zip(rng.integers(0, 90, 45) * 4, rng.integers(0, 160, 45) * 4):
            frame[y:y + 4, x:x + 4] = 255
        if 60 <= i < 90:                              # walking: 40x100 px, 12 px a frame
            x = 100 + 12 * (i - 60)
            frame[200:300, x:x + 40] = (30, 30, 160)
        frames.append(frame)
    return frames


@pytest.mark.parametrize("min_area", [0.0, 0.001, 0.002, 0.005, 0.02, 0.5])
def test_gate_decides_as_the_full_computation(min_area):
    """The gate skips the opening when the raw mask is already under the threshold; its answers must be those
    of always opening (MOG2 on the same small grey frame, 3x3 opening, share of moving pixels)."""
    gate = MotionGate(160, min_area)
    reference = cv2.createBackgroundSubtractorMOG2(history=300, varThreshold=25, detectShadows=False)
    got, want = [], []
    for frame in gate_frames():
        got.append(gate.moving(frame))
        small = cv2.cvtColor(cv2.resize(frame, (160, 90), interpolation=cv2.INTER_LINEAR), cv2.COLOR_BGR2GRAY)
        mask = cv2.morphologyEx(reference.apply(small), cv2.MORPH_OPEN, _KERNEL)
        want.append(cv2.countNonZero(mask) / mask.size >= min_area)
    assert got == want
    if min_area == 0.005:                              # the default: quiet while still, open while walking
        assert not any(got[20:60]) and all(got[62:90]) and not any(got[110:])


def test_the_still_gate_skips_mog2_only_for_frames_close_to_the_last_one_it_saw():
    """``still_diff``: on a still scene a frame close to the one MOG2 last saw is settled without MOG2; any frame
    with more change goes to MOG2, so the answers are those of MOG2 on every frame."""
    fast, full = MotionGate(160, 0.005, still_diff=10), MotionGate(160, 0.005)
    greys = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in gate_frames()]
    assert [fast.moving_grey(g, still=True) for g in greys] == [full.moving_grey(g) for g in greys]
    assert fast.mog_runs == len(greys)              # moving specks on every frame: MOG2 decided each one
    # a still street with sensor noise only (σ 2.5 grey levels), then someone walks in
    rng = np.random.default_rng(3)
    street = np.full((360, 640), 90, np.uint8)
    gate = MotionGate(160, 0.005, still_diff=10)
    answers = []
    for i in range(40):
        g = np.clip(street + rng.normal(0, 2.5, street.shape), 0, 255).astype(np.uint8)
        if i >= 30:
            x = 100 + 12 * (i - 30)
            g[200:300, x:x + 40] = 20
        answers.append(gate.moving_grey(g, still=i >= 5))
    assert not any(answers[1:30]) and all(answers[30:]), answers   # (the first frame: MOG2 knows nothing yet)
    assert gate.mog_runs <= 5 + 11, gate.mog_runs   # the first 5 (not still yet), then only the walker's frames
