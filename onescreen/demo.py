"""``onescreen demo``: the whole system on one machine with a simulated city.

Starts its own Redis and Mosquitto on free ports (never the machine's own services on the standard ports),
prepares a SQLite database in the work folder with a generated city and demo accounts, then runs every
OneScreen process as a child (the same commands production runs) and restarts any child or service that
dies (``onescreen.supervise``). Ctrl-C stops everything in reverse order. Logs of each child go to
``<workdir>/logs/<process>.log``.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from onescreen.log import setup_logging
from onescreen.services import die_with_parent
from onescreen.settings import Settings

log = logging.getLogger("onescreen.demo")

PROCESSES = ("dashboard", "ingest-mqtt", "ingest-video", "alerts", "archiver", "assessment", "sim",
             "cases-worker")
DEMO_USERS = (("admin", "admin"), ("operator", "operator"), ("supervisor", "supervisor"), ("duty", "duty"),
              ("grid", "grid"), ("department", "department"))


@dataclass
class Child:
    """One supervised OneScreen process."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = self.log_path.open("ab")
        # Own session: a terminal's Ctrl-C reaches only the demo, which stops the children in order.
        # Death signal: if the demo itself is killed (-9), the kernel stops its children too.
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=die_with_parent)
        out.close()
        log.info("started %s (pid %s), log %s", self.name, self.proc.pid, self.log_path)

    # the onescreen.supervise.Supervised shape
    def alive(self) -> bool:
        return self.proc is None or self.proc.poll() is None  # never started: nothing to restart

    def exit_reason(self) -> str:
        return f"exited with {self.proc.returncode if self.proc else None}"

    def revive(self) -> None:
        self.start()

    def where(self) -> str:
        return str(self.log_path)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s: killing it", self.name, timeout)
            self.proc.kill()
            self.proc.wait()


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def ensure_city(settings: Settings, workdir: Path, preset: str) -> None:
    """Schema, plus a generated city unless one is loaded already (a real city is never overwritten)."""
    from onescreen.db.models import GridNode
    from onescreen.db.session import make_engine, session_factory, upgrade
    from onescreen.registry.bundle import write_bundle
    from onescreen.registry.importer import import_bundle
    from sim.citygen import generate_city

    url = settings.database.url
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            if session.scalar(select(func.count()).select_from(GridNode)) > 0:
                return
        t0 = time.monotonic()
        folder = workdir / f"city-{preset}"
        s = settings.sim
        write_bundle(folder, generate_city(preset=preset, seed=s.seed, rtsp_host=s.rtsp_host, rtsp_port=s.rtsp_port))
        counts = import_bundle(engine, folder)
        log.info("generated and imported the %s city in %.1f s: %s", preset, time.monotonic() - t0, counts)
    finally:
        engine.dispose()


def video_capacity(settings: Settings) -> int:
    """Capacity of the demo's one video worker: every camera the demo streams (a preset of 24 with the default
    16 left 8 never analysed, shown 无画面), and never less than configured."""
    from onescreen.db.models import Camera
    from onescreen.db.session import make_engine

    engine = make_engine(settings.database.url)
    try:
        with engine.connect() as conn:
            streamed = conn.scalar(select(func.count()).select_from(Camera).where(Camera.streamed.is_(True))) or 0
    finally:
        engine.dispose()
    return max(settings.video.capacity, int(streamed))


def ensure_demo_users(url: str) -> None:
    """Create the demo accounts with random passwords, printed once, if there are no accounts yet."""
    from onescreen.accounts import add_user
    from onescreen.db.models import Department, GridWorker, PatrolUnit, User
    from onescreen.db.session import make_engine, session_factory

    engine = make_engine(url)
    with session_factory(engine)() as session:
        if session.scalar(select(func.count()).select_from(User)) == 0:
            unit = session.scalar(select(PatrolUnit.id).order_by(PatrolUnit.id).limit(1))
            worker = session.scalar(select(GridWorker.id).order_by(GridWorker.id).limit(1))
            department = session.scalar(select(Department.id).order_by(Department.id).limit(1))
            lines = []
            for username, role in DEMO_USERS:
                if (role == "grid" and worker is None) or (role == "department" and department is None):
                    continue  # a city bundle without workers or departments
                password = secrets.token_urlsafe(9)
                add_user(session, username, password, role, unit_id=unit if role == "duty" else None,
                         worker_id=worker if role == "grid" else None,
                         department_id=department if role == "department" else None)
                lines.append(f"    {username:<11} {role:<11} {password}")
            session.commit()
            # Printed once, to the terminal only (never logged): they exist nowhere else in clear text.
            print("\nDemo accounts (shown once; add more with `onescreen users add`):\n"
                  + "\n".join(lines) + "\n", flush=True)
    engine.dispose()


def _demo_rtsp_port(workdir: Path, preferred: int) -> int:
    """The simulator's RTSP port: chosen once per work folder, because the generated cameras' URLs name it."""
    from onescreen.services import free_port

    saved = workdir / "rtsp_port"
    if saved.is_file():
        return int(saved.read_text())
    port = preferred if _port_free("127.0.0.1", preferred) else free_port()
    saved.write_text(str(port))
    return port


