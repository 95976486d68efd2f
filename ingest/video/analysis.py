"""One camera's analysis of one frame: motion gate → detector (when needed) → tracker → zones.

Pure computation over (frame, wall-clock ts): no threads, no Redis, so it runs the same in the worker,
the tests and the benchmark. While the scene has been still for longer than ``motion_tail_s`` the gate looks
at every ``motion_still_every``-th frame only (new motion is noticed up to n-1 frames later), and settles a frame
close to the one MOG2 last saw without MOG2 (``motion_still_diff``, gate.py). The detector
runs when the gate sees motion, for ``motion_tail_s`` after it stops (so the last detections before a still
scene are settled), every ``idle_detect_s`` while tracks are
alive (so a person the detector missed once is found again within the tracker's gap) and every
``empty_detect_s`` otherwise (the first frame, and a safety net); in between, the previous detections are
carried forward, which keeps standing people and their dwell. A still, empty view goes idle after
``idle_after_s`` (idle.py): the gate then looks at every frame it is given, which come ``idle_fps`` a second.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ingest.video.detectors import Box, Detector
from ingest.video.frame import Frame, as_frame
from ingest.video.gate import MotionGate
from ingest.video.crossing import Crossing, CrossingCounter, lines_of
from ingest.video.fairness import FairSlots
from ingest.video.idle import IdleState, should_idle
from ingest.video.tracker import Track, Tracker
from ingest.video.usability import ImageCheck
from ingest.video.zones import ZoneCounter, zone_polygons
from onescreen.settings import VideoSettings


@dataclass
class AnalysisStats:
    """Counters for the health record and the benchmark."""

    frames: int = 0
    detections_run: int = 0
    detect_cpu_s: float = 0.0          # CPU seconds inside the detector (this thread)
    last_detect_ms: float = 0.0
    crossing_cpu_s: float = 0.0        # CPU seconds inside the entrance-line counter (issue #18: its cost)
    # wall-clock ts of recent analysed frames; appended by the analyser, read by the health writer
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=256))

    def rate(self, now: float, window: float = 5.0) -> float:
        """Analysed frames per second over the last ``window`` seconds."""
        return sum(1 for t in list(self.recent) if now - t <= window) / window

    @property
    def detect_ms(self) -> float:
        """Mean detector CPU milliseconds per detection run."""
        return 1000 * self.detect_cpu_s / self.detections_run if self.detections_run else 0.0


class Analyser:
    """Keeps one camera's gate, tracker and zone state; ``process(frame, ts)`` per analysed frame."""

    def __init__(self, cfg: VideoSettings, detector: Detector, zones: dict[str, Any], id_base: int = 0,
                 slots: FairSlots | None = None, key: str = "", lines: dict[str, Any] | None = None):
        self.cfg = cfg
        self.detector = detector
        self.slots = slots or FairSlots(1)   # shared by a worker's cameras: bounds and shares its detector CPU
        self.key = key
        self.gate = MotionGate(cfg.motion_width, cfg.motion_min_area, still_diff=cfg.motion_still_diff)
        self.tracker = Tracker(cfg.track_iou, cfg.track_gap_s, cfg.track_reassoc, cfg.track_hold_s, id_base)
        self.zones = ZoneCounter(zone_polygons(zones), cfg.track_gap_s, cfg.track_reassoc)
        self.lines = CrossingCounter(lines_of(lines), cfg.line_band)  # entrance lines (issue #18)
        self.crossed: list[Crossing] = []  # the crossings counted on the latest frame
        self.stats = AnalysisStats()
        self.image = ImageCheck(cfg)
        self.boxes: list[Box] = []
        self.tracks: list[Track] = []     # the people of the latest frame (the snapshot draws them)
        self.last_motion = -1e18          # ts of the latest frame in which the gate saw motion
        self._last_detect = -1e18
        self._skipped = 0                 # frames the gate skipped since it last looked (still scene)
        self.idle = IdleState()           # idle mode (idle.py): the pipeline hands over fewer frames meanwhile
        self._first_ts: float | None = None   # a camera must have been watched idle_after_s before it goes idle

    def process(self, frame: Frame | np.ndarray, ts: float) -> dict[str, dict[str, Any]]:
        """Zone figures at ``ts`` for this frame: ``{zone: {"persons": n, "tracks": [[id, dwell_s], ...]}}``."""
        frame = as_frame(frame)
        # A scene still for longer than the tail is looked at on every ``motion_still_every``-th frame: new
        # motion is seen at most that many frames later (and the detector still runs on its schedule).
        still = ts - self.last_motion > self.cfg.motion_tail_s
        # An idle camera's frames are already a second or so apart: the gate looks at every one of them.
        self._skipped = (self._skipped + 1 if still and not self.idle.idle
                         and self._skipped + 1 < self.cfg.motion_still_every else 0)
        if not self._skipped:
            if self.gate.moving_grey(frame.grey, still):
                self.last_motion = ts
            self.image.update(self.gate.small, ts)
        if self._should_detect(ts):
            image = frame.bgr()            # converted only now: most frames of a quiet camera never are
            with self.slots.use(self.key):
                t0 = time.thread_time()
                self.boxes = self.detector.detect(image)
                spent = time.thread_time() - t0
            self.stats.detections_run += 1
            self.stats.detect_cpu_s += spent
            self.stats.last_detect_ms = 1000 * spent
            self._last_detect = ts
        self.tracks = self.tracker.update(self.boxes, ts)
        if self.lines.lines:  # a camera without entrance lines skips this (and its clock) entirely
            t0 = time.thread_time()
            self.crossed = self.lines.update({t.id: t.box.foot for t in self.tracks}, ts)
            self.stats.crossing_cpu_s += time.thread_time() - t0
        self.stats.frames += 1
        self.stats.recent.append(ts)
        figures = self.zones.update(self.tracks, ts)
        if self._first_ts is None:
            self._first_ts = ts
        self.idle.update(should_idle(self.cfg, ts, max(self.last_motion, self._first_ts), len(self.tracker.tracks),
                                     sum(map(len, self.zones.visits.values())), len(self.lines.lines)), ts)
        return figures

    def _should_detect(self, ts: float) -> bool:
        if ts - self.last_motion <= self.cfg.motion_tail_s:
            return True
        # Without motion nobody arrived or left, so the last detections still hold; but re-check now and
        # then: often while people are in view (a missed one is found again within the tracker's gap), and
        # rarely when the view is empty (a safety net for what the gate may miss, and the very first frame).
        every = self.cfg.idle_detect_s if self.tracker.tracks else self.cfg.empty_detect_s
        return ts - self._last_detect >= every
