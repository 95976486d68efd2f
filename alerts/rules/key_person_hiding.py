"""``key_person_hiding`` (疑似隐匿): a red / orange watch-list person seen by devices outside the home community on
≥ ``min_days`` distinct local days within ``window_days`` days, and not seen in the home community in that
period; alert level orange (CONTRACT §3).

Days are local calendar days in the configured zone (``ctx.tz``): the window is today and the
``window_days - 1`` days before, today being the local date of the newest time the rule has seen for the
person (an event's or a timer's), so a late event cannot move the window back. State per person, on the
person's home partition like ``key_person_missing``: that rule's ``derive`` (on door events) already
re-routes every sighting of a red / orange person there as a ``watch`` event, which this rule consumes too
(one re-routed copy, two readers). The state keeps, per local day of the window, the latest sighting outside and whether the person
was seen at home; a timer at the local midnight when the oldest day leaves the window re-evaluates, so the
alert clears (or, once an old home sighting leaves the window, raises) without an event. Everything is
idempotent per (person, day): a replayed or duplicated sighting changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, location, ts_s
from onescreen import names

NAME = "key_person_hiding"
WATCHED_LEVELS = ("red", "orange")


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def local_day(ts: float, tz: str) -> date:
    """The local calendar date of an instant (epoch s) in zone ``tz``."""
    return datetime.fromtimestamp(ts, _zone(tz)).date()


def day_start(day: date, tz: str) -> float:
    """Epoch s of local midnight starting ``day`` (the earlier instant if a DST change doubles it)."""
    return datetime.combine(day, time(0), tzinfo=_zone(tz)).timestamp()


def window(today: date, window_days: int) -> date:
    """First local date of the window ending with ``today``."""
    return today - timedelta(days=window_days - 1)


class KeyPersonHiding:
    name = NAME
    families = (names.WATCH,)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        person = event["person_id"]
        subject = Subject("person", person)
        level = ctx.registry.watch_level(person)
        if level not in WATCHED_LEVELS:
            return self._forget(state, subject, ts_s(event), ctx)
        home = ctx.registry.watch_home(person) or event.get("home_community_id")
        cfg = ctx.cfg(NAME, home)
        s = state.get(subject.key) or {"out": {}, "home": [], "clock": 0.0}
        ts = ts_s(event)
        clock = max(s["clock"], ts)
        day = local_day(ts, ctx.tz)
        if day < window(local_day(clock, ctx.tz), cfg.window_days):
            return []  # older than the window: cannot change the decision
        key = day.isoformat()
        if event.get("community_id") == home:
            if key not in s["home"]:
                s["home"] = sorted([*s["home"], key])
        else:
            prev = s["out"].get(key)
            if prev is None or ts > prev["ts"]:
                s["out"][key] = {"ts": ts, "community_id": event.get("community_id")}
            if ts >= s.get("last_ts", 0):
                s["last_ts"], s["loc"] = ts, location(event)
        s["clock"], s["home_id"] = clock, home
        return self._evaluate(state, subject, s, level, cfg, ctx)

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        subject = Subject.from_key(key)
        level = ctx.registry.watch_level(subject.id)
        if s is None or level not in WATCHED_LEVELS:
            return self._forget(state, subject, now, ctx)
        s["clock"] = max(s["clock"], now)
        return self._evaluate(state, subject, s, level, ctx.cfg(NAME, s.get("home_id")), ctx)

    def _forget(self, state: RuleState, subject: Subject, now: float, ctx: RuleContext) -> list[Decision]:
        """A person off the list or graded yellow / green: no state, and an open alert's condition cleared."""
        s = state.get(subject.key)
        if s is None:
            return []
        state.drop(subject.key)
        if not s.get("active"):
            return []
        cfg = ctx.cfg(NAME, s.get("home_id"))
        return [self._decision("clear", subject, s, now, ctx.registry.watch_level(subject.id), cfg, ctx)]

    def _evaluate(
        self, state: RuleState, subject: Subject, s: dict[str, Any], level: str, cfg: Any, ctx: RuleContext
    ) -> list[Decision]:
        now = s["clock"]
        first = window(local_day(now, ctx.tz), cfg.window_days).isoformat()
        s["out"] = {d: v for d, v in s["out"].items() if d >= first}
        s["home"] = [d for d in s["home"] if d >= first]
        hiding = len(s["out"]) >= cfg.min_days and not s["home"]
        out: list[Decision] = []
        if hiding and cfg.enabled:
            if not s.get("active"):
                s["active"] = True
                out.append(self._decision("raise", subject, s, now, level, cfg, ctx))
            elif len(s["out"]) != s.get("reported"):
                out.append(self._decision("update", subject, s, now, level, cfg, ctx))
            s["reported"] = len(s["out"])
        elif s.get("active"):
            s["active"] = False
            s.pop("reported", None)
            out.append(self._decision("clear", subject, s, now, level, cfg, ctx))
        days = [*s["out"], *s["home"]]
        if not days:
            state.drop(subject.key)
            return out
        state.put(subject.key, s)
        oldest = date.fromisoformat(min(days))
        due = day_start(oldest + timedelta(days=cfg.window_days), ctx.tz)
        state.arm(subject.key, due if due > now else now + 1)  # never a timer in the past (odd DST zones)
        return out

    def _decision(
        self, action: str, subject: Subject, s: dict[str, Any], now: float, watch_level: str | None, cfg: Any,
        ctx: RuleContext,
    ) -> Decision:
        days = sorted(s["out"])
        evidence = {
            "person_id": subject.id,
            "watch_level": watch_level,
            "home_community_id": s.get("home_id"),
            "days_away": len(days),
            "days": days,
            "seen_in": sorted({v["community_id"] for v in s["out"].values() if v.get("community_id")}),
            "last_seen": ctx.iso(s["last_ts"]) if s.get("last_ts") else None,
            "window_days": cfg.window_days,
        }
        loc = s.get("loc") or {"community_id": s.get("home_id")}
        return Decision(action, NAME, subject, cfg.level, loc, evidence, now)  # type: ignore[arg-type]


RULE = KeyPersonHiding()
