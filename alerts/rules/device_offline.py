"""``device_offline`` (设备离线): a camera gives no analysed frame for ≥ ``camera_silent_s``, or any device
sends
nothing (or its last will says offline) for ≥ ``device_silent_s``; yellow.

Every message of a device (door event, edge count, status, video frame) moves its last-seen time and its one
due-time timer; nothing scans the device table. Only devices heard at least once are tracked. While this
alert is active for a camera, the engine suppresses that camera's video-derived alerts (a dark camera's
"zero persons" is not evidence). Patrol terminals are off_post's business.
"""

from __future__ import annotations

from typing import Any

from alerts.rules.base import Decision, RuleContext, RuleState, Subject, location, ts_s
from onescreen import names

NAME = "device_offline"
DEVICE_FIELD = {
    names.ACCESS: "door_id",
    names.COUNT: "camera_id",
    names.VIDEO: "camera_id",
    names.STATUS: "device_id",
}


class DeviceOffline:
    name = NAME
    families = (names.ACCESS, names.COUNT, names.VIDEO, names.STATUS)

    def on_event(self, state: RuleState, event: dict[str, Any], ctx: RuleContext) -> list[Decision]:
        family = event["family"]
        if family == names.STATUS and event.get("device_kind") == "unit":
            return []
        cfg = ctx.cfg(NAME, event.get("community_id"))
        if not cfg.enabled:
            return []
        device = event[DEVICE_FIELD[family]]
        subject = Subject("device", device)
        s = state.get(subject.key) or {
            "loc": location(event),
            "kind": event.get("device_kind") or ("door" if family == names.ACCESS else "camera"),
        }
        ts = ts_s(event)
        if ts >= s.get("ts", 0):
            s["ts"] = ts
            if family == names.STATUS and event.get("online") is False:
                s.setdefault("will", ts)
            else:
                s.pop("will", None)
        if family == names.VIDEO:
            s["frame"] = max(ts, s.get("frame", 0))
        return self._evaluate(state, subject, s, ts, cfg, ctx)

    def on_timer(self, state: RuleState, key: str, now: float, ctx: RuleContext) -> list[Decision]:
        s = state.get(key)
        if s is None:
            return []
        return self._evaluate(
            state, Subject.from_key(key), s, now, ctx.cfg(NAME, s["loc"].get("community_id")), ctx
        )

    @staticmethod
    def _reason(s: dict[str, Any], now: float, cfg: Any) -> str | None:
        if "frame" in s and now - s["frame"] >= cfg.camera_silent_s:
            return "no_frame"
        if "will" in s and now - s["will"] >= cfg.device_silent_s:
            return "last_will"
        if now - s["ts"] >= cfg.device_silent_s:
            return "silent"
        return None

    def _evaluate(
        self, state: RuleState, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> list[Decision]:
        reason = self._reason(s, now, cfg)
        out: list[Decision] = []
        if reason and not s.get("active"):
            s.update(active=True, reason=reason)
            out.append(self._decision("raise", subject, s, now, cfg, ctx))
        elif not reason and s.get("active"):
            s.update(active=False, reason=None)
            out.append(self._decision("clear", subject, s, now, cfg, ctx))
        state.put(subject.key, s)
        dues = [s["ts"] + cfg.device_silent_s]
        if "frame" in s:
            dues.append(s["frame"] + cfg.camera_silent_s)
        if "will" in s:
            dues.append(s["will"] + cfg.device_silent_s)
        pending = [d for d in dues if d > now]
        if pending:
            state.arm(subject.key, min(pending))
        else:
            state.disarm(subject.key)  # offline and alerted: the next message from it re-arms
        return out

    def _decision(
        self, action: str, subject: Subject, s: dict[str, Any], now: float, cfg: Any, ctx: RuleContext
    ) -> Decision:
        last = s.get("frame", s["ts"]) if s.get("reason") == "no_frame" else s["ts"]
        evidence = {
            "device_id": subject.id,
            "device_kind": s.get("kind"),
            "reason": s.get("reason"),
            "last_seen": ctx.iso(last),
        }
        return Decision(action, NAME, subject, cfg.level, s["loc"], evidence, now)  # type: ignore[arg-type]


RULE = DeviceOffline()
