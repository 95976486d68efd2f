"""The admin page's words for what the ingest refused and for camera states, in the screen's language.

A rejected message carries a named reason (CONTRACT §1: ``missing_field:<name>``, ``bad_value:<name>``,
``invalid_json``, …) and a detail that is pydantic's or the parser's English sentence. The Chinese screen shows
the reason's own sentence (with the field named) instead of that English; the English screen shows both.
Camera states are the video ingest's (``ingest.video.health.STATES``).
"""

from __future__ import annotations

from typing import Any

REJECTION_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "desk.admin.reason.invalid_json": "不是有效的 JSON 对象", "desk.admin.reason.missing_field": "缺少必填字段 {field}",
        "desk.admin.reason.bad_value": "字段 {field} 的类型或取值不符合接口约定",
        "desk.admin.reason.unknown_device": "设备未在城市中登记", "desk.admin.reason.unknown_topic": "主题不在接口约定中",
        "desk.admin.reason.too_large": "消息超过 64 KiB", "desk.admin.reason.clock_skew": "时间戳超前 5 分钟以上或过旧",
        "desk.admin.reason.topic_mismatch": "消息中的设备编号与主题不一致", "desk.admin.reason.other": "其他原因（{reason}）",
        "desk.admin.cam.connecting": "连接中", "desk.admin.cam.online": "在线", "desk.admin.cam.degraded": "帧率不足",
        "desk.admin.cam.stalled": "画面停滞", "desk.admin.cam.offline": "离线", "desk.admin.cam.unknown": "未知",
    },
    "en": {
        "desk.admin.reason.invalid_json": "not a valid JSON object", "desk.admin.reason.missing_field": "missing field {field}",
        "desk.admin.reason.bad_value": "bad type or value of {field}",
        "desk.admin.reason.unknown_device": "device not in the city registry",
        "desk.admin.reason.unknown_topic": "topic not in the contract", "desk.admin.reason.too_large": "over 64 KiB",
        "desk.admin.reason.clock_skew": "timestamp over 5 min ahead or too old",
        "desk.admin.reason.topic_mismatch": "device id differs from the topic's", "desk.admin.reason.other": "other ({reason})",
        "desk.admin.cam.connecting": "connecting", "desk.admin.cam.online": "online", "desk.admin.cam.degraded": "degraded",
        "desk.admin.cam.stalled": "stalled", "desk.admin.cam.offline": "offline", "desk.admin.cam.unknown": "unknown",
    },
}
REASONS = ("invalid_json", "missing_field", "bad_value", "unknown_device", "unknown_topic", "too_large",
           "clock_skew", "topic_mismatch")
CAMERA_STATES = ("connecting", "online", "degraded", "stalled", "offline", "unknown")


def reason_text(ctx: Any, reason: str | None) -> str:
    """``missing_field:ts`` → "缺少必填字段 ts": the named reason in the screen's language."""
    name, _, field = (reason or "").partition(":")
    if name not in REASONS:
        return ctx.t("desk.admin.reason.other", reason=reason or "—")
    return ctx.t(f"desk.admin.reason.{name}", field=field or "—")


def detail_text(ctx: Any, reason: str | None, detail: str | None) -> str:
    """The detail column: the reason's sentence, plus the parser's own English words on an English screen."""
    text = reason_text(ctx, reason)
    return f"{text}: {detail}" if ctx.t.language == "en" and detail else text


def camera_state(ctx: Any, state: str | None) -> str:
    return ctx.t(f"desk.admin.cam.{state if state in CAMERA_STATES else 'unknown'}")
