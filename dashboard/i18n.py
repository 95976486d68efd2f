"""The screen texts in Chinese (default) and English, chosen by ``dashboard.language``.

A flat dict per language rather than gettext: the dashboard has a few hundred strings, operators switch the
language in the settings file, and a test keeps both languages carrying the same keys.
"""

from __future__ import annotations

from typing import Literal

from dashboard.components.wall_entrances_texts import HEAT_TEXTS, WALL_ENTRANCE_TEXTS
from dashboard.components.wall_feed_texts import FEED_TEXTS
from dashboard.components.wall_texts import WALL_TEXTS
from dashboard.desk.admin_texts import ADMIN_DESK_TEXTS
from dashboard.desk.alerts_texts import ALERTS_DESK_TEXTS
from dashboard.desk.assessment_texts import ASSESSMENT_DESK_TEXTS
from dashboard.desk.cases_texts import CASES_TEXTS
from dashboard.desk.command_texts import COMMAND_TEXTS
from dashboard.desk.entrance_texts import ENTRANCE_TEXTS
from dashboard.desk.patrol_texts import PATROL_DESK_TEXTS
from dashboard.desk.persons_texts import PERSONS_TEXTS
from dashboard.desk.rejection_texts import REJECTION_TEXTS
from dashboard.desk.texts import DESK_TEXTS
from dashboard.desk.videopatrol_texts import VIDEOPATROL_TEXTS

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
        "map.reset": "返回全市", "map.reset_home": "返回辖区",
        "map.hint": "点击区域、聚合点或告警下钻",
        # The alert vocabulary (CONTRACT §3), one copy for the wall and the desks.
        "rule.gathering": "疑似聚集", "rule.lingering": "逗留异常", "rule.key_person_gathering": "重点人员聚集",
        "rule.key_person_missing": "疑似脱管", "rule.off_post": "脱岗", "rule.device_offline": "设备离线",
        "level.red": "红色", "level.orange": "橙色", "level.yellow": "黄色", "level.green": "绿色",
        "status.open": "待处置", "status.acknowledged": "已签收", "status.dispatched": "已派警",
        "status.on_scene": "已到场", "status.resolved": "已化解", "status.closed": "已归档",
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
        "map.reset": "Whole city", "map.reset_home": "My area",
        "map.hint": "Click an area, a group or an alert to drill down",
        "rule.gathering": "Gathering", "rule.lingering": "Lingering",
        "rule.key_person_gathering": "Key persons gathering", "rule.key_person_missing": "Key person missing",
        "rule.off_post": "Off post", "rule.device_offline": "Device offline",
        "level.red": "Red", "level.orange": "Orange", "level.yellow": "Yellow", "level.green": "Green",
        "status.open": "Open", "status.acknowledged": "Acknowledged", "status.dispatched": "Dispatched",
        "status.on_scene": "On scene", "status.resolved": "Resolved", "status.closed": "Closed",
    },
}

# Each area keeps its texts beside its code; merged here so one Translator serves all. A key defined by two
# areas would silently win or lose depending on order, so it stops the import instead.
AREA_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "wall": WALL_TEXTS, "desk": DESK_TEXTS, "alerts desk": ALERTS_DESK_TEXTS,
    "patrol desk": PATROL_DESK_TEXTS, "admin desk": ADMIN_DESK_TEXTS, "commands": COMMAND_TEXTS,
    "wall feed": FEED_TEXTS, "rejections": REJECTION_TEXTS,
    "assessment desk": ASSESSMENT_DESK_TEXTS,
    "entrances": ENTRANCE_TEXTS, "video patrol desk": VIDEOPATROL_TEXTS,
    "cases": CASES_TEXTS,
}
AREA_TEXTS["persons desk"] = PERSONS_TEXTS  # issue 15
AREA_TEXTS["wall entrances"] = WALL_ENTRANCE_TEXTS  # issue 18
AREA_TEXTS["wall heat"] = HEAT_TEXTS  # issue 14: cases in the heat map

for _area, _by_language in AREA_TEXTS.items():
    for _lang, _texts in _by_language.items():
        _twice = TEXTS[_lang].keys() & _texts.keys()
        if _twice:
            raise ValueError(f"{_area} texts redefine {sorted(_twice)}")
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
