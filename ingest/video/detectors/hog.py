"""OpenCV's built-in HOG + linear SVM people detector (Dalal-Triggs): no weights to ship, CPU only.

Its limits decide where it fits (see docs/video.md for the measured figures): it finds upright people at
least ~100 px tall (its window is 64x128 with the body in the middle ~96 px), so far or seated people,
views from high above and crowds are undercounted; it costs ~40-100 ms per 640x360 frame on one core.
Boxes are shrunk to the body: the window has a margin of about a fifth on each side and a tenth above.
"""

from __future__ import annotations

import cv2
import numpy as np

from ingest.video.detectors import Box, register, scale_for_detection
from onescreen.settings import VideoSettings

# Body inside a HOG detection window, as shares of the window (measured on the default people detector).
BODY = (0.2, 0.1, 0.8, 0.87)


class HogDetector:
    name = "hog"

    def __init__(self, cfg: VideoSettings):
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.stride = (cfg.hog_stride, cfg.hog_stride)
        self.scale = cfg.hog_scale
        self.threshold = cfg.hog_threshold
        self.max_width = cfg.detect_width

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Person boxes of a BGR frame, normalised."""
        img = scale_for_detection(frame, self.max_width)
        h, w = img.shape[:2]
        if h < 128 or w < 64:
            return []
        rects, weights = self.hog.detectMultiScale(img, hitThreshold=self.threshold, winStride=self.stride,
                                                   padding=(8, 8), scale=self.scale)
        bx0, by0, bx1, by1 = BODY
        boxes = []
        for (x, y, rw, rh), score in zip(rects.tolist() if len(rects) else [], np.ravel(weights).tolist()):
            boxes.append(Box(max(0.0, (x + bx0 * rw) / w), max(0.0, (y + by0 * rh) / h),
                             min(1.0, (x + bx1 * rw) / w), min(1.0, (y + by1 * rh) / h), score))
        return boxes


@register("hog")
def _factory(cfg: VideoSettings) -> HogDetector:
    return HogDetector(cfg)
