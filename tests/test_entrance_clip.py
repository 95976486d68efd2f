"""Entrance counting on a real clip: OpenCV's vtest.avi against hand-counted crossings (tests/data/vtest_crossings.json).

The line crosses the footpath left of the stone (x = 0.20 of the width); the clip is analysed as the worker
analyses a 10 fps stream at the default ``video.analysis_fps`` 5 (every second frame), with the default
detector (ssd), the tracker and the Analyser's crossing counter. A second counter with the narrower band 0.02
is fed the same tracks: the two turn-backs that go 27-28 px past the line (inside the default band's 31 px,
outside 15 px) are crossings for it and none for the default.

**Tolerance: |counted - hand count| <= 1 in each direction**, for each band. Why 1: the clip has 6 crossings
beyond the default band (2 in, 4 out) by people 60-90 px tall; one is lost where two people overlap (the woman
in red passes the standing man at frames 626-632: her track ends and a new one starts inside the band, so her
way in is not seen), and a real detector on a real clip loses such a one now and then. Measured: 1 in / 4 out
(band 0.04) and 3 in / 6 out (band 0.02), i.e. one way in missed for each (docs/video.md, "Entrance lines").
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2

from ingest.video.analysis import Analyser
from ingest.video.crossing import CrossingCounter, lines_of
from ingest.video.detectors import make_detector
from onescreen.settings import VideoSettings

TRUTH = json.loads((Path(__file__).parent / "data" / "vtest_crossings.json").read_text())
WIDTH = 768
TOLERANCE = 1


def expected(band: float) -> dict[str, int]:
    """The hand count the counter should give with this band: turn-backs within it are no crossing."""
    out = {"in": 0, "out": 0}
    for c in TRUTH["crossings"]:
        if not c.get("turn_back_within_band") or c["depth_px"] > band * WIDTH:
            out[c["direction"]] += 1
    return out


def test_the_hand_count_is_consistent():
    assert expected(0.04) == TRUTH["totals"]["beyond_band_0.04"] == {"in": 2, "out": 4}
    assert expected(0.02) == TRUTH["totals"]["beyond_band_0.02"] == TRUTH["totals"]["all"]


def test_vtest_crossings_within_tolerance(vtest_path):
    cfg = VideoSettings()
    line = {k: TRUTH["line"][k] for k in ("a", "b", "in")}
    analyser = Analyser(cfg, make_detector(cfg), {}, lines={"path": line})
    narrow = CrossingCounter(lines_of({"path": line}), band=0.02)
    cap = cv2.VideoCapture(str(vtest_path))
    index = 0
    try:
        while cap.grab():
            if index % 2 == 0:  # 10 fps clip, analysed at 5 fps
                ok, frame = cap.retrieve()
                assert ok
                ts = 1_800_000_000.0 + index / 10
                analyser.process(frame, ts)
                narrow.update({t.id: t.box.foot for t in analyser.tracks}, ts)
            index += 1
    finally:
        cap.release()
    assert index == 795
    for band, got in ((cfg.line_band, analyser.lines.totals["path"]), (0.02, narrow.totals["path"])):
        want = expected(band)
        assert all(abs(got[d] - want[d]) <= TOLERANCE for d in ("in", "out")), (band, got, want)
