"""Time in the simulated city: the daily rhythm of people, patrol shifts, and spreading periodic work.

The city runs on the wall clock (a 3 a.m. demo is quiet, an 8 a.m. one is busy) because the alert rules
and the screens work on real instants. ``Ticker`` is why 19,000 cameras can each send a heartbeat a minute
without a thundering herd: every item gets a fixed slot inside the period, derived from its id, so the
load is flat and an item's slot survives a restart.
"""

from __future__ import annotations

import zlib
from bisect import bisect_left
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

# relative activity by local hour: quiet at night, peaks when people leave for work and come home
HOURLY = (0.06, 0.04, 0.03, 0.03, 0.04, 0.12, 0.40, 0.90, 1.00, 0.60, 0.45, 0.50,
          0.60, 0.50, 0.45, 0.50, 0.65, 0.90, 1.00, 0.90, 0.70, 0.50, 0.30, 0.12)


def activity(local: datetime) -> float:
    """Activity 0..1 at a local time, interpolated between the hourly values so there is no step."""
    h = local.hour + local.minute / 60 + local.second / 3600
    i = int(h) % 24
    frac = h - int(h)
    return HOURLY[i] * (1 - frac) + HOURLY[(i + 1) % 24] * frac


def slot(key: str, period: float) -> float:
    """The fixed offset of ``key`` inside a period (crc32: the same in every process and run)."""
    return (zlib.crc32(key.encode()) % 1_000_000) / 1_000_000 * period


class Ticker(Generic[T]):
    """Each item is due once per ``period``, at its own slot; ``due(now)`` returns those whose slot passed."""

    def __init__(self, items: list[T], period: float, key: Callable[[T], str] = str):
        if period <= 0:
            raise ValueError("period must be positive")
        offsets = [slot(key(item), period) for item in items]
        order = sorted(range(len(items)), key=offsets.__getitem__)
        self.items = [items[i] for i in order]
        self.offsets = [offsets[i] for i in order]
        self.period = period
        self._last: float | None = None

    def due(self, now: float) -> list[T]:
        """Items whose slot fell in [last call, now); the first call only sets the start."""
        last, self._last = self._last, now
        if last is None or now <= last:
            return []
        if now - last >= self.period:
            return list(self.items)
        a, b = last % self.period, now % self.period
        lo, hi = bisect_left(self.offsets, a), bisect_left(self.offsets, b)
        if a <= b:
            return self.items[lo:hi]
        return self.items[lo:] + self.items[:hi]
