"""Issue #14: reports per second through the cases API with a photo each, and the /cases queue and detail query
times with 100,000 archived and 5,000 open cases (goal: p95 ≤ 300 ms), on SQLite and, with ``--postgres``, on a
throwaway PostgreSQL cluster (``initdb``).

- ``reports``: ``POST /api/cases`` + ``POST /api/cases/{id}/photos`` (a 1280×960 JPEG) through the Flask app in
  process (the whole adapter: auth, command, commit, announce to Redis), sequentially;
- ``queue``: ``queries.listing(open_only)`` for a city-wide desk (overdue first, red → yellow, newest; 200 rows);
- ``detail``: ``commands.find`` + the case JSON + its history, on random open cases;
- baseline: a primary-key lookup of one case in the same database (the ratio says what the ordering costs).

Last line: ``RESULT reports_per_s=… sqlite_queue_p95_ms=… sqlite_detail_p95_ms=… [pg_…] baseline_ms=…``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np
from sqlalchemy import insert, select

from onescreen.services.redis import RedisServer


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1] * 1000 if len(xs) >= 20 else max(xs) * 1000


def fill(url: str, archived: int, open_: int) -> None:
    """Bulk-insert cases spread over the city's cells and the last 90 days (archived) / 10 days (open)."""
    from onescreen.db.models import Case, GridNode
    from onescreen.db.session import make_engine

    engine = make_engine(url)
    rng = random.Random(3)
    with engine.begin() as conn:
        cells = conn.execute(select(GridNode.id, GridNode.parent_id, GridNode.lat, GridNode.lon)
                             .where(GridNode.level == "cell")).all()
        comm_parent = {r.id: r.parent_id for r in conn.execute(select(GridNode.id, GridNode.parent_id).where(GridNode.level == "community"))}
        now = datetime.now(UTC)
        rows = []
        for i in range(archived + open_):
            cell = rng.choice(cells)
            is_open = i >= archived
            at = now - timedelta(days=rng.uniform(0, 10 if is_open else 90))
            status = rng.choice(("reported", "accepted", "assigned", "in_progress", "handled")) if is_open else "archived"
            rows.append(dict(case_id=f"E-BENCH-{i:07d}", source="grid", category=rng.choice(("dispute", "hazard")),
                             level=rng.choice(("red", "orange", "yellow")), graded=True, status=status, open=is_open,
                             handling_level="community", district_id=comm_parent.get(cell.parent_id),
                             community_id=cell.parent_id, cell_id=cell.id, lat=cell.lat, lon=cell.lon,
                             description="bench", reporter="W-BENCH", reporters=["W-BENCH"], outside_own_cells=False,
                             photos=0, reported_at=at, updated_at=at, deadline=at + timedelta(hours=72),
                             reminders=0))
            if len(rows) == 5000:
                conn.execute(insert(Case), rows)
                rows = []
        if rows:
            conn.execute(insert(Case), rows)
    engine.dispose()


def queries_bench(url: str, runs: int) -> dict[str, float]:
    from sqlalchemy.orm import Session

    from cases import commands, queries, store
    from onescreen.commands import Actor
    from onescreen.db.models import Case
    from onescreen.db.session import make_engine

    engine = make_engine(url)
    actor = Actor("bench", "supervisor", communities=None, extra={"scope_level": "city"})
    now = datetime.now(UTC)
    with Session(engine) as s:
        ids = list(s.execute(select(Case.case_id).where(Case.open.is_(True)).limit(2000)).scalars())
        tq, td, tb = [], [], []
        for _ in range(runs):
            t0 = time.perf_counter()
            rows = queries.listing(s, actor, now, open_only=True, limit=200)
            [store.to_contract(c, "Asia/Shanghai", now) for c in rows]
            tq.append(time.perf_counter() - t0)
            s.expunge_all()
            cid = random.choice(ids)
            t0 = time.perf_counter()
            case = commands.find(s, actor, cid)
            store.to_contract(case, "Asia/Shanghai", now), store.history(s, case, "Asia/Shanghai")
            td.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            s.execute(select(Case.status).where(Case.case_id == cid)).scalar()
            tb.append(time.perf_counter() - t0)
    engine.dispose()
    return {"queue": p95(tq), "detail": p95(td), "baseline": p95(tb)}


