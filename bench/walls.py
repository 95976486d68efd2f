"""Issue #13, screens at scale: one dashboard process with 1 open wall, then 20 — SQL load and event → pixel.

In a command center each wall is a browser on a PC of its own; the dashboard process carries their requests.
On this machine (2 cores shared by everything) 10-20 headless Chromium renderers starve each other before the
server is busy, and a bench that opens 20 of them measures the browsers. So by default (``--real 2``) the 20
walls are **2 real Chromium walls** that stamp event → pixel, plus **18 protocol walls**
(``bench/wallbench/client.py``, one process of its own): they sign in with their own sessions and send exactly the
requests a real wall sends, recorded from the first real wall with Playwright (every ``_dash-update-component``
callback with its payload and cadence, the camera tiles' frame GETs), keeping the page's state between answers
(the refresh's section hashes) and one refresh in flight, as ``wall.js``'s gate does. ``--real N`` with N = the
number of walls opens them all in Chromium (what a 20-browser run on this machine gives).

One run, own Redis and Mosquitto on free ports, the default generated city, the real MqttIngestWorker,
AlertEngineWorker (short ``gathering`` hold) and DashboardWorker in threads of this process. Two phases of a
fixed window (2 s per alert + 2 s) in which the same number of ``gathering`` alerts opens (one every 2 s): the
same changes per second in both, the re-reads they cause included. Per phase:

- **SQL statements/s** the dashboard's engine runs (a ``before_cursor_execute`` listener on its own engine: the
  ingest and alert engine in this process are not counted); ``walls20_db_ratio`` = N walls / 1 wall;
- **event → pixel** on the real walls: the completing MQTT publish → the alert's item in the page's feed
  (a MutationObserver stamps ``Date.now()``, same clock; an alert not shown within 6 s counts 6 s), p50/p95 over
  real walls × alerts;
- **publish → commit** (SQL polled every 50 ms by an engine of our own): the pipeline's part of it;
- **server time per callback**: the time the dashboard's WSGI app spends on each ``/_dash-update-component``
  (wrapped around Flask), p50/p95 over every wall's requests in the window; and the protocol walls' request →
  answer time (the server's time plus queueing for a waitress thread, as a browser elsewhere would see it).

``--profile``: samples the dashboard's request threads every 10 ms in the N-walls window and prints where they
spend their time (the functions on their stacks).

Last line: ``RESULT walls=N real=… walls1_sql_s=… wallsN_sql_s=… walls20_db_ratio=… wallsN_p50_ms=…
wallsN_p95_ms=… walls1_p95_ms=… wallsN_server_p95_ms=… wallsN_answer_p95_ms=… wallsN_wire_p95_ms=…``
(``wire``: event → the first answer carrying the alert at the protocol walls; ``answer``: their request → answer
time; both ``na`` when every wall is a browser).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.screen import OBSERVER, FrameFeeder, bench_city, log, seed  # noqa: E402
from bench.wallbench.client import DASH_PATH, spec_from_recording  # noqa: E402
from bench.wallbench.profile import Sampler  # noqa: E402
from onescreen.db.session import make_engine  # noqa: E402
from onescreen.services import MosquittoServer, RedisServer  # noqa: E402

GAP_S = 2.0  # one new alert every GAP_S in the walls' measuring window
MISS_MS = 6000.0  # an alert not shown this long after its publish counts this much
RECORD_S = 6.0  # a live wall's requests recorded this long: the protocol walls' script
ANSWER_MS = """() => performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update-component')
  && e.startTime > performance.now() - 20000).map(e => e.responseEnd - e.startTime)"""
ANSWERS = """() => { window.__answers = []; new PerformanceObserver(list => list.getEntries().forEach(e => {
  if (e.name.includes('_dash-update-component')) { window.__answers.push(performance.timeOrigin + e.responseEnd);
    if (window.__answers.length > 600) { window.__answers.shift(); } } })).observe({type: 'resource'});
  window.__long = []; new PerformanceObserver(list => list.getEntries().forEach(e => {
    window.__long.push([performance.timeOrigin + e.startTime, e.duration]);
    if (window.__long.length > 2000) { window.__long.shift(); } })).observe({type: 'longtask'}); }"""
WALL_VIEWPORT = {"width": 1280, "height": 720}  # many pages drawn by two shared cores: the browser would measure
# itself; the server's work per refresh does not depend on the size


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


class _Timed:
    """WSGI wrapper: the dashboard's own time per ``/_dash-update-component`` request (epoch s, ms)."""

    def __init__(self, app):
        self.app, self.ms = app, []

    def __call__(self, environ, start_response):
        t0 = time.perf_counter()
        try:
            return self.app(environ, start_response)
        finally:
            if environ.get("PATH_INFO") == DASH_PATH:
                self.ms.append((time.time(), (time.perf_counter() - t0) * 1000))


