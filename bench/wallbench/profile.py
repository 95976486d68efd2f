"""A sampling profiler for the dashboard's request threads, for ``bench/walls.py --profile``.

cProfile sees one thread; the dashboard answers on waitress's worker threads, inside a process that here also
runs the ingest and the alert engine. Every 10 ms this thread reads every ``waitress-*`` thread's stack
(``sys._current_frames``) and counts, per function, the samples where it is on the stack (cumulative) and on
top (self); a thread waiting for work (top frame in ``threading``) is counted as idle, not profiled.
"""

from __future__ import annotations

import collections
import sys
import threading
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2]) + "/"


class Sampler(threading.Thread):
    def __init__(self, every_s: float = 0.01, prefix: str = "waitress"):
        super().__init__(daemon=True, name="wall-profiler")
        self.every_s, self.prefix = every_s, prefix
        self.cum: collections.Counter[str] = collections.Counter()
        self.top: collections.Counter[str] = collections.Counter()
        self.busy = self.idle = 0
        self._halt = threading.Event()
        self.start()

    def run(self) -> None:
        while not self._halt.wait(self.every_s):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if not names.get(ident, "").startswith(self.prefix):
                    continue
                if frame.f_code.co_filename.endswith("threading.py"):
                    self.idle += 1
                    continue
                self.busy += 1
                self.top[_where(frame)] += 1
                seen = set()
                while frame is not None:
                    w = _where(frame)
                    if w not in seen:
                        seen.add(w)
                        self.cum[w] += 1
                    frame = frame.f_back

    def stop(self) -> None:
        self._halt.set()
        self.join(2)

    def report(self, n: int = 25) -> str:
        """The busiest functions, cumulative and self, in % of the busy samples."""
        total = max(1, self.busy)
        lines = [f"[profile] request threads: {self.busy} busy samples, {self.idle} idle"]
        lines += [f"[profile] cum {100 * c / total:5.1f} %  {w}" for w, c in self.cum.most_common(n)]
        lines += [f"[profile] self {100 * c / total:5.1f} %  {w}" for w, c in self.top.most_common(n)]
        return "\n".join(lines)


def _where(frame) -> str:
    code = frame.f_code
    path = code.co_filename
    path = path.split("site-packages/", 1)[-1].removeprefix(ROOT)
    return f"{path}:{code.co_firstlineno} {code.co_name}"
