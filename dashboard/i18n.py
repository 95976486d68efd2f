"""The screen texts in Chinese (default) and English, chosen by ``dashboard.language``.

A flat dict per language rather than gettext: the dashboard has a few dozen strings, operators switch the
language in the settings file, and a test keeps both languages carrying the same keys.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["zh", "en"]

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "app.title": "一屏观全城",
        "nav.wall": "一屏观全城",
        "nav.alerts": "告警处置",
        "nav.duty": "值班调度",
        "nav.patrol": "巡逻督查",
        "nav.admin": "系统管理",
        "notfound.title": "页面不存在",
        "wall.data_as_of": "数据截至 {time}",
        "wall.data_down": "数据中断",
        "wall.data_stale": "数据中断（{time}）",
        "panel.overview": "态势总览",
        "panel.alerts": "实时告警",
        "panel.cameras": "视频监控",
        "kpi.open_alerts": "待处置告警",
        "kpi.districts": "街道/乡镇",
        "kpi.communities": "社区/村居",
        "kpi.cells": "网格",
        "kpi.cameras": "摄像机",
        "kpi.streamed": "视频接入",
        "alerts.empty": "暂无告警",
        "camera.no_picture": "无画面",
        "camera.none": "未接入视频",
        "map.empty_title": "未加载城市数据",
        "map.empty_hint": "导入城市网格后重启大屏服务：",
        "map.empty_cmd": "onescreen sim generate --out var/city && onescreen city import var/city",
        "map.empty_demo": "或运行 make demo（模拟城市）",
        "map.city": "全市",
        "map.reset": "返回全市",
        "map.hint": "点击社区查看网格",
    },
    "en": {
        "app.title": "OneScreen",
        "nav.wall": "City wall",
        "nav.alerts": "Alerts",
        "nav.duty": "Duty desk",
        "nav.patrol": "Patrol supervision",
        "nav.admin": "Administration",
        "notfound.title": "Page not found",
        "wall.data_as_of": "Data as of {time}",
        "wall.data_down": "Data interrupted",
        "wall.data_stale": "Data interrupted ({time})",
        "panel.overview": "Overview",
        "panel.alerts": "Live alerts",
        "panel.cameras": "Cameras",
        "kpi.open_alerts": "Open alerts",
        "kpi.districts": "Districts",
        "kpi.communities": "Communities",
        "kpi.cells": "Grid cells",
        "kpi.cameras": "Cameras",
        "kpi.streamed": "Streamed",
        "alerts.empty": "No alerts",
        "camera.no_picture": "No picture",
        "camera.none": "No streamed cameras",
        "map.empty_title": "No city data loaded",
        "map.empty_hint": "Import a city grid, then restart the dashboard:",
        "map.empty_cmd": "onescreen sim generate --out var/city && onescreen city import var/city",
        "map.empty_demo": "or run make demo (simulated city)",
        "map.city": "Whole city",
        "map.reset": "Whole city",
        "map.hint": "Click a community to see its grid cells",
    },
}

# The desks' and sign-in texts live with the desks (issue #7); merged here so one Translator serves all.
from dashboard.desk.texts import DESK_TEXTS  # noqa: E402

for _lang, _texts in DESK_TEXTS.items():
    TEXTS[_lang].update(_texts)

# The wall's live-panel texts (issue #6) live with the wall components; merged the same way.
from dashboard.components.wall_texts import WALL_TEXTS  # noqa: E402

for _lang, _texts in WALL_TEXTS.items():
    TEXTS[_lang].update(_texts)

# BCP 47 tags for the browser's Intl formatting of the live clock.
LOCALES: dict[str, str] = {"zh": "zh-CN", "en": "en-GB"}


class Translator:
    """``t("kpi.open_alerts")`` in the configured language; falls back to Chinese, then to the key itself."""

    def __init__(self, language: Language = "zh"):
        self.language = language
        self.locale = LOCALES[language]
        self._texts = TEXTS[language]

    def __call__(self, key: str, **fmt: object) -> str:
        text = self._texts.get(key) or TEXTS["zh"].get(key) or key
        return text.format(**fmt) if fmt else text
