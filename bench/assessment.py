"""Issue #16: a month's assessment at Nanchang County's size on PostgreSQL (goal: ≤ 2 s).

One run, its own throwaway PostgreSQL cluster (``initdb``) and Redis on free ports:

1. the ``nanchang`` city (10 districts, 141 communities, 1,223 cells, 19,000 cameras, 100 patrol units) is
   generated and imported (``--quick``: the same sizes written straight into the registry tables);
2. one real camera-health sample of all 19,000 cameras (Redis health hashes and heartbeats → the hourly
   aggregates): the sampler's cost per tick (every 5 min by default);
3. two months of history (the month assessed and the one before, for the change): hourly camera-health
   aggregates per community (141 × 24 × 61 ≈ 206,000 rows, which stand for 334 million raw samples) and
   sampled patrol on-post hours per unit (12-hour shifts), both generated in PostgreSQL (``generate_series``);
   alerts (``--alerts`` per month, with 1-3-5 clocks) and spot checks (3,000 per month), loaded with COPY;
4. timed: the whole month's ranking by district, community, patrol unit, grid worker and department
   (``assessment.report``, what ``GET /api/assessment?period=month`` runs), median of ``--rounds``, with the
   CPU it cost here and in PostgreSQL (``bench/cpumeter.py``: steadier than the wall clock on a loaded machine).

Also 2,500 grid workers (registry rows, when the city has fewer), 50,000 cases a month (``--cases``) with
their steps (report, accept, assign, handle, evaluate; some returned), 5,000 watch-list persons with 20,000
visits a month, and the workers' sampled online days (2,500 × 61 rows, generated in PostgreSQL with
``generate_series``): the rankings by grid worker and by department are timed too.

Baseline in the same run: the bare reading of the same rows (``SELECT count(*)`` of the month's alerts, spot
checks and camera hours, each a scan of what the assessment reads) — ``ratio`` = assessment / baseline.

Last line: ``RESULT month_s=… by_district_s=… … baseline_s=… ratio=… month_cpu_s=… month_db_cpu_s=…
baseline_cpu_s=… cpu_ratio=… sample_s=… …`` (``month_cpu_s``: the worst grouping's CPU per assessment, this
process and PostgreSQL together; ``cpu_ratio`` = that / the baseline's CPU). ``--keep DIR`` keeps the cluster's
files to EXPLAIN the queries afterwards (``PostgresCluster(workdir=DIR)`` starts it again on them).
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg
from sqlalchemy import text

from assessment import figures, periods, report
from assessment.sampler import sample_once
from onescreen import names
from onescreen.db.session import make_engine, session_factory, upgrade
from onescreen.registry.bundle import write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.importer import import_bundle
from onescreen.services.postgres import PostgresCluster
from onescreen.services.redis import RedisServer

sys.path.insert(0, str(ROOT / "bench"))
from cpumeter import ProcessTreeCPU, own_seconds  # noqa: E402
from sim.citygen import generate_city

TZ = "Asia/Shanghai"


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer alerts and rounds: finishes within 45 s")
    ap.add_argument("--alerts", type=int, default=None, help="alerts per month (default 30,000; quick 10,000)")
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds per grouping (default 5; quick 3)")
    ap.add_argument("--cases", type=int, default=None, help="cases per month (default 50,000; quick 15,000)")
    ap.add_argument("--workers", type=int, default=2_500, help="grid workers (default 2,500)")
    ap.add_argument("--keep", metavar="DIR", default=None,
                    help="keep the PostgreSQL cluster's files in DIR (under /tmp) to EXPLAIN the queries afterwards")
    return ap.parse_args()


def copy_rows(dsn: str, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """COPY rows into a table (tab-separated text; None as \\N)."""
    buf = io.StringIO()
    for r in rows:
        buf.write("\t".join("\\N" if v is None else (v.isoformat() if isinstance(v, datetime) else str(v))
                            for v in r) + "\n")
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(buf.getvalue())
        conn.commit()


def synthetic_city(dsn: str, rng: random.Random) -> None:
    """The Nanchang sizes written straight into the registry tables (COPY): 10 districts, 141 communities,
    1,223 cells, 19,000 cameras, 100 posts and units. ``--quick`` uses it instead of generating and importing
    the real ``nanchang`` city (about a minute on this machine), which the assessment does not need."""
    box = '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}'
    nodes = [("X", "city", None, "city", box, 26.6, 118.1)]
    cells: list[str] = []
    for d in range(10):
        nodes.append((f"D{d:02d}", "district", "X", f"district {d}", box, 26.6, 118.1))
    for c in range(141):
        cid = f"C{c:04d}"
        nodes.append((cid, "community", f"D{c % 10:02d}", f"community {c}", box, 26.6, 118.1))
        for g in range(1223 // 141 + (1 if c < 1223 % 141 else 0)):
            cells.append(f"G{c:04d}{g:02d}")
            nodes.append((cells[-1], "cell", cid, f"cell {c}-{g}", box, 26.6, 118.1))
    copy_rows(dsn, "grid_node", ("id", "level", "parent_id", "name", "geometry", "lat", "lon"), nodes)
    copy_rows(dsn, "camera", ("id", "cell_id", "name", "lat", "lon", "streamed", "zones"),
              [(f"K-{i:05d}", rng.choice(cells), f"camera {i}", 26.6, 118.1, i < 24, "{}") for i in range(19_000)])
    posts = [(f"S-{u:03d}", cells[u * 12], f"post {u}", 26.6, 118.1, 200.0, "08:00", "20:00") for u in range(100)]
    copy_rows(dsn, "patrol_post", ("id", "cell_id", "name", "lat", "lon", "radius_m", "shift_start", "shift_end"),
              posts)
    copy_rows(dsn, "patrol_unit", ("id", "name", "post_id", "members"),
              [(f"P-{u:03d}", f"unit {u}", f"S-{u:03d}", 2) for u in range(100)])


def hours_in_sql(engine, start: datetime, end: datetime) -> tuple[int, int, int]:
    """The hourly camera-health aggregates of every community and the patrol on-post hours of every unit with
    a post (a day shift, 08:00-20:00 Shanghai time), generated in PostgreSQL (``generate_series``; the
    per-community counts computed once, MATERIALIZED): the sizes of the sampler's tables without building
    280,000 rows in Python. Returns (camera-hour rows, the
    camera samples they stand for, patrol-hour rows)."""
    with engine.begin() as conn:
        n0 = conn.execute(text("SELECT count(*), coalesce(sum(cameras), 0) FROM camera_health_hour")).one()
        conn.execute(text(
            "WITH k AS MATERIALIZED (SELECT c.id, c.parent_id, "
            "(SELECT count(*) FROM grid_node g WHERE g.parent_id = c.id AND g.level = 'cell') AS cells, "
            "(SELECT count(*) FROM camera m JOIN grid_node g ON g.id = m.cell_id WHERE g.parent_id = c.id) AS cams "
            "FROM grid_node c WHERE c.level = 'community') "
            "INSERT INTO camera_health_hour (hour, community_id, district_id, samples, cells, covered, cameras, "
            "online, good) "
            "SELECT h, k.id, k.parent_id, 12, k.cells * 12, floor(k.cells * 12 * (0.8 + 0.2 * random())), "
            "k.cams * 12, r.o, floor(r.o * (0.85 + 0.13 * random())) "
            "FROM generate_series(CAST(:s AS timestamptz), CAST(:e AS timestamptz) - interval '1 hour', "
            "interval '1 hour') h "
            "CROSS JOIN k "
            "CROSS JOIN LATERAL (SELECT floor(k.cams * 12 * (0.85 + 0.14 * random()))::int "
            "+ 0 * extract(epoch FROM h)::int AS o) r"), {"s": start, "e": end})
        conn.execute(text(
            "INSERT INTO patrol_post_hour (hour, unit_id, community_id, district_id, samples, on_post) "
            "SELECT h, u.id, c.id, c.parent_id, 12, 8 + floor(random() * 5) "
            "FROM generate_series(CAST(:s AS timestamptz), CAST(:e AS timestamptz) - interval '1 hour', "
            "interval '1 hour') h "
            "CROSS JOIN patrol_unit u JOIN patrol_post p ON p.id = u.post_id JOIN grid_node g ON g.id = p.cell_id "
            "JOIN grid_node c ON c.id = g.parent_id "
            "WHERE extract(hour FROM h AT TIME ZONE 'Asia/Shanghai') BETWEEN 8 AND 19"), {"s": start, "e": end})
        n1 = conn.execute(text("SELECT count(*), coalesce(sum(cameras), 0) FROM camera_health_hour")).one()
        patrol = conn.execute(text("SELECT count(*) FROM patrol_post_hour WHERE hour >= :s AND hour < :e"),
                              {"s": start, "e": end}).scalar()
    return n1[0] - n0[0], int(n1[1] - n0[1]), patrol


def history(reg: RegistryCache, start: datetime, end: datetime, alerts_n: int, rng: random.Random):
    """Alerts and spot checks between ``start`` and ``end`` (one month's worth per month)."""
    communities = list(reg.nodes_at("community"))
    units = list(reg.unit_ids())
    span = (end - start).total_seconds()
    alerts = []
    for i in range(alerts_n):
        c = rng.choice(communities)
        opened = start + timedelta(seconds=rng.uniform(0, span))
        ack = opened + timedelta(seconds=rng.expovariate(1 / 40))
        disp = ack + timedelta(seconds=rng.expovariate(1 / 90)) if rng.random() < 0.7 else None
        scene = disp + timedelta(seconds=rng.expovariate(1 / 150)) if disp else None
        status = rng.choice(("closed", "closed", "resolved", "on_scene", "open"))
        alerts.append((f"A-B{start:%Y%m}-{i:06d}", "gathering", "yellow", status, "camera_zone", f"z{i}", "{}",
                       "active", reg.district_of(c), c, reg.descendants(c, "cell")[0], rng.choice(units),
                       rng.choice(units) if disp else None, opened, opened, ack, disp, scene, 0))
    checks = []
    for _ in range(3000):
        u = rng.choice(units)
        post = reg.post_of_unit(u)
        c = reg.community_of(post.cell_id) if post else rng.choice(communities)
        checks.append((start + timedelta(seconds=rng.uniform(0, span)), u, c, reg.district_of(c),
                       rng.random() < 0.9, rng.random() < 0.9, rng.random() < 0.95, rng.random() < 0.95, "bench"))
    return alerts, checks


def people(dsn: str, engine, reg: RegistryCache, periods_: list, cases_n: int, workers_n: int,
           rng: random.Random) -> dict[str, int]:
    """Grid workers (topped up to ``workers_n``), departments, cases with their steps, watch-list persons with
    visits, and every worker's online hours (generated in SQL). Returns the row counts."""
    cells = list(reg.nodes_at("cell"))
    with engine.begin() as conn:
        have = conn.execute(text("SELECT count(*) FROM grid_worker")).scalar()
        depts = [r[0] for r in conn.execute(text("SELECT id FROM department"))]
    if have < workers_n:
        copy_rows(dsn, "grid_worker", ("id", "name", "cells"),
                  [(f"W-B{i:05d}", f"worker {i}", f'["{cells[i % len(cells)]}"]') for i in range(have, workers_n)])
    if not depts:
        depts = [f"D-B{i:02d}" for i in range(12)]
        copy_rows(dsn, "department", ("id", "name"), [(d, f"department {d}") for d in depts])
    with engine.begin() as conn:
        workers = [r[0] for r in conn.execute(text("SELECT id FROM grid_worker"))]
        place = {c: (reg.community_of(c), reg.district_of(c)) for c in cells}
    units = list(reg.unit_ids())
    cases, steps, n_steps = [], [], 0
    pk = 0
    for p in periods_:
        start, end = p.start.astimezone(UTC), p.end.astimezone(UTC)
        span = (end - start).total_seconds()
        for _ in range(cases_n):
            pk += 1
            cell = rng.choice(cells)
            community, district = place[cell]
            at = start + timedelta(seconds=rng.uniform(0, span))
            grid = rng.random() < 0.7
            kind, who = (("department", rng.choice(depts)) if rng.random() < 0.6 else ("unit", rng.choice(units)))
            acc = at + timedelta(minutes=rng.expovariate(1 / 20))
            deadline = acc + timedelta(hours=24)
            handled = acc + timedelta(hours=rng.expovariate(1 / 16)) if rng.random() < 0.9 else None
            status = "evaluated" if handled else "assigned"
            cases.append((pk, f"E-B{pk:07d}", "grid" if grid else "hotline", "environment", "red", "true", status,
                          "true", "community", district, community, cell, "x",
                          rng.choice(workers) if grid else "operator", "[]", "false", kind, who, 0, at, at, acc,
                          acc, deadline, handled, 0))
            # (action, at, detail, on_time, satisfaction, previous kind, previous id): the detail and its column
            # copies, as cases.commands writes them
            seq = [("report", at, "{}", None, None, None, None), ("accept", acc, "{}", None, None, None, None),
                   ("assign", acc + timedelta(minutes=5), "{}", None, None, None, None)]
            if rng.random() < 0.05:
                seq.append(("return", acc + timedelta(minutes=30),
                            f'{{"previous": {{"kind": "{kind}", "id": "{who}"}}}}', None, None, kind, who))
            if handled:
                on_time = "true" if handled <= deadline else "false"
                sat = rng.randint(1, 5)
                seq.append(("handle", handled, f'{{"on_time": {on_time}}}', on_time, None, None, None))
                seq.append(("evaluate", handled + timedelta(hours=2), f'{{"satisfaction": {sat}}}', None, sat, None,
                            None))
            reporter = cases[-1][13] if grid else None
            for action, t, detail, ok, sat, pkind, pid in seq:
                steps.append((pk, t, action, "x", "red", "bench", detail, ok, sat, pkind, pid, district, community,
                              reporter))
            n_steps += len(seq)
    copy_rows(dsn, "case_record", ("id", "case_id", "source", "category", "level", "graded", "status", "open",
                                   "handling_level", "district_id", "community_id", "cell_id", "description",
                                   "reporter", "reporters", "outside_own_cells", "assignee_kind", "assignee_id",
                                   "photos", "reported_at", "updated_at", "accepted_at", "first_accepted_at",
                                   "deadline", "handled_at", "reminders"), cases)
    copy_rows(dsn, "case_step", ("case_pk", "at", "action", "to_status", "level", "actor", "detail", "on_time",
                                 "satisfaction", "previous_kind", "previous_id", "district_id", "community_id",
                                 "grid_worker_id"), steps)
    communities = list(reg.nodes_at("community"))
    persons = [(f"P-B{i:05d}", rng.choice(("red", "orange", "yellow", "green")), rng.choice(communities),
                rng.choice(workers)) for i in range(5000)]
    copy_rows(dsn, "watch_person", ("person_id", "level", "home_community_id", "grid_worker_id"), persons)
    visits = []
    for p in periods_:
        start, span = p.start.astimezone(UTC), (p.end - p.start).total_seconds()
        for _ in range(20_000):
            pid, _, home, w = rng.choice(persons)
            at = start + timedelta(seconds=rng.uniform(0, span))
            visits.append((pid, at, "home", w, home, at))
    copy_rows(dsn, "person_visit", ("person_id", "at", "method", "visitor", "community_id", "recorded_at"), visits)
    first, last = periods_[0].start.replace(tzinfo=None), periods_[-1].end.replace(tzinfo=None)  # local days
    with engine.begin() as conn:  # every worker every local day: 288 samples, online in some of them
        conn.execute(text(
            "INSERT INTO worker_online_day (day, worker_id, community_id, district_id, samples, online, "
            "last_online_at) "
            "SELECT to_char(t, 'YYYY-MM-DD'), w.id, c.parent_id, d.parent_id, 288, o, "
            "CASE WHEN o > 0 THEN t + interval '10 hours' END "
            "FROM generate_series(CAST(:a AS timestamp), CAST(:b AS timestamp) - interval '1 day', "
            "interval '1 day') t CROSS JOIN grid_worker w "
            "CROSS JOIN LATERAL (SELECT CASE WHEN random() < 0.9 THEN 100 + floor(random() * 150)::int "
            "ELSE 0 END + 0 * length(w.id) AS o) r "
            "LEFT JOIN grid_node c ON c.id = (w.cells::json ->> 0) LEFT JOIN grid_node d ON d.id = c.parent_id"),
            {"a": first, "b": last})
        online_rows = conn.execute(text("SELECT count(*) FROM worker_online_day")).scalar()
        conn.execute(text("SELECT setval(pg_get_serial_sequence('case_record', 'id'), :n)"), {"n": pk})
    return {"workers": len(workers), "cases": len(cases), "steps": n_steps, "visits": len(visits),
            "online_rows": online_rows}


def timed(fn, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cpu_timed(fn, rounds: int, db: ProcessTreeCPU) -> tuple[float, float, float]:
    """(median wall s, mean CPU s of this process, mean CPU s of the PostgreSQL cluster) per call: the CPU
    figures hold steadier than the wall clock on a machine shared under a swinging load."""
    c0, d0 = own_seconds(), db.seconds()
    wall = timed(fn, rounds)
    return wall, (own_seconds() - c0) / rounds, (db.seconds() - d0) / rounds


def main() -> int:
    args = parse_args()
    alerts_n = args.alerts or (10_000 if args.quick else 30_000)
    rounds = args.rounds or (3 if args.quick else 5)
    rng = random.Random(16)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-assess-") as tmp:
        pg = PostgresCluster(workdir=args.keep)
        rds = RedisServer()
        pg.start()
        rds.start()
        try:
            url = pg.url
            dsn = url.replace("postgresql+psycopg://", "postgresql://")
            upgrade(url)
            t0 = time.perf_counter()
            engine = make_engine(url)
            if args.quick:
                synthetic_city(dsn, rng)
                how = "synthetic registry rows"
            else:
                write_bundle(Path(tmp) / "city", generate_city("nanchang", seed=7))
                import_bundle(engine, Path(tmp) / "city")
                how = "generated nanchang city, imported"
            reg = RegistryCache.load(engine)
            print(f"{how}: {len(reg.nodes_at('district'))} districts, {len(reg.nodes_at('community'))} communities, "
                  f"{len(reg.nodes_at('cell'))} cells, {len(reg.cameras())} cameras, {len(reg.unit_ids())} units "
                  f"({time.perf_counter() - t0:.1f} s)")

            # one real sample of every camera: health hashes for the pulled ones, heartbeats for the rest
            import redis as redislib

            client = redislib.Redis.from_url(rds.url, decode_responses=True)
            now_s = time.time()
            pipe = client.pipeline(transaction=False)
            for i, cam in enumerate(reg.cameras()):
                if i % 10 == 0:
                    pipe.hset(names.camera_health(cam.id), mapping={
                        "state": "online" if i % 30 else "degraded", "last_frame_at": int(now_s * 1000),
                        "image": "ok" if i % 40 else "dark"})
                elif i % 7:
                    pipe.zadd(names.DEVICE_LAST_SEEN, {cam.id: now_s - 30})
            pipe.execute()
            sample_s = timed(lambda: sample_once(client, reg, session_factory(engine), time.time()), 1)
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE camera_health_hour, patrol_post_hour, worker_online_day"))
            print(f"one camera-health sample of {len(reg.cameras())} cameras: {sample_s:.2f} s")

            # two months of history
            now = datetime(2026, 12, 15, 12, 0, tzinfo=ZoneInfo(TZ))
            month = periods.period_of("month", now, TZ)
            prev = periods.previous(month)
            t0 = time.perf_counter()
            counts = {"hours": 0, "alerts": 0, "checks": 0, "samples": 0, "patrol": 0}
            for p in (prev, month):
                hours, samples, patrol = hours_in_sql(engine, p.start.astimezone(UTC), p.end.astimezone(UTC))
                alerts, checks = history(reg, p.start.astimezone(UTC), p.end.astimezone(UTC), alerts_n, rng)
                copy_rows(dsn, "alert", ("alert_id", "rule", "level", "status", "subject_kind", "subject_id",
                                         "evidence", "condition", "district_id", "community_id", "cell_id",
                                         "route_unit", "assignee", "opened_at", "updated_at", "acknowledged_at",
                                         "dispatched_at", "on_scene_at", "reminders"), alerts)
                copy_rows(dsn, "spot_check", ("at", "unit_id", "community_id", "district_id", "on_post", "on_route",
                                              "uniform", "equipment", "checked_by"), checks)
                counts["hours"] += hours
                counts["alerts"] += len(alerts)
                counts["checks"] += len(checks)
                counts["samples"] += samples
                counts["patrol"] += patrol
            t1 = time.perf_counter()
            cases_n = args.cases or (15_000 if args.quick else 50_000)
            made = people(dsn, engine, reg, [prev, month], cases_n, args.workers, rng)
            print(f"people: {made['workers']:,} grid workers, {made['cases']:,} cases with {made['steps']:,} steps, "
                  f"{made['visits']:,} visits, {made['online_rows']:,} worker-day rows "
                  f"({time.perf_counter() - t1:.1f} s)")
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            print(f"history of {prev.label} and {month.label}: {counts['hours']:,} camera-hour rows (for "
                  f"{counts['samples']:,} camera "
                  f"samples), {counts['patrol']:,} patrol-hour rows, {counts['alerts']:,} alerts, "
                  f"{counts['checks']:,} spot checks "
                  f"({time.perf_counter() - t0:.1f} s)")

            # timed: the month, each grouping (the month ended: whole period against the whole previous)
            end = month.end + timedelta(seconds=1)  # "now" after the month: it is whole (at = inside it)
            got, cpu = {}, {}
            db = ProcessTreeCPU(pg._proc.pid)
            for by in ("district", "community", "unit", "worker", "department"):
                rep = report.assess(engine, reg, "month", by, end, TZ, at=now)
                got[by], py_s, db_s = cpu_timed(lambda by=by: report.assess(engine, reg, "month", by, end, TZ, at=now),
                                                rounds, db)
                cpu[by] = (py_s, db_s)
                some = rep.rows[0]
                print(f"month by {by}: {len(rep.rows)} rows in {got[by] * 1000:.0f} ms (median of {rounds}; CPU "
                      f"{py_s * 1000:.0f} ms here + {db_s * 1000:.0f} ms in PostgreSQL); e.g. {some['name']}: alerts "
                      f"{some['alerts']}, "
                      + ", ".join(f"{c} {figures.display(some[c], c)}" for c in (
                          "attainment_135_rate", "patrol_on_post_rate", "camera_coverage_rate", "camera_online_rate",
                          "camera_good_rate", "cases_reported", "cases_overdue", "satisfaction_mean", "visits_due",
                          "visits_done", "workers_online_rate") if some[c] is not None))
            from sqlalchemy.orm import Session

            from assessment import sources
            spans = [prev.utc(), month.utc()]
            with Session(engine) as session:  # where the time goes: each source, both months, by district
                costs = {name: cpu_timed(lambda p=p: p.compute_spans(session, spans, "district", None), 1, db)
                         for name, p in sources.PROVIDERS.items()}
            print("by source (both months by district, wall / CPU in PostgreSQL): " + ", ".join(
                f"{k} {w * 1000:.0f} / {d * 1000:.0f} ms" for k, (w, _, d) in costs.items()))
            s, e = month.utc()

            def baseline() -> None:
                with engine.connect() as conn:
                    for q in ("SELECT count(*) FROM alert WHERE opened_at >= :s AND opened_at < :e",
                              "SELECT count(*) FROM patrol_post_hour WHERE hour >= :s AND hour < :e",
                              "SELECT count(*) FROM spot_check WHERE at >= :s AND at < :e",
                              "SELECT count(*) FROM camera_health_hour WHERE hour >= :s AND hour < :e",
                              "SELECT count(*) FROM case_record WHERE reported_at >= :s AND reported_at < :e",
                              "SELECT count(*) FROM case_step WHERE at >= :s AND at < :e",
                              "SELECT count(*) FROM worker_online_day WHERE day >= :ds AND day < :de"):
                        conn.execute(text(q), {"s": s, "e": e, "ds": month.start.date().isoformat(),
                                               "de": month.end.date().isoformat()}).scalar()

            base, base_py, base_db = cpu_timed(baseline, rounds, db)
            worst = max(got.values())
            worst_cpu = max(sum(v) for v in cpu.values())
            print(f"baseline (bare count of the rows read, current month): {base * 1000:.0f} ms (CPU "
                  f"{(base_py + base_db) * 1000:.0f} ms)")
            print(f"goal: a month's assessment ≤ 2 s: {'met' if worst <= 2 else 'NOT met'} ({worst:.2f} s wall; "
                  f"CPU {worst_cpu:.2f} s, here and in PostgreSQL)")
            engine.dispose()
            client.close()
            print(f"RESULT month_s={worst:.3f} by_district_s={got['district']:.3f} "
                  f"by_community_s={got['community']:.3f} by_unit_s={got['unit']:.3f} "
                  f"by_worker_s={got['worker']:.3f} by_department_s={got['department']:.3f} baseline_s={base:.3f} "
                  f"ratio={worst / base:.1f} month_cpu_s={worst_cpu:.3f} "
                  f"month_db_cpu_s={max(d for _, d in cpu.values()):.3f} baseline_cpu_s={base_py + base_db:.3f} "
                  f"cpu_ratio={worst_cpu / max(base_py + base_db, 1e-6):.1f} "
                  f"sample_s={sample_s:.2f} alerts_per_month={alerts_n} "
                  f"camera_hour_rows={counts['hours']} cases_per_month={cases_n} workers={made['workers']} "
                  f"worker_day_rows={made['online_rows']} total_s={time.perf_counter() - started:.0f}")
        finally:
            rds.close()
            pg.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
