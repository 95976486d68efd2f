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

# ---------------------------------------------------------------- wall screen, live layer (issue #6)
MAP_DEVICES = "city-map-devices"
MAP_PATROL = "city-map-patrol"
MAP_ALERTS = "city-map-alerts"
MAP_LABELS = "city-map-labels"            # names of the drilled area's parts
MAP_LEGEND = "city-map-legend"
MAP_SCOPE_NAME = "city-map-scope-name"    # the drilled area's own name over the map
MAP_CRUMB = "city-map-crumb"              # pattern-matching type of the breadcrumb buttons
MAP_SCOPE = "city-map-scope"              # store: the drill-down node (None = whole city)
MAP_MODE = "city-map-mode"                # store: "alert" | "density"
MAP_MODE_BUTTON = "city-map-mode-button"
WALL_REQUEST = "wall-refresh-request"     # store: a refresh the browser asked for (gated: one at a time)
WALL_STATUS = "wall-refresh-status"       # store: {ok, at} of the last refresh
WALL_HASHES = "wall-refresh-hashes"       # store: hash per section the browser already shows
WALL_STALE = "wall-stale-banner"
KPI_GRID = "wall-kpi-grid"
KPI_LEVELS = "wall-kpi-levels"
CHART_HOURLY = "wall-chart-hourly"
CHART_HEAT = "wall-chart-heat"
CAMERA_STATUS = "camera-wall-status"      # store: per-camera online state, applied to the tiles in the browser
CAMERA_SINK = "camera-wall-sink"
FEED_ITEM = "alert-feed-item"             # pattern-matching type of the feed items
ALERT_DETAIL = "wall-alert-detail"
ALERT_DETAIL_CLOSE = "wall-alert-detail-close"
