"""The city registry: bundle files, database import/export and the in-process lookup cache.

Layout, in data-flow order: ``records`` (typed records, RegistryError), ``files`` (raw GeoJSON/CSV/YAML in
and out), ``validate`` (per-record field rules), ``checks`` (rules across records), ``bundle`` (read/write a
bundle directory: the public entry points), ``credentials`` (RTSP user/password kept out of URLs),
``rows`` (records <-> SQL rows, consistent reads), ``importer``/``exporter`` (database), ``cache``
(lookups on hot paths). The bundle format is specified in docs/registry.md.
"""
