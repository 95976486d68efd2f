"""Issue #13: how OneScreen scales out on a local Redis Cluster (3 masters + 3 replicas), measured in one run.

Own Redis Cluster, Mosquitto and a generated city (1,900 cameras: a tenth of Nanchang County) on free ports:

- ``ingest``: stored events/s with 1, 2 and 3 ``onescreen ingest-mqtt`` processes sharing the MQTT subscription,
  each acknowledging a batch only after one replica has it (``redis.ack_replicas=1``, the cluster setting); plus
  one process without the WAIT, for its cost. A publisher process sends ``--count`` QoS 1 access events as fast
  as the broker takes them; rate = events / (first publish → last one stored).
- ``engine``: a bare XREADGROUP + XACK loop over the same streams (the ceiling of consuming them from Python),
  then events/s with 1, 2 and 3 ``onescreen alerts`` processes (every rule on; the engines share the partitions
  first, then ``--count`` mixed events are written and the time until all are acknowledged is taken).
- ``video``: one engine fed by 1,900 simulated cameras (a tenth busy) writing synthetic zone-state entries into
  the video streams (no decoding), each analysed frame through ingest-video's on-change filter as the workers do
  (``VideoFeed``); entries per second per quiet and per busy camera, and what the engine sustains.
- ``failover``: kill -9 the master of a busy partition in the middle of an ingest burst; the time until its
  replica serves the slots, until everything is stored, and the accepted events lost (must be 0). Full run:
  before the engines, which then run on the healed cluster; ``--quick``: last, the killed node not restarted.

``--quick`` (2,000 events per trial, 2 s of video, 1 and 2 processes) fits 45 s on two loaded cores: the cluster
starts while the city is imported, one group of two ingest processes serves x2 and then, one killed, x1, the
failover comes last, and the engines renew their leases every second (``alerts.lease_s`` 3) so a second engine
gets its share sooner.

Two cores are shared by every process here (publisher, broker, six Redis nodes, the measured processes), so a
second process can only show how much of one core's work was waiting rather than computing: the ratios say
whether the design scales (no shared lock, no hot key), not what a many-core deployment reaches. Ratios are to
one process in the same run. ``walls20_db_ratio`` (full run only: SQL statements per second of one dashboard with
20 open walls / with 1, same alerts per second) and ``walls20_p95_ms`` (event → pixel on the 2 headless Chromium
walls of the 20; the other 18 replay a real wall's requests over HTTP, ``bench/walls.py``) come from
``bench/screen.py --walls`` run as a child process after the cluster is down (single Redis: the walls' read path
is the same code on both); ``--quick`` leaves them ``na`` (that bench alone takes ~90 s: run
``bench/screen.py --walls --quick`` for 5 walls).

Last line: ``RESULT ingest_x2=… engine_x2=… engine_ratio=… video_entries_per_quiet_cam_s=… failover_lost=…
walls20_db_ratio=… walls20_p95_ms=… …``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402
import redis  # noqa: E402

from ingest.video.onchange import OnChange  # noqa: E402
from onescreen import names  # noqa: E402
from onescreen.db.session import make_engine, upgrade  # noqa: E402
from onescreen.redisconn import connect  # noqa: E402
from onescreen.registry.bundle import write_bundle  # noqa: E402
from onescreen.registry.cache import RegistryCache  # noqa: E402
from onescreen.registry.importer import import_bundle  # noqa: E402
from onescreen.services import MosquittoServer, RedisClusterServer  # noqa: E402
from onescreen.settings import RedisSettings, VideoSettings  # noqa: E402
from sim.citygen import generate_city  # noqa: E402

PARTITIONS = 8
CAMERAS = 1900
CITY = dict(districts=4, communities=40, cells=80, doors=200, cameras=CAMERAS, units=8, watchlist=40, sensors=0,
            streamed_cameras=0)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller run: finishes within 45 s")
    ap.add_argument("--count", type=int, help="events per ingest/engine trial (default 20,000; quick 2,000)")
    ap.add_argument("--video-s", type=float, help="seconds of the 1,900-camera feed (default 6; quick 2)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (process logs)")
    a = ap.parse_args()
    a.count = a.count or (2_000 if a.quick else 20_000)
    a.video_s = a.video_s or (2 if a.quick else 6)
    return a


class Rig:
    """The cluster, the broker, the city and the environment of the processes under test."""

    def __init__(self, work: Path, env: dict[str, str] | None = None):
        self.work, self.extra_env = work, dict(env or {})
        # the cluster's start-up (~2 s, mostly waiting for the nodes to agree) overlaps the city's import
        with ThreadPoolExecutor(1) as pool:
            cluster = pool.submit(RedisClusterServer(work / "cluster").start)
            try:
                self.broker = MosquittoServer(workdir=work / "mosquitto").start()
                try:
                    self._city(work)
                except BaseException:
                    self.broker.close()
                    raise
            except BaseException:
                with contextlib.suppress(Exception):
                    cluster.result().close()
                raise
            self.cluster = cluster.result()
        self.r = connect(RedisSettings(url=self.cluster.url))
        self.doors = [d.id for d in self.bundle.doors]
        self.procs: list[subprocess.Popen] = []

    def _city(self, work: Path) -> None:
        """The generated city in SQLite (the processes' registry) and in memory (the bench's)."""
        self.db = f"sqlite:///{work / 'city.db'}"
        upgrade(self.db)
        self.bundle = generate_city(seed=3, **CITY)
        write_bundle(work / "bundle", self.bundle)
        engine = make_engine(self.db)
        import_bundle(engine, work / "bundle")
        self.registry = RegistryCache.load(engine)
        engine.dispose()

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
        env.update(ONESCREEN_REDIS_URL=self.cluster.url, ONESCREEN_REDIS_PARTITIONS=str(PARTITIONS),
                   ONESCREEN_DATABASE_URL=self.db, ONESCREEN_MQTT_HOST=self.broker.host,
                   ONESCREEN_MQTT_PORT=str(self.broker.port), ONESCREEN_MQTT_METRICS_PORT="0",
                   ONESCREEN_MQTT_SESSION_EXPIRY_S="0", ONESCREEN_LOG_FORMAT="text", ONESCREEN_LOG_LEVEL="WARNING")
        env.update(self.extra_env)
        env.update(extra)
        return env

    def spawn(self, kind: str, instance: str, **env: str) -> subprocess.Popen:
        log = open(self.work / f"{instance}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "onescreen.cli", "--instance", instance, kind],
                                env=self.env(**env), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        self.procs.append(proc)
        return proc

    def stop(self, procs: list[subprocess.Popen]) -> None:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def alive(self, kind: str, instances: list[str]) -> bool:
        return all(self.r.exists(names.process_health(kind, i)) for i in instances)

    def close(self, fast: bool = False) -> None:
        """Everything down; ``fast`` (--quick): the processes under test and the Redis nodes are killed, not asked
        to stop (they have nothing to keep, the work folder goes), which under load saves seconds of shutdown."""
        alive = [p for p in self.procs if p.poll() is None]
        if fast:
            for p in alive:
                p.kill()
            for p in alive:
                p.wait()
            for node in self.cluster.nodes:  # nothing to save either: no SHUTDOWN's snapshot of each node
                node.kill()
        else:
            self.stop(alive)
        self.r.close()
        self.broker.close()
        self.cluster.close()


def wait(cond, timeout: float, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return cond()


# ---------------------------------------------------------------- ingest
def stored(r) -> int:
    pipe = r.pipeline(transaction=False)
    for p in range(PARTITIONS):
        pipe.xlen(names.event_stream(names.ACCESS, p))
    try:
        return sum(pipe.execute())
    except redis.RedisError:
        return -1


def publisher(rig: Rig, n: int, run: str, prefix: str) -> subprocess.Popen:
    cmd = [sys.executable, str(ROOT / "bench" / "mqttbench" / "publisher.py"), "--host", rig.broker.host,
           "--port", str(rig.broker.port), "--prefix", prefix, "--doors", ",".join(rig.doors[:40]),
           "--count", str(n), "--run", run]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)


class IngestGroup:
    """k ingest processes on their own topic prefix: every group starts at once (one start-up for all) and
    stays idle until the publisher sends under its prefix, so trials do not wait for processes one by one."""

    def __init__(self, rig: Rig, k: int, acks: int):
        self.rig, self.prefix = rig, "b" + uuid.uuid4().hex[:6]
        self.insts = [f"ing-{self.prefix}-{i}" for i in range(k)]
        self.procs = [rig.spawn("ingest-mqtt", i, ONESCREEN_REDIS_ACK_REPLICAS=str(acks),
                                ONESCREEN_MQTT_PREFIX=self.prefix) for i in self.insts]

    def ready(self) -> bool:
        return self.rig.alive("ingest-mqtt", self.insts)

    def trial(self, n: int, kill_master: bool = False, restore: bool = True) -> dict:
        """n events published under our prefix; rate and (kill_master) the failover figures; ``restore``: the
        killed node is started again and the bench waits until it is a replica in sync (not needed last)."""
        rig, out = self.rig, {}
        base = stored(rig.r)
        pub = publisher(rig, n, uuid.uuid4().hex[:8], self.prefix)  # a fresh event_id run: no dedup hits
        if kill_master:
            busy = names.event_stream(names.ACCESS, names.partition_of(
                rig.registry.place_of_device(rig.doors[0]).community_id, PARTITIONS))
            wait(lambda: stored(rig.r) - base > n // 3, 30, 0.01)
            dead = rig.cluster.kill_master_of(busy)
            killed = time.monotonic()
            rig.cluster.wait_healthy(timeout=30, replicas=False)
            out["failover_s"] = time.monotonic() - killed
        ok = wait(lambda: stored(rig.r) - base >= n, 120, 0.02)
        done, done_wall = time.monotonic(), time.time()
        report = json.loads(pub.communicate(timeout=60)[0])
        got = stored(rig.r) - base
        # from the publisher's first message (its own clock: not its start-up) to the last one stored
        out.update(rate=n / (done_wall - report["t0"]), stored=got, complete=ok)
        if kill_master:
            out["recovered_s"] = done - killed
            out["lost"] = n - got
            if restore:
                dead.start()
                rig.cluster.wait_healthy(timeout=60)
        return out

    def drop_one(self) -> None:
        """Kill one process (SIGKILL: its MQTT session ends with its connection, expiry 0): the broker then
        gives the shared subscription's messages to the others only."""
        proc = self.procs.pop()
        self.insts.pop()
        proc.kill()
        proc.wait()
        time.sleep(0.3)  # the broker has seen the connection close

    def stop(self) -> None:
        self.rig.stop(self.procs)


