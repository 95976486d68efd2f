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


Span = tuple[datetime, datetime]  # [start, end) in UTC


@dataclass
class Provider:
    """A source of some columns. ``compute(session, start, end, by, communities)`` -> {key: {column: value}}
    for the groups it saw; ``empty`` is what a group with nothing in the period gets. ``rows`` may add rows a
    ranking has (grid workers, departments): (session, by, communities) -> [(key, name, parent)].

    ``spans(session, spans, by, communities)`` -> one such dict per span answers several back-to-back periods
    (the previous one and the current one) in one pass over the source, each row counted in the span it falls
    in: what a ranking with its change runs. A provider given only ``spans`` gets ``compute`` from it; one given
    only ``compute`` (a plug-in) is asked once per period."""

    name: str
    columns: tuple[str, ...]
    groupings: frozenset[str]
    compute: Callable[..., dict[str, dict[str, Any]]] | None
    empty: Callable[[], dict[str, Any]] = dict
    rows: Callable[..., list[tuple[str, str, str | None]]] | None = None
    waiting_for: tuple[str, ...] = field(default=())  # a pending provider: the tables it will read
    spans: Callable[..., list[dict[str, dict[str, Any]]]] | None = None

    def __post_init__(self) -> None:
        if self.compute is None and self.spans is not None:
            self.compute = _single(self.spans)

    @property
    def available(self) -> bool:
        return self.compute is not None

    def compute_spans(self, session: Session, spans: list[Span], by: str,
                      communities: set[str] | None) -> list[dict[str, dict[str, Any]]]:
        """The figures of each span: one pass when the provider can, else one ``compute`` per span."""
        if self.spans is not None:
            return self.spans(session, spans, by, communities)
        assert self.compute is not None
        return [self.compute(session, start, end, by, communities) for start, end in spans]


PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    """Add or replace (by name) a provider: how the cases and key-persons code plugs its figures in."""
    PROVIDERS[provider.name] = provider


def _single(fn: Callable[..., list[dict]]) -> Callable[..., dict]:
    def compute(session: Session, start: datetime, end: datetime, by: str, communities: set[str] | None) -> dict:
        return fn(session, [(start, end)], by, communities)[0]
    return compute


# ---------------------------------------------------------------- spans in SQL
def check_spans(spans: list[Span]) -> None:
    """Spans must be back to back in time order (each ends where the next starts): a row's span is then the
    last one whose start it is at or after, and the whole is one range scan."""
    if not spans:
        raise ValueError("no span")
    for (_, end), (start, _) in zip(spans, spans[1:]):
        if end != start:
            raise ValueError(f"spans are not back to back: {end} != {start}")


def in_spans(col: Any, spans: list[Span]) -> Any:
    """SQL: ``col`` within the spans (start of the first inclusive, end of the last exclusive)."""
    check_spans(spans)
    return and_(col >= spans[0][0], col < spans[-1][1])


def span_of(col: Any, bounds: list[Any]) -> Any:
    """SQL: the index of the span ``col`` falls in, given each span's start (``bounds``), for rows already
    within the spans. Works for timestamps and for ISO day strings alike."""
    return case(*[(col >= b, i) for i, b in reversed(list(enumerate(bounds)))], else_=0)  # an expression always


def rows_of(session: Session, q: Any) -> Any:
    """The rows of a grouped count through Core: plain tuples without the ORM's per-row processing, which
    cost more than the SQL itself for a worker ranking (~30,000 rows for two periods)."""
    return session.connection().execute(q)


