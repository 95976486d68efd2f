"""One alert as the wall's detail shows it: the contract document, its history and the evidence frame.

Scoped like every read of a person: an alert outside the user's communities reads as absent (None), never as
"forbidden", so the detail cannot be used to probe for alerts elsewhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from alerts import store
from dashboard.context import AppContext
from dashboard.desk.data import in_scope


def alert_detail(ctx: AppContext, user: Any, alert_id: str) -> dict[str, Any] | None:
    """``{"doc", "history", "jpeg"}`` of one alert within the user's scope, else None; raises SQLAlchemyError."""
    tz = ctx.settings.city.timezone
    with Session(ctx.engine) as s:
        alert = store.get(s, alert_id)
        if alert is None or not in_scope(ctx, user, alert.community_id):
            return None
        return {"doc": store.to_contract(alert, tz), "history": store.history(s, alert, tz),
                "jpeg": store.snapshot(s, alert)}
