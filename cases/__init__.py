"""Cases (事件, CONTRACT §6): what people report (grid workers, hotline, alerts turned into cases), handled in the
closed loop 网格吹哨 → 分级转办 → 处置反馈 → 考核评价 → 事件归档.

``lifecycle`` is the pure table, ``commands`` every write, ``queries`` every scoped read, ``store`` the JSON
of a case, ``photos`` the checks of an uploaded image, ``places`` where a point lies in the grid, ``worker``
the process that reminds overdue cases (督办). The HTTP API (``dashboard/api/cases.py``), the desks (``/grid``,
``/cases``) and the wall are thin adapters over them.
"""
