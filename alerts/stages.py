"""After a rule fires: a chain of small stages behind one interface (Alertmanager-style).

dedup → suppress → persist → notify. Each stage takes the batch's items and returns the ones that go on; a new
concern (say, a maintenance window) is one more stage in ``CHAIN``. Stages share a ``Batch`` (the SQL session,
the Redis pipeline to execute after commit, lookups); only ``Persist`` writes SQL and only ``Notify`` queues
Redis/MQTT side effects, so nothing is announced that is not committed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from alerts import silences, store
from alerts.notify import announce
from alerts.rules.base import Decision
from onescreen import names
from onescreen.db.models import Alert

log = logging.getLogger(__name__)
VIDEO_RULES = ("gathering", "lingering")


@dataclass(slots=True)
class Item:
    """One decision on its way through the chain."""

    decision: Decision
    alert: Alert | None = None
    publish: bool = False
    silenced: bool = False


@dataclass
class Batch:
    """What the stages of one batch share."""

    session: Session
    pipe: Any  # redis pipeline, executed by the engine after the SQL commit
    tz: str
    escalate_after_s: float
    offline: set[str] = field(default_factory=set)  # devices with an active device_offline alert
    silences: list[Any] = field(default_factory=list)  # active AlertSilence rows
    route_unit: Callable[[dict[str, Any]], str | None] = lambda loc: None
    snapshot: Callable[[str], bytes | None] = lambda camera_id: None
    counts: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


class Stage(Protocol):
    def __call__(self, items: list[Item], batch: Batch) -> list[Item]: ...


def dedup(items: list[Item], batch: Batch) -> list[Item]:
    """One alert per (rule, subject) while not closed: attach the open alert; drop what has nothing to do."""
    out = []
    for it in items:
        d = it.decision
        it.alert = store.find_active(batch.session, d.rule, d.subject.kind, d.subject.id)
        if it.alert is None and d.action == "clear":
            continue  # the alert was closed by hand already (or suppressed): nothing to clear
        if it.alert is None and d.action == "update":
            d.action = "raise"  # condition still holds after someone closed the alert: a new alert
        out.append(it)
    return out


def suppress(items: list[Item], batch: Batch) -> list[Item]:
    """Drop video-derived alerts of an offline camera; mark silenced ones (kept and shown, neither pushed nor
    escalated): the matchers and scope of ``alerts.silences.matches``."""
    now = datetime.now(UTC)
    out = []
    for it in items:
        d = it.decision
        if d.camera_id and d.camera_id in batch.offline and d.rule in VIDEO_RULES and it.alert is None:
            batch.count("suppressed_offline")
            continue
        if silences.first_match(batch.silences, d.rule, d.subject.id, d.location, now) is not None:
            it.silenced = True
            batch.count("silenced")
        out.append(it)
    return out


def persist(items: list[Item], batch: Batch) -> list[Item]:
    """Write to SQL: a new alert (with the camera frame as evidence) or the open alert's evidence/level."""
    for it in items:
        d = it.decision
        if it.silenced:
            d.evidence = {**d.evidence, "silenced": True}
        if it.alert is None:
            snap = None
            if d.camera_id or (d.rule in VIDEO_RULES and d.evidence.get("camera_id")):
                cam = d.camera_id or d.evidence["camera_id"]
                jpeg = batch.snapshot(cam)
                snap = (cam, jpeg) if jpeg else None
            it.alert = store.open_alert(batch.session, d, batch.tz, batch.route_unit(d.location), snap)
            it.publish = True
            batch.count("opened")
        else:
            level_changed = store.apply_decision(batch.session, it.alert, d)
            it.publish = level_changed or d.action == "raise"
            batch.count(d.action)
    batch.session.flush()
    return items


def notify(items: list[Item], batch: Batch) -> list[Item]:
    """Queue the Redis side (screens, indexes, MQTT outbox) of each change; silenced alerts skip MQTT."""
    for it in items:
        d, alert = it.decision, it.alert
        assert alert is not None
        doc = store.to_contract(alert, batch.tz)
        escalate_at = (
            alert.opened_at.replace(tzinfo=UTC).timestamp() + batch.escalate_after_s
            if alert.opened_at.tzinfo is None
            else alert.opened_at.timestamp() + batch.escalate_after_s
        )
        announce(
            batch.pipe,
            doc,
            publish=it.publish and not it.silenced,
            escalate_at=escalate_at if not it.silenced else None,
        )
        if d.rule == "device_offline":
            if d.action == "clear":
                batch.pipe.srem(names.OFFLINE_DEVICES, d.subject.id)
                batch.offline.discard(d.subject.id)
            else:
                batch.pipe.sadd(names.OFFLINE_DEVICES, d.subject.id)
                batch.offline.add(d.subject.id)
    return items


CHAIN: tuple[Stage, ...] = (dedup, suppress, persist, notify)


def run_chain(decisions: list[Decision], batch: Batch) -> list[Item]:
    """Send each decision through every stage in order; one at a time, so a later decision of the same batch
    sees the alert an earlier one opened (one alert per condition)."""
    done: list[Item] = []
    for d in decisions:
        items = [Item(d)]
        for stage in CHAIN:
            items = stage(items, batch)
            if not items:
                break
        done += items
    return done
