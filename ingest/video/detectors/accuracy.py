"""How far a detector's answer is from hand labels: count error per frame and recall at an IoU.

Pure functions, used by tests/test_video_detectors.py (with tolerances) and bench/video_accuracy.py (the
table in docs/video.md). Boxes are (x0, y0, x1, y1) in any one unit; a label box is found when a detection
overlaps it by IoU >= ``iou`` (greedy, best overlaps first, each detection used once).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Rect = Sequence[float]


def iou(a: Rect, b: Rect) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def matched(labels: Sequence[Rect], found: Sequence[Rect], threshold: float = 0.5) -> int:
    """How many label boxes a distinct detection overlaps by at least ``threshold`` IoU."""
    pairs = sorted(((iou(a, b), i, j) for i, a in enumerate(labels) for j, b in enumerate(found)), reverse=True)
    used_l, used_f = set(), set()
    for value, i, j in pairs:
        if value < threshold:
            break
        if i not in used_l and j not in used_f:
            used_l.add(i)
            used_f.add(j)
    return len(used_l)


@dataclass
class Score:
    """Totals over labelled frames for one detector."""

    frames: int = 0
    persons: int = 0
    found: int = 0
    abs_error: int = 0
    boxed: int = 0            # label boxes
    hits: int = 0             # label boxes found at the IoU

    def add(self, persons: int, labels: Sequence[Rect], found: Sequence[Rect], threshold: float = 0.5) -> None:
        self.frames += 1
        self.persons += persons
        self.found += len(found)
        self.abs_error += abs(len(found) - persons)
        if labels:
            self.boxed += len(labels)
            self.hits += matched(labels, found, threshold)

    @property
    def mae(self) -> float:
        return self.abs_error / self.frames if self.frames else 0.0

    @property
    def recall(self) -> float:
        return self.hits / self.boxed if self.boxed else 0.0
