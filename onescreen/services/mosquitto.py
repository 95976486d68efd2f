"""A private Mosquitto broker that never drops queued QoS 1 messages."""

from __future__ import annotations

import logging
import os
import pwd
import subprocess
from pathlib import Path

from onescreen.services.base import Service, find_binary

log = logging.getLogger(__name__)

NO_DROP_SETTINGS = """\
# Never drop queued QoS 1/2 messages for slow or offline persistent clients (the default drops after 1000).
max_queued_messages 0
max_queued_bytes 0
# In-flight limit is flow control only (extra messages wait in the queue above); 20 is the default.
max_inflight_messages 20
# Persistent sessions live until the client ends them (MQTT 5 session expiry), never by broker policy.
# persistent_client_expiration is deliberately not set.
"""


class MosquittoServer(Service):
    """A private Mosquitto with its own config; ``never_drop=False`` keeps Mosquitto's lossy defaults;
    ``tls`` (CA, certificate, key) makes its listener TLS-only."""

    name = "mosquitto"

    def __init__(self, port: int | None = None, workdir: str | Path | None = None, persistence: bool = False,
                 username: str | None = None, password: str | None = None, never_drop: bool = True,
                 tls: tuple[Path, Path, Path] | None = None):
        super().__init__(port, workdir)
        self.tls = tls  # (CA file, server certificate, server key): the listener speaks TLS only
        self.persistence = persistence
        self.username = username
        self.password = password
        self.never_drop = never_drop
        self.binary = find_binary("mosquitto", "mosquitto", extra_dirs=("/usr/sbin",))
        self.config_path = self.workdir / "mosquitto.conf"

    def _prepare(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1", "log_dest stderr",
                 "log_type error", "log_type warning", "log_type notice", "log_type information",
                 "set_tcp_nodelay true",
                 # As root, Mosquitto would switch to user 'mosquitto', who cannot write our work dir.
                 f"user {pwd.getpwuid(os.getuid()).pw_name}"]
        if self.never_drop:
            lines.append(NO_DROP_SETTINGS)
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/",
                      "persistence_file mosquitto.db", "autosave_interval 30"]
        if self.username:
            passwd = self.workdir / "passwd"
            passwd.write_text("", encoding="utf-8")
            passwd.chmod(0o600)
            tool = find_binary("mosquitto_passwd", "mosquitto", extra_dirs=("/usr/sbin",))
            subprocess.run([tool, "-b", str(passwd), self.username, self.password or ""], check=True,
                           capture_output=True)
            lines += [f"password_file {passwd}", "allow_anonymous false"]
        else:
            lines.append("allow_anonymous true")
        if self.tls:  # options of the listener above
            cafile, certfile, keyfile = self.tls
            lines += [f"cafile {cafile}", f"certfile {certfile}", f"keyfile {keyfile}", "require_certificate false"]
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _command(self) -> list[str]:
        return [self.binary, "-c", str(self.config_path)]
