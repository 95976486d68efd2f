"""Texts of the admin page's refused messages and camera states (``dashboard.desk.rejections``); merged into
``dashboard.i18n.TEXTS``."""

from __future__ import annotations

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
