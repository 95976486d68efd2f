"""A real RTSP server (GStreamer's gst-rtsp-server via sim/rtsp_server.py)."""

from __future__ import annotations

import logging
import os
import select
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from onescreen.services.base import RTSP_SCRIPT, Service, ServiceError, _tail

log = logging.getLogger(__name__)

def _gi_python() -> str:
    """A Python that can import GStreamer's RTSP server through gi (Debian's, not the venv's)."""
    probe = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
             "from gi.repository import Gst, GstRtspServer")
    candidates = [os.environ.get("GI_PYTHON"), sys.executable, "/usr/bin/python3", shutil.which("python3")]
    tried = [c for c in dict.fromkeys(candidates) if c and Path(c).is_file()]
    for candidate in tried:
        if subprocess.run([candidate, "-c", probe], capture_output=True, timeout=30).returncode == 0:
            return candidate
    raise ServiceError(
        f"no Python with GStreamer RTSP server bindings (tried {', '.join(tried) or 'none'}): install them "
        "with `apt-get install python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good "
        "gstreamer1.0-plugins-ugly gstreamer1.0-libav` (or point GI_PYTHON at a Python that has gi)")


class RtspServer(Service):
    """sim/rtsp_server.py as a child: files looped forever and generated scenes, one shared pipeline each."""

    name = "rtsp"
    _python: str | None = None

    def __init__(self, mounts: dict[str, str], port: int | None = None, workdir: str | Path | None = None):
        super().__init__(port, workdir)
        self.mounts = dict(mounts)
        self._enabled = {name: True for name in self.mounts}
        self._control = threading.Lock()   # one command and its answer at a time
        if RtspServer._python is None:
            RtspServer._python = _gi_python()

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def _command(self) -> list[str]:
        cmd = [self._python, str(RTSP_SCRIPT), "--port", str(self.port), "--host", self.host, "--control-stdin"]
        cmd += [f"{name}={spec}" for name, spec in self.mounts.items()]
        cmd += [f"--down={name}" for name, on in self._enabled.items() if not on]
        return cmd

    def _popen_kwargs(self) -> dict:
        return {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": self._stderr}

    def start(self) -> RtspServer:
        # stdout carries command acknowledgements; the server's own log goes to stderr = the log file.
        with open(self.log_path, "ab") as self._stderr:
            return super().start()

    def set_mount(self, name: str, enabled: bool, timeout: float = 10.0) -> None:
        """Make a mount unavailable (clients dropped, new ones get 404) or available again."""
        if name not in self.mounts:
            raise KeyError(name)
        self._enabled[name] = enabled
        if not self.running:
            return  # applied at the next start through --down
        word = "up" if enabled else "down"
        with self._control:
            try:
                self._proc.stdin.write(f"{word} {name}\n".encode())
                self._proc.stdin.flush()
            except (OSError, AttributeError) as exc:
                raise ServiceError(f"rtsp server is not reachable: {exc} (log {self.log_path})") from exc
            reply = self._read_line(timeout)
        if reply != f"ok {word} {name}":
            raise ServiceError(f"rtsp server answered {reply!r} to '{word} {name}' (log {self.log_path})")

    def _read_line(self, timeout: float) -> str:
        fd = self._proc.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ServiceError(f"rtsp server did not answer in {timeout:.0f} s (log {self.log_path})")
            chunk = os.read(fd, 1)
            if not chunk:
                raise ServiceError(f"rtsp server exited (log {self.log_path}):\n{_tail(self.log_path)}")
            data += chunk
        return data.decode().strip()
