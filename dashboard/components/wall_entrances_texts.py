"""Texts of the wall's entrances panel (issue 18), Chinese and English; merged by ``dashboard.i18n``."""

from __future__ import annotations

WALL_ENTRANCE_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "panel.entrances": "出入口人流",
        "ent.today_in": "今日进入", "ent.today_out": "今日离开", "ent.hour": "本小时 进/出",
        "ent.inside": "估算在内",
        "ent.today_in.tip": "今日（本地时间零点起）本区域 {gates} 个计数出入口的进入人次（过线计数，同一人多次进出计多次）",
        "ent.today_out.tip": "今日（本地时间零点起）本区域 {gates} 个计数出入口的离开人次",
        "ent.hour.tip": "本小时（{hour}:00 起）本区域计数出入口的进入 / 离开人次",
        "ent.inside.tip": "估算值：{sites} 个出入口全部计数的场所，零点时在内人数（配置）+ 今日进入 − 今日离开；"
                          "漏计或重计会累积误差，仅供参考",
        "ent.busiest": "今日最繁忙的出入口（进 + 出），右侧为进入 ↓ 与离开 ↑ 人次",
        "ent.gate.tip": "{name}：今日进入 {in_} · 离开 {out}",
        "ent.none": "本区域无计数出入口（摄像机未配置出入口计数线）",
        "ent.quiet": "今日尚无过线",
    },
    "en": {
        "panel.entrances": "Entrances",
        "ent.today_in": "In today", "ent.today_out": "Out today", "ent.hour": "This hour in/out",
        "ent.inside": "Inside (est.)",
        "ent.today_in.tip": "People going in today (since local midnight) through the {gates} counted entrances of "
                            "this area (line crossings: one person going in twice counts twice)",
        "ent.today_out.tip": "People going out today (since local midnight) through the {gates} counted entrances",
        "ent.hour.tip": "In / out through the counted entrances of this area this hour (since {hour}:00)",
        "ent.inside.tip": "An estimate: for the {sites} site(s) whose every entrance is counted, the people inside at "
                          "midnight (configured) + in today − out today; missed or double counts add up, a guide only",
        "ent.busiest": "The busiest entrances today (in + out); on the right in ↓ and out ↑",
        "ent.gate.tip": "{name}: in {in_} · out {out} today",
        "ent.none": "No counted entrance here (no camera has an entrance line)",
        "ent.quiet": "No crossing yet today",
    },
}

# The data-guided-patrol heat map's door events and case hot spots (issue 14), beside the wall's other texts.
HEAT_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "heat.cell.tip": "{where} {hour}时（近7日）：门禁事件 {events} 起 · 上报事件（案件）{cases} 件",
        "heat.cases": "案件",
        "heat.legend.tip": "近7日每个时段：格子颜色按门禁事件数（本地时间，按小时汇总）；圆点表示该时段有网格事件（案件）"
                           "上报，点越大件数越多（1、2、3件及以上），合并的重复上报不计",
    },
    "en": {
        "heat.cell.tip": "{where} {hour}:00 (last 7 days): door events {events} · cases reported {cases}",
        "heat.cases": "Cases",
        "heat.legend.tip": "Each hour of the last 7 days: the colour counts door events (local time, hourly "
                           "aggregates); a dot marks cases reported in that hour, larger for more (1, 2, 3 or "
                           "more); merged duplicate reports are not counted",
    },
}
