"""Camera network health as 雪亮工程 measures it: classify each camera, count per community, keep per hour.

A camera's verdict comes from its health hash (``os:cam:{id}:health``, written by ingest-video for the
cameras it pulls: ``state``, ``last_frame_at``, and ``image`` = ok | dark | frozen | covered from the video
branch, missing = ok) or, for a camera nobody pulls, from the devices' last-seen index (its own heartbeat
within ``ONLINE_WINDOW_S``). The same rules as the wall: online = ``online`` or ``degraded`` with a frame in
the last ``FRAME_S``; good (完好) = online, not degraded, image ok. A cell is covered when at least one of its
cameras is online. ``classify`` and ``community_counts`` are pure; ``read`` and ``add_sample`` are the edges.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onescreen import names
from onescreen.db.models import CameraHealthHour

ONLINE_WINDOW_S = 300  # a device silent longer counts offline (CONTRACT device_offline)
FRAME_S = 60  # a pulled camera without a frame this long counts offline (the wall's CAMERA_FRAME_S)


@dataclass(frozen=True)
class Verdict:
    online: bool
    good: bool


def classify(health: dict[str, Any] | None, seen_at: float | None, now: float) -> Verdict:
    """One camera now, from its health hash (may be None/empty) or else its last-seen time (epoch s)."""
    if health and health.get("state"):
        last = float(health.get("last_frame_at") or 0) / 1000.0
        online = health["state"] in ("online", "degraded") and now - last <= FRAME_S
        good = online and health["state"] == "online" and (health.get("image") or "ok") == "ok"
        return Verdict(online, good)
    online = seen_at is not None and now - seen_at <= ONLINE_WINDOW_S
    return Verdict(online, online)


@dataclass
class Counts:
    """One community at one instant (or summed over samples)."""

    cells: int = 0
    covered: int = 0
    cameras: int = 0
    online: int = 0
    good: int = 0


def community_counts(cells_by_community: dict[str, Iterable[str]],
                     cameras: Iterable[tuple[str, str, Verdict]]) -> dict[str, Counts]:
    """Counts per community from its cells and (camera_id, cell_id, verdict) of every registered camera."""
    cell_community = {cell: c for c, cells in cells_by_community.items() for cell in cells}
    out = {c: Counts(cells=len(set(cells))) for c, cells in cells_by_community.items()}
    covered: set[str] = set()
    for _cid, cell, verdict in cameras:
        community = cell_community.get(cell)
        if community is None:
            continue
        k = out[community]
        k.cameras += 1
        k.online += verdict.online
        k.good += verdict.good
        if verdict.online:
            covered.add(cell)
    for cell in covered:
        out[cell_community[cell]].covered += 1
    return out


def read(client: Any, registry: Any, now: float) -> dict[str, Counts]:
    """Every registered camera's verdict from Redis (one pipelined HGETALL each, one ZRANGEBYSCORE), counted."""
    cams = registry.cameras()
    pipe = client.pipeline(transaction=False)
    for cam in cams:
        pipe.hmget(names.camera_health(cam.id), "state", "last_frame_at", "image")
    healths = pipe.execute()
    seen = {(k.decode() if isinstance(k, bytes) else k): score for k, score in
            client.zrangebyscore(names.DEVICE_LAST_SEEN, now - ONLINE_WINDOW_S, "+inf", withscores=True)}
    verdicts = []
    for cam, (state, last, image) in zip(cams, healths):
        health = {"state": _s(state), "last_frame_at": _s(last), "image": _s(image)} if state else None
        verdicts.append((cam.id, cam.cell_id, classify(health, seen.get(cam.id), now)))
    cells = {c: registry.descendants(c, "cell") for c in registry.nodes_at("community")}
    return community_counts(cells, verdicts)


def _s(v: Any) -> Any:
    return v.decode() if isinstance(v, bytes) else v


def hour_of(now: float) -> datetime:
    """The UTC start of the hour containing ``now``."""
    return datetime.fromtimestamp(now - now % 3600, UTC)


def add_sample(session: Session, hour: datetime, counts: dict[str, Counts], district_of: dict[str, str | None]) -> int:
    """Add one sample's counts to the hour's rows (created as needed); the caller commits. Returns rows touched.

    Read-modify-write is safe because one sampler takes each tick (``names.assessment_tick``)."""
    rows = {r.community_id: r for r in session.execute(
        select(CameraHealthHour).where(CameraHealthHour.hour == hour)).scalars()}
    for community, k in counts.items():
        row = rows.get(community)
        if row is None:
            row = CameraHealthHour(hour=hour, community_id=community, district_id=district_of.get(community),
                                   samples=0, cells=0, covered=0, cameras=0, online=0, good=0)
            session.add(row)
        row.samples += 1
        row.cells += k.cells
        row.covered += k.covered
        row.cameras += k.cameras
        row.online += k.online
        row.good += k.good
    return len(counts)
