"""The dashboard's HTTP API: one Flask blueprint per concept, registered in ``BLUEPRINTS`` order.

A new endpoint family (alerts, cameras) is a new module here with a ``bp`` and one line below; the
blueprints find the shared connections through ``dashboard.context.app_context()``.
"""

from __future__ import annotations

from flask import Flask

from dashboard.api import (alerts, assessment, assessment_review, cameras, cases, desk, health, metrics, openapi,
                           persons)

BLUEPRINTS = (health.bp, metrics.bp, openapi.bp, alerts.bp, cameras.bp, desk.bp, assessment.bp,
              assessment_review.bp, persons.bp, cases.bp)


def register_api(server: Flask) -> None:
    """Mount every API blueprint and the request metrics on the Dash app's Flask server."""
    from dashboard import cases_pages  # the /grid and /cases pages ride on the case API (issue #14)

    metrics.instrument(server)
    for blueprint in (*BLUEPRINTS, cases_pages.bp):
        server.register_blueprint(blueprint)
