"""`/duty` (值班调度): placeholder until its issue lands; registered now so the navigation exists."""

from __future__ import annotations

from dashboard.context import AppContext
from dashboard.pages._stub import stub_layout
from dashboard.pages.base import Page, register

PATH = "/duty"
TITLE_KEY = "nav.duty"


def layout(ctx: AppContext):
    """Navigation plus an "under construction" note."""
    return stub_layout(ctx, PATH, TITLE_KEY)


PAGE = register(Page(path=PATH, title_key=TITLE_KEY, order=30, layout=layout))
