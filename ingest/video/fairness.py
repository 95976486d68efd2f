"""Detection time shared fairly between one worker's cameras.

``video.detect_concurrency`` detections run at once in a worker. With a plain semaphore a busy camera that
releases a slot and asks again at once can take it again before a waiting neighbour wakes, and cameras that
need the detector more get more of it: a 1080p camera whose detection takes 300 ms halved its neighbours'
analysis rate. ``FairSlots`` hands a free slot to the waiting camera that has used the least detector time
lately (exponentially decayed, ``half_life_s``), so a cheap camera never waits behind an expensive one and
expensive ones share what is left equally (max-min fairness).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class FairSlots:
    """``with slots.use(camera_id): detect(...)``; at most ``n`` at once, least recent use first."""

    def __init__(self, n: int, half_life_s: float = 10.0, clock=time.monotonic):
        self.n = max(1, n)
        self._free = self.n
        self._cond = threading.Condition()
        self._usage: dict[str, tuple[float, float]] = {}   # key -> (decayed seconds used, at)
        self._waiting: dict[str, int] = {}                  # key -> waiters
        self._rate = math.log(2) / half_life_s
        self._clock = clock

    def usage(self, key: str, now: float | None = None) -> float:
        """Decayed detector seconds ``key`` used, as of ``now``."""
        used, at = self._usage.get(key, (0.0, 0.0))
        now = self._clock() if now is None else now
        return used * math.exp(-self._rate * max(0.0, now - at))

    def _turn(self, key: str) -> bool:
        if self._free <= 0:
            return False
        now = self._clock()
        mine = self.usage(key, now)
        return all(mine <= self.usage(other, now) for other in self._waiting if other != key)

    @contextmanager
    def use(self, key: str) -> Iterator[None]:
        with self._cond:
            self._waiting[key] = self._waiting.get(key, 0) + 1
            try:
                self._cond.wait_for(lambda: self._turn(key))
            finally:
                self._waiting[key] -= 1
                if not self._waiting[key]:
                    del self._waiting[key]
            self._free -= 1
        start = self._clock()
        try:
            yield
        finally:
            end = self._clock()
            with self._cond:
                self._usage[key] = (self.usage(key, end) + (end - start), end)
                self._free += 1
                self._cond.notify_all()
