"""Issue #3: how fast one OneScreen ingest process stores door events, beside the ceiling and the peer.

One run, one Mosquitto (the shipped no-drop config: ``max_queued_messages 0``) and one Redis for everyone,
started on free ports; Redis is flushed before each contender. A separate publisher process
(bench/mqttbench/publisher.py) sends CONTRACT access events of 225 bytes at QoS 1 to three contenders in turn:

- ``bare``: a paho subscriber that only counts (the client library's ceiling on this machine);
- ``nodered``: the peer an integrator would pick instead of writing an ingestor: a headless Node-RED 4 flow
  (bench/nodered/flow.json) doing MQTT in → JSON → XADD, with no validation, no dedup, ack on receipt;
- ``onescreen``: ``onescreen ingest-mqtt`` as deployed: validates, places each door in the city registry,
  deduplicates, and acknowledges a message only after Redis has it.

Two phases per contender: throughput (``--count`` messages as fast as the publisher goes; sustained rate =
messages / (last one stored − first one published)), then latency (``--rate`` messages/s for ``--seconds``;
publish→stored from the payload's ``ts`` to the Redis stream entry id, both this machine's clock).
``--rounds`` repeats everything with the contenders in rotated order; figures are medians over rounds and
latency percentiles are over all rounds' messages.

Everything shares the machine's cores (publisher, broker, Redis, contender), so a contender's wall-clock rate
also depends on what the others cost and on whatever else runs there. The CPU time per message of each
process in the throughput phase (contender, broker, Redis, publisher; from /proc) is printed beside it: it
hardly moves with load from elsewhere, and it shows the headroom once a contender is faster than the paho
publisher can feed it (then every rate converges on the publisher's).

Ends with ``RESULT stored_per_s=… bare_per_s=… nodered_per_s=… ratio=… vs_nodered=… p50_ms=… p99_ms=… …``
(ratio = stored/bare, vs_nodered = stored/nodered; p50/p99 of OneScreen at the fixed rate; ``cpu_us`` and
``nodered_cpu_us``/``bare_cpu_us``: CPU µs per message of each contender's own process, ``vs_nodered_cpu`` =
nodered_cpu_us/cpu_us; ``others_cores``: cores other processes kept busy, the noise). Exit status 1 if
OneScreen lost or rejected anything.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from mqttbench import contenders as mb

from onescreen.services import MosquittoServer, RedisServer

TARGET_VS_NODERED = 1.0
TARGET_P99_MS = 50.0
CITY = {"districts": 2, "communities": 8, "cells": 16, "doors": 64, "cameras": 4, "units": 2, "watchlist": 2,
        "sensors": 0, "streamed_cameras": 0}


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer messages, one round: finishes within 45 s")
    ap.add_argument("--count", type=int, help="messages of the throughput phase (default 100,000; quick 20,000)")
    ap.add_argument("--rate", type=float, default=5000, help="messages/s of the latency phase")
    ap.add_argument("--seconds", type=float, help="length of the latency phase (default 10; quick 3)")
    ap.add_argument("--rounds", type=int, help="repeat with rotated order (default 3; quick 1)")
    ap.add_argument("--only", choices=["bare", "nodered", "onescreen"], action="append",
                    help="run only these contenders (repeatable); ratios need bare and nodered")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs) and print its path")
    a = ap.parse_args()
    a.count = a.count or (20_000 if a.quick else 100_000)
    a.seconds = a.seconds or (3.0 if a.quick else 10.0)
    a.rounds = a.rounds or (1 if a.quick else 3)
    return a


def build_city(workdir: Path) -> tuple[str, list[str]]:
    """A small generated city in SQLite (as tests/city_fixtures.py does): the published doors must exist."""
    from onescreen.db.session import make_engine, upgrade
    from onescreen.registry.bundle import write_bundle
    from onescreen.registry.importer import import_bundle
    from sim.citygen import generate_city

    url = f"sqlite:///{workdir / 'registry.db'}"
    upgrade(url)
    bundle = generate_city(seed=11, **CITY)
    write_bundle(workdir / "bundle", bundle)
    engine = make_engine(url)
    import_bundle(engine, workdir / "bundle")
    engine.dispose()
    return url, [d.id for d in bundle.doors]


def publish(rig: mb.Rig, prefix: str, n: int, run: str, rate: float = 0) -> dict:
    """Run the publisher process to completion (every message PUBACKed) and return its report."""
    cmd = [sys.executable, str(ROOT / "bench" / "mqttbench" / "publisher.py"), "--host", rig.broker_host,
           "--port", str(rig.broker_port), "--prefix", prefix, "--doors", ",".join(rig.doors),
           "--count", str(n), "--run", run, "--rate", str(rate)]
    proc = mb.spawn(cmd, rig.workdir / "publisher.log", stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=600)
    if proc.returncode:
        raise RuntimeError(f"publisher failed ({proc.returncode}): {out.strip()} (log {rig.workdir}/publisher.log)")
    return json.loads(out)


def pct(values: list[int], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return float(ordered[max(0, min(len(ordered) - 1, -(-len(ordered) * q // 100) - 1))])


def trial(c: mb.Contender, rig: mb.Rig, args: argparse.Namespace) -> dict:
    """One contender, both phases, from a flushed Redis; returns its figures."""
    rig.redis().flushall()
    c.start()
    try:
        run = uuid.uuid4().hex[:8]
        c.expect(args.count, run, latency=False)
        cpu0 = {k: mb.cpu_seconds(pid) for k, pid in rig.service_pids.items()}
        busy0, self0, wall0 = mb.machine_busy_seconds(), time.process_time(), time.monotonic()
        pub = publish(rig, c.prefix, args.count, run)
        thr: mb.PhaseResult = c.wait()
        cpu = {k: mb.cpu_seconds(pid) - cpu0[k] for k, pid in rig.service_pids.items()}
        # Whatever else kept the cores busy meanwhile (other users of a shared machine): the noise indicator.
        ours = sum(cpu.values()) + thr.cpu_s + pub["cpu_s"] + time.process_time() - self0
        others = max(0.0, mb.machine_busy_seconds() - busy0 - ours) / (time.monotonic() - wall0)  # in cores
        span = max(thr.t_last - pub["t0"], 1e-9)
        lat_n = int(args.rate * args.seconds)
        run = uuid.uuid4().hex[:8]
        c.expect(lat_n, run, latency=True)
        lat_pub = publish(rig, c.prefix, lat_n, run, rate=args.rate)
        lat = c.wait()
        problems = [p for p in (thr.note, lat.note, c.check()) if p]
    finally:
        c.stop()
    return {
        "name": c.name, "per_s": thr.arrived / span, "arrived": thr.arrived, "count": args.count,
        "lost": args.count - thr.arrived + lat_n - lat.arrived, "pub_per_s": pub["pub_per_s"],
        "cpu_pct": 100 * thr.cpu_s / span, "lat_ms": lat.latencies_ms, "lat_rate": lat_pub["pub_per_s"],
        "us_own": 1e6 * thr.cpu_s / max(thr.arrived, 1), "us_broker": 1e6 * cpu["broker"] / max(thr.arrived, 1),
        "us_redis": 1e6 * cpu["redis"] / max(thr.arrived, 1), "us_pub": 1e6 * pub["cpu_s"] / args.count,
        "others": others,
        "p50_ms": pct(lat.latencies_ms, 50), "p99_ms": pct(lat.latencies_ms, 99),
        "max_ms": pct(lat.latencies_ms, 100), "problems": problems,
        "payload_bytes": pub["payload_bytes"],
    }


def fmt(x: float, digits: int = 0) -> str:
    return "na" if math.isnan(x) else f"{x:.{digits}f}"


def main() -> int:
    args = parse_args()
    t_begin = time.monotonic()
    names = args.only or ["bare", "nodered", "onescreen"]
    skipped = ""
    if "nodered" in names and (why := mb.NodeRed.missing()):
        if not args.quick:
            print(f"Node-RED cannot run: {why}. The full bench needs it (--quick may skip it).", file=sys.stderr)
            return 2
        skipped, names = f"nodered skipped: {why}", [n for n in names if n != "nodered"]
        print(skipped)
    if "nodered" in names:
        mb.NodeRed.install()
    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-mqtt-"))
    trials: list[dict] = []
    with RedisServer(workdir=workdir / "redis") as red, MosquittoServer(workdir=workdir / "mosquitto") as broker:
        city_url, doors = build_city(workdir)
        rig = mb.Rig(broker.host, broker.port, red.url, city_url, doors, workdir)
        rig.service_pids = {"broker": mb.pid_of(str(broker.config_path)),  # found by what their command lines say
                            "redis": mb.pid_of(f"redis-server 127.0.0.1:{red.port}")}
        kinds = {"bare": mb.Bare, "nodered": mb.NodeRed, "onescreen": mb.OneScreen}
        print(f"broker 127.0.0.1:{broker.port} (max_queued_messages 0), redis {red.url}, {len(doors)} doors; "
              f"{args.count:,} messages per throughput phase, {args.rate:,.0f}/s for {args.seconds:g} s per latency "
              f"phase, {args.rounds} round(s)", flush=True)
        print("others = cores kept busy by processes outside the bench during the throughput phase (noise)")
        print(f"{'':>16} {'---- throughput phase ----':^28} {'CPU µs per message':^23} "
              f"{'--- latency phase ---':^28}".rstrip() + "\n"
              f"{'round':>5} {'contender':<10} {'stored/s':>9} {'pub/s':>7} {'cpu%':>5} {'lost':>5} "
              f"{'own':>5} {'brkr':>5} {'redis':>5} {'pub':>5} "
              f"{'p50 ms':>6} {'p99 ms':>6} {'max ms':>6} {'at/s':>6} {'others':>6}  problems", flush=True)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                t = trial(kinds[name](rig), rig, args)
                t["round"] = r + 1
                trials.append(t)
                print(f"{r + 1:>5} {name:<10} {t['per_s']:>9,.0f} {t['pub_per_s']:>7,.0f} {fmt(t['cpu_pct']):>5} "
                      f"{t['lost']:>5} {fmt(t['us_own']):>5} {fmt(t['us_broker']):>5} {fmt(t['us_redis']):>5} "
                      f"{fmt(t['us_pub']):>5} {fmt(t['p50_ms']):>6} {fmt(t['p99_ms']):>6} {fmt(t['max_ms']):>6} "
                      f"{t['lat_rate']:>6,.0f} {t['others']:>6.2f}  {'; '.join(t['problems']) or '-'}", flush=True)
    if args.keep:
        print(f"work folder (logs): {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return report(trials, args, skipped, time.monotonic() - t_begin)


def div(a: float, b: float) -> float:
    return a / b if b else float("nan")


def verdict(value: float, ok: bool, target: str) -> str:
    return f"{target}: " + ("not measured" if math.isnan(value) else "met" if ok else "NOT met")


def report(trials: list[dict], args: argparse.Namespace, skipped: str, elapsed: float) -> int:
    """Medians over rounds, ratios, targets, and the RESULT line; exit status 1 if OneScreen lost anything."""
    def of(name: str) -> list[dict]:
        return [t for t in trials if t["name"] == name]

    def med(name: str, key: str) -> float:
        values = [t[key] for t in of(name)]
        return statistics.median(values) if values else float("nan")

    def best(name: str) -> float:
        return max((t["per_s"] for t in of(name)), default=float("nan"))

    def pooled(name: str, q: float) -> float:
        return pct([x for t in of(name) for x in t["lat_ms"]], q)

    stored, bare, nodered = med("onescreen", "per_s"), med("bare", "per_s"), med("nodered", "per_s")
    ratio, vs_nodered = div(stored, bare), div(stored, nodered)
    cpu, nodered_cpu = med("onescreen", "us_own"), med("nodered", "us_own")
    p50, p99 = pooled("onescreen", 50), pooled("onescreen", 99)
    lost = sum(t["lost"] for t in of("onescreen"))
    problems = sum(len(t["problems"]) for t in of("onescreen"))
    noise = statistics.median(t["others"] for t in trials) if trials else float("nan")

    print(f"\nmedians over {args.rounds} round(s): onescreen {fmt(stored)}/s, bare {fmt(bare)}/s, "
          f"nodered {fmt(nodered)}/s (best rounds {fmt(best('onescreen'))}, {fmt(best('bare'))}, "
          f"{fmt(best('nodered'))}/s); ratio (onescreen/bare) {fmt(ratio, 2)}, nodered/bare "
          f"{fmt(div(nodered, bare), 2)}, vs_nodered {fmt(vs_nodered, 2)}")
    for name in ("bare", "nodered", "onescreen"):
        if of(name):
            print(f"  {name:<10} publish→stored at {args.rate:,.0f}/s: p50 {fmt(pooled(name, 50))} ms, "
                  f"p99 {fmt(pooled(name, 99))} ms, max {fmt(pooled(name, 100))} ms; at full speed "
                  f"{fmt(med(name, 'cpu_pct'))}% of a core, CPU per message {fmt(med(name, 'us_own'), 1)} µs "
                  f"(+ broker {fmt(med(name, 'us_broker'), 1)}, Redis {fmt(med(name, 'us_redis'), 1)}, "
                  f"publisher {fmt(med(name, 'us_pub'), 1)})")
    print(f"other processes kept {fmt(noise, 2)} of the machine's cores busy (median over trials)"
          + ("; the rates are disturbed: compare the CPU per message" if noise > 0.3 else ""))
    targets = [verdict(vs_nodered, vs_nodered >= TARGET_VS_NODERED, f"vs_nodered ≥ {TARGET_VS_NODERED:g}"),
               verdict(p99, p99 <= TARGET_P99_MS, f"p99 ≤ {TARGET_P99_MS:g} ms"),
               ("no loss: " + ("yes" if not lost and not problems else "NO")) if of("onescreen") else "no loss: n/a"]
    print("targets: " + "; ".join(targets) + (f"; {skipped}" if skipped else "") + f"; took {elapsed:.0f} s")
    fields = {
        "stored_per_s": fmt(stored), "bare_per_s": fmt(bare), "nodered_per_s": fmt(nodered),
        "ratio": fmt(ratio, 2), "vs_nodered": fmt(vs_nodered, 2), "p50_ms": fmt(p50), "p99_ms": fmt(p99),
        "nodered_p50_ms": fmt(pooled("nodered", 50)), "nodered_p99_ms": fmt(pooled("nodered", 99)),
        "bare_p99_ms": fmt(pooled("bare", 99)), "cpu_us": fmt(cpu, 1), "nodered_cpu_us": fmt(nodered_cpu, 1),
        "bare_cpu_us": fmt(med("bare", "us_own"), 1), "vs_nodered_cpu": fmt(div(nodered_cpu, cpu), 2),
        "lost": lost, "messages": args.count, "rate": f"{args.rate:.0f}", "rounds": args.rounds,
        "payload_bytes": trials[0]["payload_bytes"] if trials else 0, "others_cores": fmt(noise, 2),
    }
    if skipped:
        fields["nodered"] = "skipped"
    print("RESULT " + " ".join(f"{k}={v}" for k, v in fields.items()))
    return 0 if not lost and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
