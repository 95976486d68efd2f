"""What the engine does around the alerts besides the rules: automatic on_scene and escalation.

Both follow CONTRACT §3: ``on_scene`` may be set when the dispatched unit's position comes within
``alerts.on_scene_radius_m`` of the alert; unacknowledged alerts escalate after ``alerts.escalate_after_s``
(to the supervisor role: a transition and a notification) and are reminded every ``alerts.remind_every_s``
until acknowledged; an alert an active silence covers does neither (``alerts.silences``). The escalation timers are one city-wide sorted set; whichever engine's ZREM succeeds
handles an entry, so any number of engines can run this.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson
import redis

from alerts import notes, silences, store
from alerts.notify import announce
from onescreen import names
from onescreen.geo import distance_m
from onescreen.settings import Settings


def auto_on_scene(
    client: redis.Redis,
    session: Any,
    pipe: Any,
    positions: dict[str, tuple[float, float]],
    settings: Settings,
) -> None:
    """A dispatched unit within ``on_scene_radius_m`` of its alert is on scene (recorded as ``system``)."""
    units = list(positions)
    rp = client.pipeline(transaction=False)
    for u in units:
        rp.hgetall(names.alert_dispatched(u))
    for unit, waiting in zip(units, rp.execute()):
        lat, lon = positions[unit]
        for alert_id, where in waiting.items():
            a_lat, a_lon = orjson.loads(where)
            dist = distance_m(lat, lon, a_lat, a_lon)
            if dist > settings.alerts.on_scene_radius_m:
                continue
            alert = store.get(session, alert_id.decode())
            if alert is None or alert.status != "dispatched" or alert.assignee != unit:
                pipe.hdel(names.alert_dispatched(unit), alert_id)  # stale entry (re-dispatched, handled)
                continue
            store.act(
                session,
                alert,
                "on_scene",
                datetime.now(UTC),
                unit_id=unit,
                note=notes.AUTO_ON_SCENE.format(unit=unit, dist=f"{dist:.0f}"),
            )
            announce(pipe, store.to_contract(alert, settings.city.timezone), publish=True)


def escalate_due(client: redis.Redis, sessions: Any, settings: Settings, now: float | None = None) -> int:
    """Escalate unacknowledged alerts whose time is up, then remind until someone acknowledges."""
    now = now or time.time()
    done = 0
    for raw in client.zrangebyscore(names.ALERT_ESCALATIONS, "-inf", now, start=0, num=50):
        if not client.zrem(names.ALERT_ESCALATIONS, raw):
            continue  # another engine took it
        alert_id = raw.decode()
        pipe = client.pipeline(transaction=False)
        with sessions() as session:
            alert = store.get(session, alert_id)
            if alert is None or alert.status != "open":
                continue
            at = datetime.now(UTC)
            silence = silences.first_match(silences.current(session, at), alert.rule, alert.subject_id,
                                           {"district_id": alert.district_id, "community_id": alert.community_id,
                                            "cell_id": alert.cell_id}, at)
            if silence is not None:  # silenced: no escalation; look again when it ends (or within a minute)
                until = silence.until if silence.until.tzinfo else silence.until.replace(tzinfo=UTC)
                client.zadd(names.ALERT_ESCALATIONS, {alert_id: min(until.timestamp(), now + 60)})
                continue
            if alert.escalated_at is None:
                alert.escalated_at = at
                store.note_event(session, alert, "escalate", at, notes.ESCALATED)
            else:
                alert.reminders += 1
                store.note_event(session, alert, "remind", at, notes.REMINDER.format(n=alert.reminders))
            session.commit()
            announce(pipe, store.to_contract(alert, settings.city.timezone), publish=True)
        pipe.zadd(names.ALERT_ESCALATIONS, {alert_id: now + settings.alerts.remind_every_s})
        pipe.execute()
        done += 1
    return done
