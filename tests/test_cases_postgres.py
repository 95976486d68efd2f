"""Cases on PostgreSQL (the production database): migration 0005_cases, per-day numbering under concurrent
reports from several threads (as several dashboard processes would), photos as blobs, the loop, the queue order."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from cases import queries
from onescreen.commands import Actor
from onescreen.db.models import Case
from onescreen.db.session import make_engine, upgrade
from onescreen.registry.importer import import_bundle
from onescreen.settings import load_settings
from sim.cases import Desk, report_one, walk

pytestmark = [pytest.mark.postgres, pytest.mark.services]


def test_cases_on_postgres(postgres_url, small_city, redis_server, redis_client):
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE case_record, case_step, case_photo, case_counter CASCADE"))
    import_bundle(engine, small_city.folder)
    settings = load_settings(redis={"url": redis_server.url}, database={"url": postgres_url},
                             log={"format": "text"})
    desks = [Desk.open(settings) for _ in range(3)]
    ids: list[str] = []
    errors: list[BaseException] = []

    def reporter(desk: Desk, seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(6):
                ids.append(report_one(desk, rng, photo=seed == 0).case_id)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reporter, args=(d, i)) for i, d in enumerate(desks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(ids) == 18
    day = ids[0][2:10]
    assert sorted(ids) == [f"E-{day}-{n:06d}" for n in range(1, 19)]  # unique and gap-free
    cid = walk(desks[0], "hazard", 0.0, lambda _: None, random.Random(9), sleep=lambda s: None)
    with desks[0].sessions() as s:
        case = s.execute(sa.select(Case).where(Case.case_id == cid)).scalar_one()
        assert case.status == "archived" and case.photos == 2
        # the queue: overdue first, then red → orange → yellow, then newest
        s.execute(sa.update(Case).where(Case.case_id == ids[-1]).values(
            status="accepted", deadline=datetime.now(UTC) - timedelta(hours=1), level="yellow"))
        s.commit()
        actor = Actor("pg", "supervisor", extra={"scope_level": "city"})
        rows = queries.listing(s, actor, datetime.now(UTC), open_only=True)
        assert rows[0].case_id == ids[-1]
        rank = {"red": 0, "orange": 1, "yellow": 2}
        levels = [rank[c.level] for c in rows[1:]]
        assert levels == sorted(levels)
    for d in desks:
        d.redis.close()
    engine.dispose()