def wait_latency(r, rounds: int) -> tuple[float, float]:
    """Median ms of a 100-XADD pipeline over every partition, without and with WAIT for one replica per node."""
    import statistics

    def one(acks: int) -> float:
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.xadd(names.event_stream("bench", i % PARTITIONS), {"d": b"x" * 300}, maxlen=10_000, approximate=True)
        pipe.replicated(acks, 200)
        t0 = time.perf_counter()
        pipe.execute()
        return (time.perf_counter() - t0) * 1000
    plain, waited = [], []
    for _ in range(rounds):  # interleaved, so both see the same machine
        plain.append(one(0))
        waited.append(one(1))
    return statistics.median(plain), statistics.median(waited)


# ---------------------------------------------------------------- engine
def all_streams() -> list[str]:
    return [names.event_stream(f, p) for p in range(PARTITIONS) for f in (*names.FAMILIES, names.WATCH)]


def unacked(r, group: str) -> int:
    """Entries not yet acknowledged by ``group`` (lag + pending) over every stream, in one pipeline."""
    pipe = r.pipeline(transaction=False)
    for s in all_streams():
        pipe.xinfo_groups(s)
    total = 0
    for groups in pipe.execute(raise_on_error=False):
        if isinstance(groups, Exception):
            continue  # no such stream yet
        total += sum((g.get("lag") or 0) + g["pending"] for g in groups if g["name"].decode() == group)
    return total


