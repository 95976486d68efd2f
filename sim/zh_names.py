"""Chinese place names for the generated city, in the style of Yanping district (延平区), Nanping.

District names are the real streets and towns of Yanping; community names are built from common stems
(real-sounding, not a claim about any real place). ``pick_unique`` keeps names unique within a parent so
the wall's drill-down never shows two communities of the same name side by side.
"""

from __future__ import annotations

import random

DISTRICTS = [
    "梅山街道", "水南街道", "黄墩街道", "四鹤街道", "紫云街道", "水东街道", "来舟镇", "夏道镇", "西芹镇",
    "峡阳镇", "南山镇", "大横镇", "王台镇", "太平镇", "塔前镇", "茫荡镇", "洋后镇", "炉下镇", "樟湖镇",
    "巨口乡", "赤门乡",
]

COMMUNITY_STEMS = [
    "滨江", "玉屏", "府前", "剑津", "光荣", "八一", "新村", "建设", "中山", "胜利", "解放", "江南", "江北",
    "九峰", "双溪", "金山", "东山", "西门", "北门", "南门", "水西", "梅峰", "紫芝", "延福", "安济", "万安",
    "和平", "团结", "朝阳", "新华", "人民", "文化", "三元", "塔下", "龙山", "凤凰", "马站", "安丰", "西溪",
    "大洲", "长安", "碧水", "翠屏", "东坑", "西坑", "南坪", "溪口", "横坑", "岭头", "樟林", "杉洋", "桥头",
    "仙阁", "金桥", "华光", "明翠", "锦江", "半岭", "青州", "峡口", "演仙", "高峰", "下洋", "上洋", "坪山",
    "瑞溪", "锦屏", "茶洋", "溪源", "将口", "洋头", "谷口", "黄坑", "吉溪", "安福", "富屯", "建溪", "沙溪",
]
NUMERALS = "二三四五六七八九十"
COMMUNITY_SUFFIXES = ["社区", "社区", "社区", "村", "居委会"]

DOOR_PLACES = ["东门", "西门", "南门", "北门", "正门", "侧门", "车行道闸", "人行通道", "地下车库入口",
               "单元门", "后门", "消防通道门"]
COMPOUNDS = ["小区", "花园", "家园", "苑", "新城", "公寓", "大厦", "佳园", "雅居"]

CAMERA_PLACES = ["路口", "广场", "主干道", "停车场", "菜市场", "学校门口", "公交站", "河滨步道", "商业街",
                 "桥头", "医院门口", "小区出入口", "农贸市场", "公园"]
POST_PLACES = ["警务岗", "治安岗亭", "巡逻点", "便民警务站", "夜巡点"]
SENSOR_KINDS = ["edge_counter"]

WATCH_CATEGORIES = ["community_correction", "petition", "mental_health", "drug", "released_prisoner"]
WATCH_PLANS = ["每周上门走访，掌握思想动态", "包联民警与网格员双人稳控，重要节点每日联系",
               "联系家属共同监护，按时服药情况每周核实", "化解信访诉求，每两周电话回访",
               "社区矫正期间每周报到，外出须报备"]


def pick_unique(rng: random.Random, pool: list[str], used: set[str], suffix: str = "") -> str:
    """A name from ``pool`` + ``suffix`` not in ``used``; adds a Chinese numeral once the pool runs out."""
    for _ in range(len(pool) * 2):
        name = rng.choice(pool) + suffix
        if name not in used:
            used.add(name)
            return name
    for numeral in NUMERALS:  # 滨江二社区, as cities name a split community
        for stem in pool:
            name = f"{stem}{numeral}{suffix}"
            if name not in used:
                used.add(name)
                return name
    raise ValueError(f"name pool exhausted for suffix {suffix!r}")

# Grid workers' names (网格员) and the departments a community assigns cases to (村社吹哨、部门报到).
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑")
GIVEN_NAMES = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
               "超", "秀英", "华", "建平", "国强", "晓东", "海燕", "丽萍"]
DEPARTMENTS = [("D-GA", "公安"), ("D-CG", "城管"), ("D-ZJ", "住建"), ("D-HB", "环保"), ("D-SFS", "司法所"),
               ("D-WJ", "卫健"), ("D-SCJG", "市场监管"), ("D-YJ", "应急管理"), ("D-XF", "消防"), ("D-JT", "交通"),
               ("D-MZ", "民政"), ("D-XFJ", "信访")]
