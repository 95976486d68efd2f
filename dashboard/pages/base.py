"""The page registry: every page module registers one ``Page`` here when it is imported.

An explicit registry rather than Dash's ``use_pages``: Dash pages keep their layouts and ``dash.callback``
callbacks in process-global lists that the first app to serve a request takes for itself, which breaks the
app factory (tests build several apps in one process). Here a page is a layout function of the
``AppContext`` plus a ``register_callbacks(app, ctx)`` hook that binds callbacks to one app only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dash import Dash
    from dash.development.base_component import Component

    from dashboard.context import AppContext


@dataclass(frozen=True)
class Page:
    """One routable page: URL path, i18n key of its title, layout builder, optional callbacks."""

    path: str
    title_key: str
    order: int
    layout: Callable[[AppContext], Component]
    register_callbacks: Callable[[Dash, AppContext], None] | None = None


PAGES: list[Page] = []


def register(page: Page) -> Page:
    """Add a page (called at import of its module); a second page on one path is a programming error."""
    if any(p.path == page.path for p in PAGES):
        raise ValueError(f"two pages on path {page.path}")
    PAGES.append(page)
    PAGES.sort(key=lambda p: p.order)
    return page
