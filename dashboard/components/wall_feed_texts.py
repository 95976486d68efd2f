"""Texts of the wall's alert feed (``dashboard.components.wall_feed``); merged into ``dashboard.i18n.TEXTS``."""

from __future__ import annotations

FEED_TEXTS: dict[str, dict[str, str]] = {
    "zh": {"feed.more": "还有 {n} 条", "feed.escalated": "已升级", "feed.silenced": "静默中",
           "feed.age.s": "{n}秒前", "feed.age.m": "{n}分钟前", "feed.age.h": "{n}小时前", "feed.age.d": "{n}天前"},
    "en": {"feed.more": "{n} more", "feed.escalated": "Escalated", "feed.silenced": "Silenced",
           "feed.age.s": "{n} s ago", "feed.age.m": "{n} min ago", "feed.age.h": "{n} h ago", "feed.age.d": "{n} d ago"},
}
