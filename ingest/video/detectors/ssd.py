"""SSD MobileNet v2 COCO (quantised TFLite, post-processing built in): the default person detector.

The model (see models.py for its origin, pin and licence) takes a 300x300 RGB uint8 image and returns at
most 20 boxes with classes and scores; class 0 is person. A camera frame is much larger than 300x300, and
people far away become a few pixels tall once the frame is squeezed into it, so large frames are also
analysed in **tiles**:

- the grid: frames whose longer side exceeds ``ssd_tile_px`` are cut into about square tiles, that side
  into ``ceil(side / ssd_tile_px)`` (a 1080p frame with the default 960 px gives two 1129x1080 tiles; a
  768x576 frame is not tiled); neighbouring tiles overlap by ``ssd_tile_overlap`` of a tile, so a person
  cut by one tile's edge is whole in the next. Square, because the model's input is: a 16:9 tile squeezed
  into 300x300 makes thin people thinner (measured: 2x2 tiles of 1080p found fewer people than 2x1);
- **seams**: a box touching a tile's inner edge (one that is not the frame's edge) is dropped, it is a
  part of a person that the neighbouring tile (or the whole-frame pass) sees whole;
- a **whole-frame pass** as well (``ssd_whole_frame``) finds people larger than a tile;
- **NMS across tiles**: overlapping boxes from different tiles and passes are merged, the best score wins
  (IoU above ``ssd_nms_iou``, or one box mostly inside another: half a person from a tile cut at the waist).
  The same merge runs on an untiled frame: the model's own NMS leaves nested boxes on small people.
Cost on one thread: ~20-25 ms a pass on this machine, so a 1080p frame (2 tiles + whole) is ~70 ms.
One interpreter per camera pipeline: a TFLite interpreter is not thread-safe, and the model is 6 MB.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from ingest.video.detectors import Box, DetectorError, register
from ingest.video.detectors.models import INSTALL_COMMAND, SSD_MODEL, cache_dir
from onescreen.settings import VideoSettings

PERSON = 0
SEAM_PX = 2            # a box edge this close (model input pixels) to a tile's inner edge touches the seam


def model_path(cfg: VideoSettings) -> Path:
    return Path(cfg.ssd_model) if cfg.ssd_model else cache_dir() / SSD_MODEL


def tile_grid(width: int, height: int, tile_px: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Tiles (x0, y0, x1, y1) in frame pixels covering the frame with ``overlap``; [] when none is needed.

    The longer side is cut into ``ceil(side / tile_px)`` overlapping spans; the shorter side into as many as
    keep the tiles about square (the model's input is square: a 16:9 tile squeezed into it makes thin
    people thinner). A 1920x1080 frame with 960 px gives two 1129x1080 tiles; 1280x720 gives two 753x720.
    """
    if not tile_px or max(width, height) <= tile_px:
        return []
    long_, short = max(width, height), min(width, height)
    n_long = math.ceil(long_ / tile_px)
    side = long_ / (n_long - (n_long - 1) * overlap)
    n_short = 1 if short <= side else math.ceil((short - side * overlap) / (side * (1 - overlap)) - 1e-9)

    def spans(size: int, n: int) -> list[tuple[int, int]]:
        if n == 1:
            return [(0, size)]
        length = size / (n - (n - 1) * overlap)       # n spans of this length, overlapping, cover ``size``
        step = length * (1 - overlap)
        return [(round(i * step), min(size, round(i * step + length))) for i in range(n)]

    cols, rows = (n_long, n_short) if width >= height else (n_short, n_long)
    return [(x0, y0, x1, y1) for y0, y1 in spans(height, rows) for x0, x1 in spans(width, cols)]


def merge(boxes: list[Box], iou: float, inside: float = 0.8) -> list[Box]:
    """Greedy NMS across passes: keep the best-scored box, drop others overlapping it by IoU > ``iou`` or
    lying mostly (``inside`` of their area) within it (a tile's box of half a person in the whole one)."""
    kept: list[Box] = []
    for b in sorted(boxes, key=lambda b: -b.score):
        area_b = max(1e-9, (b.x1 - b.x0) * (b.y1 - b.y0))
        for k in kept:
            iw = min(b.x1, k.x1) - max(b.x0, k.x0)
            ih = min(b.y1, k.y1) - max(b.y0, k.y0)
            if iw <= 0 or ih <= 0:
                continue
            inter = iw * ih
            area_k = (k.x1 - k.x0) * (k.y1 - k.y0)
            if inter / (area_b + area_k - inter) > iou or inter / min(area_b, area_k) > inside:
                break
        else:
            kept.append(b)
    return kept


