"""The wall screen's live-panel texts (issue #6), Chinese and English; merged into ``dashboard.i18n.TEXTS``."""

from __future__ import annotations

WALL_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "kpi.events_today": "今日事件", "kpi.camera_rate": "视频在线率", "kpi.patrol_rate": "巡逻在岗率",
        "kpi.rapid_rate": "1-3-5达标率", "kpi.resolution_rate": "化解率",
        "panel.hourly": "今日分时事件（对比昨日）", "panel.heat": "数据导巡 · 近7日时段热力",
        "chart.today": "今日", "chart.yesterday": "昨日",
        "map.layer_alerts": "告警", "map.layer_patrol": "巡逻", "map.layer_cameras": "视频", "map.layer_doors": "门禁",
        "map.mode_alert": "告警着色", "map.mode_density": "密度着色",
        "wall.stale_banner": "数据中断，画面停留在 {time}，正在自动重连…",
        "wall.stale_banner_never": "数据中断，正在自动重连…",
        "detail.title": "告警详情", "detail.close": "关闭", "detail.history": "处置记录", "detail.evidence": "证据截图",
        "detail.no_evidence": "无证据截图", "detail.place": "地点", "detail.subject": "对象", "detail.opened": "发生时间",
        "camera.online": "在线", "camera.offline": "离线", "camera.page": "第 {n}/{m} 页",
    },
    "en": {
        "kpi.events_today": "Events today", "kpi.camera_rate": "Cameras online", "kpi.patrol_rate": "Patrol on post",
        "kpi.rapid_rate": "1-3-5 met", "kpi.resolution_rate": "Resolved",
        "panel.hourly": "Events per hour", "panel.heat": "Patrol guide · 7 days",
        "chart.today": "Today", "chart.yesterday": "Yesterday",
        "map.layer_alerts": "Alerts", "map.layer_patrol": "Patrol", "map.layer_cameras": "Cameras",
        "map.layer_doors": "Doors", "map.mode_alert": "By alert", "map.mode_density": "By density",
        "wall.stale_banner": "Data interrupted: showing {time}, reconnecting…",
        "wall.stale_banner_never": "Data interrupted, reconnecting…",
        "detail.title": "Alert", "detail.close": "Close", "detail.history": "History", "detail.evidence": "Evidence",
        "detail.no_evidence": "No evidence frame", "detail.place": "Place", "detail.subject": "Subject",
        "detail.opened": "Opened",
        "camera.online": "online", "camera.offline": "offline", "camera.page": "page {n}/{m}",
    },
}
