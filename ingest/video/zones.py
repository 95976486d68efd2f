"""Per-zone person counts and per-person dwell, in wall-clock seconds.

Zones come from the registry (``camera.zones``: ``{name: {"polygon": [[x, y], ...], "door_id": ...}}``,
normalised image coordinates); a camera without zones gets one whole-view zone ``*`` (the CONTRACT's name
for "whole view"). A person is in a zone when their foot point (bottom centre of the box) is inside the
polygon: where someone stands, not where their head overlaps.

A *visit* is one track's stay in one zone: it starts at the estimated entry time (half-way between the
last frame that saw the track outside and the first that saw it inside, which halves the error a low
analysis rate adds) and its dwell is ``now - entered``. A visit survives:
- short exits and occlusions: it ends only after ``gap_s`` without its track in the zone;
- a change of track id: a new track whose foot point appears within ``reassoc`` body heights of an
  interrupted visit's last position, within ``gap_s``, takes that visit over with its entry time.
So a threshold like "120 s in the zone" is measured on the clock, whatever the frame rate does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.video.tracker import Track

WHOLE_VIEW = "*"
WHOLE_POLYGON = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


def inside(point: tuple[float, float], polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting point-in-polygon; points on the left/bottom edges count as inside."""
    x, y = point
    hit = False
    j = len(polygon) - 1
    for i in range(len(polygon)):
        xi, yi = polygon[i]
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            hit = not hit
        j = i
    return hit or (polygon == WHOLE_POLYGON and 0 <= x <= 1 and 0 <= y <= 1)


def zone_polygons(zones: dict[str, Any]) -> dict[str, tuple[tuple[float, float], ...]]:
    """The registry's zones as polygons; the whole view ``*`` for a camera without zones."""
    polys = {name: tuple((float(x), float(y)) for x, y in z["polygon"]) for name, z in sorted(zones.items())
             if len(z.get("polygon") or ()) >= 3}
    return polys or {WHOLE_VIEW: WHOLE_POLYGON}


@dataclass(slots=True)
class Visit:
    track_id: int
    entered: float
    last_in: float
    foot: tuple[float, float]
    height: float


class ZoneCounter:
    """Feed ``update(present_tracks, ts)`` once per analysed frame; it returns the zones' figures."""

    def __init__(self, polygons: dict[str, tuple[tuple[float, float], ...]], gap_s: float, reassoc: float):
        self.polygons = polygons
        self.gap_s = gap_s
        self.reassoc = reassoc
        self.visits: dict[str, dict[int, Visit]] = {name: {} for name in polygons}
        self.prev_ts: float | None = None

    def update(self, tracks: list[Track], ts: float) -> dict[str, dict[str, Any]]:
        """``{zone: {"persons": n, "tracks": [[track_id, dwell_s], ...]}}`` at ``ts``."""
        # Entry time estimate: half-way since the previous frame (bounded, so a long gap is not credited).
        entry = ts if self.prev_ts is None else max(ts - self.gap_s, (self.prev_ts + ts) / 2)
        self.prev_ts = ts
        out: dict[str, dict[str, Any]] = {}
        present = {t.id for t in tracks}
        for name, poly in self.polygons.items():
            visits = self.visits[name]
            here = [t for t in tracks if inside(t.box.foot, poly)]
            for t in here:
                v = visits.get(t.id) or self._adopt(visits, t, present, ts)
                if v is None:
                    v = Visit(t.id, entry, ts, t.box.foot, t.box.height)
                    visits[t.id] = v
                v.last_in, v.foot, v.height = ts, t.box.foot, t.box.height
            for tid in [tid for tid, v in visits.items() if ts - v.last_in > self.gap_s]:
                del visits[tid]
            rows = [[t.id, round(ts - visits[t.id].entered, 1)] for t in here]
            out[name] = {"persons": len(here), "tracks": rows}
        return out

    def _adopt(self, visits: dict[int, Visit], track: Track, present: set[int], ts: float) -> Visit | None:
        """An interrupted visit (its track gone) near this track, re-keyed to it: the id changed, not the person."""
        fx, fy = track.box.foot
        best, best_d = None, self.reassoc
        for tid, v in visits.items():
            if tid in present or ts - v.last_in > self.gap_s:
                continue
            d = ((v.foot[0] - fx) ** 2 + (v.foot[1] - fy) ** 2) ** 0.5 / max(v.height, track.box.height, 1e-6)
            if d <= best_d:
                best, best_d = tid, d
        if best is None:
            return None
        v = visits.pop(best)
        v.track_id = track.id
        visits[track.id] = v
        return v
