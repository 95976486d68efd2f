"""Small pieces the desk pages share: level/status badges, times, a history timeline, a point map."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dash import html

from dashboard.context import AppContext

LEVELS_ZH = {"red": "红", "orange": "橙", "yellow": "黄", "green": "绿"}
STATUS_ZH = {"open": "待处置", "acknowledged": "已确认", "dispatched": "已派警", "on_scene": "已到场",
             "resolved": "已处置", "closed": "已归档"}
RULES_ZH = {"gathering": "疑似聚集", "lingering": "逗留异常", "key_person_gathering": "重点人员聚集",
            "key_person_missing": "疑似脱管", "off_post": "脱岗", "device_offline": "设备离线"}
ACTIONS_ZH = {"open": "告警产生", "update": "证据更新", "clear": "条件解除", "ack": "确认", "dispatch": "派警",
              "on_scene": "到场", "resolve": "处置反馈", "close": "归档", "escalate": "升级", "remind": "催办",
              "receipt": "接单"}
STATE_ZH = {"on_post": "在岗", "off_post": "脱岗", "silent": "失联", "no_position": "无定位"}


def level_badge(level: str) -> html.Span:
    return html.Span(LEVELS_ZH.get(level, level), className=f"lvl lvl-{level}")


def status_badge(status: str) -> html.Span:
    return html.Span(STATUS_ZH.get(status, status), className=f"st st-{status}")


def fmt_time(ctx: AppContext, value: datetime | str | None, with_date: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:

        value = value.replace(tzinfo=UTC)
    return value.astimezone(ctx.tz).strftime("%m-%d %H:%M:%S" if with_date else "%H:%M:%S")


def fmt_secs(secs: float | None) -> str:
    if secs is None:
        return "—"
    secs = int(round(secs))
    return f"{secs // 60}分{secs % 60:02d}秒" if secs >= 60 else f"{secs}秒"


def fmt_m(metres: float | None) -> str:
    if metres is None:
        return "—"
    return f"{metres / 1000:.1f} km" if metres >= 1000 else f"{metres:.0f} m"


def timeline(ctx: AppContext, history: Iterable[dict[str, Any]]) -> html.Ul:
    """The audit trail of an alert: when, who, from where, what, note."""
    items = []
    for h in history:
        who = h.get("actor") or "system"
        where = f" · {h['remote_addr']}" if h.get("remote_addr") else ""
        unit = f" → {h['unit_id']}" if h.get("unit_id") and h.get("action") in ("dispatch", "receipt") else ""
        items.append(html.Li(className=f"tl-{h.get('action')}", children=[
            html.Span(fmt_time(ctx, h.get("at"), True) + " ", className="desk-muted"),
            html.Span(ACTIONS_ZH.get(h.get("action"), h.get("action")) + unit + " "),
            html.Span(who + where, className="who"),
            html.Div(h["note"], className="desk-muted") if h.get("note") else None,
        ]))
    return html.Ul(items, className="desk-timeline")


def point_map(points: list[tuple[float, float, str, str]], height: int = 160) -> html.Div:
    """Points (lat, lon, kind, label) placed by their relative positions in a small box (no tiles: offline)."""
    points = [p for p in points if p[0] is not None and p[1] is not None]
    if not points:
        return html.Div(className="desk-spot-map", style={"height": f"{height}px"})
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    pad = 0.0005
    s, n = min(lats) - pad, max(lats) + pad
    w, e = min(lons) - pad, max(lons) + pad
    dots = []
    for lat, lon, kind, label in points:
        x = 6 + 88 * (lon - w) / (e - w)
        y = 6 + 88 * (n - lat) / (n - s)
        dots.append(html.Div(className=f"desk-map-dot {kind}", title=label,
                             style={"left": f"{x:.1f}%", "top": f"{y:.1f}%"}))
        dots.append(html.Span(label, className="desk-muted",
                              style={"position": "absolute", "left": f"calc({x:.1f}% + 8px)",
                                     "top": f"calc({y:.1f}% - 8px)", "fontSize": "12px"}))
    return html.Div(dots, className="desk-spot-map", style={"height": f"{height}px"})
