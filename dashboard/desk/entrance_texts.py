"""Texts of the entrance counts and the entrance_surge evidence (issue #18), merged by ``dashboard.i18n``."""

from __future__ import annotations

ENTRANCE_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "rule.entrance_surge": "出入异常",
        "desk.ev.crossings": "穿越人数", "desk.ev.direction": "方向", "desk.ev.line": "出入口",
        "desk.ev.hours": "监测时段",
    },
    "en": {
        "rule.entrance_surge": "Entrance surge",
        "desk.ev.crossings": "People crossing", "desk.ev.direction": "Direction", "desk.ev.line": "Entrance",
        "desk.ev.hours": "Watched hours",
    },
}
