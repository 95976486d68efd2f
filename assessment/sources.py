"""Where each figure comes from: one provider per source, in a registry the other domains register into.

A provider answers, for a period, a grouping and the communities in scope, its columns per group key. The
built-in ones here read alerts (1-3-5, 化解率), spot checks (results), the sampled patrol hours (on-post rate)
and the camera-health hours (雪亮 rates); ``assessment.people`` (imported at the end) registers the cases,
key-person visits and grid-workers-online providers. A provider registered without ``compute`` is *pending*:
its columns stay None ("—") and the desk names its source as not installed. Nothing is guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from assessment import figures
from onescreen.db.models import Alert, CameraHealthHour, PatrolPostHour, SpotCheck


@dataclass
class Provider:
    """A source of some columns. ``compute(session, start, end, by, communities)`` -> {key: {column: value}}
    for the groups it saw; ``empty`` is what a group with nothing in the period gets. ``rows`` may add rows a
    ranking has (grid workers, departments): (session, by, communities) -> [(key, name, parent)]."""

    name: str
    columns: tuple[str, ...]
    groupings: frozenset[str]
    compute: Callable[..., dict[str, dict[str, Any]]] | None
    empty: Callable[[], dict[str, Any]] = dict
    rows: Callable[..., list[tuple[str, str, str | None]]] | None = None
    waiting_for: tuple[str, ...] = field(default=())  # a pending provider: the tables it will read

    @property
    def available(self) -> bool:
        return self.compute is not None


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Add or replace (by name) a provider: how the cases and key-persons code plugs its figures in."""
    PROVIDERS[provider.name] = provider


def _key(by: str, district: str | None, community: str | None, unit: str | None) -> str | None:
    return {"district": district, "community": community, "unit": unit}.get(by)


def _grouped(rows: Any, by: str, width: int, fn: Callable[[list], dict]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list] = defaultdict(list)
    for r in rows:
        key = _key(by, *r[:3])
        if key is not None:
            groups[key].append(tuple(r[3:3 + width]))
    return {k: fn(v) for k, v in groups.items()}


def _secs(session: Session, start: Any, end: Any) -> Any:
    """Seconds from ``start`` to ``end`` as SQL (PostgreSQL: epoch of the interval; SQLite: Julian days)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _alerts(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    """Counted in SQL (GROUP BY the row key), so a month of alerts never travels to Python: the same rule as
    ``figures.met_135`` (a test holds the two to the same hand-computed figures)."""
    a = Alert
    key = {"district": a.district_id, "community": a.community_id,
           "unit": func.coalesce(a.assignee, a.route_unit)}[by]
    eps = 0.001  # SQLite's Julian-day arithmetic is not exact to the microsecond
    met = and_(a.dispatched_at.is_not(None), a.acknowledged_at.is_not(None), a.on_scene_at.is_not(None),
               _secs(session, a.opened_at, a.acknowledged_at) <= figures.LIMITS_135["ack"] + eps,
               _secs(session, a.opened_at, a.dispatched_at) <= figures.LIMITS_135["dispatch"] + eps,
               _secs(session, a.opened_at, a.on_scene_at) <= figures.LIMITS_135["on_scene"] + eps)
    q = select(key, func.count(), func.count(a.dispatched_at), func.sum(case((met, 1), else_=0)),
               func.sum(case((a.status.in_(figures.RESOLVED), 1), else_=0))
               ).where(a.alert_id.is_not(None), a.opened_at >= start, a.opened_at < end).group_by(key)
    if communities is not None:
        q = q.where(a.community_id.in_(sorted(communities)))
    return {k: figures.alert_counts(int(n), int(d), int(m or 0), int(r or 0))
            for k, n, d, m, r in session.execute(q) if k is not None}


def _spot_checks(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    q = select(SpotCheck.district_id, SpotCheck.community_id, SpotCheck.unit_id, SpotCheck.on_post,
               SpotCheck.on_route, SpotCheck.uniform, SpotCheck.equipment
               ).where(SpotCheck.at >= start, SpotCheck.at < end)
    if communities is not None:
        q = q.where(SpotCheck.community_id.in_(sorted(communities)))
    return _grouped(session.execute(q), by, 4, figures.spot_check_figures)


def _cameras(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    h = CameraHealthHour
    col = h.district_id if by == "district" else h.community_id
    q = select(col, func.sum(h.cells), func.sum(h.covered), func.sum(h.cameras), func.sum(h.online),
               func.sum(h.good)).where(h.hour >= start, h.hour < end).group_by(col)
    if communities is not None:
        q = q.where(h.community_id.in_(sorted(communities)))
    return {key: figures.camera_figures(tuple(int(v or 0) for v in sums)) for key, *sums in session.execute(q)
            if key is not None}


def _on_post(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
    h = PatrolPostHour
    col = {"district": h.district_id, "community": h.community_id, "unit": h.unit_id}[by]
    q = select(col, func.sum(h.samples), func.sum(h.on_post)).where(h.hour >= start, h.hour < end).group_by(col)
    if communities is not None:
        q = q.where(h.community_id.in_(sorted(communities)))
    return {key: figures.on_post_figures((int(n or 0), int(m or 0))) for key, n, m in session.execute(q)
            if key is not None}


def _pending(name: str, columns: tuple[str, ...], groupings: tuple[str, ...], tables: tuple[str, ...]) -> Provider:
    return Provider(name, columns, frozenset(groupings), None, waiting_for=tables)


ALL = ("district", "community", "worker", "department", "unit")
for _p in (
    Provider("alerts", ("alerts", "alerts_dispatched", "alerts_135", "attainment_135_rate", "alerts_resolved",
                        "resolution_rate"), frozenset({"district", "community", "unit"}), _alerts,
             lambda: figures.alert_figures([])),
    Provider("spot_checks", ("spot_checks", "spot_checks_on_post", "spot_checks_passed"),
             frozenset({"district", "community", "unit"}), _spot_checks, lambda: figures.spot_check_figures([])),
    Provider("on_post", ("patrol_on_post_rate",), frozenset({"district", "community", "unit"}), _on_post,
             lambda: figures.on_post_figures(None)),
    Provider("cameras", ("camera_coverage_rate", "camera_online_rate", "camera_good_rate"),
             frozenset({"district", "community"}), _cameras, lambda: figures.camera_figures(None)),
):
    register(_p)


# cases, key-person visits and grid workers online (their tables exist now): registered by assessment.people
from assessment import people  # noqa: F401  (imports this module's Provider and register)