def write(r, docs: list[dict]) -> None:
    pipe = r.pipeline(transaction=False)
    for i, doc in enumerate(docs, 1):
        p = names.partition_of(doc["community_id"], PARTITIONS)
        pipe.xadd(names.event_stream(doc["family"], p), {"d": orjson.dumps(doc)})
        if i % 2000 == 0:
            pipe.execute()
            pipe = r.pipeline(transaction=False)
    pipe.execute()


def bare(r, docs: list[dict]) -> float:
    """A plain XREADGROUP + XACK loop over every stream (multi-slot reads through onescreen.redisconn)."""
    for s in all_streams():
        try:
            r.xgroup_create(s, "bare", id="$", mkstream=True)
        except redis.ResponseError:
            pass
    write(r, docs)
    ids = {s: ">" for s in all_streams()}
    done, t0 = 0, time.perf_counter()
    while done < len(docs):
        reply = r.xreadgroup("bare", "b1", ids, count=500, block=1000)
        if not reply:
            break
        pipe = r.pipeline(transaction=False)
        for stream, entries in reply:
            for _id, fields in entries:
                orjson.loads(fields[b"d"])
            pipe.xack(stream, "bare", *[e[0] for e in entries])
            done += len(entries)
        pipe.execute()
    return done / (time.perf_counter() - t0)


