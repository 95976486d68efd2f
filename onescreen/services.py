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
import glob
import logging
import os
import pwd
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

log = logging.getLogger(__name__)

RTSP_SCRIPT = Path(__file__).resolve().parent.parent / "sim" / "rtsp_server.py"
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
            self._proc = subprocess.Popen(cmd, **kwargs)  # noqa: S603 - fixed argument list
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
    """A private Mosquitto with its own config; ``never_drop=False`` keeps Mosquitto's lossy defaults."""

    name = "mosquitto"

    def __init__(self, port: int | None = None, workdir: str | Path | None = None, persistence: bool = False,
                 username: str | None = None, password: str | None = None, never_drop: bool = True):
        super().__init__(port, workdir)
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
        self.config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def _command(self) -> list[str]:
        return [self.binary, "-c", str(self.config_path)]


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


def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServiceError("running as root and neither user 'postgres' nor 'nobody' exists to run PostgreSQL")


class PostgresCluster(Service):
    """A throwaway PostgreSQL cluster (trust auth, fsync off) with a database ``onescreen``.

    PostgreSQL refuses to run as root. When we are root, initdb and the postmaster run as the ``postgres``
    user (``nobody`` if there is none) through Popen's ``user=``/``group=`` (setuid in the child, no
    su/runuser session in between), so the postmaster stays our direct child and dies with us. That user
    must be able to reach the work directory: the default one (mkdtemp under /tmp) is chowned to it; a
    caller-supplied directory must sit under world-traversable parents (pytest's tmp_path does not).
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # the postmaster's "fast" shutdown, i.e. what `pg_ctl stop -m fast` sends
    start_timeout_s = 60.0

    def __init__(self, port: int | None = None, workdir: str | Path | None = None):
        super().__init__(port, workdir)
        bin_dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                          reverse=True)
        self.initdb = find_binary("initdb", "postgresql", extra_dirs=bin_dirs)
        self.postgres = str(Path(self.initdb).with_name("postgres"))
        if not Path(self.postgres).is_file():
            self.postgres = find_binary("postgres", "postgresql", extra_dirs=bin_dirs)
        self.datadir = self.workdir / "data"
        self._user = _unprivileged_user() if os.geteuid() == 0 else None
        self._db_created = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/onescreen"

    def _popen_kwargs(self) -> dict:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": [],
                "env": {**os.environ, "HOME": str(self.workdir), "USER": self._user.pw_name}}

    def _prepare(self) -> None:
        if self._user is not None:
            for parent in self.workdir.resolve().parents:
                if not parent.stat().st_mode & stat.S_IXOTH:
                    raise ServiceError(f"PostgreSQL runs as user {self._user.pw_name}, who cannot reach "
                                       f"{self.workdir} ({parent} is not world-searchable): use a work "
                                       "directory under /tmp, or leave workdir unset")
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        if (self.datadir / "PG_VERSION").is_file():
            return
        with open(self.log_path, "ab") as logf:
            done = subprocess.run([self.initdb, "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                                   "--encoding=UTF8", "--locale=C", "--no-sync"],
                                  stdout=logf, stderr=subprocess.STDOUT, cwd=self.workdir,
                                  **self._popen_kwargs())
        if done.returncode != 0:
            raise ServiceError(f"initdb failed (log {self.log_path}):\n{_tail(self.log_path)}")

    def _command(self) -> list[str]:
        # Run the postmaster itself rather than `pg_ctl start` (which daemonises it) so it is our child.
        # fsync and friends are off: this cluster is thrown away, and tests want speed, not durability.
        return [self.postgres, "-D", str(self.datadir), "-p", str(self.port), "-k", str(self.workdir),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=200"]

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                 connect_timeout=2, autocommit=True) as conn:
                if not self._db_created:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'onescreen'").fetchone()
                    if not exists:
                        conn.execute("CREATE DATABASE onescreen")
                    self._db_created = True
            return True
        except psycopg.OperationalError:
            return False
