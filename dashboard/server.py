"""``DashboardWorker``: the dashboard process, the Dash app served by waitress inside the common worker shape.

Waitress runs its own event loop in a thread so the worker keeps the same ``run()`` / stop-event /
heartbeat skeleton as every other OneScreen process (STYLE: workers look alike). Stopping closes the
listening socket and open connections from inside waitress's loop (via its trigger), then drains the
request threads, so a restart can bind the same port at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import waitress
from waitress import wasyncore
from waitress.trigger import trigger as WaitressTrigger

from dashboard.app import create_app
from onescreen.settings import Settings
from onescreen.worker import Worker

log = logging.getLogger(__name__)


class DashboardWorker(Worker):
    """Serves the wall, desks and API on ``dashboard.host:port`` with ``dashboard.threads`` threads."""

    kind = "dashboard"

    def __init__(self, settings: Settings, instance: str | None = None):
        super().__init__(settings, instance)
        self.app = None
        self.port: int | None = None  # the bound port, known after setup()
        self._socket_map: dict[int, Any] = {}
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://{self.settings.dashboard.host}:{self.port}"

    def setup(self) -> None:
        cfg = self.settings.dashboard
        self.app = create_app(self.settings)
        self._server = waitress.create_server(
            self.app.server, map=self._socket_map, host=cfg.host, port=cfg.port, threads=cfg.threads,
            connection_limit=cfg.connection_limit,
            ident="onescreen", clear_untrusted_proxy_headers=True,
        )
        self.port = int(self._server.effective_port)
        self._thread = threading.Thread(target=self._serve, name="dashboard-http", daemon=True)
        self._thread.start()
        log.info("dashboard serving on %s (%d threads)", self.url, cfg.threads)

    def _serve(self) -> None:
        try:
            self._server.run()
        except Exception:
            if not self.stop_event.is_set():
                log.exception("dashboard HTTP server failed")
                self.stop_event.set()

    def step(self) -> None:
        self.stop_event.wait(1.0)
        if not self.stop_event.is_set() and self._thread is not None and not self._thread.is_alive():
            raise RuntimeError("dashboard HTTP server thread ended unexpectedly")

    def teardown(self) -> None:
        if self._server is not None:
            self._close_server()
        if self.app is not None:
            from dashboard.context import app_context

            app_context(self.app.server).close()

    def _close_server(self) -> None:
        """Close sockets inside waitress's loop thread (no cross-thread select on closed fds), then drain."""
        def close_all() -> None:
            wasyncore.close_all(self._socket_map, ignore_all=True)

        triggers = [d for d in list(self._socket_map.values()) if isinstance(d, WaitressTrigger)]
        if triggers and self._thread is not None and self._thread.is_alive():
            triggers[0].pull_trigger(close_all)
            self._thread.join(timeout=5)
        if self._socket_map:  # loop not running (or stuck): close from here
            close_all()
        self._server.task_dispatcher.shutdown(timeout=5)
        log.info("dashboard HTTP server closed")

    # the heartbeat's view of Redis feeds the same outage log as the requests: one line each way per outage
    def redis_lost(self, exc: Exception) -> None:
        self._redis_outage().failed(exc)

    def redis_back(self) -> None:
        self._redis_outage().back()

    def _redis_outage(self) -> Any:
        return self.app.server.extensions["onescreen.outages"]["redis"]

    def health(self) -> dict[str, Any]:
        return {"url": self.url, "threads": self.settings.dashboard.threads,
                "registry_empty": self.app is not None and self._city_empty()}

    def _city_empty(self) -> bool:
        from dashboard.context import app_context

        return app_context(self.app.server).city.empty
