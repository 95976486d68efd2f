"""The motion gate: background subtraction on a small grey frame decides when the detector must run.

A person detector costs tens of milliseconds a frame; decoding costs about one. Most cameras show nothing
moving most of the time, so the gate keeps the detector off while the scene is still and the ingest cost
close to the decoding floor (bench/video.py measures it). MOG2 learns the background, including periodic
changes such as a blinking light; what is left after a small opening is "motion" when it covers more than
``motion_min_area`` of the frame.

While the scene has been still for a while (the analyser says so), a frame is first compared with the one MOG2
last saw (``still_diff``): when under a quarter of ``min_area`` differs by more than ``still_diff`` grey levels,
nothing can have moved (MOG2 compares with a background that is that frame, learned), and MOG2's ~130 us are
skipped; otherwise MOG2 decides as usual (a blinking light it has learned stays still). A slow change adds up
against that reference frame until MOG2 looks again. On a still street this is ~10 us a frame instead of ~140.

A still scene does not mean an empty one: people standing still are exactly the lingering case. The
analyser therefore carries the last detections forward while the gate is closed (nobody can have arrived
or left without motion) and re-detects every ``idle_detect_s`` while anyone is in view.
"""

from __future__ import annotations

import cv2
import numpy as np

_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


class MotionGate:
    """MOG2 on a downscaled grey frame; ``moving(frame)`` is True when enough of it changed."""

    def __init__(self, width: int, min_area: float, history: int = 300, still_diff: int = 0):
        self.width = width
        self.min_area = min_area
        self.still_diff = still_diff
        self.history = history
        self.looked = 0               # frames the gate looked at; MOG2's learning rate counts them all
        self.mog_runs = 0             # frames MOG2 modelled (the rest were settled by the difference)
        self._ref: np.ndarray | None = None   # the latest small frame MOG2 saw
        self.mog = cv2.createBackgroundSubtractorMOG2(history=history, varThreshold=25, detectShadows=False)
        self.last_area = 0.0          # moving share of the latest frame (unopened when under min_area)
        self.small: np.ndarray | None = None

    def moving(self, frame: np.ndarray) -> bool:
        """Feed one analysed BGR frame; True when the moving share of the frame reaches ``min_area``."""
        h, w = frame.shape[:2]
        # Bilinear sampling, not area averaging: 7x cheaper at 640 -> 160, and MOG2 absorbs the aliasing noise.
        small = cv2.resize(frame, (self.width, max(1, round(h * self.width / w))), interpolation=cv2.INTER_LINEAR)
        self.looked += 1
        return self._apply(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))

    def moving_grey(self, grey: np.ndarray, still: bool = False) -> bool:
        """The same for a grey frame (the decoder's luma plane: no colour conversion at all). ``still``: the
        scene has been still a while, so a frame close to the one MOG2 last saw is settled without it."""
        h, w = grey.shape[:2]
        self.small = cv2.resize(grey, (self.width, max(1, round(h * self.width / w))), interpolation=cv2.INTER_LINEAR)
        self.looked += 1
        if still and self.still_diff and self._ref is not None and self._ref.shape == self.small.shape:
            diff = cv2.absdiff(self.small, self._ref)
            changed = cv2.countNonZero(cv2.threshold(diff, self.still_diff, 255, cv2.THRESH_BINARY)[1])
            if changed < 0.25 * self.min_area * diff.size:
                self.last_area = 0.0
                return False
        return self._apply(self.small)

    def _apply(self, grey: np.ndarray) -> bool:
        self.small = grey             # the latest small grey frame (image usability looks at it)
        self._ref = grey
        self.mog_runs += 1
        # MOG2's own rate is 1/min(2 n, history) over the n frames it saw; counting the settled frames too keeps it
        # learning as slowly as if it had seen them (they were that frame, within still_diff), not absorbing
        # the first person to walk into a view it has modelled only a few times.
        mask = self.mog.apply(grey, learningRate=1.0 / min(2 * self.looked, self.history))
        # An opening only removes pixels: when the raw mask is already under the threshold, so is the opened
        # one, and the answer is known without it (the common case: a still scene).
        self.last_area = cv2.countNonZero(mask) / mask.size
        if self.last_area < self.min_area:
            return False
        self.last_area = cv2.countNonZero(cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL)) / mask.size
        return self.last_area >= self.min_area
