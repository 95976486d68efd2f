"""Real services as child processes: Redis, Mosquitto, an RTSP server and a throwaway PostgreSQL.

The test suite and ``onescreen demo`` need the same parts the production system runs against, without
touching anything already running on the machine. Each class here starts one service on a free port in a
private work directory, waits until it really accepts connections, and stops it cleanly; ``stop()`` then
``start()`` brings it back on the same port with the same data directory, which is how tests simulate an
outage. Children started from the main thread get SIGTERM if this process dies (PR_SET_PDEATHSIG), so a
crashed test run leaves no stray brokers behind.
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

log = logging.getLogger(__name__)

RTSP_SCRIPT = Path(__file__).resolve().parents[2] / "sim" / "rtsp_server.py"
_LIVE: weakref.WeakSet[Service] = weakref.WeakSet()


class ServiceError(RuntimeError):
    """A service could not be found, started or stopped; the message says what to do."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_binary(name: str, package: str, extra_dirs=()) -> str:
    """Path of an executable on PATH or in ``extra_dirs``; ServiceError naming the Debian package if absent."""
    found = shutil.which(name)
    if found:
        return found
    for folder in extra_dirs:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ServiceError(f"{name} not found: install it with `apt-get install {package}`")


try:
    _PRCTL = ctypes.CDLL(None, use_errno=True).prctl   # looked up here: the forked child only calls it
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _PRCTL = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Ask Linux to SIGTERM the child when the thread that started it dies (no orphaned services)."""
    _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join(text[-lines:])


class Service:
    """One child process with a port, a work directory and a log file; a context manager."""

    name = "service"
    start_timeout_s = 20.0
    stop_signal = signal.SIGTERM

    def __init__(self, port: int | None = None, workdir: str | Path | None = None):
        self.port = port or free_port()
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"onescreen-{self.name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / f"{self.name}.log"
        self.host = "127.0.0.1"
        self._proc: subprocess.Popen | None = None
        _LIVE.add(self)

    # ------------------------------------------------------------ to override
    def _command(self) -> list[str]:
        raise NotImplementedError

    def _prepare(self) -> None:
        """Write config files etc. before each start."""

    def _ready(self) -> bool:
        """True once the service answers; the default is 'the port accepts TCP connections'."""
        return port_open(self.port, self.host)

    def _popen_kwargs(self) -> dict:
        return {}

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> Service:
        """Start the child and block until it is ready; ServiceError (with its log tail) if it is not."""
        if self.running:
            return self
        if port_open(self.port, self.host, timeout=0.2):
            raise ServiceError(f"{self.name}: port {self.port} is already in use")
        self._prepare()
        cmd = self._command()
        log.info("starting %s on port %s (log %s)", self.name, self.port, self.log_path)
        # The death signal follows the starting *thread*: only the main thread's children get it, so a
        # service started from a short-lived thread is not killed when that thread ends.
        on_death = _die_with_parent if _PRCTL and threading.current_thread() is threading.main_thread() else None
        with open(self.log_path, "ab") as logf:
            kwargs = {"stdin": subprocess.DEVNULL, "stdout": logf, "stderr": subprocess.STDOUT,
                      "cwd": self.workdir, "preexec_fn": on_death, **self._popen_kwargs()}
            self._proc = subprocess.Popen(cmd, **kwargs)
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServiceError(f"{self.name} exited with code {self._proc.returncode} while starting "
                                   f"(log {self.log_path}):\n{_tail(self.log_path)}")
            if self._ready():
                return self
            time.sleep(0.05)
        self.stop()
        raise ServiceError(f"{self.name} not ready after {self.start_timeout_s:.0f} s "
                           f"(log {self.log_path}):\n{_tail(self.log_path)}")

    def stop(self, timeout: float = 15.0) -> None:
        """Stop gracefully (the service saves what it persists), killing it if it does not exit in time."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(self.stop_signal)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", self.name, timeout)
            proc.kill()
            proc.wait()
        self._wait_port_closed()

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing is saved beyond what the service already wrote."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        self._wait_port_closed()

    def _wait_port_closed(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while port_open(self.port, self.host, 0.2) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> Service:
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop and delete the work directory if this object created it."""
        self.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Service:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} 127.0.0.1:{self.port} {state}>"


@atexit.register
def _stop_all() -> None:
    for service in list(_LIVE):
        try:
            service.stop(timeout=5)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
die_with_parent = _die_with_parent  # public name for other launchers (the demo)
