"""``onescreen sim``: the simulated city's devices, publishing over MQTT at wall-clock pace.

The simulator is an ordinary worker (``kind = "sim"``): it loads the registry, connects to the broker,
optionally serves its streamed cameras over RTSP, and at every step drains scenario commands, asks each
source (doors, watched persons, patrol terminals, edge counters, heartbeats) what is due and publishes
it. It never writes to Redis streams or SQL: it is the outside world, and the ingestors must learn
everything from its messages alone.

The RTSP server listens on the port the registry's streamed-camera URLs name, because those URLs are what
ingest-video opens; ``sim.rtsp_port`` is the port ``sim generate`` writes into them.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import redis

from onescreen.log import redact_url
from onescreen.names import Topics
from onescreen.redisconn import connect
from onescreen.settings import Settings
from onescreen.supervise import ServiceUnit, Supervisor
from onescreen.worker import Worker
from sim import control
from sim.city import SimCity
from sim.control import Overrides
from sim.mqttpub import Publisher
from sim.sources import AccessSource, CountSource, HeartbeatSource, PatrolSource, SimContext, WatchSource
from sim.streams import VTEST, VTEST_INSTALL, local_mount, mount_spec

log = logging.getLogger(__name__)


class Simulator(Worker):
    """Plays every device of the registry; scenario commands arrive through ``names.SIM_CONTROL``."""

    kind = "sim"

    def __init__(self, settings: Settings, instance: str | None = None, *, with_rtsp: bool = True,
                 city: SimCity | None = None, heartbeat_period_s: float = 60.0, patrol_period_s: float = 5.0,
                 count_period_s: float = 10.0, watch_interval_s: float = 3 * 3600.0, max_counters: int = 400,
                 tick_s: float = 0.2, seed: int | None = None):
        super().__init__(settings, instance)
        self.with_rtsp = with_rtsp
        self.city = city
        self.periods = {"heartbeat": heartbeat_period_s, "patrol": patrol_period_s, "count": count_period_s,
                        "watch": watch_interval_s}
        self.max_counters = max_counters
        self.tick_s = tick_s
        self.seed = settings.sim.seed if seed is None else seed
        self.overrides = Overrides()
        self.counts: Counter[str] = Counter()
        self.sources: list = []
        self.rtsp = None
        self.mounts: dict[str, str] = {}  # camera id -> RTSP mount it is served on
        self._pub: Publisher | None = None
        self._redis: redis.Redis | None = None
        self._redis_ok = True
        self._watch: Supervisor | None = None  # restarts the RTSP server if it dies
        self._watched_at = 0.0

    # ------------------------------------------------------------ worker hooks
    def setup(self) -> None:
        if self.city is None:
            from onescreen.db.session import make_engine

            engine = make_engine(self.settings.database.url)
            try:
                self.city = SimCity.from_engine(engine)
            finally:
                engine.dispose()
        if not self.city.doors and not self.city.cameras:
            log.warning("the registry is empty: generate and import a city first (onescreen sim generate)")
        log.info("simulating %d doors, %d cameras, %d sensors, %d units, %d watched persons",
                 len(self.city.doors), len(self.city.cameras), len(self.city.sensors), len(self.city.units),
                 len(self.city.watchlist))
        s = self.settings
        ctx = SimContext(self.city, Topics(s.mqtt.prefix), self.overrides, random.Random(self.seed),
                         ZoneInfo(s.city.timezone), s.sim.rate)
        self.sources = [
            AccessSource(ctx, seed=self.seed),
            WatchSource(ctx, mean_interval_s=self.periods["watch"]),
            PatrolSource(ctx, self.periods["patrol"], seed=self.seed),
            CountSource(ctx, self.periods["count"], self.max_counters),
            HeartbeatSource(ctx, self.periods["heartbeat"]),
        ]
        # every key exists before the heartbeat thread starts reading health()
        self.counts.update({source.name: 0 for source in self.sources})
        self._redis = connect(s.redis)
        if self.with_rtsp:
            self._start_rtsp()
            if self.rtsp is not None:
                self._watch = Supervisor([ServiceUnit(self.rtsp, "RTSP server")])
        self._pub = Publisher(s.mqtt, f"{s.mqtt.client_id}-sim-{self.instance}")
        self._pub.connect()
        from sim.cases import CaseRhythm  # grid workers' reports (issue #14)

        self.case_rhythm = CaseRhythm(s, self.seed, s.sim.case_rate)

    def step(self) -> None:
        started = time.time()
        if self._watch is not None and started - self._watched_at >= 1.0:
            self._watched_at = started
            self._watch.check()
        for doc in self._commands():
            done = control.apply(self, doc, started)
            if done:
                log.info("scenario command %s: %s", doc.get("cmd"), done)
        for table, key in self.overrides.expire(started):
            log.info("override %s of %s ended", table, key)
            if table == "silent" and key in self.mounts:
                self.set_stream(key, True)
        for source in self.sources:
            for topic, payload in source.due(started):
                self._pub.publish(topic, payload)
                self.counts[source.name] += 1
        self.case_rhythm.tick(started)  # grid workers' reports (issue #14): SQL, not MQTT
        self.stop_event.wait(max(0.0, self.tick_s - (time.time() - started)))

    def teardown(self) -> None:
        if self._pub is not None:
            self._pub.close()
        if self.rtsp is not None:
            self.rtsp.close()
        if self._redis is not None:
            self._redis.close()

    def health(self) -> dict[str, Any]:
        pub = self._pub
        return {"published": dict(self.counts), "mqtt_connected": bool(pub and pub.connected.is_set()),
                "refused": pub.refused if pub else 0, "overrides": self.overrides.summary(),
                "rtsp": bool(self.rtsp and self.rtsp.running),
                "cases_reported": self.case_rhythm.reported if hasattr(self, "case_rhythm") else 0}

    # ------------------------------------------------------------ scenario support
    def set_stream(self, camera_id: str, enabled: bool) -> bool:
        """Take a served camera's RTSP mount down or up; False if the camera is not served here."""
        mount = self.mounts.get(camera_id)
        if mount is None or self.rtsp is None:
            return False
        try:
            self.rtsp.set_mount(mount, enabled)
        except Exception as exc:  # noqa: BLE001 - a stream problem must not stop the city
            log.warning("RTSP mount %s %s failed: %s", mount, "up" if enabled else "down", exc)
            return False
        log.info("RTSP mount %s of camera %s is %s", mount, camera_id, "up" if enabled else "down")
        return True

    def _commands(self) -> list[dict]:
        try:
            docs = control.drain(self._redis)
        except redis.RedisError as exc:
            if self._redis_ok:
                log.warning("cannot read scenario commands from Redis (%s); will keep trying", exc)
            self._redis_ok = False
            return []
        self._redis_ok = True
        return docs

    def _start_rtsp(self) -> None:
        """Serve every streamed camera whose URL points at this machine, on the port the URLs name."""
        from onescreen.services import RtspServer, ServiceError

        ports: Counter[int] = Counter()
        for cam in self.city.cameras:
            found = local_mount(cam.rtsp_url) if cam.streamed else None
            if found:
                ports[found[0]] += 1
                self.mounts[cam.id] = found[1]
        if not self.mounts:
            log.info("no streamed camera points at this machine: no RTSP server")
            return
        port = ports.most_common(1)[0][0]
        if len(ports) > 1 or port != self.settings.sim.rtsp_port:
            log.warning("streamed cameras name RTSP port(s) %s, sim.rtsp_port is %s: serving on %s",
                        sorted(ports), self.settings.sim.rtsp_port, port)
        specs = {mount: mount_spec(mount) for mount in sorted(set(self.mounts.values()))}
        if not VTEST.is_file():
            log.warning("sample video %s not found (%s): the vtest cameras show a walking figure instead",
                        VTEST, VTEST_INSTALL)
        try:
            self.rtsp = RtspServer(specs, port=port).start()
        except ServiceError as exc:  # the doors and patrols must go on without video
            log.error("RTSP server not started, cameras will look offline: %s", exc)
            self.rtsp = None
            return
        log.info("serving %d camera streams on %s", len(specs), redact_url(self.rtsp.url("")))
