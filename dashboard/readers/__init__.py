"""The dashboard's data reads: SQL and Redis are touched here and nowhere under ``components/``.

- ``snapshot``: the one registry snapshot of an app (geometry for the map, the wall's scope index, the desks'
  and API's lookups), with one freshness: reloaded when ``onescreen city import`` bumped the version;
- ``wall``: what the wall shows per refresh (aggregates, never streams), ``hours``: the hourly counts;
- ``alerts``: one alert with its history and evidence frame, for the wall's alert detail.

Pages call a reader, then hand its plain data to a pure builder in ``components/``.
"""
