"""One alert as the wall's detail shows it: the contract document, its history, the evidence frame and whether
a silence covers it.

Scoped through the alerts' query layer (``alerts.queries.get`` with the user's Actor): an alert outside the
user's communities reads as absent (None), never as "forbidden", so the detail cannot be used to probe for
alerts elsewhere.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from alerts import queries, store
from dashboard.commands import actor
from dashboard.context import AppContext
from onescreen.commands import CommandError


def alert_detail(ctx: AppContext, user: Any, alert_id: str) -> dict[str, Any] | None:
    """``{"doc", "history", "jpeg", "silenced"}`` of one alert within the user's scope, else None; raises
    SQLAlchemyError."""
    tz = ctx.settings.city.timezone
    with Session(ctx.engine) as s:
        try:
            alert = queries.get(s, actor(ctx, user), alert_id)
        except CommandError:
            return None
        return {"doc": store.to_contract(alert, tz), "history": store.history(s, alert, tz),
                "jpeg": store.snapshot(s, alert),
                "silenced": bool(queries.silenced_ids(s, [alert], datetime.now(UTC)))}
