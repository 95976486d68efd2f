"""Keep children alive: restart what dies, with one log line each time, and give up on a crash loop.

The demo starts its own services (Redis, Mosquitto) and OneScreen processes, and the simulator its RTSP
server; before this module a service that ended (a Redis stopped with SIGTERM, an RTSP server that crashed)
stayed down, unlogged, with everything degraded until someone restarted it by hand. ``Supervisor`` watches
anything with the small ``Supervised`` shape: ``ServiceUnit`` adapts an ``onescreen.services`` service
(restarted on the same port and data directory, so clients reconnect to where they were), and the demo's
``Child`` processes fit it as they are.

Restart policy, the same for all: at most ``max_restarts`` within ``window_s`` per unit; past that the unit
is left down for the rest of the window with one ERROR line (a crash loop must not spin), then tried again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Supervised(Protocol):
    """What the supervisor needs of a unit."""

    name: str

    def alive(self) -> bool: ...
    def exit_reason(self) -> str: ...
    def revive(self) -> None: ...
    def where(self) -> str: ...


class ServiceUnit:
    """An ``onescreen.services.Service`` (Redis, Mosquitto, RtspServer) as a supervised unit."""

    def __init__(self, service: Any, name: str | None = None):
        self.service = service
        self.name = name or service.name

    def alive(self) -> bool:
        return self.service.running

    def exit_reason(self) -> str:
        proc = getattr(self.service, "_proc", None)
        code = proc.returncode if proc is not None else None
        return f"exited with {code}" if code is not None else "stopped"

    def revive(self) -> None:
        self.service.stop(timeout=5)  # reap the dead process and wait for its port to close
        self.service.start()

    def where(self) -> str:
        return str(self.service.log_path)


@dataclass
class _Record:
    restarts: list[float] = field(default_factory=list)
    given_up: bool = False


class Supervisor:
    """Checks its units (``check``) and revives the dead ones, in the order given (services before the
    processes that use them)."""

    def __init__(self, units: Sequence[Supervised], max_restarts: int = 5, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.units = list(units)
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.clock = clock
        self._records: dict[int, _Record] = {}

    def add(self, unit: Supervised) -> None:
        self.units.append(unit)

    def check(self) -> list[str]:
        """One pass: revive every dead unit the policy allows; returns the names revived."""
        revived = []
        for unit in self.units:
            if unit.alive():
                continue
            rec = self._records.setdefault(id(unit), _Record())
            now = self.clock()
            rec.restarts = [t for t in rec.restarts if now - t < self.window_s]
            if len(rec.restarts) >= self.max_restarts:
                if not rec.given_up:
                    log.error("%s keeps dying (%d restarts in %.0f s): left down for now; see %s",
                              unit.name, len(rec.restarts), self.window_s, unit.where())
                rec.given_up = True
                continue
            rec.given_up = False
            log.warning("%s %s: restarting it (see %s)", unit.name, unit.exit_reason(), unit.where())
            rec.restarts.append(now)
            try:
                unit.revive()
            except Exception as exc:  # a start that fails counts as a restart; the next pass tries again
                log.error("%s could not be restarted: %s", unit.name, exc)
                continue
            log.info("%s restarted", unit.name)
            revived.append(unit.name)
        return revived

    def run(self, stopped: Callable[[], bool], interval_s: float = 1.0) -> None:
        """``check`` every ``interval_s`` until ``stopped()``."""
        while not stopped():
            time.sleep(interval_s)
            if not stopped():
                self.check()
