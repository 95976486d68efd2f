"""The "1-3-5" response-time report (acknowledge within 1 min, dispatch within 3, on scene within 5) and the
spot-check statistics, per patrol unit or per district, from SQL."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.auth.sessions import SessionUser
from dashboard.context import AppContext
from dashboard.desk import data
from onescreen.db.models import Alert, SpotCheck

LIMITS = {"ack": 60, "dispatch": 180, "on_scene": 300}
COLUMNS = ("key", "name", "alerts", "acknowledged", "ack_avg_s", "ack_within_1min", "dispatched",
           "dispatch_avg_s", "dispatch_within_3min", "on_scene", "on_scene_avg_s", "on_scene_within_5min")


def _aware(dt: datetime | None) -> datetime | None:
    return dt if dt is None or dt.tzinfo else dt.replace(tzinfo=UTC)


def _secs(a: datetime | None, b: datetime | None) -> float | None:
    a, b = _aware(a), _aware(b)
    return (b - a).total_seconds() if a and b else None


def response_report(ctx: AppContext, user: SessionUser | None, by: str = "unit", days: float = 7) -> list[dict]:
    """One row per unit (the alert's assignee, else its responsible unit) or district, most alerts first."""
    if by not in ("unit", "district"):
        raise ValueError("by must be unit or district")
    since = datetime.now(UTC) - timedelta(days=days)
    scope = data.visible_communities(ctx, user)
    reg = data.registry(ctx)
    groups: dict[str, list[Alert]] = defaultdict(list)
    with Session(ctx.engine) as db:
        for a in db.execute(select(Alert).where(Alert.alert_id.is_not(None), Alert.opened_at >= since)).scalars():
            if scope is not None and a.community_id not in scope:
                continue
            key = (a.assignee or a.route_unit) if by == "unit" else a.district_id
            if key:
                groups[key].append(a)
    rows = []
    for key, alerts in groups.items():
        node = reg.unit(key) if by == "unit" else reg.node(key)
        row: dict[str, Any] = {"key": key, "name": node.name if node else key, "alerts": len(alerts)}
        for clock, col, limit_col in (("acknowledged_at", "ack", "ack_within_1min"),
                                      ("dispatched_at", "dispatch", "dispatch_within_3min"),
                                      ("on_scene_at", "on_scene", "on_scene_within_5min")):
            secs = [s for s in (_secs(a.opened_at, getattr(a, clock)) for a in alerts) if s is not None]
            count_col = {"ack": "acknowledged", "dispatch": "dispatched", "on_scene": "on_scene"}[col]
            row[count_col] = len(secs)
            row[f"{col}_avg_s"] = round(sum(secs) / len(secs), 1) if secs else None
            row[limit_col] = sum(1 for s in secs if s <= LIMITS[col])
        rows.append(row)
    rows.sort(key=lambda r: (-r["alerts"], r["key"]))
    return rows


def to_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in COLUMNS})
    return buf.getvalue()


def spot_checks(ctx: AppContext, user: SessionUser | None, limit: int = 50) -> list[SpotCheck]:
    scope = data.visible_communities(ctx, user)
    with Session(ctx.engine) as db:
        rows = db.execute(select(SpotCheck).order_by(SpotCheck.id.desc()).limit(limit * 4)).scalars().all()
        db.expunge_all()
    return [r for r in rows if scope is None or r.community_id in scope][:limit]


def spot_check_stats(ctx: AppContext, user: SessionUser | None) -> list[dict]:
    """Per unit: checks, how many found it on post / on route / in uniform / with equipment, last check."""
    stats: dict[str, dict[str, Any]] = {}
    for r in spot_checks(ctx, user, limit=10_000):
        s = stats.setdefault(r.unit_id, {"unit_id": r.unit_id, "checks": 0, "on_post": 0, "on_route": 0,
                                         "uniform": 0, "equipment": 0, "last": r.at})
        s["checks"] += 1
        for k in ("on_post", "on_route", "uniform", "equipment"):
            s[k] += int(getattr(r, k))
    return sorted(stats.values(), key=lambda s: s["unit_id"])
