"""Texts of the command layer's refusals (``onescreen.commands.CommandError.key``) that the desks show, and of
the silences on ``/alerts``; merged into ``dashboard.i18n.TEXTS``. The API answers the English ``message``."""

from __future__ import annotations

COMMAND_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "desk.error.note_type": "说明必须是文字",
        "desk.error.bad_json": "请求内容必须是 JSON 对象", "desk.error.bad_limit": "条数必须是 1 到 1000 的整数",
        "desk.error.silence_field": "未知字段：{field}", "desk.error.silence_value": "字段 {field} 的值无效",
        "desk.error.silence_node": "{field} {node} 不是城市网格中的节点",
        "desk.error.silence_mismatch": "区域条件互相矛盾",
        "desk.error.silence_scope": "{node} 超出您的管辖范围",
        "desk.error.silence_reason": "请填写静默原因（写在处置说明中）",
        "desk.error.silence_rule": "未知告警类型：{rule}",
        "desk.error.silence_unknown": "静默 {silence} 不存在或不在您的管辖范围",
        "desk.error.silence_ended": "静默 {silence} 已经结束",
        "desk.alerts.silenced": "静默中", "desk.alerts.silences": "当前静默",
        "desk.alerts.any_rule": "全部类型", "desk.alerts.whole_scope": "整个辖区",
        "desk.alerts.matchers": "范围", "desk.alerts.reason": "原因", "desk.alerts.silenced_by": "设置人",
        "desk.alerts.until": "结束时间", "desk.alerts.lift": "提前解除", "desk.alerts.lifted": "静默 {id} 已解除",
    },
    "en": {
        "desk.error.note_type": "The note must be text",
        "desk.error.bad_json": "The request body must be a JSON object",
        "desk.error.bad_limit": "The limit must be an integer from 1 to 1000",
        "desk.error.silence_field": "Unknown field: {field}", "desk.error.silence_value": "Invalid value of {field}",
        "desk.error.silence_node": "{field} {node} is not a node of the city grid",
        "desk.error.silence_mismatch": "The area conditions contradict each other",
        "desk.error.silence_scope": "{node} is outside your area",
        "desk.error.silence_reason": "Enter the reason of the silence (in the note)",
        "desk.error.silence_rule": "Unknown alert rule: {rule}",
        "desk.error.silence_unknown": "Silence {silence} does not exist or is outside your area",
        "desk.error.silence_ended": "Silence {silence} has already ended",
        "desk.alerts.silenced": "Silenced", "desk.alerts.silences": "Current silences",
        "desk.alerts.any_rule": "All rules", "desk.alerts.whole_scope": "my whole area",
        "desk.alerts.matchers": "Matches", "desk.alerts.reason": "Reason", "desk.alerts.silenced_by": "By",
        "desk.alerts.until": "Until", "desk.alerts.lift": "Lift now", "desk.alerts.lifted": "Silence {id} lifted",
    },
}
