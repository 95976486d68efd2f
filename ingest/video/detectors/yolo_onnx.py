"""YOLO-format ONNX person detector run with onnxruntime on the CPU (or whatever provider is installed).

The deployment brings its own model file (``video.onnx_model``); nothing is downloaded at run time. Two
output layouts are understood, named by ``video.onnx_format``:

- ``yolov8`` (Ultralytics v8/v11 export): one output (1, 4 + classes, N), rows cx, cy, w, h, class scores;
- ``yolov5``: one output (1, N, 5 + classes), columns cx, cy, w, h, objectness, class scores.

Boxes are in the letterboxed input's pixels; ``decode`` turns them into person boxes with scores, NMS keeps
the strongest of overlapping ones, and the letterbox is undone to normalised frame coordinates. The
session is loaded once per process and shared by every camera (``InferenceSession.run`` is thread-safe).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from ingest.video.detectors import Box, DetectorError, register
from onescreen.settings import VideoSettings

_SESSIONS: dict[tuple, object] = {}
_LOCK = threading.Lock()


def decode(output: np.ndarray, fmt: str, person_class: int, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """(boxes as x, y, w, h in input pixels, scores) of the person candidates above ``confidence``."""
    out = np.asarray(output, dtype=np.float32)
    if out.ndim != 3 or out.shape[0] != 1:
        raise DetectorError(f"YOLO output must be (1, ·, ·), got {out.shape}")
    if fmt == "yolov8":
        rows = out[0].T                           # (N, 4 + classes)
        first_class = 4
        if rows.shape[1] <= first_class + person_class:
            raise DetectorError(f"yolov8 output {out.shape} has no class {person_class}")
        scores = rows[:, first_class + person_class]
    elif fmt == "yolov5":
        rows = out[0]                             # (N, 5 + classes)
        first_class = 5
        if rows.shape[1] <= first_class + person_class:
            raise DetectorError(f"yolov5 output {out.shape} has no class {person_class}")
        scores = rows[:, 4] * rows[:, first_class + person_class]
    else:
        raise DetectorError(f"unknown YOLO layout {fmt!r}")
    # A candidate is a person when person is its best class (not merely above threshold for person).
    best = np.argmax(rows[:, first_class:], axis=1)
    keep = (scores >= confidence) & (best == person_class)
    cx, cy, w, h = (rows[keep, i] for i in range(4))
    return np.stack([cx - w / 2, cy - h / 2, w, h], axis=1), scores[keep]


def letterbox(frame: np.ndarray, width: int, height: int) -> tuple[np.ndarray, float, float, float]:
    """The frame scaled to fit (width, height) keeping its aspect, padded grey: (image, scale, pad x, pad y)."""
    h, w = frame.shape[:2]
    scale = min(width / w, height / h)
    nw, nh = round(w * scale), round(h * scale)
    resized = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    px, py = (width - nw) // 2, (height - nh) // 2
    out = np.full((height, width, 3), 114, dtype=np.uint8)
    out[py:py + nh, px:px + nw] = resized
    return out, scale, float(px), float(py)


class YoloOnnxDetector:
    name = "onnx"

    def __init__(self, cfg: VideoSettings):
        self.session = _session(cfg.onnx_model, cfg.onnx_threads)
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        shape = list(inp.shape)
        if len(shape) != 4:
            raise DetectorError(f"video.onnx_model: input must be NCHW, got {shape}")
        self.height = shape[2] if isinstance(shape[2], int) else cfg.onnx_input
        self.width = shape[3] if isinstance(shape[3], int) else cfg.onnx_input
        self.fmt = cfg.onnx_format
        self.person = cfg.onnx_person_class
        self.confidence = cfg.onnx_confidence
        self.nms_iou = cfg.onnx_nms_iou

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Person boxes of a BGR frame, normalised."""
        fh, fw = frame.shape[:2]
        img, scale, px, py = letterbox(frame, self.width, self.height)
        blob = cv2.dnn.blobFromImage(img, 1 / 255.0, swapRB=True)          # NCHW float32, RGB
        output = self.session.run(None, {self.input_name: blob})[0]
        boxes, scores = decode(output, self.fmt, self.person, self.confidence)
        if not len(boxes):
            return []
        keep = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), self.confidence, self.nms_iou)
        found = []
        for i in np.ravel(keep):
            x, y, w, h = boxes[i]
            x0, y0 = (x - px) / scale / fw, (y - py) / scale / fh
            x1, y1 = (x + w - px) / scale / fw, (y + h - py) / scale / fh
            found.append(Box(max(0.0, x0), max(0.0, y0), min(1.0, x1), min(1.0, y1), float(scores[i])))
        return found


def _session(model: Path | None, threads: int):
    """One onnxruntime session per (model, threads) in this process."""
    if model is None:
        raise DetectorError("video.detector is onnx but video.onnx_model is not set")
    path = Path(model)
    if not path.is_file():
        raise DetectorError(f"video.onnx_model: {path} does not exist (a deployment brings its own model)")
    key = (str(path.resolve()), threads)
    with _LOCK:
        if key not in _SESSIONS:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            try:
                _SESSIONS[key] = ort.InferenceSession(str(path), opts, providers=ort.get_available_providers())
            except Exception as exc:  # onnxruntime raises its own exception types for a bad file
                raise DetectorError(f"video.onnx_model: {path} cannot be loaded: {exc}") from exc
        return _SESSIONS[key]


@register("onnx")
def _factory(cfg: VideoSettings) -> YoloOnnxDetector:
    return YoloOnnxDetector(cfg)