def per_span(rows: Any, n: int, fn: Callable[..., dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """Rows (span, key, *values) of a ``GROUP BY`` span, key -> one {key: fn(*values)} per span."""
    out: list[dict[str, dict[str, Any]]] = [{} for _ in range(n)]
    for i, key, *values in rows:
        if key is not None:
            out[int(i)][key] = fn(*values)
    return out


def _key(by: str, district: str | None, community: str | None, unit: str | None) -> str | None:
    return {"district": district, "community": community, "unit": unit}.get(by)


def _secs(session: Session, start: Any, end: Any) -> Any:
    """Seconds from ``start`` to ``end`` as SQL (PostgreSQL: epoch of the interval; SQLite: Julian days)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _alerts(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    """Counted in SQL (GROUP BY span and row key), so a month of alerts never travels to Python: the same rule
    as ``figures.met_135`` (a test holds the two to the same hand-computed figures)."""
    a = Alert
    key = {"district": a.district_id, "community": a.community_id,
           "unit": func.coalesce(a.assignee, a.route_unit)}[by]
    eps = 0.001  # SQLite's Julian-day arithmetic is not exact to the microsecond
    met = and_(a.dispatched_at.is_not(None), a.acknowledged_at.is_not(None), a.on_scene_at.is_not(None),
               _secs(session, a.opened_at, a.acknowledged_at) <= figures.LIMITS_135["ack"] + eps,
               _secs(session, a.opened_at, a.dispatched_at) <= figures.LIMITS_135["dispatch"] + eps,
               _secs(session, a.opened_at, a.on_scene_at) <= figures.LIMITS_135["on_scene"] + eps)
    i = span_of(a.opened_at, [s for s, _ in spans])
    q = select(i, key, func.count(), func.count(a.dispatched_at), func.sum(case((met, 1), else_=0)),
               func.sum(case((a.status.in_(figures.RESOLVED), 1), else_=0))
               ).where(a.alert_id.is_not(None), in_spans(a.opened_at, spans)).group_by(i, key)
    if communities is not None:
        q = q.where(a.community_id.in_(sorted(communities)))
    return per_span(rows_of(session, q), len(spans),
                    lambda n, d, m, r: figures.alert_counts(int(n), int(d), int(m or 0), int(r or 0)))


def _spot_checks(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    """A few thousand a month: the rows are read and judged by ``figures.spot_check_figures``."""
    c = SpotCheck
    q = select(span_of(c.at, [s for s, _ in spans]), c.district_id, c.community_id, c.unit_id, c.on_post,
               c.on_route, c.uniform, c.equipment).where(in_spans(c.at, spans))
    if communities is not None:
        q = q.where(c.community_id.in_(sorted(communities)))
    groups: list[dict[str, list]] = [defaultdict(list) for _ in spans]
    for i, district, community, unit, *items in rows_of(session, q):
        key = _key(by, district, community, unit)
        if key is not None:
            groups[int(i)][key].append(tuple(items))
    return [{k: figures.spot_check_figures(v) for k, v in g.items()} for g in groups]


def _cameras(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    h = CameraHealthHour
    col = h.district_id if by == "district" else h.community_id
    i = span_of(h.hour, [s for s, _ in spans])
    q = select(i, col, func.sum(h.cells), func.sum(h.covered), func.sum(h.cameras), func.sum(h.online),
               func.sum(h.good)).where(in_spans(h.hour, spans)).group_by(i, col)
    if communities is not None:
        q = q.where(h.community_id.in_(sorted(communities)))
    return per_span(rows_of(session, q), len(spans),
                    lambda *sums: figures.camera_figures(tuple(int(v or 0) for v in sums)))


def _on_post(session: Session, spans: list[Span], by: str, communities: set[str] | None) -> list[dict]:
    h = PatrolPostHour
    col = {"district": h.district_id, "community": h.community_id, "unit": h.unit_id}[by]
    i = span_of(h.hour, [s for s, _ in spans])
    q = (select(i, col, func.sum(h.samples), func.sum(h.on_post)).where(in_spans(h.hour, spans))
         .group_by(i, col))
    if communities is not None:
        q = q.where(h.community_id.in_(sorted(communities)))
    return per_span(rows_of(session, q), len(spans),
                    lambda n, m: figures.on_post_figures((int(n or 0), int(m or 0))))


def _pending(name: str, columns: tuple[str, ...], groupings: tuple[str, ...], tables: tuple[str, ...]) -> Provider:
    return Provider(name, columns, frozenset(groupings), None, waiting_for=tables)


ALL = ("district", "community", "worker", "department", "unit")
for _p in (
    Provider("alerts", ("alerts", "alerts_dispatched", "alerts_135", "attainment_135_rate", "alerts_resolved",
                        "resolution_rate"), frozenset({"district", "community", "unit"}), None,
             lambda: figures.alert_figures([]), spans=_alerts),
    Provider("spot_checks", ("spot_checks", "spot_checks_on_post", "spot_checks_passed"),
             frozenset({"district", "community", "unit"}), None, lambda: figures.spot_check_figures([]),
             spans=_spot_checks),
    Provider("on_post", ("patrol_on_post_rate",), frozenset({"district", "community", "unit"}), None,
             lambda: figures.on_post_figures(None), spans=_on_post),
    Provider("cameras", ("camera_coverage_rate", "camera_online_rate", "camera_good_rate"),
             frozenset({"district", "community"}), None, lambda: figures.camera_figures(None), spans=_cameras),
):
    register(_p)


# cases, key-person visits and grid workers online (their tables exist now): registered by assessment.people
from assessment import people  # noqa: F401  (imports this module's Provider and register)
