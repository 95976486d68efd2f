"""Every Dash component id, in one place.

The four wall ids are part of the external contract (CONTRACT §4: acceptance tests and kiosk tooling find
them); the rest are internal but still spelled once, here, so a page and its callbacks cannot drift apart.
"""

from __future__ import annotations

# ---------------------------------------------------------------- app shell
LOCATION = "url"
PAGE_CONTENT = "page-content"
PAGE_TITLES = "page-titles"
PAGE_TITLE = "page-title"

# ---------------------------------------------------------------- wall screen: contract ids (CONTRACT §4)
KPI_OPEN_ALERTS = "kpi-open-alerts"
ALERT_FEED = "alert-feed"
CITY_MAP = "city-map"
CAMERA_WALL = "camera-wall"

# ---------------------------------------------------------------- wall screen: internal ids
WALL_CANVAS = "wall-canvas"
CLOCK_TIME = "wall-clock-time"
CLOCK_DATE = "wall-clock-date"
CLOCK_TICK = "wall-clock-tick"
CLOCK_CONFIG = "wall-clock-config"
DATA_AS_OF = "wall-data-as-of"
DATA_AS_OF_STORE = "wall-data-as-of-store"
LIVE_TICK = "wall-live-tick"
MAP_DISTRICTS = "city-map-districts"
MAP_COMMUNITIES = "city-map-communities"
MAP_CELLS = "city-map-cells"
MAP_FOCUS = "city-map-focus"
MAP_BREADCRUMB = "city-map-breadcrumb"
MAP_RESET = "city-map-reset"
