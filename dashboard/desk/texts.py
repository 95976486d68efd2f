"""Screen texts of sign-in and the desk pages, merged into ``dashboard.i18n.TEXTS`` (same keys in both)."""

from __future__ import annotations

DESK_TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "login.title": "用户登录",
        "login.username": "用户名",
        "login.password": "密码",
        "login.submit": "登录",
        "login.wrong": "用户名或密码错误",
        "login.missing": "请输入用户名和密码",
        "login.expired": "页面已过期，请重新登录",
        "login.locked": "登录失败次数过多，请 {minutes} 分钟后再试",
        "auth.forbidden": "无权访问此页面 (403)",
        "auth.home": "返回我的首页",
        "auth.logout": "退出",
        "role.operator": "值班员",
        "role.duty": "执勤民警",
        "role.supervisor": "值班领导",
        "role.admin": "管理员",
    },
    "en": {
        "login.title": "Sign in",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Sign in",
        "login.wrong": "Wrong username or password",
        "login.missing": "Enter a username and a password",
        "login.expired": "The page expired, please sign in again",
        "login.locked": "Too many failed sign-ins; try again in {minutes} minutes",
        "auth.forbidden": "You may not open this page (403)",
        "auth.home": "Go to my start page",
        "auth.logout": "Sign out",
        "role.operator": "Operator",
        "role.duty": "Duty officer",
        "role.supervisor": "Supervisor",
        "role.admin": "Administrator",
    },
}