class Engines:
    """Alert-engine processes added one at a time: a trial with k engines runs once k share the partitions."""

    def __init__(self, rig: Rig, **env: str):
        self.rig, self.insts, self.procs, self.env = rig, [], [], env

    def add(self) -> None:
        inst = f"eng-{uuid.uuid4().hex[:6]}"
        self.insts.append(inst)
        self.procs.append(self.rig.spawn("alerts", inst, **self.env))

    def _shared(self) -> bool:
        holders = {h.decode() if h else None for h in
                   (self.rig.r.get(names.partition_lease(p)) for p in range(PARTITIONS))}
        return holders == set(self.insts)

    def trial(self, docs: list[dict], feed=None) -> float:
        """The docs are written (or ``feed`` runs) once the engines share the partitions; events acked per s."""
        r = self.rig.r
        if not wait(self._shared, 60, 0.1):
            raise RuntimeError(f"{len(self.insts)} engines did not share the partitions (logs in {self.rig.work})")
        if not wait(lambda: unacked(r, names.ALERT_GROUP) == 0, 300, 0.1):  # a previous trial's backlog
            raise RuntimeError("the engines did not catch up with the previous trial's backlog in 300 s")
        t0 = time.perf_counter()
        n = feed() if feed else (write(r, docs) or len(docs))
        wait(lambda: unacked(r, names.ALERT_GROUP) == 0, 300, 0.05)
        return (n - unacked(r, names.ALERT_GROUP)) / (time.perf_counter() - t0)

    def stop(self, fast: bool = False) -> None:
        if fast:
            for p in self.procs:
                p.kill()
        self.rig.stop(self.procs)


class VideoFeed:
    """1,900 cameras, one in ten busy, at ``fps`` analysed frames a second each: every frame's zone state goes
    through ingest-video's own on-change filter (ingest/video/onchange.py, default settings) and only what it
    publishes is written, paced in real time. Quiet cameras show an empty view; busy ones people coming and
    going (each zone's count changes on about a third of the frames) and standing (dwell growing). Before the
    window every camera's last publication is put at a random point of its heartbeat period, as in a running
    worker. ``every_frame`` writes one entry per frame (the former design)."""

    def __init__(self, rig: Rig, seconds: float, fps: float, every_frame: bool = False):
        self.rig, self.seconds, self.fps = rig, seconds, fps
        self.cams = list(rig.bundle.cameras)
        self.places = {c.id: rig.registry.place_of_device(c.id) for c in self.cams}
        self.busy = {c.id for c in self.cams[::10]}
        vs = VideoSettings()
        self.heartbeat_s = vs.publish_heartbeat_s
        self.filters = {c.id: OnChange(vs.publish_heartbeat_s, vs.publish_dwell_step_s, vs.mark_dwell_s,
                                       every_frame) for c in self.cams}
        self.rng = random.Random(9)
        self.people = {c.id: {z: [] for z in (list(c.zones) or ["*"])} for c in self.cams}
        self.next_id = 0
        self.written = {"quiet": 0, "busy": 0}

    def _doc(self, cam, ts: float) -> dict:
        zones = self.people[cam.id]
        if cam.id in self.busy:
            for people in zones.values():
                if self.rng.random() < 0.33:
                    if people and (len(people) >= 5 or self.rng.random() < 0.5):
                        people.pop(self.rng.randrange(len(people)))
                    else:
                        self.next_id += 1
                        people.append((self.next_id, ts))
        pl = self.places[cam.id]
        return {"family": names.VIDEO, "camera_id": cam.id, "ts": int(ts * 1000),
                "zones": {z: {"persons": len(p), "tracks": [[i, round(ts - e, 1)] for i, e in p]}
                          for z, p in zones.items()},
                "cell_id": pl.cell_id, "community_id": pl.community_id, "district_id": pl.district_id}

    def run(self) -> int:
        t0 = time.time()
        for cam in self.cams:
            self.filters[cam.id].offer(self._doc(cam, t0 - self.rng.uniform(0, self.heartbeat_s)))
        frames, n = int(self.seconds * self.fps), 0
        for k in range(1, frames + 1):
            ts = t0 + k / self.fps
            time.sleep(max(0.0, ts - time.time()))
            pipe = self.rig.r.pipeline(transaction=False)
            for cam in self.cams:
                for doc in self.filters[cam.id].offer(self._doc(cam, ts)):
                    pl = self.places[cam.id]
                    pipe.xadd(names.event_stream(names.VIDEO, names.partition_of(pl.community_id, PARTITIONS)),
                              {"d": orjson.dumps(doc)}, maxlen=200_000, approximate=True)
                    self.written["busy" if cam.id in self.busy else "quiet"] += 1
                    n += 1
            pipe.execute()
        return n

    def per_cam_s(self, kind: str) -> float:
        cams = len(self.busy) if kind == "busy" else len(self.cams) - len(self.busy)
        return self.written[kind] / (cams * self.seconds)


