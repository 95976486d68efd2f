"""Replay: run the rules over archived events (``event_archive``) and report what they would have raised.

For tuning thresholds (``--rules other.yaml``) and for audits, without touching live alerts, Redis or MQTT:
rule state lives in memory, timers in a heap driven by the events' own clock (a timer due before the next
event fires first), derived events are fed straight back, and the stage chain is reduced to what decides
*which* alerts exist: one per (rule, subject) while not cleared-and-closed (nobody closes in a replay), and
the offline-camera suppression of video-derived alerts.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from alerts.config import RulesConfig
from alerts.rules import RULES, RuleContext, RuleState, rules_for
from alerts.rules.base import Decision
from alerts.stages import VIDEO_RULES
from onescreen.db.models import EventArchive

LEVEL_ORDER = {"yellow": 1, "orange": 2, "red": 3}


@dataclass
class ReplayAlert:
    rule: str
    subject: str
    level: str
    community_id: str | None
    first_at: float
    raises: int = 1


@dataclass
class Report:
    events: int = 0
    alerts: list[ReplayAlert] = field(default_factory=list)
    failed: int = 0  # events a rule raised on (the live engine dead-letters those; the archive keeps them)

    def counts(self, attr: str) -> dict[str, int]:
        return dict(Counter(getattr(a, attr) or "-" for a in self.alerts))

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "alerts": len(self.alerts),
            "failed": self.failed,
            "by_rule": self.counts("rule"),
            "by_level": self.counts("level"),
            "by_community": self.counts("community_id"),
            "list": [a.__dict__ for a in self.alerts],
        }


def archived(engine: Engine, start_ms: int, end_ms: int, chunk: int = 5000) -> Iterator[dict[str, Any]]:
    """Archived events in [start, end) in time order, read in chunks (keyset pagination on (ts, id))."""
    last = (start_ms - 1, 0)
    with engine.connect() as conn:
        while True:
            rows = conn.execute(
                select(EventArchive.id, EventArchive.ts, EventArchive.doc)
                .where(
                    EventArchive.ts >= start_ms,
                    EventArchive.ts < end_ms,
                    (EventArchive.ts > last[0])
                    | ((EventArchive.ts == last[0]) & (EventArchive.id > last[1])),
                )
                .order_by(EventArchive.ts, EventArchive.id)
                .limit(chunk)
            ).all()
            if not rows:
                return
            for r in rows:
                yield r.doc
            last = (rows[-1].ts, rows[-1].id)


class Replayer:
    """Rules over a sequence of events, in memory."""

    def __init__(self, registry: Any, rules: RulesConfig, tz: str, partitions: int):
        self.ctx = RuleContext(registry, rules, tz, partitions)
        self.states = {name: RuleState() for name in RULES}
        self.timers: list[tuple[float, str, str]] = []
        self.due: dict[tuple[str, str], float] = {}
        self.open: dict[tuple[str, str], ReplayAlert] = {}
        self.offline: set[str] = set()
        self.report = Report()

    def start(self, now: float) -> None:
        for rule in RULES.values():
            if hasattr(rule, "on_start"):
                for p in range(self.ctx.partitions):
                    rule.on_start(self.states[rule.name], p, now, self.ctx)
        self._sync_timers()

    def feed(self, ev: dict[str, Any]) -> None:
        self.advance(ev["ts"] / 1000)
        self.report.events += 1
        queue = [ev]
        while queue:
            e = queue.pop()
            for rule in rules_for(e["family"]):
                try:
                    self._decide(rule.on_event(self.states[rule.name], e, self.ctx))
                    if hasattr(rule, "derive"):
                        queue += [doc for _p, doc in rule.derive(e, self.ctx)]
                except Exception:  # noqa: BLE001 - a poison event (archived, dead-lettered live): counted
                    self.report.failed += 1
        self._sync_timers()

    def advance(self, now: float) -> None:
        """Fire every timer due by ``now`` (in due order)."""
        while self.timers and self.timers[0][0] <= now:
            due, name, key = heapq.heappop(self.timers)
            if self.due.get((name, key)) != due:
                continue  # re-armed or disarmed since
            del self.due[(name, key)]
            self._decide(RULES[name].on_timer(self.states[name], key, due, self.ctx))
            self._sync_timers()

    def _sync_timers(self) -> None:
        for name, state in self.states.items():
            _values, timers = state.take_changes()
            for key, due in timers.items():
                if due is None:
                    self.due.pop((name, key), None)
                else:
                    self.due[(name, key)] = due
                    heapq.heappush(self.timers, (due, name, key))

    def _decide(self, decisions: list[Decision]) -> None:
        for d in decisions:
            k = (d.rule, d.subject.key)
            if d.rule == "device_offline":
                (self.offline.discard if d.action == "clear" else self.offline.add)(d.subject.id)
            current = self.open.get(k)
            if current is None:
                if d.action == "clear" or (d.camera_id in self.offline and d.rule in VIDEO_RULES):
                    continue
                current = self.open[k] = ReplayAlert(
                    d.rule, d.subject.id, d.level, d.location.get("community_id"), d.at
                )
                self.report.alerts.append(current)
            elif d.action == "raise":
                current.raises += 1
            if d.action != "clear" and LEVEL_ORDER.get(d.level, 0) > LEVEL_ORDER.get(current.level, 0):
                current.level = d.level


def replay(
    engine: Engine, registry: Any, rules: RulesConfig, start_ms: int, end_ms: int, tz: str, partitions: int
) -> Report:
    """Replay the archived window [start_ms, end_ms) with ``rules``; nothing live is touched."""
    r = Replayer(registry, rules, tz, partitions)
    r.start(start_ms / 1000)
    for ev in archived(engine, start_ms, end_ms):
        r.feed(ev)
    r.advance(end_ms / 1000)
    return r.report
