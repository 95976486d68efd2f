"""Assessment (考核评价, CONTRACT §8): the figures every level is judged by, per period and grouping.

- ``periods``: day / week / month in the city's zone, and the period before (for the change);
- ``groupings``: which rows a ranking has (district, community, worker, department, unit) within a scope;
- ``figures``: the columns and the pure computations, one small function per source;
- ``sources``: the providers that read each source from SQL (alerts, spot checks, camera-health hours) and
  the registry the cases / key-persons code registers its providers into;
- ``cameras`` + ``sampler``: camera health sampled from Redis into hourly SQL aggregates by a worker;
- ``report``: one call that builds the rows for the API, the desk, the CSV and the wall.
"""
