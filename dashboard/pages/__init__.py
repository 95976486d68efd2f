"""Dashboard pages, one module each, all with the same shape (see ``base.Page``).

``load_pages()`` imports every page module listed in ``PAGE_MODULES`` (each registers its page on import)
and returns them in navigation order. Importing is deferred to that call because page modules use the
shared components, which themselves read the registry in ``base``.
"""

from __future__ import annotations

import importlib

from dashboard.pages.base import PAGES, Page

PAGE_MODULES = ("wall", "alerts", "duty", "patrol", "assessment", "admin", "persons", "videopatrol",
                "cases_links")


def load_pages() -> list[Page]:
    """Import (once) and return every page, navigation order."""
    for name in PAGE_MODULES:
        importlib.import_module(f"{__name__}.{name}")
    return list(PAGES)


__all__ = ["PAGES", "Page", "load_pages"]
