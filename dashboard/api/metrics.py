"""``GET /metrics``: Prometheus exposition of the dashboard process (requests, latency, registry size).

Metric objects live at module level because prometheus_client's default registry is process-wide; several
apps in one process (tests) share them, which is what a scrape of one process should see anyway. Request
labels use the Flask URL rule (``/api/alerts/<alert_id>``), never the raw path, to bound cardinality.
The alert engines have no metrics port: what they count for operators (dead letters) is kept in Redis and
exported here at scrape time, the same total from every dashboard.
"""

from __future__ import annotations

import time

import redis
from flask import Blueprint, Flask, Response, g, has_app_context, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from dashboard.context import app_context
from onescreen import names

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("onescreen_dashboard_requests_total", "HTTP requests served by the dashboard",
                   ["rule", "method", "code"])
LATENCY = Histogram("onescreen_dashboard_request_seconds", "Time to answer an HTTP request", ["rule"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
REGISTRY_NODES = Gauge("onescreen_dashboard_registry_nodes", "Grid nodes in the loaded registry snapshot",
                       ["level"])
STREAMED_CAMERAS = Gauge("onescreen_dashboard_streamed_cameras", "Streamed cameras on the camera wall")


class DeadLetterCollector(Collector):
    """``onescreen_alerts_dead_lettered_total{error}``: entries the engines moved to a dead-letter stream."""

    def describe(self) -> list[CounterMetricFamily]:
        return [self._family()]

    def collect(self) -> list[CounterMetricFamily]:
        family = self._family()
        if has_app_context():  # a scrape of /metrics; nothing to read elsewhere
            try:
                counts = app_context().redis.hgetall(names.ALERT_DEAD_LETTER_COUNTS)
            except redis.RedisError:
                return []  # Redis away: the series is absent rather than wrong (health says why)
            for error, n in sorted(counts.items()):
                family.add_metric([error], int(n))
        return [family]

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily("onescreen_alerts_dead_lettered", "Entries the alert engines could not "
                                   "process and moved to a dead-letter stream", labels=["error"])


REGISTRY.register(DeadLetterCollector())


class ArchiveLagCollector(Collector):
    """``onescreen_archive_lag_entries`` (total and worst stream) and ``onescreen_archive_trimmed_unread_streams``:
    what the archivers (``onescreen archiver``) have not archived yet, read from the streams' consumer group at
    scrape time, so a stopped archiver shows here too (alerts.archiver.archive_lag)."""

    def describe(self) -> list[GaugeMetricFamily]:
        return list(self._families())

    def collect(self) -> list[GaugeMetricFamily]:
        if not has_app_context():
            return []
        from alerts.archiver import FAMILIES, archive_lag

        ctx = app_context()
        streams = [names.event_stream(f, p) for p in range(ctx.settings.redis.partitions) for f in FAMILIES]
        try:
            totals, _ = archive_lag(ctx.redis, streams)
        except redis.RedisError:
            return []  # Redis away: absent rather than wrong (health says why)
        lag, lost = self._families()
        lag.add_metric(["total"], totals["total"])
        lag.add_metric(["max_stream"], totals["max"])
        lost.add_metric([], totals["lost_to_trim"])
        return [lag, lost]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (GaugeMetricFamily("onescreen_archive_lag_entries", "Stream entries not yet in event_archive "
                                  "(all streams, and the worst one)", labels=["scope"]),
                GaugeMetricFamily("onescreen_archive_trimmed_unread_streams", "Streams trimmed past what the "
                                  "archivers had read: those events are missing from event_archive"))


REGISTRY.register(ArchiveLagCollector())


class SilenceCollector(Collector):
    """``onescreen_alerts_silences_active`` and ``onescreen_alerts_silenced_open``: silences in force now, and
    the alerts not yet resolved that they cover (read from SQL at scrape time, as every dashboard sees it)."""

    def describe(self) -> list[GaugeMetricFamily]:
        return list(self._families())

    def collect(self) -> list[GaugeMetricFamily]:
        if not has_app_context():
            return []
        from datetime import UTC, datetime

        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError
        from sqlalchemy.orm import Session

        from alerts import queries, silences
        from onescreen.db.models import Alert

        now = datetime.now(UTC)
        try:
            with Session(app_context().engine) as session:
                current = [s for s in silences.current(session, now) if silences.active(s, now)]
                covered = 0
                if current:
                    rows = session.execute(select(Alert).where(Alert.status.in_(queries.FEED_STATUSES))
                                           .limit(20000)).scalars()
                    covered = len(queries.silenced_ids(session, rows, now))
        except SQLAlchemyError:
            return []  # database away: absent rather than wrong (health says why)
        active, silenced = self._families()
        active.add_metric([], len(current))
        silenced.add_metric([], covered)
        return [active, silenced]

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (GaugeMetricFamily("onescreen_alerts_silences_active", "Silences in force now"),
                GaugeMetricFamily("onescreen_alerts_silenced_open", "Alerts not yet resolved that an active "
                                  "silence covers (shown, not pushed, not escalated)"))


REGISTRY.register(SilenceCollector())


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus text format; no authentication (scraped from the intranet like /api/health)."""
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


def instrument(server: Flask) -> None:
    """Count and time every request of ``server``."""

    @server.before_request
    def _start_timer() -> None:
        g.onescreen_t0 = time.perf_counter()

    @server.after_request
    def _observe(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUESTS.labels(rule, request.method, str(response.status_code)).inc()
        t0 = g.get("onescreen_t0")
        if t0 is not None:
            LATENCY.labels(rule).observe(time.perf_counter() - t0)
        return response
