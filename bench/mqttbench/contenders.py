"""The three contenders of the MQTT ingest bench, one interface: start, expect a phase, wait for it, stop.

- ``Bare``: bench/mqttbench/counter.py, a paho subscriber that only counts (the client library's ceiling);
- ``NodeRed``: the flow in bench/nodered (MQTT in → JSON → function → redis-command XADD), run headless;
- ``OneScreen``: ``python -m onescreen.cli ingest-mqtt`` exactly as deployed, configured by environment.

A phase is "n messages of publisher run ``run`` will arrive"; ``wait`` returns when the contender has them
(stored in Redis, or counted for the bare subscriber) or has made no progress for ``STALL_S``, with the instant
of the last one and, for a latency phase, publish→stored latencies. For stream contenders that instant is the
last stream entry id (Redis server time in ms), and latency is entry-id-ms − the payload's ``ts`` (the publish
instant in epoch ms): both clocks are this machine's, and nothing the contender does can flatter it.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import redis

from onescreen import names
from onescreen.events import StreamRecord

BENCH = Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
NODERED_DIR = BENCH / "nodered"
NODERED_STREAM = "bench:nodered:access"  # the peer's one stream: no partitions, no dedup keys
STALL_S = 15.0  # a phase ends early when nothing new has arrived for this long
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl


def _die_with_parent() -> None:  # runs in the forked child: SIGTERM it if the bench dies (no stray processes)
    _PRCTL(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(cmd: list[str], log_path: Path, **kwargs) -> subprocess.Popen:
    """A child that dies with us; its stderr (and its stdout unless piped) is appended to log_path."""
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        if "stdout" in kwargs:
            kwargs["stderr"] = log
        else:
            kwargs.update(stdout=log, stderr=subprocess.STDOUT)
        # preexec_fn with threads around: the bench starts children from its main thread only, and the
        # function is one prctl call (no locks), as in onescreen/services.py.
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent, **kwargs)  # noqa: PLW1509


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a live process so far (Linux /proc); nan if it is gone."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all cores of the machine have spent busy so far, whoever ran (Linux /proc/stat)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def pid_of(marker: str) -> int | None:
    """The process whose command line contains ``marker`` (e.g. its private work folder), if any."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if marker.encode() in (proc / "cmdline").read_bytes():
                    return int(proc.name)
            except OSError:
                continue
    return None


@dataclass
class PhaseResult:
    arrived: int
    t_last: float  # epoch s of the last message stored/counted (0 if none)
    latencies_ms: list[int] = field(default_factory=list)
    cpu_s: float = float("nan")  # CPU time the contender's process spent in the phase
    note: str = ""


@dataclass
class Rig:
    """What every contender runs against: one broker, one Redis, one city, one work folder."""

    broker_host: str
    broker_port: int
    redis_url: str
    city_url: str
    doors: list[str]
    workdir: Path
    service_pids: dict[str, int | None] = field(default_factory=dict)  # broker, redis: for their CPU time

    def redis(self) -> redis.Redis:
        return redis.Redis.from_url(self.redis_url)


class Contender:
    """One process under test; subclasses start it, announce a phase and wait for it the same way."""

    name = "contender"
    prefix = "city"  # topic prefix it listens to; a different one per contender keeps them apart on the broker

    def __init__(self, rig: Rig):
        self.rig = rig
        self.proc: subprocess.Popen | None = None
        self.log_path = rig.workdir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        """Start the process and return once it is subscribed (nothing published from now on is missed)."""

    def expect(self, n: int, run: str, latency: bool) -> None:
        """The next phase brings n messages of publisher run ``run``."""
        raise NotImplementedError

    def wait(self) -> PhaseResult:
        """Block until the phase's messages have arrived or nothing new came for STALL_S."""
        raise NotImplementedError

    def check(self) -> str:
        """Anything the contender itself reports as wrong (e.g. rejections); '' if none."""
        return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def _alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with code {self.proc.returncode} (log {self.log_path})")


