"""The admin page's words for what the ingest refused and for camera states, in the screen's language.

A rejected message carries a named reason (CONTRACT §1: ``missing_field:<name>``, ``bad_value:<name>``,
``invalid_json``, …) and a detail that is pydantic's or the parser's English sentence. The Chinese screen shows
the reason's own sentence (with the field named) instead of that English; the English screen shows both.
Camera states are the video ingest's (``ingest.video.health.STATES``).
"""

from __future__ import annotations

from typing import Any

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
