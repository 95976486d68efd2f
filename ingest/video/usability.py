"""Is the picture usable? ``ok``, ``dark``, ``frozen`` or ``covered``, from the motion gate's small grey frame.

A camera can be ``online`` (frames arrive at the right rate) and still show nothing useful: the lens is
covered, sprayed or turned to a wall (``covered``: almost no detail), the scene is unlit (``dark``), or the
encoder keeps sending the same picture (``frozen``: consecutive frames identical for ``image_frozen_s``,
which a live sensor's noise never is). Computed on the 160 px grey frame the gate already made, a few
microseconds a frame: a mean, a standard deviation and one difference with the previous frame. A verdict
other than ``ok`` must hold for ``image_hold_s`` before it is reported (a passing bus is not a covered lens),
and ``ok`` comes back at once.
"""

from __future__ import annotations

import cv2
import numpy as np

from onescreen.settings import VideoSettings

STATES = ("ok", "dark", "frozen", "covered")
SAME = 0.05          # mean absolute grey difference (0-255) under which two frames count as identical


def verdict(mean: float, std: float, dark_level: float, covered_std: float) -> str:
    """The picture's state from its brightness and detail alone (frozen needs time: see ImageCheck)."""
    if mean < dark_level:
        return "dark"
    if std < covered_std:
        return "covered"
    return "ok"


class ImageCheck:
    """Feed ``update(small_grey, ts)`` once per analysed frame; ``state`` is the reported verdict."""

    def __init__(self, cfg: VideoSettings):
        self.dark_level = cfg.image_dark_level
        self.covered_std = cfg.image_covered_std
        self.frozen_s = cfg.image_frozen_s
        self.hold_s = cfg.image_hold_s
        self.state = "ok"
        self._prev: np.ndarray | None = None
        self._same_since: float | None = None
        self._candidate, self._since = "ok", 0.0

    def update(self, grey: np.ndarray | None, ts: float) -> str:
        if grey is None:
            return self.state
        mean, std = (float(v[0][0]) for v in cv2.meanStdDev(grey))
        now = verdict(mean, std, self.dark_level, self.covered_std)
        if self._prev is not None and self._prev.shape == grey.shape:
            if cv2.norm(grey, self._prev, cv2.NORM_L1) / grey.size < SAME:
                self._same_since = self._same_since if self._same_since is not None else ts
            else:
                self._same_since = None
        self._prev = grey.copy()
        if now == "ok" and self._same_since is not None and ts - self._same_since >= self.frozen_s:
            now = "frozen"
        if now == "ok":
            self.state, self._candidate = "ok", "ok"
        elif now != self._candidate:
            self._candidate, self._since = now, ts
        elif ts - self._since >= (0.0 if now == "frozen" else self.hold_s):
            self.state = now
        return self.state