class Bare(Contender):
    """A fresh counter process per phase (it starts in a fraction of a second)."""

    name = "bare"
    prefix = "bench-bare"

    def expect(self, n: int, run: str, latency: bool) -> None:
        self.n = n
        cmd = [sys.executable, str(BENCH / "mqttbench" / "counter.py"), "--host", self.rig.broker_host,
               "--port", str(self.rig.broker_port), "--topic", f"{self.prefix}/access/+", "--expect", str(n),
               "--stall", str(STALL_S)]
        self.proc = spawn(cmd + (["--latency"] if latency else []), self.log_path, stdout=subprocess.PIPE,
                          text=True)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"bare subscriber did not subscribe: {line!r} (log {self.log_path})")

    def wait(self) -> PhaseResult:
        out = json.loads(self.proc.stdout.readline() or "{}")  # the counter gives up after STALL_S of silence
        self.proc.wait(10)
        self.proc = None
        arrived = out.get("received", 0)
        note = "" if arrived == self.n else f"{self.n - arrived} missing after {STALL_S:.0f} s without progress"
        return PhaseResult(arrived, out.get("t_last", 0.0), out.get("lat_ms", []), out.get("cpu_s", float("nan")),
                           note)


class StreamContender(Contender):
    """A contender that appends to Redis streams; readiness is proven by a probe event coming out the far end."""

    def __init__(self, rig: Rig, streams: list[str]):
        super().__init__(rig)
        self.streams = streams
        self.redis = rig.redis()
        self.base = 0
        self.n = 0
        self.run = ""
        self.latency = False

    def stored(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for s in self.streams:
            pipe.xlen(s)
        return sum(pipe.execute())

    def probe(self, timeout: float = 30) -> None:
        """Publish valid events until one is stored: then the subscription exists end to end."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-probe-{self.name}",
                             protocol=mqtt.MQTTv311)
        client.connect(self.rig.broker_host, self.rig.broker_port)
        client.loop_start()
        door = self.rig.doors[0]
        deadline = time.monotonic() + timeout
        try:
            while not self.stored() and time.monotonic() < deadline:
                self._alive()
                ev = {"event_id": f"probe-{self.name}-{time.time_ns()}", "ts": int(time.time() * 1000),
                      "door_id": door, "person_id": "p-probe", "direction": "in", "result": "granted"}
                client.publish(f"{self.prefix}/access/{door}", orjson.dumps(ev), qos=1).wait_for_publish(5)
                time.sleep(0.25)
        finally:
            client.disconnect()
            client.loop_stop()
        if not self.stored():
            raise RuntimeError(f"{self.name}: no probe event stored within {timeout:.0f} s (log {self.log_path})")
        time.sleep(0.5)  # let any second probe land before the baseline is taken

    def expect(self, n: int, run: str, latency: bool) -> None:
        self.base, self.n, self.run, self.latency = self.stored(), n, run, latency
        self.cpu0 = cpu_seconds(self.pid)

    def wait(self) -> PhaseResult:
        target = self.base + self.n
        last, last_change = -1, time.monotonic()
        while True:
            self._alive()
            now_stored = self.stored()
            if now_stored >= target:
                break
            if now_stored != last:
                last, last_change = now_stored, time.monotonic()
            elif time.monotonic() - last_change > STALL_S:
                break
            time.sleep(0.02)
        cpu_s = cpu_seconds(self.pid) - self.cpu0
        arrived = now_stored - self.base
        note = "" if arrived == self.n else f"{self.n - arrived} missing after {STALL_S:.0f} s without progress"
        t_last, lat = self._read_phase()
        return PhaseResult(arrived, t_last, lat, cpu_s, note)

    def _read_phase(self) -> tuple[float, list[int]]:
        """Instant of the newest entry of this phase and, for a latency phase, entry-ms − ts of each of its events."""
        newest, lat = 0, []
        tag = (self.run + "-").encode()
        for s in self.streams:
            entries = self.redis.xrevrange(s, count=1)
            if entries:
                newest = max(newest, int(entries[0][0].split(b"-")[0]))
            if not self.latency:
                continue
            start = "-"
            while True:
                chunk = self.redis.xrange(s, min=start, count=10_000)
                for entry_id, fields in chunk:
                    raw = StreamRecord.raw(fields)
                    if tag in raw:
                        doc = orjson.loads(raw)
                        if doc["event_id"].startswith(self.run + "-"):
                            lat.append(int(entry_id.split(b"-")[0]) - doc["ts"])
                if len(chunk) < 10_000:
                    break
                start = "(" + chunk[-1][0].decode()
        return newest / 1000, lat


class NodeRed(StreamContender):
    name = "nodered"
    prefix = "bench-nodered"

    def __init__(self, rig: Rig):
        super().__init__(rig, [NODERED_STREAM])

    @staticmethod
    def missing() -> str:
        """Why Node-RED cannot run here ('' if it can)."""
        for tool in ("node", "npm"):
            if shutil.which(tool) is None:
                return f"{tool} not found (apt-get install nodejs npm)"
        return ""

    @staticmethod
    def install() -> None:
        """node_modules from the committed lock file, once (npm ci), if it is not there yet."""
        if (NODERED_DIR / "node_modules" / "node-red" / "red.js").is_file():
            return
        print("installing Node-RED into bench/nodered/node_modules (npm ci, first use only)…", flush=True)
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODERED_DIR, capture_output=True,
                              text=True, check=False)
        if done.returncode:
            raise SystemExit(f"npm ci in {NODERED_DIR} failed:\n{done.stderr[-2000:]}")

    def start(self) -> None:
        user_dir = Path(tempfile.mkdtemp(prefix="nodered-", dir=self.rig.workdir))
        (user_dir / "package.json").write_text('{"name": "bench-nodered-user", "private": true}\n')
        env = {**os.environ, "NODE_RED_USER_DIR": str(user_dir), "MQTT_HOST": self.rig.broker_host,
               "MQTT_PORT": str(self.rig.broker_port), "MQTT_TOPIC": f"{self.prefix}/access/+",
               "REDIS_URL": self.rig.redis_url, "REDIS_STREAM": NODERED_STREAM}
        size = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.proc = spawn(["node", "node_modules/node-red/red.js", "--settings", "settings.js"], self.log_path,
                          cwd=NODERED_DIR, env=env)
        deadline = time.monotonic() + 60
        while b"Connected to broker" not in self.log_path.read_bytes()[size:]:
            self._alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"Node-RED not connected to the broker within 60 s (log {self.log_path})")
            time.sleep(0.1)
        self.probe()


class OneScreen(StreamContender):
    name = "onescreen"
    prefix = "city"
    instance = "bench"

    def __init__(self, rig: Rig, partitions: int = 8):
        super().__init__(rig, [names.event_stream(names.ACCESS, p) for p in range(partitions)])
        self.partitions = partitions

    def command(self) -> list[str]:
        """The process as deployed; a variant under test (a throwaway experiment) may override this."""
        return [sys.executable, "-m", "onescreen.cli", "--instance", self.instance, "ingest-mqtt"]

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
        env.update(ONESCREEN_REDIS_URL=self.rig.redis_url, ONESCREEN_REDIS_PARTITIONS=str(self.partitions),
                   ONESCREEN_MQTT_HOST=self.rig.broker_host, ONESCREEN_MQTT_PORT=str(self.rig.broker_port),
                   ONESCREEN_MQTT_PREFIX=self.prefix, ONESCREEN_DATABASE_URL=self.rig.city_url,
                   ONESCREEN_MQTT_METRICS_PORT="0", ONESCREEN_LOG_FORMAT="text")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        self.proc = spawn(self.command(), self.log_path, env=env, cwd=ROOT)
        key = names.process_health("ingest-mqtt", self.instance)
        deadline = time.monotonic() + 60
        while not self.redis.exists(key):  # first heartbeat: setup done, MQTT connecting
            self._alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest-mqtt wrote no heartbeat within 60 s (log {self.log_path})")
            time.sleep(0.05)
        self.probe()

    def check(self) -> str:
        """Rejections are written in the same pipeline as the events, so this is exact (unlike the heartbeat)."""
        counts = {k.decode(): int(v) for k, v in self.redis.hgetall(names.REJECTED_COUNTS).items()}
        return ", ".join(f"rejected {k}={v}" for k, v in sorted(counts.items()))
