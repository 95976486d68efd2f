"""``key_person_missing`` (疑似脱管): a red / orange watch-list person not seen by any device for more than
``red_after_s`` / ``orange_after_s``; alert level orange.

A person is seen anywhere in the city, but their state must live in one place: so ``derive`` turns each
sighting (an access event of a red/orange watched person, in whatever partition) into a ``watch`` event on the
person's *home* partition, and only that partition's owner keeps the person's last-seen time and timer.
``on_start`` gives a person never seen since the engine first ran a starting point (then), so the clock runs.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, location, ts_s
from onescreen import names

NAME = "key_person_missing"
WATCHED_LEVELS = ("red", "orange")


def _after(cfg: Any, watch_level: str) -> float:
    return cfg.red_after_s if watch_level == "red" else cfg.orange_after_s


class KeyPersonMissing:
    name = NAME
    # ACCESS only to ``derive`` from it: the engine and the replayer call ``derive`` for the families a rule
    # consumes, so with WATCH alone no sighting was ever re-routed (found with issue 15); on_event skips it.
    families = (names.ACCESS, names.WATCH)

    def derive(self, event: dict[str, Any], ctx: RuleContext) -> list[tuple[int, dict[str, Any]]]:
        """(home partition, watch event) for a sighting of a red/orange watch-list person."""
        if event["family"] != names.ACCESS:
            return []
        person = event["person_id"]
        if ctx.registry.watch_level(person) not in WATCHED_LEVELS:
            return []
        home = ctx.registry.watch_home(person) or event.get("community_id") or ""
        doc = {
            "family": names.WATCH,
            "event_id": f"w-{event['event_id']}",
            "ts": event["ts"],
            "person_id": person,
            "door_id": event.get("door_id"),
            "home_community_id": home,
            **location(event),
        }
        return [(names.partition_of(home, ctx.partitions), doc)]

    def on_start(self, state: RuleState, partition: int, now: float, ctx: RuleContext) -> None:
        """Start the clock of every red/orange person homed in this partition that has no state yet."""
        for person in ctx.registry.watched_persons():
            level = ctx.registry.watch_level(person)
            home = ctx.registry.watch_home(person)
            if (
                level not in WATCHED_LEVELS
                or home is None
                or names.partition_of(home, ctx.partitions) != partition
            ):
                continue
            key = Subject("person", person).key
            if state.get(key) is None:
                node = ctx.registry.node(home)
                loc = {
                    "district_id": ctx.registry.district_of(home),
                    "community_id": home,
                    "cell_id": None,
                    "lat": getattr(node, "lat", None),
                    "lon": getattr(node, "lon", None),
                }
                state.put(key, {"last_seen": now, "never_seen": True, "loc": loc})
                state.arm(key, now + _after(ctx.cfg(NAME, home), level))

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        if event["family"] != names.WATCH:
            return []  # a door event: re-routed by derive, counted when it comes back as a watch event
        person = event["person_id"]
        level = ctx.registry.watch_level(person)
        if level not in WATCHED_LEVELS:
            return []
        cfg = ctx.cfg(NAME, event.get("home_community_id"))
        subject = Subject("person", person)
        s = state.get(subject.key) or {}
        ts = ts_s(event)
        if ts <= s.get("last_seen", 0) and not s.get("never_seen"):
            return []  # an older sighting tells nothing new
        s.update(
            last_seen=max(ts, s.get("last_seen", 0)) if not s.get("never_seen") else ts,
            never_seen=False,
            loc=location(event),
            door_id=event.get("door_id"),
        )
        out = []
        if s.get("active"):
            s["active"] = False
            out.append(self._decision("clear", subject, s, ts, level, cfg, ctx))
        state.put(subject.key, s)
        state.arm(subject.key, s["last_seen"] + _after(cfg, level))
        return out

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        subject = Subject.from_key(key)
        level = ctx.registry.watch_level(subject.id)
        if s is None or level not in WATCHED_LEVELS:
            state.drop(key)  # left the watch list (or was lowered to yellow)
            return []
        cfg = ctx.cfg(NAME, s["loc"].get("community_id"))
        due = s["last_seen"] + _after(cfg, level)
        if now <= due:  # CONTRACT: "more than" 24 h
            state.arm(key, due + 0.001)
            return []
        if s.get("active") or not cfg.enabled:
            return []
        s["active"] = True
        state.put(key, s)
        return [self._decision("raise", subject, s, now, level, cfg, ctx)]

    def _decision(
        self,
        action: str,
        subject: Subject,
        s: dict[str, Any],
        now: float,
        watch_level: str,
        cfg: Any,
        ctx: RuleContext,
    ) -> Decision:
        evidence = {
            "person_id": subject.id,
            "watch_level": watch_level,
            "last_seen": None if s.get("never_seen") else ctx.iso(s["last_seen"]),
            "unseen_s": round(now - s["last_seen"]),
            "last_door_id": s.get("door_id"),
        }
        return Decision(action, NAME, subject, cfg.level, s["loc"], evidence, now)  # type: ignore[arg-type]


RULE = KeyPersonMissing()