class SsdDetector:
    name = "ssd"

    def __init__(self, cfg: VideoSettings):
        path = model_path(cfg)
        if not path.is_file():
            raise DetectorError(f"video.ssd_model: the person-detection model {path} is not installed; "
                                f"install it with: {INSTALL_COMMAND}")
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError as exc:   # a dependency of the project: reinstall rather than guess
            raise DetectorError(f"ai-edge-litert is not installed ({exc}): run make deps") from None
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=cfg.ssd_threads or None)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise DetectorError(f"video.ssd_model: {path} cannot be loaded: {exc}") from None
        inp = self.interpreter.get_input_details()[0]
        _, self.in_h, self.in_w, _ = (int(v) for v in inp["shape"])
        if inp["dtype"] != np.uint8:
            raise DetectorError(f"video.ssd_model: {path} takes {inp['dtype']}, expected a quantised uint8 model")
        self._input = inp["index"]
        outs = self.interpreter.get_output_details()
        if len(outs) < 3:
            raise DetectorError(f"video.ssd_model: {path} has no detection post-processing outputs")
        self._boxes, self._classes, self._scores = (o["index"] for o in outs[:3])
        self.score = cfg.ssd_score
        self.tile_px = cfg.ssd_tile_px
        self.overlap = cfg.ssd_tile_overlap
        self.whole = cfg.ssd_whole_frame
        self.nms_iou = cfg.ssd_nms_iou
        self.passes = 0

    def _run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One inference on a BGR image: (person boxes as y0, x0, y1, x1 in 0..1 of the image, scores)."""
        rgb = cv2.cvtColor(cv2.resize(image, (self.in_w, self.in_h), interpolation=cv2.INTER_LINEAR),
                           cv2.COLOR_BGR2RGB)
        self.interpreter.set_tensor(self._input, rgb[np.newaxis])
        self.interpreter.invoke()
        self.passes += 1
        boxes = self.interpreter.get_tensor(self._boxes)[0]
        classes = self.interpreter.get_tensor(self._classes)[0]
        scores = self.interpreter.get_tensor(self._scores)[0]
        keep = (classes.astype(np.int32) == PERSON) & (scores >= self.score)
        return np.clip(boxes[keep], 0.0, 1.0), scores[keep]

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Person boxes of a BGR frame, normalised: whole frame and tiles, seams dropped, merged."""
        h, w = frame.shape[:2]
        tiles = tile_grid(w, h, self.tile_px, self.overlap)
        found: list[Box] = []
        if self.whole or not tiles:
            for (y0, x0, y1, x1), s in zip(*self._run(frame)):
                found.append(Box(float(x0), float(y0), float(x1), float(y1), float(s)))
        sx, sy = SEAM_PX / self.in_w, SEAM_PX / self.in_h
        for tx0, ty0, tx1, ty1 in tiles:
            tw, th = tx1 - tx0, ty1 - ty0
            for (y0, x0, y1, x1), s in zip(*self._run(frame[ty0:ty1, tx0:tx1])):
                # Touching an inner edge of the tile: a cut person, seen whole elsewhere.
                if ((x0 <= sx and tx0 > 0) or (x1 >= 1 - sx and tx1 < w)
                        or (y0 <= sy and ty0 > 0) or (y1 >= 1 - sy and ty1 < h)):
                    continue
                found.append(Box((tx0 + x0 * tw) / w, (ty0 + y0 * th) / h, (tx0 + x1 * tw) / w,
                                 (ty0 + y1 * th) / h, float(s)))
        return merge(found, self.nms_iou)


@register("ssd")
def _factory(cfg: VideoSettings) -> SsdDetector:
    return SsdDetector(cfg)