def city(url: str, workdir: Path) -> None:
    from onescreen.db.session import upgrade
    from onescreen.registry.bundle import write_bundle
    from onescreen.registry.importer import import_bundle
    from sim.citygen import generate_city

    upgrade(url)
    write_bundle(workdir / "bundle", generate_city(seed=7, cameras=10, streamed_cameras=0))
    from onescreen.db.session import make_engine

    engine = make_engine(url)
    import_bundle(engine, workdir / "bundle")
    engine.dispose()


def reports_bench(url: str, redis_url: str, n: int) -> float:
    from onescreen.accounts.tokens import create_token
    from dashboard.app import create_app
    from onescreen.accounts import add_user
    from onescreen.db.session import make_engine, session_factory
    from onescreen.settings import load_settings

    engine = make_engine(url)
    with session_factory(engine)() as s:
        add_user(s, "bench-op", "password-123", "operator")
        token = create_token(s, "bench-op")
        s.commit()
        from onescreen.db.models import GridNode

        cells = list(s.execute(select(GridNode.id).where(GridNode.level == "cell")).scalars())
    engine.dispose()
    app = create_app(load_settings(redis={"url": redis_url}, database={"url": url}, log={"format": "text"}))
    client = app.server.test_client()
    img = np.random.default_rng(1).integers(0, 255, (960, 1280, 3), dtype=np.uint8)
    photo = cv2.imencode(".jpg", cv2.GaussianBlur(img, (9, 9), 3), [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes()
    head = {"Authorization": f"Bearer {token}"}
    t0 = time.perf_counter()
    for i in range(n):
        r = client.post("/api/cases", json={"category": "dispute", "description": f"bench {i}",
                                             "cell_id": cells[i % len(cells)]}, headers=head)
        assert r.status_code == 201, r.get_json()
        cid = r.get_json()["case_id"]
        r = client.post(f"/api/cases/{cid}/photos", data=photo, content_type="image/jpeg", headers=head)
        assert r.status_code == 201, r.get_json()
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="≤ 45 s: fewer reports and query runs, SQLite only")
    ap.add_argument("--postgres", action="store_true", help="also PostgreSQL (initdb on a free port)")
    ap.add_argument("--archived", type=int, default=100_000)
    ap.add_argument("--open", type=int, default=5_000)
    args = ap.parse_args()
    n_reports, runs = (30, 40) if args.quick else (200, 200)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis_srv = RedisServer(workdir=work / "redis").start()
        try:
            url = f"sqlite:///{work / 'cases.db'}"
            city(url, work)
            out["reports_per_s"] = reports_bench(url, redis_srv.url, n_reports)
            print(f"reports through the API with a photo each: {out['reports_per_s']:.1f}/s", flush=True)
            t0 = time.perf_counter()
            fill(url, args.archived, args.open)
            print(f"sqlite: {args.archived} archived + {args.open} open cases in {time.perf_counter() - t0:.1f} s")
            q = queries_bench(url, runs)
            out.update({"sqlite_queue_p95_ms": q["queue"], "sqlite_detail_p95_ms": q["detail"],
                        "baseline_ms": q["baseline"]})
            print(f"sqlite: queue p95 {q['queue']:.1f} ms, detail p95 {q['detail']:.1f} ms, "
                  f"pk lookup p95 {q['baseline']:.2f} ms (queue/baseline {q['queue'] / q['baseline']:.0f}×)")
            if args.postgres and not args.quick:
                from onescreen.services.postgres import PostgresCluster

                pg = PostgresCluster().start()
                try:
                    city(pg.url, work / "pgcity")
                    fill(pg.url, args.archived, args.open)
                    q = queries_bench(pg.url, runs)
                    out.update({"pg_queue_p95_ms": q["queue"], "pg_detail_p95_ms": q["detail"]})
                    print(f"postgres: queue p95 {q['queue']:.1f} ms, detail p95 {q['detail']:.1f} ms")
                finally:
                    pg.stop()
        finally:
            redis_srv.stop()
    print("RESULT " + " ".join(f"{k}={v:.1f}" if k != "baseline_ms" else f"{k}={v:.2f}" for k, v in out.items()))


if __name__ == "__main__":
    main()
