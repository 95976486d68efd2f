"""Idle mode: a camera whose view is still and empty is analysed at ``idle_fps`` instead of ``analysis_fps``.

Why: on a quiet camera decoding is the floor and everything after it is per analysed frame (the reader
copying 345 KB out of the pipe, the motion gate, the loop); most cameras show an empty, still view most of
the time. While a camera is idle, FFmpeg passes one decoded frame every ``1 / idle_fps`` seconds and never
writes the others (ffmpeg.py, capture.py); the first frame on which the gate sees motion ends idle mode,
and FFmpeg hands over every analysis period's frame again from its next one.

When a camera may go idle (all of it, else it stays at the full rate):
- idle mode is on (``idle_after_s`` > 0 and ``idle_fps`` below ``analysis_fps``);
- the camera has **no entrance line**: a person crosses a line in well under a second, less than one idle
  period, and a crossing is counted from the foot point's side on consecutive analysed frames
  (crossing.py), so the frames an idle camera drops could hold the whole crossing;
- **nobody is tracked** (not even a track lost for less than ``track_gap_s``) and **no zone visit is open**:
  people in view, standing still or not, keep the full rate, so dwell, lingering and gathering are measured
  exactly as before;
- the gate has seen **no motion for ``idle_after_s``**.

What it costs: new motion in an idle view is seen up to ``1 / idle_fps`` seconds later (1 s by default)
instead of one analysis period; a person walking into a zone gets an entry time estimated half-way
between the two analysed frames (zones.py), so a dwell can be off by up to half an idle period on entry.

Pure functions and a small state record, tested table-driven; the analyser and the pipeline apply them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from onescreen.settings import VideoSettings

HEALTH_GRACE_S = 6.0      # the analysis rate is measured over 5 s (+1 s for the first frame's lateness)


def enabled(cfg: VideoSettings) -> bool:
    """Idle mode is configured on: a delay and an idle rate below the full one."""
    return cfg.idle_after_s > 0 and cfg.idle_fps < cfg.analysis_fps


def period(cfg: VideoSettings) -> float:
    """Seconds between the frames an idle camera analyses (0 when idle mode is off)."""
    return 1.0 / cfg.idle_fps if enabled(cfg) else 0.0


def should_idle(cfg: VideoSettings, now: float, last_motion: float, tracks: int, visits: int, lines: int) -> bool:
    """Whether a camera goes (or stays) idle at ``now``, given the time of the last motion the gate saw, how
    many tracks the tracker holds, how many zone visits are open and how many entrance lines it counts."""
    if not enabled(cfg) or lines or tracks or visits:
        return False
    return now - last_motion >= cfg.idle_after_s


@dataclass
class IdleState:
    """Whether a camera is idle, since when, and when it last was (wall-clock frame times; 0 = never)."""

    idle: bool = False
    since: float = 0.0          # the frame that made it idle
    woke: float = 0.0           # the frame that ended its latest idle spell
    spells: int = 0             # idle spells so far
    changes: deque[tuple[float, bool]] = field(default_factory=lambda: deque(maxlen=64))   # (ts, idle) lately

    def update(self, idle: bool, ts: float) -> bool:
        """Record the decision for the frame at ``ts``; True when it changed."""
        if idle == self.idle:
            return False
        self.idle = idle
        self.changes.append((ts, idle))
        if idle:
            self.since, self.spells = ts, self.spells + 1
        else:
            self.woke = ts
        return True

    def analysis_target(self, cfg: VideoSettings, now: float) -> float:
        """The analysis rate health should expect at ``now``: ``idle_fps`` while idle and for one measuring
        window after waking (the window still holds the idle frames), else ``analysis_fps``."""
        if self.idle or (self.spells and now - self.woke < HEALTH_GRACE_S):
            return cfg.idle_fps
        return cfg.analysis_fps
