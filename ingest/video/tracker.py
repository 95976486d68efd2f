"""A small IoU + distance tracker that keeps person identities across frames, in wall-clock time.

Why not a library: SORT/ByteTrack-style trackers on PyPI pull in filterpy/scipy/lap or torch for a job that
is, at 2-5 analysed frames a second, a greedy match over a handful of boxes. Matching, in order:

1. overlap: each detection continues the live track it overlaps most (IoU >= ``iou_min``), best pairs first;
2. re-association: a detection still unmatched continues the nearest track not seen this frame, seen within
   ``gap_s``, if its foot point is within ``reassoc`` body heights: this bridges occlusions and the jumps a
   low analysis rate makes (a walker moves half a body height between frames at 2 fps);
3. anything left starts a new track.

A track unseen for more than ``gap_s`` ends. All times are the frames' wall-clock timestamps, so a drop in
frame rate changes how often we look, never how long someone stayed. Pure: no I/O, no clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.video.detectors import Box


@dataclass(slots=True)
class Track:
    id: int
    box: Box
    first_seen: float
    last_seen: float
    hits: int = 1


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    inter = ix * iy
    union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter
    return inter / union if union > 0 else 0.0


def foot_distance(a: Box, b: Box) -> float:
    """Distance between foot points in body heights (the larger of the two boxes)."""
    (ax, ay), (bx, by) = a.foot, b.foot
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 / max(a.height, b.height, 1e-6)


class Tracker:
    """Greedy IoU tracker with distance re-association; ``update`` once per analysed frame."""

    def __init__(self, iou_min: float, gap_s: float, reassoc: float, hold_s: float, id_base: int = 0):
        self.iou_min = iou_min
        self.gap_s = gap_s
        self.reassoc = reassoc
        self.hold_s = hold_s
        self.tracks: dict[int, Track] = {}
        self._next_id = id_base + 1

    def update(self, boxes: list[Box], ts: float) -> list[Track]:
        """Match this frame's boxes; return the present tracks (seen now or within ``hold_s``)."""
        self.tracks = {tid: t for tid, t in self.tracks.items() if ts - t.last_seen <= self.gap_s}
        unmatched = set(range(len(boxes)))
        free = set(self.tracks)
        pairs = sorted(((iou(t.box, boxes[i]), tid, i) for tid, t in self.tracks.items() for i in unmatched),
                       reverse=True)
        for overlap, tid, i in pairs:
            if overlap < self.iou_min:
                break
            if tid in free and i in unmatched:
                self._continue(tid, boxes[i], ts)
                free.discard(tid)
                unmatched.discard(i)
        near = sorted((foot_distance(self.tracks[tid].box, boxes[i]), tid, i) for tid in free for i in unmatched)
        for dist, tid, i in near:
            if dist > self.reassoc:
                break
            if tid in free and i in unmatched:
                self._continue(tid, boxes[i], ts)
                free.discard(tid)
                unmatched.discard(i)
        for i in sorted(unmatched):
            self.tracks[self._next_id] = Track(self._next_id, boxes[i], ts, ts)
            self._next_id += 1
        return self.present(ts)

    def present(self, ts: float) -> list[Track]:
        """Tracks seen at ``ts`` or missed for at most ``hold_s`` (detector flicker), by id."""
        return [t for _, t in sorted(self.tracks.items()) if ts - t.last_seen <= self.hold_s]

    def _continue(self, tid: int, box: Box, ts: float) -> None:
        t = self.tracks[tid]
        t.box, t.last_seen, t.hits = box, ts, t.hits + 1
