"""A private redis-server on a free port."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from onescreen.services.base import Service, find_binary

log = logging.getLogger(__name__)

class RedisServer(Service):
    """A private redis-server; no snapshots unless ``appendonly`` (then the AOF survives a restart)."""

    name = "redis"

    def __init__(self, port: int | None = None, workdir: str | Path | None = None, appendonly: bool = False):
        super().__init__(port, workdir)
        self.appendonly = appendonly
        self.binary = find_binary("redis-server", "redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _command(self) -> list[str]:
        return [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.workdir),
                "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                "--daemonize", "no", "--logfile", "", "--databases", "16"]

    def _ready(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False


# Mosquitto's default max_queued_messages is 1000: beyond that, QoS 1 messages for a slow or offline
# persistent client are silently dropped. OneScreen promises never to lose a device event, so the queue is
# bounded only by memory (0 = no limit, for both count and bytes). max_inflight_messages is flow control,
# not loss (messages over it wait in the queue), so it keeps its default. Shared with deploy/mosquitto.
