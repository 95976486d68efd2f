"""``GET /metrics``: Prometheus exposition of the dashboard process (requests, latency, registry size).

Metric objects live at module level because prometheus_client's default registry is process-wide; several
apps in one process (tests) share them, which is what a scrape of one process should see anyway. Request
labels use the Flask URL rule (``/api/alerts/<alert_id>``), never the raw path, to bound cardinality.
"""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("onescreen_dashboard_requests_total", "HTTP requests served by the dashboard",
                   ["rule", "method", "code"])
LATENCY = Histogram("onescreen_dashboard_request_seconds", "Time to answer an HTTP request", ["rule"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
REGISTRY_NODES = Gauge("onescreen_dashboard_registry_nodes", "Grid nodes in the loaded registry snapshot",
                       ["level"])
STREAMED_CAMERAS = Gauge("onescreen_dashboard_streamed_cameras", "Streamed cameras on the camera wall")


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
