"""``key_person_gathering`` (重点人员聚集): ≥ min_persons distinct watch-list persons seen in one community
within ``window_s``; red.

State per community: each watched person's latest sighting. A timer at the oldest sighting's expiry
re-counts, so the alert clears when the group has dispersed without scanning every community each second.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, location, ts_s
from onescreen import names

NAME = "key_person_gathering"


class KeyPersonGathering:
    name = NAME
    families = (names.ACCESS,)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        person = event["person_id"]
        if ctx.registry.watch_level(person) in (None, "green"):
            return []  # green: on file, no current risk, raises nothing (CONTRACT §7)
        community = event.get("community_id")
        cfg = ctx.cfg(NAME, community)
        if not cfg.enabled or not community:
            return []
        subject = Subject("community", community)
        s = state.get(subject.key) or {"seen": {}}
        ts = ts_s(event)
        first_time = person not in s["seen"]
        s["seen"][person] = max(ts, s["seen"].get(person, 0))
        s["loc"] = location(event)
        return self._evaluate(state, subject, s, max(s["seen"].values()), cfg, ctx, grew=first_time)

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        if s is None:
            return []
        cfg = ctx.cfg(NAME, s["loc"].get("community_id"))
        return self._evaluate(state, Subject.from_key(key), s, now, cfg, ctx, grew=False)

    def _evaluate(
        self,
        state: RuleState,
        subject: Subject,
        s: dict[str, Any],
        now: float,
        cfg: Any,
        ctx: RuleContext,
        grew: bool,
    ) -> list[Decision]:
        s["seen"] = {p: t for p, t in s["seen"].items() if t > now - cfg.window_s}
        out: list[Decision] = []
        if len(s["seen"]) >= cfg.min_persons:
            if not s.get("active") or grew:
                action = "update" if s.get("active") else "raise"
                s["active"] = True
                out.append(self._decision(action, subject, s, now, cfg, ctx))
        elif s.get("active"):
            s["active"] = False
            out.append(self._decision("clear", subject, s, now, cfg, ctx))
        if not s["seen"]:
            state.drop(subject.key)
            return out
        state.put(subject.key, s)
        state.arm(subject.key, min(s["seen"].values()) + cfg.window_s)
        return out

    def _decision(
        self, action: str, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> Decision:
        persons = sorted(s["seen"], key=lambda p: s["seen"][p])
        evidence = {
            "persons": [
                {"person_id": p, "watch_level": ctx.registry.watch_level(p), "seen_at": ctx.iso(s["seen"][p])}
                for p in persons
            ],
            "count": len(persons),
            "window_s": cfg.window_s,
        }
        return Decision(action, NAME, subject, cfg.level, s["loc"], evidence, now)  # type: ignore[arg-type]


RULE = KeyPersonGathering()