T0 = time.monotonic()


def phase(what: str) -> None:
    print(f"  [{time.monotonic() - T0:5.1f} s] {what}", file=sys.stderr, flush=True)


def fmt(x: float) -> str:
    return f"{x:,.0f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "na"


def walls() -> dict[str, str]:
    """``walls20_db_ratio``, ``walls20_p95_ms`` and the parts of it from ``bench/screen.py --walls`` (20 walls),
    its lines shown."""
    phase("walls (bench/screen.py --walls)")
    try:
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "screen.py"), "--walls"], capture_output=True,
                             text=True, timeout=900, check=False).stdout
    except subprocess.TimeoutExpired:
        return {"walls20_db_ratio": "na", "walls20_p95_ms": "na"}
    got = {}
    for line in out.splitlines():
        if line.startswith("[walls]"):
            print(line, flush=True)
        if line.startswith("RESULT "):
            got = dict(kv.split("=", 1) for kv in line.split()[1:])
    return {k: got.get(k, "na") for k in ("walls20_db_ratio", "walls20_p95_ms", "walls1_p95_ms",
                                          "walls20_wire_p95_ms", "walls20_server_p95_ms")}


def main() -> int:
    a = parse_args()
    t_start = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    rig = Rig(work)
    res: dict[str, str] = {}
    try:
        phase("rig up")
        print(f"cluster {rig.cluster.url} (3 masters + 3 replicas), city with {len(rig.bundle.cameras)} cameras, "
              f"{os.cpu_count()} cores; {a.count} events per trial", flush=True)
        ks = (1, 2) if a.quick else (1, 2, 3)
        if a.quick:  # one group of two: x2 first, then one of them killed for x1 (one process start less)
            shared = IngestGroup(rig, 2, acks=1)
            groups = {1: shared, 2: shared}
        else:
            groups = {k: IngestGroup(rig, k, acks=1) for k in ks}
        no_wait = None if a.quick else IngestGroup(rig, 1, acks=0)  # the WAIT's cost: full run only
        # --quick: engines renew their leases every second instead of every 3.3 s (lease 3 s, not 10), so a new
        # engine gets its share of the partitions sooner; the trials start once they share them either way
        engines = Engines(rig, **({"ONESCREEN_ALERTS_LEASE_S": "3"} if a.quick else {}))
        engines.add()
        everyone = [*dict.fromkeys(groups.values()), *([no_wait] if no_wait else [])]
        if not wait(lambda: all(g.ready() for g in everyone), 60, 0.1):
            raise RuntimeError(f"ingest processes did not start (logs in {work})")
        time.sleep(1.0)  # subscriptions in place
        phase("ingest processes up")
        if a.quick:
            ing = {2: shared.trial(a.count)}
            shared.drop_one()
            ing[1] = shared.trial(a.count)
        else:
            ing = {k: groups[k].trial(a.count) for k in ks}
        for k in ks:
            print(f"ingest x{k} (WAIT 1 replica): {fmt(ing[k]['rate'])} stored events/s  "
                  f"ratio {ratio(ing[k]['rate'], ing[1]['rate'])}", flush=True)
        if no_wait:
            ing0 = no_wait.trial(a.count)
            print(f"ingest x1 without WAIT: {fmt(ing0['rate'])} events/s; WAIT 1 replica costs "
                  f"{100 * (1 - ing[1]['rate'] / ing0['rate']):.0f} % of throughput", flush=True)
            res["wait_cost_pct"] = f"{100 * (1 - ing[1]['rate'] / ing0['rate']):.0f}"
        res["ingest_x2"] = ratio(ing[2]["rate"], ing[1]["rate"])
        plain_ms, waited_ms = wait_latency(rig.r, 50 if a.quick else 300)
        print(f"a 100-event pipeline over {PARTITIONS} partitions: {plain_ms:.2f} ms, with WAIT 1 replica per node "
              f"{waited_ms:.2f} ms (+{waited_ms - plain_ms:.2f} ms per batch)", flush=True)
        res["wait_ms"] = f"{waited_ms - plain_ms:.2f}"

        phase("ingest trials done")

        def failover() -> dict:
            fo = groups[1].trial(a.count, kill_master=True, restore=not a.quick)  # a master killed
            if not a.quick:  # --quick: the rig's close kills them
                for g in everyone:
                    g.stop()
            phase("failover done")
            print(f"failover: kill -9 of a master mid-burst; slots served again after {fo['failover_s']:.1f} s, "
                  f"everything stored {fo['recovered_s']:.1f} s after the kill; accepted events lost: {fo['lost']}",
                  flush=True)
            return fo
        # full run: the failover here and the engines on the healed cluster; --quick: the failover last, without
        # waiting for the killed node to come back as a replica (the cluster is closed right after)
        fo = None if a.quick else failover()

        from bench.alerts import Load  # imported here, not at the top: the rig does not wait for its imports

        load = Load(rig.registry, rig.bundle)

        def docs() -> list[dict]:
            now = int(time.time() * 1000)
            return [load.event(now - a.count + i) for i in range(a.count)]
        bare_rate = bare(rig.r, docs())
        print(f"bare XREADGROUP+XACK over the cluster: {fmt(bare_rate)} events/s", flush=True)
        phase("bare done")
        eng = {1: engines.trial(docs())}
        phase("engine x1 done")
        fps = VideoSettings().analysis_fps
        feed = VideoFeed(rig, a.video_s, fps)
        vid = engines.trial([], feed=feed.run)
        offered = sum(feed.written.values()) / a.video_s
        print(f"video: {CAMERAS} cameras at {fps:g} analysed frames/s, published on change: quiet "
              f"{feed.per_cam_s('quiet'):.2f}, busy {feed.per_cam_s('busy'):.2f} entries/s per camera (every frame: "
              f"{fps:g}); {fmt(offered)} entries/s offered; one engine acknowledged {fmt(vid)} entries/s "
              f"({100 * vid / offered:.0f} % of the offered rate)", flush=True)
        phase("video done")
        for k in ks[1:]:
            engines.add()
            eng[k] = engines.trial(docs())
        phase("engines done")
        engines.stop(fast=a.quick)
        fo = fo or failover()
        for k in ks:
            print(f"engine x{k}: {fmt(eng[k])} events/s  ratio {ratio(eng[k], eng[1])}", flush=True)
        res["engine_x2"] = ratio(eng[2], eng[1])
        res["engine_ratio"] = ratio(eng[1], bare_rate)
        res["video_entries_per_quiet_cam_s"] = f"{feed.per_cam_s('quiet'):.2f}"
        res["video_entries_per_busy_cam_s"] = f"{feed.per_cam_s('busy'):.2f}"
        res["failover_lost"] = str(fo["lost"])
        res["failover_s"] = f"{fo['failover_s']:.1f}"
        res["walls20_db_ratio"] = res["walls20_p95_ms"] = "na"
    finally:
        rig.close(fast=a.quick)
        if a.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
        phase("rig closed")
    if not a.quick:
        res.update(walls())
    print(f"(run took {time.monotonic() - t_start:.0f} s)")
    first = ["ingest_x2", "engine_x2", "engine_ratio", "video_entries_per_quiet_cam_s", "failover_lost",
             "walls20_db_ratio", "walls20_p95_ms"]
    keys = [k for k in first if k in res] + [k for k in res if k not in first]
    print("RESULT " + " ".join(f"{k}={res[k]}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
