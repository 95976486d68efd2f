"""One analysed picture, in the form the decoder hands it over, converted only where something needs it.

FFmpeg writes planar YUV 4:2:0 (or grey) frames: the luma plane *is* the grey picture, so the motion gate,
which looks at every analysed frame, needs no colour conversion at all. BGR (what the detector and the
JPEG encoder take) is computed on first use and kept: on a quiet camera the detector runs every
``empty_detect_s`` and the snapshot is re-encoded every few seconds, so most frames are never converted.
Tests and the benchmark still hand BGR arrays in; ``as_frame`` wraps them.
"""

from __future__ import annotations

import cv2
import numpy as np


class Frame:
    """A decoded frame: ``grey`` (H x W view), ``bgr()`` (H x W x 3, converted once), ``shape``."""

    __slots__ = ("height", "width", "_yuv", "_bgr", "_grey")

    def __init__(self, width: int, height: int, yuv: np.ndarray | None = None, bgr: np.ndarray | None = None):
        self.width, self.height = width, height
        self._yuv = yuv            # I420: (H * 3/2, W) uint8, or (H, W) for grey streams
        self._bgr = bgr
        self._grey: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.height, self.width, 3

    @property
    def grey(self) -> np.ndarray:
        if self._grey is None:
            if self._yuv is not None:
                self._grey = self._yuv[:self.height]
            else:
                self._grey = cv2.cvtColor(self._bgr, cv2.COLOR_BGR2GRAY)
        return self._grey

    def bgr(self) -> np.ndarray:
        if self._bgr is None:
            if self._yuv.shape[0] == self.height:          # a grey stream
                self._bgr = cv2.cvtColor(self._yuv, cv2.COLOR_GRAY2BGR)
            else:
                self._bgr = cv2.cvtColor(self._yuv, cv2.COLOR_YUV2BGR_I420)
        return self._bgr

    def detach(self) -> Frame:
        """A copy that no longer shares the decoder's reusable buffer (to keep a frame beyond its turn)."""
        return Frame(self.width, self.height, None if self._yuv is None else self._yuv.copy(), self._bgr)


def as_frame(frame: Frame | np.ndarray) -> Frame:
    """A Frame for a Frame or a BGR array."""
    if isinstance(frame, Frame):
        return frame
    h, w = frame.shape[:2]
    return Frame(w, h, bgr=frame)