def _write_demo_config(settings: Settings, env: dict[str, str], workdir: Path) -> Path:
    """The settings the demo's children run with (its own Redis/Mosquitto ports, its database) as a config
    file, so any other command can join the running demo with ``-c``. Secrets stay in the environment."""
    import yaml

    from onescreen.settings import SECRET_KEYS

    s = settings.model_copy(deep=True)
    s.redis.url = env["ONESCREEN_REDIS_URL"]
    s.mqtt.host, s.mqtt.port = env["ONESCREEN_MQTT_HOST"], int(env["ONESCREEN_MQTT_PORT"])
    s.database.url = env["ONESCREEN_DATABASE_URL"]
    s.sim.rtsp_port = int(env["ONESCREEN_SIM_RTSP_PORT"])
    doc = s.model_dump(mode="json", exclude_none=True)
    for group, key in SECRET_KEYS:
        doc.get(group, {}).pop(key, None)
    path = workdir / "onescreen.yaml"
    path.write_text("# written by `onescreen demo`: join the running demo with -c this file\n"
                    + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _wait_http(url: str, timeout: float) -> bool:
    """True once the server answers at all: /api/health says 503 while a process is still starting, and the
    dashboard is usable by then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def run_demo(settings: Settings, workdir: Path, preset: str = "default", config_path: str | None = None,
             cluster: bool = False) -> int:
    """Run everything until Ctrl-C or SIGTERM; ``cluster``: on a local 3+3 Redis Cluster. Returns the exit code."""
    from onescreen.services import MosquittoServer, RedisClusterServer, RedisServer, ServiceError

    setup_logging(settings.log.level, "text", kind="demo", instance="demo")
    workdir = workdir.resolve()
    (workdir / "logs").mkdir(parents=True, exist_ok=True)
    host, port = settings.dashboard.host, settings.dashboard.port
    if not _port_free(host, port):
        log.error("port %s:%s is taken: stop what runs there or set ONESCREEN_DASHBOARD_PORT", host, port)
        return 2
    stop = {"flag": False}

    def _on_signal(signum: int, _frame: object) -> None:
        log.info("%s: stopping the demo", signal.Signals(signum).name)
        stop["flag"] = True

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    try:
        redis_srv = (RedisClusterServer(workdir=workdir / "redis-cluster") if cluster
                     else RedisServer(workdir=workdir / "redis", appendonly=True))
        broker = MosquittoServer(workdir=workdir / "mosquitto", persistence=True)
        redis_srv.start()
        broker.start()
    except ServiceError as exc:
        log.error("%s", exc)
        return 2
    log.info("Redis on %s, Mosquitto on %s:%s (demo-owned, in %s)", redis_srv.url, broker.host, broker.port,
             workdir)
    db_url = f"sqlite:///{workdir / 'onescreen.db'}"
    rtsp_port = _demo_rtsp_port(workdir, settings.sim.rtsp_port)
    demo_settings = settings.model_copy(update={
        "database": settings.database.model_copy(update={"url": db_url}),
        "sim": settings.sim.model_copy(update={"rtsp_port": rtsp_port}),
    })
    env = dict(os.environ)  # the user's ONESCREEN_* settings apply to every child, except what the demo owns:
    env.update({
        "ONESCREEN_REDIS_URL": redis_srv.url,
        "ONESCREEN_MQTT_HOST": broker.host,
        "ONESCREEN_MQTT_PORT": str(broker.port),
        "ONESCREEN_DATABASE_URL": db_url,
        "ONESCREEN_SIM_RTSP_PORT": str(rtsp_port),
        "ONESCREEN_LOG_FORMAT": settings.log.format,
        "PYTHONUNBUFFERED": "1",
    })
    if cluster:  # a batch counts as stored once a replica has it too (docs/scale.md, failover)
        env["ONESCREEN_REDIS_ACK_REPLICAS"] = "1"
    if config_path:
        env["ONESCREEN_CONFIG"] = str(Path(config_path).resolve())
    children: list[Child] = []
    try:
        ensure_city(demo_settings, workdir, preset)
        ensure_demo_users(db_url)
        env["ONESCREEN_VIDEO_CAPACITY"] = str(video_capacity(demo_settings))
        for name in PROCESSES:
            argv = [sys.executable, "-m", "onescreen.cli", "--instance", f"demo-{name}", name]
            children.append(Child(name, argv, env, workdir / "logs" / f"{name}.log"))
        for child in children:
            child.start()
        config = _write_demo_config(demo_settings, env, workdir)
        url = f"http://{host}:{port}/"
        if _wait_http(url + "api/health", 60):
            print(f"\nOneScreen demo is up: {url}   (Ctrl-C stops it; logs in {workdir / 'logs'})\n"
                  f"Make an alert happen, from another terminal:\n"
                  f"    .venv/bin/onescreen -c {_relative(config)} sim scenario gathering\n", flush=True)
        else:
            log.error("the dashboard did not answer within 60 s: see %s", workdir / "logs" / "dashboard.log")
        _supervise([redis_srv, broker], children, stop)
    finally:
        for child in reversed(children):
            child.stop()
        broker.stop()
        redis_srv.stop()
        log.info("demo stopped")
    return 0


def _supervise(services: list, children: list[Child], stop: dict[str, bool]) -> None:
    """Restart a service or a child that died (onescreen.supervise: services first, at most 5 times a minute
    each), until told to stop."""
    from onescreen.supervise import ServiceUnit, Supervisor

    Supervisor([*(ServiceUnit(s) for s in services), *children]).run(lambda: stop["flag"])
