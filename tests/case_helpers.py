"""A small city with the accounts of the case loop: a grid worker, community and district desks, a department.

``case_world`` copies the session's small city into a private SQLite database, adds one account per part of
the loop with a bearer token each, and builds the dashboard app on it (Redis and Mosquitto from the fixtures).
"""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import dataclass

import cv2
import numpy as np
import pytest

from onescreen.accounts.tokens import create_token
from onescreen.accounts import add_user
from onescreen.db.session import make_engine, session_factory
from onescreen.settings import load_settings

PASSWORD = "password-123"


def jpeg(w: int = 64, h: int = 48, colour: int = 120) -> bytes:
    img = np.full((h, w, 3), colour, np.uint8)
    cv2.putText(img, "E", (5, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2)
    return cv2.imencode(".jpg", img)[1].tobytes()


@dataclass
class CaseWorld:
    settings: object
    url: str
    worker: str  # grid worker id of the "grid" account
    cell: str  # one of its cells
    other_cell: str  # a cell of another community
    community: str
    district: str
    department: str
    tokens: dict[str, str]
    lat: float
    lon: float


def copy_db(src_url: str, dest) -> str:
    src = sqlite3.connect(src_url[len("sqlite:///"):])
    dst = sqlite3.connect(dest)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{dest}"


@pytest.fixture
def case_world(tmp_path, small_city, redis_server, mqtt_broker, redis_client) -> CaseWorld:
    url = copy_db(small_city.url, tmp_path / "city.db")
    reg = small_city.registry
    engine = make_engine(url)
    from sqlalchemy import select

    from onescreen.db.models import Department, GridWorker

    tokens: dict[str, str] = {}
    with session_factory(engine)() as s:
        worker = s.execute(select(GridWorker).order_by(GridWorker.id)).scalars().first()
        dept = s.execute(select(Department.id).order_by(Department.id)).scalars().first()
        cell = worker.cells[0]
        community, district = reg.community_of(cell), reg.district_of(cell)
        other = next(c for c in reg.nodes_at("cell") if reg.district_of(c) != district)
        accounts = {"operator": dict(role="operator"), "supervisor": dict(role="supervisor"),
                    "community": dict(role="operator", scope_node_id=community),
                    "district": dict(role="supervisor", scope_node_id=district),
                    "other_community": dict(role="operator", scope_node_id=reg.community_of(other)),
                    "grid": dict(role="grid", worker_id=worker.id),
                    "department": dict(role="department", department_id=dept),
                    "other_department": dict(role="department", department_id="D-GA" if dept != "D-GA" else "D-CG"),
                    "duty": dict(role="duty", unit_id=small_city.unit)}
        for name, kw in accounts.items():
            add_user(s, f"{name.replace('_', '-')}1", PASSWORD, **kw)
            tokens[name] = create_token(s, f"{name.replace('_', '-')}1")
        s.commit()
    engine.dispose()
    node = reg.node(cell)
    prefix = "t" + uuid.uuid4().hex[:8]
    settings = load_settings(redis={"url": redis_server.url},
                             mqtt={"host": mqtt_broker.host, "port": mqtt_broker.port, "prefix": prefix,
                                   "metrics_port": 0},
                             database={"url": url}, log={"format": "text"})
    return CaseWorld(settings, url, worker.id, cell, other, community, district, dept, tokens, node.lat, node.lon)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
