"""Entrance line crossings: per line, how many tracked people went ``in`` and ``out`` through it.

A line is a directed segment a -> b in normalised image coordinates with the side that is "in" (``left`` or
``right`` of a -> b as seen on the screen, y pointing down), see ``onescreen.registry.validate.lines``.
A person is where their foot point is (bottom centre of the box), as for zones.

Counting with hysteresis. Around each line lies a band of half-width ``band`` (normalised image units). A
track's side of a line is only *confirmed* outside the band; a crossing is counted when a track's confirmed
side flips, i.e. it left the band on the other side from the one it entered it. So:
- someone standing on the line (jitter of the detector's box included) stays inside the band: nothing;
- someone who steps onto the line and turns back leaves on the side they came from: nothing;
- someone who crosses back and forth N times is counted N times, alternately in and out;
- a track first seen inside the band has no side yet: it is counted only once it has one and then flips
  (we did not see where it came from, so we do not guess).
A flip counts only if the path from the last confirmed position to the new one passes through the segment
(its extension by the band at both ends included): walking round the end of a gate line is not going through
the gate, it just moves the track to the other side. Per track the net count (in - out) is therefore the
number of times it went in through the segment minus the times it went out through it.

Pure: no I/O, no clock of its own; ``update`` once per analysed frame with the present tracks' foot points.
A track not seen for ``forget_s`` is forgotten (the tracker ends it long before).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Point = tuple[float, float]
DIRECTIONS = ("in", "out")


@dataclass(frozen=True, slots=True)
class Line:
    """A directed entrance line; ``sign`` is +1 when the screen-right of a -> b is "in", -1 when the left is."""

    name: str
    a: Point
    b: Point
    sign: int

    @classmethod
    def of(cls, name: str, doc: Mapping[str, Any]) -> Line:
        """From the registry's mapping ``{"a": [x, y], "b": [x, y], "in": "left" | "right"}``."""
        return cls(name, (float(doc["a"][0]), float(doc["a"][1])), (float(doc["b"][0]), float(doc["b"][1])),
                   1 if doc["in"] == "right" else -1)

    @property
    def length(self) -> float:
        return math.dist(self.a, self.b)

    def offset(self, p: Point) -> float:
        """Signed distance of ``p`` from the line, positive on the "in" side."""
        (ax, ay), (bx, by) = self.a, self.b
        # In image coordinates (y down) a positive cross product is the screen-right of a -> b.
        cross = (bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)
        return self.sign * cross / self.length

    def through(self, p: Point, q: Point, margin: float) -> bool:
        """True when the move p -> q meets the segment, extended by ``margin`` at both ends."""
        dp, dq = self.offset(p), self.offset(q)
        if dp == dq:
            return False
        k = dp / (dp - dq)  # where along p -> q the line is met
        x, y = p[0] + k * (q[0] - p[0]), p[1] + k * (q[1] - p[1])
        (ax, ay), (bx, by) = self.a, self.b
        length = self.length
        t = ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / (length * length)
        m = margin / length
        return -m <= t <= 1 + m


def lines_of(doc: Mapping[str, Any] | None) -> list[Line]:
    """The registry's ``camera.lines`` as Lines, sorted by name."""
    return [Line.of(name, d) for name, d in sorted((doc or {}).items())]


@dataclass(frozen=True, slots=True)
class Crossing:
    """One counted crossing: which line, which way, which track, when."""

    line: str
    direction: str  # "in" | "out"
    track_id: int
    ts: float


@dataclass(slots=True)
class _Side:
    side: int = 0           # confirmed side: +1 in, -1 out, 0 not known yet
    at: Point = (0.0, 0.0)  # last position seen outside the band on the confirmed side
    seen: float = 0.0


@dataclass(slots=True)
class CrossingCounter:
    """Counts crossings of a camera's lines; ``update(feet, ts)`` per frame returns the new crossings."""

    lines: list[Line]
    band: float = 0.04
    forget_s: float = 30.0
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    _sides: dict[tuple[str, int], _Side] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.totals = {ln.name: {d: 0 for d in DIRECTIONS} for ln in self.lines}

    def update(self, feet: Mapping[int, Point], ts: float) -> list[Crossing]:
        """Feed the foot point of each present track at ``ts``; the crossings counted on this frame."""
        out: list[Crossing] = []
        if not self.lines:
            return out
        for tid, p in feet.items():
            for ln in self.lines:
                s = self._sides.setdefault((ln.name, tid), _Side())
                s.seen = ts
                d = ln.offset(p)
                if abs(d) <= self.band:
                    continue  # on the line: the side stays what it was
                side = 1 if d > 0 else -1
                if s.side == -side and ln.through(s.at, p, self.band):
                    direction = "in" if side > 0 else "out"
                    self.totals[ln.name][direction] += 1
                    out.append(Crossing(ln.name, direction, tid, ts))
                s.side, s.at = side, p
        if len(self._sides) > 64 * len(self.lines):  # forget ended tracks now and then, not every frame
            self._sides = {k: s for k, s in self._sides.items() if ts - s.seen <= self.forget_s}
        return out


def summary(crossings: list[Crossing]) -> dict[str, dict[str, int]]:
    """``{line: {"in": n, "out": n}}`` of some crossings (the lines and directions that have any)."""
    out: dict[str, dict[str, int]] = {}
    for c in crossings:
        per = out.setdefault(c.line, {})
        per[c.direction] = per.get(c.direction, 0) + 1
    return out
