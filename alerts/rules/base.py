"""What every rule shares: decisions out, per-subject state in, due-time timers, and small pure helpers.

A rule is a pure object over (state, event, now) → decisions. It never touches Redis, SQL or MQTT: the
engine loads its ``RuleState`` from Redis, hands it in, flushes what the rule changed (``dirty``, ``timers``)
and sends the decisions through the stage chain. Times are epoch seconds of the events (wall clock of the
devices), so a replay over archived events gives the same decisions as the live run did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from alerts.config import RulesConfig
from onescreen.timeutil import iso

Action = Literal["raise", "update", "clear"]


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alert is about; CONTRACT kinds: camera_zone, door_person, person, community, unit, device."""

    kind: str
    id: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def from_key(cls, key: str) -> Subject:
        kind, _, ident = key.partition(":")
        return cls(kind, ident)


@dataclass(slots=True)
class Decision:
    """One rule outcome: raise a new alert, update the open one (evidence / level) or clear its condition."""

    action: Action
    rule: str
    subject: Subject
    level: str
    location: dict[str, Any]
    evidence: dict[str, Any]
    at: float  # epoch s of the observation that decided it
    camera_id: str | None = None  # video-derived: suppressed while that camera is offline


class RuleState:
    """One rule's state in one partition: subject key → JSON-able dict, plus due-time timers.

    Tracks what changed so the engine writes back only that (one HSET/HDEL and ZADD/ZREM per key per batch).
    """

    def __init__(self, data: dict[str, dict[str, Any]] | None = None):
        self.data: dict[str, dict[str, Any]] = data or {}
        self.dirty: set[str] = set()
        self.timers: dict[str, float | None] = {}  # key -> new due (None = disarm), pending flush

    def get(self, key: str) -> dict[str, Any] | None:
        return self.data.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.data[key] = value
        self.dirty.add(key)

    def drop(self, key: str) -> None:
        if self.data.pop(key, None) is not None:
            self.dirty.add(key)
        self.disarm(key)

    def arm(self, key: str, due: float) -> None:
        """Call ``on_timer`` for this key at ``due`` (epoch s); replaces an earlier due time."""
        self.timers[key] = due

    def disarm(self, key: str) -> None:
        self.timers[key] = None

    def take_changes(self) -> tuple[dict[str, dict[str, Any] | None], dict[str, float | None]]:
        """What to write back: {key: value or None (delete)}, {key: due or None (remove)}; resets tracking."""
        values = {k: self.data.get(k) for k in self.dirty}
        timers = self.timers
        self.dirty, self.timers = set(), {}
        return values, timers


class Registry(Protocol):
    """The registry lookups rules use (onescreen.registry.cache.RegistryCache)."""

    def camera(self, camera_id: str) -> Any: ...
    def cameras_watching_door(self, door_id: str) -> tuple[str, ...]: ...
    def post_of_unit(self, unit_id: str) -> Any: ...
    def place_of_unit(self, unit_id: str) -> Any: ...
    def watch_level(self, person_id: str) -> str | None: ...
    def watch_home(self, person_id: str) -> str | None: ...
    def watched_persons(self) -> tuple[str, ...]: ...
    def node(self, node_id: str) -> Any: ...
    def district_of(self, node_id: str) -> str | None: ...


@dataclass(slots=True)
class RuleContext:
    """What a rule may read besides its state: the registry, the rules in force, the display timezone."""

    registry: Registry
    rules: RulesConfig = field(default_factory=RulesConfig)
    tz: str = "Asia/Shanghai"
    partitions: int = 8
    # (rule, community) -> section, for ``rules`` as it was when filled: every event asks at least once, and
    # the pydantic model's own cache (a private attribute) cost a tenth of the engine's time to reach
    _sections: dict[tuple[str, str | None], Any] = field(default_factory=dict, init=False, repr=False)
    _sections_of: Any = field(default=None, init=False, repr=False)

    def cfg(self, rule: str, community_id: str | None) -> Any:
        """The effective section of ``rule`` in a community (the rules file's override over the city's)."""
        if self._sections_of is not self.rules:  # rules reloaded (or first call)
            self._sections = {}
            self._sections_of = self.rules
        key = (rule, community_id)
        hit = self._sections.get(key)
        if hit is None:
            hit = self._sections[key] = self.rules.rule(rule, community_id)
        return hit

    def iso(self, ts: float) -> str:
        return iso(datetime.fromtimestamp(ts, tz=UTC), self.tz)


class Rule(Protocol):
    """The shape of every rule module's ``RULE``."""

    name: str
    families: tuple[str, ...]

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]: ...
    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]: ...


# ------------------------------------------------------------------ helpers
def location(doc: dict[str, Any]) -> dict[str, Any]:
    """The CONTRACT location block from an enriched event (or a stored copy of one)."""
    get = doc.get  # spelled out: a comprehension costs a frame, and this runs for most events
    return {"district_id": get("district_id"), "community_id": get("community_id"), "cell_id": get("cell_id"),
            "lat": get("lat"), "lon": get("lon")}


def ts_s(event: dict[str, Any]) -> float:
    """Event time in epoch seconds (streams carry epoch ms)."""
    return event["ts"] / 1000.0


def flapping(s: dict[str, Any], now: float, window_s: float, flap_max: int) -> bool:
    """Record one raise/clear cycle in ``s``; True when the subject now flaps (too many in the window)."""
    cycles = [t for t in s.get("cycles", []) if now - t < window_s] + [now]
    s["cycles"] = cycles
    return len(cycles) > flap_max


def cooled_down(s: dict[str, Any], now: float, cooldown_s: float) -> bool:
    """True when the subject's last clear is at least ``cooldown_s`` ago (or it never cleared)."""
    cleared = s.get("cleared_at")
    return cleared is None or now - cleared >= cooldown_s
