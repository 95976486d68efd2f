"""Issue #5: events/s one alert-engine process sustains with every rule on, and its event→alert latency.

One run, own Redis and Mosquitto on free ports, a generated city in a temporary SQLite database:

- ``bare``: a plain XREADGROUP + XACK loop over the same partition streams (no rules, no SQL): the ceiling of
  consuming these streams from Python on this machine;
- ``engine``: ``onescreen alerts`` as deployed (a subprocess): every rule on, rule state and timers written
  back to Redis, alerts persisted and queued for MQTT, XACK after all that;
- ``archiver``: ``onescreen archiver`` as deployed (a subprocess, after the engine's phase, so neither shares
  the CPU with the other while measured): the same events into the SQL ``event_archive``, its own consumer
  group, XACK after the commit. The engine no longer archives (docs/alerts.md, performance).

Throughput: ``--count`` mixed events (access 70 %, count 15 %, patrol 10 %, status 5 %) are pre-loaded into
the
streams; sustained rate = events / time until the group has acknowledged them all. Latency: events written at
``--rate`` events/s for ``--seconds``, among them 10 triggers per second (the 4th denied attempt of a new
person at a door → a lingering alert); latency = trigger's stream entry time → the alert's outbox entry time
(both Redis' clock). The machine is shared: compare the ratio, measured side by side, not absolute figures.

Also the CPU time per event of each (the engine process's user+system time over the throughput phase; the bare
loop's own): on a loaded machine the wall-clock rates mostly measure the scheduler, CPU per event much less.

Last line: ``RESULT events_per_s=… bare_per_s=… ratio=… p50_ms=… p99_ms=… cpu_us=… bare_cpu_us=… cpu_ratio=…
archiver_per_s=… archiver_cpu_us=… archiver_ratio=…`` (``cpu_ratio`` = bare CPU per event / engine CPU per event,
the same ratio counted in CPU time; ``archiver_ratio`` the archiver's events/s to the bare loop's).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import orjson
import redis

from onescreen import names
from onescreen.db.session import make_engine, upgrade
from onescreen.events import StreamRecord
from onescreen.registry.bundle import write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.importer import import_bundle
from onescreen.services import MosquittoServer, RedisServer
from sim.citygen import generate_city

PARTITIONS = 8
CITY = dict(
    districts=2,
    communities=16,
    cells=32,
    doors=200,
    cameras=40,
    units=8,
    watchlist=40,
    sensors=0,
    streamed_cameras=0,
)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller run: finishes within 45 s")
    ap.add_argument(
        "--count", type=int, help="events of the throughput phase (default 100,000; quick 20,000)"
    )
    ap.add_argument("--rate", type=float, default=2000, help="events/s of the latency phase")
    ap.add_argument("--seconds", type=float, help="length of the latency phase (default 20; quick 6)")
    ap.add_argument(
        "--keep", action="store_true", help="keep the work folder (engine log) and print its path"
    )
    ap.add_argument(
        "--no-archive", action="store_true",
        help="no archiver phase (the engine itself no longer archives: the flag only skips the archiver)",
    )
    ap.add_argument(
        "--profile", metavar="PATH",
        help="run the engine under py-spy (pip install py-spy) and write its samples (folded stacks) to PATH",
    )
    ap.add_argument("--watchlist", type=int, default=CITY["watchlist"],
                    help="watch-list size (issue 15: Nanchang County keeps ~3,000 key persons)")
    ap.add_argument("--watch-share", type=float, default=0.0,
                    help="share of door events made by watch-listed persons (their sightings feed the "
                         "key-person rules)")
    a = ap.parse_args()
    a.count = a.count or (20_000 if a.quick else 100_000)
    a.seconds = a.seconds or (6 if a.quick else 20)
    return a


class Load:
    """Enriched events as the ingestors write them, placed in the generated city."""

    def __init__(self, reg: RegistryCache, bundle) -> None:
        self.reg = reg
        self.doors = [d.id for d in bundle.doors]
        self.cameras = [c.id for c in bundle.cameras]
        self.units = [u.id for u in bundle.units if reg.place_of_unit(u.id) is not None]
        self.rng = random.Random(5)
        self.watched = [w.person_id for w in bundle.watchlist]
        self.watch_share = 0.0

    def _place(self, device: str) -> dict:
        p = self.reg.place_of_device(device)
        return {
            "cell_id": p.cell_id,
            "community_id": p.community_id,
            "district_id": p.district_id,
            "lat": p.lat,
            "lon": p.lon,
        }

    def event(self, ts_ms: int) -> dict:
        r, rng = self.rng.random(), self.rng
        base = {"event_id": uuid.uuid4().hex, "ts": ts_ms, "rx": ts_ms}
        if r < 0.70:
            door = rng.choice(self.doors)
            return {
                **base,
                "family": names.ACCESS,
                "door_id": door,
                "person_id": rng.choice(self.watched) if self.watched and rng.random() < self.watch_share
                else f"p-{rng.randrange(50_000)}",
                "direction": rng.choice(("in", "out")),
                "result": "granted" if rng.random() < 0.9 else "denied",
                "method": "card",
                "resident": True,
                **self._place(door),
            }
        if r < 0.85:
            cam = rng.choice(self.cameras)
            return {
                **base,
                "family": names.COUNT,
                "camera_id": cam,
                "zone": "*",
                "persons": rng.randrange(12),
                "source": "edge",
                **self._place(cam),
            }
        if r < 0.95 and self.units:
            unit = rng.choice(self.units)
            p = self.reg.place_of_unit(unit)
            return {
                **base,
                "family": names.PATROL,
                "unit_id": unit,
                "lat": p.lat,
                "lon": p.lon,
                "accuracy_m": 5.0,
                "status": "patrolling",
                "cell_id": p.cell_id,
                "community_id": p.community_id,
                "district_id": p.district_id,
            }
        door = rng.choice(self.doors)
        return {
            **base,
            "family": names.STATUS,
            "device_id": door,
            "device_kind": "door",
            "online": True,
            **self._place(door),
        }

    def trigger(self, ts_ms: int, person: str, attempt: int) -> dict:
        door = self.doors[hash(person) % len(self.doors)]
        return {
            "event_id": uuid.uuid4().hex,
            "ts": ts_ms - (3 - attempt) * 1000,
            "rx": ts_ms,
            "family": names.ACCESS,
            "door_id": door,
            "person_id": person,
            "direction": "in",
            "result": "denied",
            "method": "card",
            "resident": False,
            **self._place(door),
        }


def add(pipe, doc: dict) -> None:
    p = names.partition_of(doc["community_id"], PARTITIONS)
    pipe.xadd(names.event_stream(doc["family"], p), StreamRecord.encode(doc))


def streams() -> list[str]:
    return [names.event_stream(f, p) for p in range(PARTITIONS) for f in (*names.FAMILIES, names.WATCH)]


def unacked(r: redis.Redis, group: str) -> int:
    """Entries not yet acknowledged by ``group`` (lag + pending) over every stream."""
    total = 0
    for s in streams():
        try:
            for g in r.xinfo_groups(s):
                if g["name"].decode() == group:
                    total += (g.get("lag") or 0) + g["pending"]
        except redis.ResponseError:
            pass
    return total


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bare(r: redis.Redis, count: int) -> tuple[float, float]:
    """A plain XREADGROUP + XACK loop over all streams: the ceiling. (events/s, CPU µs per event)"""
    for s in streams():
        try:
            r.xgroup_create(s, "bare", id="0", mkstream=True)
        except redis.ResponseError:
            pass
    done, t0, c0 = 0, time.perf_counter(), time.process_time()
    ids = {s: ">" for s in streams()}
    while done < count:
        reply = r.xreadgroup("bare", "b1", ids, count=500, block=1000)
        if not reply:
            break
        pipe = r.pipeline(transaction=False)
        for stream, entries in reply:
            for _id, fields in entries:
                StreamRecord.decode(fields)
            pipe.xack(stream, "bare", *[e[0] for e in entries])
            done += len(entries)
        pipe.execute()
    return done / (time.perf_counter() - t0), (time.process_time() - c0) / max(done, 1) * 1e6


def archiver_phase(r: redis.Redis, env: dict, work: Path, a: argparse.Namespace
                   ) -> tuple[float, float, subprocess.Popen]:
    """``onescreen archiver`` over the same pre-loaded events: (events/s, CPU µs per event, the process)."""
    log = open(work / "archiver.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "onescreen.cli", "--instance", "bench-arch", "archiver"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    t0 = time.perf_counter()
    while not r.exists(names.archive_lease(PARTITIONS - 1)) and time.perf_counter() - t0 < 30:
        time.sleep(0.05)
    t_start, c_start = time.perf_counter(), cpu_s(proc.pid)
    deadline = t_start + (30 if a.quick else 300)
    last = streams()[-1]  # the groups are created as the partitions are taken: wait for the last one
    while time.perf_counter() - t0 < 30 and not any(
        g["name"].decode() == names.ARCHIVE_GROUP for g in r.xinfo_groups(last)
    ):
        time.sleep(0.05)
    while unacked(r, names.ARCHIVE_GROUP) and time.perf_counter() < deadline:
        time.sleep(0.05)
    left = unacked(r, names.ARCHIVE_GROUP)
    done = a.count - left
    rate = done / (time.perf_counter() - t_start)
    cpu = (cpu_s(proc.pid) - c_start) / max(done, 1) * 1e6
    print(f"archiver: {rate:,.0f} events/s ({left} left), {cpu:.1f} CPU µs/event", flush=True)
    return rate, cpu, proc


def main() -> int:
    a = parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    rs, mq = RedisServer(), MosquittoServer()
    rs.start()
    mq.start()
    proc = None
    procs: list[subprocess.Popen] = []
    try:
        url = f"sqlite:///{work / 'city.db'}"
        upgrade(url)
        bundle = generate_city(seed=3, **{**CITY, "watchlist": a.watchlist})
        write_bundle(work / "bundle", bundle)
        engine = make_engine(url)
        import_bundle(engine, work / "bundle")
        load = Load(RegistryCache.load(engine), bundle)
        load.watch_share = a.watch_share
        r = redis.Redis.from_url(rs.url)

        now = int(time.time() * 1000)
        pipe = r.pipeline(transaction=False)
        for i in range(a.count):
            add(pipe, load.event(now - a.count + i))
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
        bare_rate, bare_cpu = bare(r, a.count)
        print(f"bare XREADGROUP+XACK: {bare_rate:,.0f} events/s, {bare_cpu:.1f} CPU µs/event", flush=True)

        env = {k: v for k, v in os.environ.items() if not k.startswith("ONESCREEN_")}
        env.update(
            ONESCREEN_REDIS_URL=rs.url,
            ONESCREEN_REDIS_PARTITIONS=str(PARTITIONS),
            ONESCREEN_DATABASE_URL=url,
            ONESCREEN_MQTT_HOST="127.0.0.1",
            ONESCREEN_MQTT_PORT=str(mq.port),
            ONESCREEN_LOG_FORMAT="text",
            ONESCREEN_LOG_LEVEL="WARNING",
        )
        log = open(work / "engine.log", "ab")
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "onescreen.cli", "--instance", "bench", "alerts"]
        if a.profile:  # raw samples, folded: `sort` them by count, or feed them to a flame-graph tool
            cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "--format", "raw", "--rate", "250",
                   "--nonblocking", "-o", a.profile, "--", *cmd]
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # its own process group: py-spy's child is ended with it
        )
        while not r.exists(names.partition_lease(PARTITIONS - 1)) and time.perf_counter() - t0 < 30:
            time.sleep(0.05)
        t_start, c_start = time.perf_counter(), cpu_s(proc.pid)
        deadline = t_start + (30 if a.quick else 300)
        while unacked(r, names.ALERT_GROUP) and time.perf_counter() < deadline:
            time.sleep(0.05)
        left = unacked(r, names.ALERT_GROUP)
        rate = (a.count - left) / (time.perf_counter() - t_start)
        # CPU per event: what a loaded, shared machine distorts least (the wall-clock rates above wait on it);
        # under --profile the process is py-spy, not the engine, and the figure is left out
        cpu = (cpu_s(proc.pid) - c_start) / max(a.count - left, 1) * 1e6 if not a.profile else float("nan")
        print(f"engine, all rules: {rate:,.0f} events/s ({left} left), {cpu:.1f} CPU µs/event", flush=True)
        arch_rate, arch_cpu = float("nan"), float("nan")
        if not a.no_archive:
            arch_rate, arch_cpu, archiver = archiver_phase(r, env, work, a)
            procs.append(archiver)

        # latency at a fixed rate, triggers among the load
        sent: dict[str, int] = {}
        total = int(a.rate * a.seconds)
        t0 = time.perf_counter()
        for i in range(total):
            ahead = t0 + i / a.rate - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            ts = int(time.time() * 1000)
            pipe = r.pipeline(transaction=False)
            add(pipe, load.event(ts))
            if i % max(1, int(a.rate / 10)) == 0:
                person = f"bench-{i}"
                for k in range(3):
                    add(pipe, load.trigger(ts, person, k))
                pipe.execute()
                pipe = r.pipeline(transaction=False)
                add(pipe, load.trigger(ts, person, 3))
                sent[person] = int(pipe.execute()[0].decode().split("-")[0])
            else:
                pipe.execute()
        time.sleep(2)
        got: dict[str, int] = {}
        for entry_id, fields in r.xrange(names.ALERT_OUTBOX):
            doc = orjson.loads(fields[b"a"])
            person = doc["subject"]["id"].partition("/")[2]
            if doc["rule"] == "lingering" and person in sent and person not in got:
                got[person] = int(entry_id.decode().split("-")[0])
        lat = sorted(got[p] - sent[p] for p in got)
        p50 = statistics.median(lat) if lat else float("nan")
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
        print(
            f"latency at {a.rate:,.0f} events/s: {len(lat)}/{len(sent)} alerts, "
            f"p50 {p50:.0f} ms, p99 {p99:.0f} ms",
            flush=True,
        )
        print(
            f"RESULT events_per_s={rate:.0f} bare_per_s={bare_rate:.0f} ratio={rate / bare_rate:.3f} "
            f"p50_ms={p50:.0f} p99_ms={p99:.0f} cpu_us={cpu:.1f} bare_cpu_us={bare_cpu:.1f} "
            f"cpu_ratio={bare_cpu / cpu:.3f} "
            f"archiver_per_s={arch_rate:.0f} archiver_cpu_us={arch_cpu:.1f} "
            f"archiver_ratio={arch_rate / bare_rate:.3f} "
            f"watchlist={a.watchlist} watch_share={a.watch_share:g}"
        )
        return 0
    finally:
        for p in procs:
            p.terminate()
            p.wait(20)
        if proc is not None:
            proc.send_signal(signal.SIGINT if a.profile else signal.SIGTERM)  # py-spy writes on Ctrl-C
            proc.wait(20)
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of the group (the profiled engine)
            except ProcessLookupError:
                pass
        rs.close()
        mq.close()
        if a.keep:
            print(f"work folder: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
