"""``gathering`` (疑似聚集): a camera zone holds ≥ min_persons for ≥ hold_s; orange, red at ≥ red_at.

Counts come from edge counters (``count`` family) and from ingest-video (``video`` family, per zone). Storm
control lives here because only this rule sees the signal: hysteresis (after raising, the alert clears only
when the count stays below ``clear_below`` for ``clear_hold_s``, so a crowd hovering at 10 never flaps),
cooldown after a clear, and flapping (too many raise/clear cycles: the clear is withheld until calm).
An out-of-order count (older than the zone's newest) is ignored: a level signal is only as good as its
latest sample.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, cooled_down, flapping, location, ts_s
from onescreen import names

NAME = "gathering"


def zone_counts(event: dict[str, Any]) -> list[tuple[str, int, str]]:
    """(zone, persons, source) of an edge count or of a video analysis entry."""
    if event["family"] == names.VIDEO:
        return [(z, int(v.get("persons", 0)), "video") for z, v in (event.get("zones") or {}).items()]
    return [(event.get("zone", "*"), int(event["persons"]), "edge")]


class Gathering:
    name = NAME
    families = (names.COUNT, names.VIDEO)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        cfg = ctx.cfg(NAME, event.get("community_id"))
        if not cfg.enabled:
            return []
        out: list[Decision] = []
        ts = ts_s(event)
        for zone, persons, source in zone_counts(event):
            subject = Subject("camera_zone", f"{event['camera_id']}/{zone}")
            s = state.get(subject.key) or {}
            if ts < s.get("ts", 0):
                continue  # late sample of a level signal: the newer one already spoke
            if s and ts - s["ts"] > cfg.stale_s:
                s.pop("since", None)  # a gap in the samples breaks the run
            s.update(ts=ts, persons=persons, source=source, cam=event["camera_id"], loc=location(event))
            out += self._evaluate(state, subject, s, ts, cfg, ctx)
        return out

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        if s is None:
            return []
        cfg = ctx.cfg(NAME, s["loc"].get("community_id"))
        if now - s["ts"] > cfg.stale_s and not s.get("active"):
            state.drop(key)  # nobody reports this zone any more
            return []
        return self._evaluate(state, Subject.from_key(key), s, now, cfg, ctx)

    def _evaluate(
        self, state: RuleState, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> list[Decision]:
        persons = s["persons"]
        out: list[Decision] = []
        due: float | None = None
        if persons >= cfg.min_persons:
            s.pop("below", None)
            if "since" not in s:  # the condition starts (again): a new alert's peak starts from here
                s["since"] = s["ts"]
                if not s.get("active"):
                    s["peak"] = 0
            since = s["since"]
            s["peak"] = max(s.get("peak", 0), persons)
            level = "red" if persons >= cfg.red_at else cfg.level
            if not s.get("active"):
                if now - since >= cfg.hold_s and cooled_down(s, now, cfg.cooldown_s):
                    s.update(active=True, level=level)  # keeps the running peak
                    out.append(self._decision("raise", subject, s, level, now, ctx))
                elif now - since < cfg.hold_s:
                    due = since + cfg.hold_s
                else:
                    due = s["cleared_at"] + cfg.cooldown_s
            elif level != s.get("level") and not (level != "red" and s.get("flapping")):
                s["level"] = level
                out.append(self._decision("update", subject, s, level, now, ctx))
        else:
            s.pop("since", None)
            if s.get("active"):
                if persons < cfg.clear_below:
                    below = s.setdefault("below", s["ts"])
                    if now - below >= cfg.clear_hold_s:
                        out += self._clear(subject, s, now, ctx)
                    else:
                        due = below + cfg.clear_hold_s
                else:
                    s.pop("below", None)  # inside the hysteresis band: hold the alert, do not flap
        if s.get("active") and s.get("flapping") and due is None:
            due = s["cycles"][-1] + ctx.rules.storm.flap_window_s
        state.put(subject.key, s)
        if due is None:
            state.disarm(subject.key)
        else:
            state.arm(subject.key, due)
        return out

    def _clear(self, subject: Subject, s: dict[str, Any], now: float, ctx: RuleContext) -> list[Decision]:
        storm = ctx.rules.storm
        if s.get("flapping"):
            s["cycles"] = [t for t in s.get("cycles", []) if now - t < storm.flap_window_s]
            if s["cycles"]:
                return []  # held open until a whole window passes without a cycle
        elif flapping(s, now, storm.flap_window_s, storm.flap_max):
            s["flapping"] = True
            return [self._decision("update", subject, s, s["level"], now, ctx)]
        s.update(active=False, cleared_at=now, flapping=False)
        s.pop("below", None)
        return [self._decision("clear", subject, s, s["level"], now, ctx)]

    def _decision(
        self, action: str, subject: Subject, s: dict[str, Any], level: str, now: float, ctx: RuleContext
    ) -> Decision:
        camera_id, _, zone = subject.id.partition("/")
        evidence = {
            "persons": s["persons"],
            "peak": s.get("peak", s["persons"]),
            "camera_id": camera_id,
            "zone": zone,
            "source": s["source"],
            "since": ctx.iso(s.get("since", s["ts"])),
        }
        if s.get("flapping"):
            evidence["flapping"] = True
        return Decision(
            action,
            NAME,
            subject,
            level,
            s["loc"],
            evidence,
            now,  # type: ignore[arg-type]
            camera_id=camera_id if s["source"] == "video" else None,
        )


RULE = Gathering()
