"""The dashboard process: the wall screen (一屏观全城), the desk pages and the HTTP API, on one server.

Where things live:
  app.py        ``create_app(settings)``: the steps that build the Dash app
  server.py     ``DashboardWorker``: the app served by waitress in the common worker shape
  context.py    what one app's pages, callbacks and blueprints share (settings, texts, Redis, SQL, registry)
  registry.py   the immutable snapshot of the city registry the screens draw
  ids.py        every component id (the CONTRACT §4 ones first)
  i18n.py       screen texts, Chinese default, English available
  pages/        one module per page, registered in ``pages.base.PAGES``
  components/   pure builders shared by pages (map, panels, navigation)
  api/          one Flask blueprint per endpoint family (health, metrics; alerts and cameras later)
  assets/       CSS and JS served by the app itself: nothing is ever loaded from the internet
"""