class Protocol:
    """The protocol walls' process (``bench/wallbench/client.py``): started signed in, stopped for its figures."""

    def __init__(self, base: str, creds, n: int, spec_file: Path):
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "wallbench" / "client.py"), "--base", base,
             "--user", creds.username, "--password", creds.password, "--walls", str(n), "--spec", str(spec_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        line = self.proc.stdout.readline()
        if not line.startswith('{"ready"'):
            self.proc.kill()
            raise RuntimeError(f"protocol walls did not start: {line!r}")

    def stop(self) -> dict:
        out, _ = self.proc.communicate("", timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def walls(n_walls: int, trials: int, real: int, redis_srv, broker, workdir: Path, profile: bool = False) -> dict:
    """SQL statements per second of the dashboard with 1 and ``n_walls`` open walls, event → pixel on the real."""
    from playwright.sync_api import sync_playwright
    from sqlalchemy import event

    from alerts.engine import AlertEngineWorker
    from dashboard.context import app_context
    from ingest.mqtt.worker import MqttIngestWorker
    from tests.auth_helpers import login
    from tests.dashboard_helpers import RunningWorker
    from tests.mqtt_helpers import Publisher, ThreadWorker, wait_for
    from tests.wall_browser_helpers import launch

    s, bundle, creds = bench_city("default", workdir, redis_srv, broker)
    prefix, url = s.mqtt.prefix, s.database.url
    feeder = FrameFeeder(redis_srv.url, [c.id for c in bundle.cameras if c.streamed])  # the tiles' frames
    feeder.start()
    pub = Publisher(broker.host, broker.port)
    dash = RunningWorker(s).start()
    server = dash.worker.app.server
    timed = server.wsgi_app = _Timed(server.wsgi_app)
    sql: list[int] = []
    event.listen(app_context(server).engine, "before_cursor_execute", lambda *a: sql.append(1))
    cams = iter([c for c in bundle.cameras if not c.streamed and c.zones])
    window_s = GAP_S * trials + 2.0
    res: dict = {}
    protocol: Protocol | None = None
    try:
        with ThreadWorker(MqttIngestWorker(s, "bench-walls")) as ingest, ThreadWorker(AlertEngineWorker(s, "walls")):
            assert wait_for(lambda: ingest.subscribed, 10)
            seed(pub, prefix, bundle, s.city.timezone, 300, 500)
            with sync_playwright() as pw:
                browser = launch(pw)
                ctx = browser.new_context(viewport=WALL_VIEWPORT)
                login(ctx.new_page(), dash.url, creds.username, creds.password, next_path="/api/health")
                pages: list = []
                started = time.monotonic()

                recorded: list[dict] = []
                recording = threading.Event()

                def record(r) -> None:
                    if recording.is_set():
                        recorded.append({"t": time.monotonic(), "method": r.method, "url": r.url,
                                         "body": r.post_data})

                def open_wall(rec: bool = False):
                    page = ctx.new_page()
                    if rec:
                        page.on("request", record)
                    page.goto(dash.url + "/", wait_until="commit")
                    page.wait_for_function("window.onescreen && window.onescreen.live.everOk", timeout=120_000)
                    page.evaluate(OBSERVER)
                    page.evaluate(ANSWERS)
                    pages.append(page)
                    return page

                first = open_wall(rec=True)
                recording.set()  # from now: the live wall's steady requests
                first.wait_for_timeout(RECORD_S * 1000)
                recording.clear()
                layout = ctx.request.get(dash.url + "/_dash-layout").json()
                spec = spec_from_recording(recorded, layout, dash.url)
                spec_file = workdir / "wall-spec.json"
                spec_file.write_text(spec.to_json(), encoding="utf-8")
                log("[walls] a real wall's repeated requests (the protocol walls' script): " + ", ".join(
                    f"{c.name} every {c.period_s:.1f} s" for c in spec.calls))
                for n in (1, n_walls):
                    if n > 1:
                        if n_walls > real:
                            protocol = Protocol(dash.url, creds, n_walls - real, spec_file)
                        while len(pages) < min(n, real):  # one after the other: cold loads at once starve 2 cores
                            open_wall()
                    log(f"[walls] {n} wall(s) live ({min(n, real)} in Chromium, {n - min(n, real)} protocol) "
                        f"after {time.monotonic() - started:.0f} s")
                    time.sleep(3.0)  # the first refreshes of the new walls are over
                    sampler = Sampler() if profile and n > 1 else None
                    n0, t0, t0_wall = len(sql), time.monotonic(), time.time()
                    sent: dict[str, float] = {}
                    committed = _Committed(url, sent)
                    committed.start()
                    for i in range(trials):  # the same changes per second in both phases
                        time.sleep(max(0.0, t0 + GAP_S * i - time.monotonic()))
                        cam = next(cams)
                        sent[cam.id] = _open_alert(pub, prefix, cam)
                    time.sleep(max(0.0, t0 + window_s - time.monotonic()))
                    n_sql, t1_wall = len(sql) - n0, time.time()
                    rate = n_sql / (time.monotonic() - t0)
                    if sampler is not None:
                        sampler.stop()
                        log(sampler.report())
                    lat, alert_ids = _seen_on_all(pages, sent, url)
                    committed.stop.set()
                    stored = sorted(committed.ms.values())
                    if stored:
                        log(f"[walls] {n} wall(s): publish → alert committed in SQL (ingest + engine, polled every 50 ms)"
                            f" p50 {statistics.median(stored):.0f} ms max {stored[-1]:.0f} ms")
                    srv = [ms for t, ms in timed.ms if t0_wall <= t <= t1_wall]
                    log(f"[walls] {n} wall(s): the dashboard answered {len(srv)} callbacks in the window "
                        f"({len(srv) / window_s:.0f}/s), its own time p50 {pct(srv, 0.5):.0f} ms "
                        f"p95 {pct(srv, 0.95):.0f} ms max {max(srv, default=0):.0f} ms")
                    answers = [ms for p in pages for ms in p.evaluate(ANSWER_MS)]
                    log(f"[walls] {n} wall(s): the Chromium walls' callbacks (last 20 s), request → response end "
                        f"p50 {pct(answers, 0.5):.0f} ms p95 {pct(answers, 0.95):.0f} ms")
                    res[n] = {"sql_s": rate, "p50": statistics.median(lat), "p95": pct(lat, 0.95),
                              "server_p95": pct(srv, 0.95), "answer_p95": float("nan")}
                    if n > 1 and protocol is not None:
                        got, protocol = protocol.stop(), None
                        every = []
                        for name, pairs in got["ms"].items():
                            ms = [m for t, m in pairs if t0_wall <= t <= t1_wall]
                            every += ms
                            log(f"[walls] protocol walls, {name}: {len(ms)} answers, request → answer p50 "
                                f"{pct(ms, 0.5):.0f} ms p95 {pct(ms, 0.95):.0f} ms")
                        log(f"[walls] protocol walls: HTTP statuses {got['status']}; median answer bytes "
                            + ", ".join(f"{k} {v:.0f}" for k, v in got["bytes"].items()))
                        res[n]["answer_p95"] = pct(every, 0.95)
                        log("[walls] protocol walls: what the answers set (a page re-renders it), per wall and "
                            "minute: " + ", ".join(f"{k} {60 * v / (n - real) / (time.time() - t0_wall):.0f}"
                                                  for k, v in sorted(got["sent"].items(), key=lambda kv: -kv[1])))
                        wall_ms = [min(MISS_MS, 1000 * seen[aid] - t) if aid in seen else MISS_MS
                                   for seen in got["first_seen"] for aid, t in alert_ids.items()]
                        res[n]["wire_p50"], res[n]["wire_p95"] = pct(wall_ms, 0.5), pct(wall_ms, 0.95)
                        log(f"[walls] {n} wall(s): event → the answer that carries the alert, at the "
                            f"{len(got['first_seen'])} protocol walls ({len(wall_ms)} = walls × alerts): p50 "
                            f"{res[n]['wire_p50']:.0f} ms p95 {res[n]['wire_p95']:.0f} ms")
                    log(f"[walls] {n} wall(s): {n_sql} SQL statements in {window_s:.0f} s = {rate:.1f}/s; "
                        f"event → pixel over {len(pages)} Chromium walls × {trials} alerts p50 {res[n]['p50']:.0f} ms "
                        f"p95 {res[n]['p95']:.0f} ms")
                browser.close()
    finally:
        if protocol is not None:
            protocol.proc.kill()
        dash.stop()
        pub.close()
        feeder.stop.set()
    one, many = res[1], res[n_walls]
    return {"walls": n_walls, "real": min(real, n_walls), "walls1_sql_s": f"{one['sql_s']:.1f}",
            f"walls{n_walls}_sql_s": f"{many['sql_s']:.1f}",
            "walls20_db_ratio": f"{many['sql_s'] / one['sql_s']:.2f}" if one["sql_s"] else "na",
            f"walls{n_walls}_p50_ms": round(many["p50"]), f"walls{n_walls}_p95_ms": round(many["p95"]),
            "walls1_p95_ms": round(one["p95"]), f"walls{n_walls}_server_p95_ms": round(many["server_p95"]),
            f"walls{n_walls}_answer_p95_ms": "na" if many["answer_p95"] != many["answer_p95"]
            else round(many["answer_p95"]),
            f"walls{n_walls}_wire_p95_ms": round(many["wire_p95"]) if "wire_p95" in many else "na"}


class _Committed(threading.Thread):
    """Polls SQL (an engine of its own, not counted) for the alerts of ``sent``'s cameras: ms publish → commit,
    to tell the pipeline's part of event → pixel from the screens' part."""

    def __init__(self, db_url: str, sent: dict[str, float]):
        super().__init__(daemon=True)
        self.db_url, self.sent, self.ms = db_url, sent, {}
        self.stop = threading.Event()

    def run(self) -> None:
        from sqlalchemy import select

        from onescreen.db.models import Alert

        engine = make_engine(self.db_url)
        while not self.stop.wait(0.05):
            with engine.connect() as c:
                for (subj,) in c.execute(select(Alert.subject_id).where(Alert.status == "open")):
                    cam = (subj or "").split("/")[0]
                    if cam in self.sent and cam not in self.ms:
                        self.ms[cam] = time.time() * 1000 - self.sent[cam]
        engine.dispose()


def _open_alert(pub, prefix: str, cam) -> float:
    """Complete a gathering condition on ``cam``; the epoch ms of the completing publish."""
    zone = min(cam.zones)
    topic = f"{prefix}/video/{cam.id}/count"
    pub.publish(topic, {"event_id": str(uuid.uuid4()), "ts": int((time.time() - 1.2) * 1000), "zone": zone,
                        "persons": 12})
    pub.flush()
    t_pub = time.time() * 1000
    pub.publish(topic, {"event_id": str(uuid.uuid4()), "ts": int(t_pub), "zone": zone, "persons": 13})
    pub.flush()
    return t_pub


def _seen_on_all(pages: list, sent: dict[str, float], db_url: str,
                 miss_ms: float = MISS_MS) -> tuple[list[float], dict[str, float]]:
    """Sorted ms from each completing publish to its alert's item on each page (stamped in the page by its
    MutationObserver, collected afterwards so the measuring does not load the walls); ``miss_ms`` for an alert a
    page has not shown ``miss_ms`` after its publish (waits until all are shown, or that long). The alert ids come
    from SQL through an engine of our own (returned too: alert id → publish epoch ms)."""
    from sqlalchemy import select

    from onescreen.db.models import Alert

    deadline = (max(sent.values()) + miss_ms) / 1000
    engine = make_engine(db_url)
    while True:  # until every page shows every alert, or the last one's ``miss_ms`` is over
        with engine.connect() as c:
            ids = {aid: sent[subj.split("/")[0]] for aid, subj in c.execute(select(Alert.alert_id, Alert.subject_id))
                   if aid and subj and subj.split("/")[0] in sent}
        if time.time() >= deadline or (len(set(ids.values())) == len(sent) and all(
                any(aid in seen for aid, t in ids.items() if t == cam_t)
                for seen in (p.evaluate("window.__seen") for p in pages) for cam_t in sent.values())):
            break
        time.sleep(0.25)
    engine.dispose()
    out, answered, drawn = [], [], []
    for i, page in enumerate(pages):
        seen, ends = page.evaluate("window.__seen"), sorted(page.evaluate("window.__answers"))
        mine = []
        for cam_t in sent.values():
            stamps = [seen[aid] for aid, t in ids.items() if t == cam_t and aid in seen]
            mine.append(round(min([miss_ms, *(x - cam_t for x in stamps)])))
            before = [e for e in ends if stamps and cam_t < e <= min(stamps) + 1]
            if before:  # the last callback answer before the item appeared: the one that carried it
                answered.append(before[-1] - cam_t)
                drawn.append(min(stamps) - before[-1])
        t0, t1 = min(sent.values()), max(sent.values()) + miss_ms
        n_ans = sum(1 for e in ends if t0 <= e <= t1)
        busy = sum(d for t, d in page.evaluate("window.__long") if t0 <= t <= t1)
        log(f"[walls]   Chromium wall {i + 1}: event → pixel ms {mine}; {n_ans / ((t1 - t0) / 1000):.1f} callback "
            f"answers/s; main thread in long tasks (> 50 ms) {100 * busy / (t1 - t0):.0f} % of the time")
        out += mine
    if answered:
        log(f"[walls]   of which publish → the answer that carried the alert p50 {pct(answered, 0.5):.0f} ms p95 "
            f"{pct(answered, 0.95):.0f} ms; that answer → item in the page (the browser's part) p50 "
            f"{pct(drawn, 0.5):.0f} ms p95 {pct(drawn, 0.95):.0f} ms")
    return sorted(out), ids


def main_walls(n_walls: int, trials: int | None, real: int | None, quick: bool, profile: bool = False) -> None:
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="bench-walls-"))
    redis_srv, broker = RedisServer(), MosquittoServer()
    redis_srv.start()
    broker.start()
    try:
        res = walls(n_walls, trials or (3 if quick else 10), min(n_walls, real or 2), redis_srv, broker, work,
                    profile)
    finally:
        redis_srv.close()
        broker.close()
        shutil.rmtree(work, ignore_errors=True)
    log(f"total {time.monotonic() - started:.1f} s")
    print("RESULT " + " ".join(f"{k}={v}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--walls", type=int, default=None, help="walls in the second phase (default 20, quick 5)")
    ap.add_argument("--real", type=int, default=None, help="of which Chromium pages (default 2; --walls: all)")
    ap.add_argument("--trials", type=int, default=None, help="alerts per phase (default 10, quick 3)")
    ap.add_argument("--quick", action="store_true", help="5 walls, 3 alerts per phase")
    ap.add_argument("--profile", action="store_true", help="sample the dashboard's threads with N walls")
    a = ap.parse_args()
    main_walls(a.walls or (5 if a.quick else 20), a.trials, a.real, a.quick, a.profile)
