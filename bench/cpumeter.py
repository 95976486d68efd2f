"""CPU seconds of this process and of a server process tree (e.g. PostgreSQL's postmaster and its backends),
read from /proc: on a shared machine whose load average swings from 5 to 30, the CPU time an operation costs
is steadier than its wall-clock time, so benches report both.

``ProcessTreeCPU(pid).seconds()`` is the tree's user + system time so far: the root's own and its reaped
children's (parallel workers that ended), plus the live children's. Linux only.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2:].split()  # fields from the 3rd (state) on; the name may hold spaces


class ProcessTreeCPU:
    """CPU seconds used by process ``pid`` and its children (reaped ones included)."""

    def __init__(self, pid: int):
        self.pid = pid

    def seconds(self) -> float:
        ticks = 0
        root = _stat(self.pid)
        if root is not None:  # utime, stime, cutime, cstime are fields 14-17 (index 11-14 from the 3rd)
            ticks += sum(int(v) for v in root[11:15])
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == self.pid:
                continue
            st = _stat(int(entry.name))
            if st is not None and int(st[1]) == self.pid:
                ticks += int(st[11]) + int(st[12])
        return ticks / TICK


def own_seconds() -> float:
    """This process's CPU seconds (user + system)."""
    return time.process_time()
