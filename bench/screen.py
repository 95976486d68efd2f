"""Issue #6: the wall screen's cold load, cost per refresh and event→pixel latency, in headless Chromium.

One run, own Redis and Mosquitto on free ports, for the default generated city and the ``nanchang`` preset
(141 communities, 1,223 cells, 19,000 cameras; its imported SQLite database is cached in ``var/bench/``):

- the real MqttIngestWorker, AlertEngineWorker (short-threshold rules) and DashboardWorker run in threads;
  a feeder stands in for ``ingest-video`` (latest JPEG + health of the streamed cameras, once a second);
  the city is seeded over MQTT: patrol positions, door events of the last hours, heartbeats;
- **cold load**: a fresh page of a signed-in browser, navigation start → map polygons drawn and the first
  live refresh answered (``performance.now()`` in the page);
- **refresh**: every ``/_dash-update-component`` answer of the wall's refresh callback while the trials run:
  median body bytes and median server time (request sent → first response byte, Chromium's timing);
- **event→pixel**: the edge-count message that completes a ``gathering`` condition is published over MQTT;
  a MutationObserver in the page stamps (``Date.now()``, same machine clock) when the new alert's item
  appears in ``alert-feed``. p50/p95 over ``--trials`` events (CONTRACT §4: within 2 s);
- **drilled**: the wall's scope set to the community with the most doors for 5 s (the hourly chart then
  reads that community's own aggregates): median server time of those refreshes and of the first one.

``--walls`` (issue #13, screens at scale) runs ``bench/walls.py`` instead (1 wall, then 20: the dashboard's SQL
load ratio and event → pixel; real Chromium walls plus walls replayed over HTTP, see there).

Last line: ``RESULT cold_load_ms=… refresh_bytes=… refresh_ms=… p50_ms=… p95_ms=… drilled_refresh_ms=…
drilled_first_ms=… nanchang_…``.
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml

from onescreen import names
from onescreen.db.session import make_engine, upgrade
from onescreen.registry.bundle import write_bundle
from onescreen.registry.importer import import_bundle
from onescreen.services import MosquittoServer, RedisServer, free_port
from onescreen.settings import load_settings
from sim.citygen import generate_city
from sim.streams import VTEST  # OpenCV's sample video, from Debian's opencv-doc

CACHE = ROOT / "var" / "bench"
FAST_RULES = {"rules": {"gathering": {"hold_s": 1, "clear_hold_s": 1, "cooldown_s": 0}}}
OBSERVER = """() => { window.__seen = {}; const feed = document.getElementById('alert-feed');
  const mark = () => feed.querySelectorAll('[data-alert-id]').forEach(e => {
    const id = e.dataset.alertId; if (!(id in window.__seen)) window.__seen[id] = Date.now(); });
  mark(); new MutationObserver(mark).observe(feed, {childList: true, subtree: true}); }"""


def log(msg: str) -> None:
    print(msg, flush=True)


def city_db(preset: str, workdir: Path) -> tuple[str, object]:
    """A SQLite registry of the preset (nanchang: copied from the cache after the first import)."""
    bundle = generate_city(preset)
    db = workdir / f"{preset}.db"
    cached = CACHE / f"screen-{preset}.db"
    if preset != "default" and cached.is_file():
        shutil.copy(cached, db)
        return f"sqlite:///{db}", bundle
    url = f"sqlite:///{db}"
    upgrade(url)
    write_bundle(workdir / f"{preset}-bundle", bundle)
    engine = make_engine(url)
    import_bundle(engine, workdir / f"{preset}-bundle")
    engine.dispose()
    if preset != "default":
        CACHE.mkdir(parents=True, exist_ok=True)
        shutil.copy(db, cached)
    return url, bundle



def bench_city(preset: str, workdir: Path, redis_srv, broker):
    """A clean Redis, the preset's city database, the fast rules, settings on free ports and an operator's
    credentials: what every wall bench starts from. Returns (settings, bundle, operator credentials)."""
    import redis

    from tests.auth_helpers import create_users

    redis.Redis.from_url(redis_srv.url).flushall()
    url, bundle = city_db(preset, workdir)
    rules = workdir / f"rules-{preset}.yaml"
    rules.write_text(yaml.safe_dump(FAST_RULES), encoding="utf-8")
    prefix = "b" + uuid.uuid4().hex[:6]
    s = load_settings(redis={"url": redis_srv.url}, database={"url": url}, log={"format": "text", "level": "WARNING"},
                      mqtt={"host": broker.host, "port": broker.port, "prefix": prefix, "metrics_port": 0},
                      alerts={"rules_file": str(rules), "escalate_after_s": 3600},
                      dashboard={"port": free_port()})
    return s, bundle, create_users(url, prefix="bench")["operator"]


def frames() -> list[bytes]:
    """A few JPEGs for the camera tiles: frames of the sample video if present, else generated scenes."""
    import cv2
    import numpy as np

    out: list[bytes] = []
    cap = cv2.VideoCapture(str(VTEST)) if VTEST.is_file() else None
    while cap is not None and len(out) < 24:
        ok, img = cap.read()
        if not ok:
            break
        for _ in range(4):
            cap.read()
        out.append(cv2.imencode(".jpg", cv2.resize(img, (480, 270)), [cv2.IMWRITE_JPEG_QUALITY, 70])[1].tobytes())
    for i in range(max(0, 8 - len(out))):
        img = np.full((270, 480, 3), (40 + 10 * i, 60, 90), np.uint8)
        cv2.putText(img, f"CAM {i}", (30, 140), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        out.append(cv2.imencode(".jpg", img)[1].tobytes())
    return out


class FrameFeeder(threading.Thread):
    """Writes what ``ingest-video`` writes for the screens: latest JPEG and health, once a second."""

    def __init__(self, redis_url: str, cameras: list[str]):
        super().__init__(daemon=True)
        import redis

        self.r = redis.Redis.from_url(redis_url)
        self.cameras = cameras
        self.jpegs = frames()
        self.stop = threading.Event()

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            pipe = self.r.pipeline(transaction=False)
            now_ms = int(time.time() * 1000)
            for i, cid in enumerate(self.cameras):
                pipe.set(names.camera_snapshot(cid), self.jpegs[(n + 3 * i) % len(self.jpegs)], px=5000)
                pipe.hset(names.camera_health(cid), mapping={"state": "online", "fps": 5.0,
                                                              "last_frame_at": now_ms})
            pipe.execute()
            n += 1
            self.stop.wait(1.0)


def seed(pub, prefix: str, bundle, tz: str, events: int, heartbeats: int) -> None:
    """Patrol positions (most on post), door events over the last 20 hours, device heartbeats."""
    rnd = random.Random(5)
    now = time.time()
    posts = {p.id: p for p in bundle.posts}
    for i, u in enumerate(bundle.units):
        p = posts.get(u.post_id)
        if p is None:
            continue
        off = 0.0 if i % 5 else 0.01  # one in five away from its post
        pub.publish(f"{prefix}/patrol/{u.id}/position", {"ts": int(now * 1000), "lat": p.lat + off, "lon": p.lon,
                                                         "status": "on_post" if not off else "patrolling"})
    doors = bundle.doors
    for _ in range(events):
        d = rnd.choice(doors)
        age_s = rnd.random() ** 0.6 * 20 * 3600
        pub.publish(f"{prefix}/access/{d.id}", {"event_id": str(uuid.uuid4()), "ts": int((now - age_s) * 1000),
                                               "person_id": f"p-{rnd.randrange(5000)}", "direction": "in",
                                               "result": "granted"})
    for dev in [*bundle.cameras[:heartbeats], *bundle.doors[:heartbeats]]:
        pub.publish(f"{prefix}/device/{dev.id}/status", {"ts": int(now * 1000), "online": True})
    pub.flush()


def measure(preset: str, trials: int, redis_srv, broker, workdir: Path, screenshot: Path | None,
            soak_s: float = 0.0) -> dict:
    from playwright.sync_api import sync_playwright

    from alerts.engine import AlertEngineWorker
    from ingest.mqtt.worker import MqttIngestWorker
    from tests.auth_helpers import login
    from tests.dashboard_helpers import RunningWorker
    from tests.mqtt_helpers import Publisher, ThreadWorker, wait_for
    from tests.wall_browser_helpers import launch

    t0 = time.monotonic()
    s, bundle, creds = bench_city(preset, workdir, redis_srv, broker)
    prefix = s.mqtt.prefix
    log(f"[{preset}] city ready in {time.monotonic() - t0:.1f} s")
    streamed = [c.id for c in bundle.cameras if c.streamed]
    feeder = FrameFeeder(redis_srv.url, streamed)
    feeder.start()
    pub = Publisher(broker.host, broker.port)
    dash = RunningWorker(s).start()
    refreshes: list[tuple[int, float]] = []
    try:
        with ThreadWorker(MqttIngestWorker(s, f"bench-{preset}")) as ingest, \
                ThreadWorker(AlertEngineWorker(s, f"bench-{preset}")):
            assert wait_for(lambda: ingest.subscribed, 10)
            quick = trials <= 10
            seed(pub, prefix, bundle, s.city.timezone, 300 if quick else 2000, 500 if quick else 5000)
            with sync_playwright() as pw:
                browser = launch(pw)
                ctx = browser.new_context(viewport={"width": 1920, "height": 1080})
                page = ctx.new_page()
                login(page, dash.url, creds.username, creds.password, next_path="/api/health")
                page = ctx.new_page()  # a fresh page: the Dash bundles are not in its memory cache
                page.on("requestfinished", lambda r: _refresh(r, refreshes))
                page.goto(dash.url + "/", wait_until="commit")
                n_comm = sum(1 for n in bundle.nodes if n.level == "community")
                page.wait_for_function(
                    f"document.querySelectorAll('#city-map .leaflet-os-communities-pane path').length === {n_comm}"
                    " && window.onescreen && window.onescreen.live.everOk", timeout=60_000, polling=16)
                cold_ms = page.evaluate("performance.now()")
                log(f"[{preset}] cold load {cold_ms:.0f} ms")
                page.evaluate(OBSERVER)
                refreshes.clear()
                heap0 = _heap(page)
                latencies = _trials(page, pub, prefix, bundle, trials)
                page.wait_for_timeout(1000 if quick else 1500)
                heap1 = _heap(page)
                busy = list(refreshes)
                refreshes.clear()
                page.wait_for_timeout(2500 if quick else 4000)  # nothing happening: what a quiet second costs
                idle = list(refreshes)
                drilled = _drilled(page, bundle, 3000 if quick else 5000)
                refreshes[:] = busy
                if idle:
                    log(f"[{preset}] idle: {len(idle)} refreshes, median {statistics.median(b for b, _ in idle):.0f}"
                        f" bytes, {statistics.median(ms for _, ms in idle):.1f} ms")
                log(f"[{preset}] JS heap after load {heap0 / 1e6:.1f} MB, after the trials {heap1 / 1e6:.1f} MB "
                    f"(after GC)")
                if soak_s > 0:
                    _soak(page, pub, prefix, bundle, soak_s, preset)
                if screenshot is not None:
                    page.wait_for_timeout(1500)
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot))
                    log(f"[{preset}] screenshot {screenshot}")
                browser.close()
    finally:
        dash.stop()
        pub.close()
        feeder.stop.set()
    sizes = [b for b, _ms in refreshes]
    times = [ms for _b, ms in refreshes]
    lat = sorted(latencies)
    res = {"cold_load_ms": round(cold_ms), "refresh_bytes": round(statistics.median(sizes)) if sizes else -1,
           "refresh_ms": round(statistics.median(times), 1) if times else -1,
           "p50_ms": round(statistics.median(lat)) if lat else -1,
           "p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))]) if lat else -1,
           "drilled_refresh_ms": round(statistics.median(ms for _b, ms in drilled), 1) if drilled else -1,
           "drilled_first_ms": round(drilled[0][1], 1) if drilled else -1}
    log(f"[{preset}] {len(refreshes)} refreshes, {len(lat)}/{trials} alerts seen: {res}")
    return res


def _soak(page, pub, prefix: str, bundle, seconds: float, preset: str) -> None:
    """Keep the wall busy (patrol moves every second, colour mode flips, a new alert every 3 s) and log the
    JS heap after GC every 30 s: it must level off, not climb."""
    posts = {p.id: p for p in bundle.posts}
    cams = [c for c in bundle.cameras if not c.streamed and c.zones][40:]
    start, n, samples = time.monotonic(), 0, []
    while time.monotonic() - start < seconds:
        now = time.time()
        for u in bundle.units:
            p = posts.get(u.post_id)
            if p is not None:
                pub.publish(f"{prefix}/patrol/{u.id}/position",
                            {"ts": int(now * 1000), "lat": p.lat + 0.004 * ((n + hash(u.id)) % 3), "lon": p.lon})
        if n % 3 == 0 and cams:
            cam = cams.pop(0)
            zone = sorted(cam.zones)[0]
            for dt, persons in ((1.2, 12), (0.0, 13)):
                pub.publish(f"{prefix}/video/{cam.id}/count", {"event_id": str(uuid.uuid4()),
                            "ts": int((now - dt) * 1000), "zone": zone, "persons": persons})
        if n % 5 == 0:
            page.click("#city-map-mode-button")
        pub.flush()
        if n % 30 == 0:
            samples.append(round(_heap(page) / 1e6, 1))
        n += 1
        page.wait_for_timeout(1000)
    samples.append(round(_heap(page) / 1e6, 1))
    log(f"[{preset}] soak {seconds:.0f} s: JS heap after GC every 30 s (MB): {samples}")


def _drilled(page, bundle, watch_ms: int) -> list[tuple[int, float]]:
    """Refreshes while the scope is the community with the most doors (set as the map's click would)."""
    parent = {n.id: n.parent_id for n in bundle.nodes}
    community = collections.Counter(parent[d.cell_id] for d in bundle.doors).most_common(1)[0][0]
    got: list[tuple[int, float]] = []

    def mine(req) -> None:  # only the answers for the drilled scope
        if f'"{community}"' in (req.post_data or ""):
            _refresh(req, got)

    page.on("requestfinished", mine)
    page.evaluate(f"window.dash_clientside.set_props('city-map-scope', {{data: '{community}'}})")
    page.wait_for_timeout(watch_ms)
    page.remove_listener("requestfinished", mine)
    page.evaluate("window.dash_clientside.set_props('city-map-scope', {data: null})")
    page.wait_for_timeout(1000)
    return got


def _heap(page) -> float:
    """Used JS heap after a forced garbage collection (Chromium's DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    used = cdp.send("Runtime.getHeapUsage")["usedSize"]
    cdp.detach()
    return float(used)


def _refresh(req, out: list) -> None:
    """Size and server time of one answer of the wall's refresh callback."""
    if "_dash-update-component" not in req.url or "wall-refresh-status" not in (req.post_data or ""):
        return
    try:
        body = req.response().body()
    except Exception:  # noqa: BLE001 - the page may be closing
        return
    t = req.timing
    out.append((len(body), max(0.0, t["responseStart"] - t["requestStart"])))


def _trials(page, pub, prefix: str, bundle, trials: int) -> list[float]:
    """Publish ``trials`` gathering completions on distinct cameras; latency publish → item in the feed."""
    cams = [c for c in bundle.cameras if not c.streamed and c.zones][:trials]
    out = []
    for cam in cams:
        zone = sorted(cam.zones)[0]
        topic = f"{prefix}/video/{cam.id}/count"
        now = time.time()
        pub.publish(topic, {"event_id": str(uuid.uuid4()), "ts": int((now - 1.2) * 1000), "zone": zone,
                            "persons": 12})
        pub.flush()
        before = set(page.evaluate("Object.keys(window.__seen)"))
        t_pub = time.time() * 1000
        pub.publish(topic, {"event_id": str(uuid.uuid4()), "ts": int(t_pub), "zone": zone, "persons": 13})
        pub.flush()
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            seen = page.evaluate("window.__seen")
            new = [v for k, v in seen.items() if k not in before]
            if new:
                out.append(min(new) - t_pub)
                break
            time.sleep(0.02)
        time.sleep(0.3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer trials (≤ 45 s with a cached nanchang database)")
    ap.add_argument("--trials", type=int, default=None, help="alerts per city (default 30, quick 6)")
    ap.add_argument("--screenshot", type=Path, default=None, help="save the default city's wall here at the end")
    ap.add_argument("--soak", type=float, default=0.0, help="seconds of busy wall after the trials (heap log)")
    ap.add_argument("--walls", type=int, nargs="?", const=0, default=None,
                    help="measure 1 and N open walls instead (bench/walls.py; default N: 20, quick 5)")
    ap.add_argument("--real", type=int, default=None,
                    help="with --walls: how many of the N walls are Chromium pages (default 2; N: all)")
    args = ap.parse_args()
    if args.walls is not None:
        from bench.walls import main_walls

        return main_walls(args.walls or (5 if args.quick else 20), args.trials, args.real, args.quick)
    trials = args.trials or (6 if args.quick else 30)
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-screen-"))
    redis_srv, broker = RedisServer(), MosquittoServer()
    redis_srv.start()
    broker.start()
    try:
        d = measure("default", trials, redis_srv, broker, work, args.screenshot, args.soak)
        n = measure("nanchang", max(5, trials * 2 // 3), redis_srv, broker, work, None)
    finally:
        redis_srv.close()
        broker.close()
        shutil.rmtree(work, ignore_errors=True)
    log(f"total {time.monotonic() - started:.1f} s")
    fields = [f"{k}={v}" for k, v in d.items()] + [f"nanchang_{k}={v}" for k, v in n.items()]
    print("RESULT " + " ".join(fields), flush=True)


if __name__ == "__main__":
    main()
