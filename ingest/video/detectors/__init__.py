"""Person detectors, chosen by ``video.detector`` from a registry (one entry per file in this folder).

A detector turns a BGR frame into person boxes **normalised to 0..1** (x0, y0, x1, y1, score), so zones,
the tracker and every threshold downstream are independent of the camera's resolution. A new detector is
one new module that calls ``register`` at import and one name added to ``VideoSettings.detector``.
Detectors are built once per camera pipeline by ``make_detector``; a factory that holds something costly and
thread-safe (an onnxruntime session) shares it between pipelines itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from onescreen.settings import VideoSettings


@dataclass(frozen=True, slots=True)
class Box:
    """One detected person, in normalised image coordinates (0..1)."""

    x0: float
    y0: float
    x1: float
    y1: float
    score: float = 1.0

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom centre: where the person stands, the point zones are tested with."""
        return (self.x0 + self.x1) / 2, self.y1

    @property
    def height(self) -> float:
        return self.y1 - self.y0


class Detector(Protocol):
    name: str

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Person boxes of a BGR frame, normalised to 0..1."""
        ...


class DetectorError(RuntimeError):
    """A detector cannot be built from the configuration (missing model file, wrong output layout…)."""


Factory = Callable[[VideoSettings], Detector]
DETECTORS: dict[str, Factory] = {}


def register(name: str) -> Callable[[Factory], Factory]:
    """Decorator: make a detector factory selectable as ``video.detector: name``."""
    def wrap(factory: Factory) -> Factory:
        DETECTORS[name] = factory
        return factory
    return wrap


def make_detector(cfg: VideoSettings) -> Detector:
    """Build the configured detector; DetectorError names what is wrong."""
    _load_builtin()
    try:
        factory = DETECTORS[cfg.detector]
    except KeyError:
        raise DetectorError(f"video.detector: unknown detector {cfg.detector!r} "
                            f"(one of {', '.join(sorted(DETECTORS))})") from None
    return factory(cfg)


def scale_for_detection(frame: np.ndarray, max_width: int) -> np.ndarray:
    """The frame scaled down to ``max_width`` (never up): bounds a detector's cost on large cameras."""
    h, w = frame.shape[:2]
    if not max_width or w <= max_width:
        return frame
    return cv2.resize(frame, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA)


def _load_builtin() -> None:
    # Imported here, not at module top, so the registry module has no import cycle with its entries.
    from ingest.video.detectors import hog, ssd, yolo_onnx  # noqa: F401
