"""The snapshot as evidence: the zones, every tracked person's box with their dwell, the lingering marked.

The alert engine keeps the camera's latest JPEG when a video alert fires (``alert_snapshot``); a plain frame
left the operator guessing whom a lingering alert meant. The snapshot therefore shows the zone outlines
(yellow), each tracked person's box (green) labelled with their dwell in the zone, and in red, thicker,
whoever has stayed ``mark_dwell_s`` or longer (the lingering rule's 120 s by default). Labels are ASCII
(OpenCV's fonts have no CJK). Drawn on the snapshot-sized copy, so lines have the same weight on any camera.
The pipeline encodes a new snapshot, before that frame's figures are published, whenever the set of
marked people changes, so the frame the engine keeps for an alert already shows the mark.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ingest.video.tracker import Track

ZONE = (0, 215, 255)        # BGR yellow
PERSON = (80, 200, 60)      # green
MARKED = (40, 40, 230)      # red


def dwell_by_track(zones_doc: dict[str, dict[str, Any]]) -> dict[int, float]:
    """Each tracked person's longest current dwell over the zones they are in."""
    out: dict[int, float] = {}
    for zone in zones_doc.values():
        for track_id, dwell in zone.get("tracks", []):
            out[track_id] = max(dwell, out.get(track_id, 0.0))
    return out


def marked(zones_doc: dict[str, dict[str, Any]], mark_dwell_s: float) -> frozenset[int]:
    """Track ids staying ``mark_dwell_s`` or longer in some zone."""
    return frozenset(t for t, d in dwell_by_track(zones_doc).items() if d >= mark_dwell_s)


def annotate(image: np.ndarray, polygons: dict[str, tuple[tuple[float, float], ...]], tracks: list[Track],
             zones_doc: dict[str, dict[str, Any]], mark_dwell_s: float) -> np.ndarray:
    """A copy of the BGR ``image`` with zones, boxes, dwell labels and the lingering marked."""
    out = image.copy()
    h, w = out.shape[:2]
    thin = max(1, round(w / 640))
    for name, poly in polygons.items():
        if name == "*":
            continue                  # the whole view: nothing to outline
        pts = np.array([[round(x * w), round(y * h)] for x, y in poly], np.int32)
        cv2.polylines(out, [pts], True, ZONE, thin, cv2.LINE_AA)
        x, y = pts.min(axis=0)
        cv2.putText(out, name, (int(x) + 3, int(y) + 14 * thin), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * thin, ZONE,
                    thin, cv2.LINE_AA)
    dwell = dwell_by_track(zones_doc)
    for t in tracks:
        d = dwell.get(t.id)
        lingering = d is not None and d >= mark_dwell_s
        colour, weight = (MARKED, 3 * thin) if lingering else (PERSON, thin)
        p0 = (round(t.box.x0 * w), round(t.box.y0 * h))
        p1 = (round(t.box.x1 * w), round(t.box.y1 * h))
        cv2.rectangle(out, p0, p1, colour, weight)
        if d is not None:
            label = f"{d:.0f}s" + (" LINGER" if lingering else "")
            cv2.putText(out, label, (p0[0], max(10, p0[1] - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45 * thin, colour,
                        thin + (1 if lingering else 0), cv2.LINE_AA)
    return out
