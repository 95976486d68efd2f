"""The wall's assessment figures, from the ``assessment`` module: the three 雪亮 camera rates (覆盖率, 在线率,
完好率) in place of the single 视频在线率, and 1-3-5 attainment and 化解率 of today's alerts.

Live, not from the hourly aggregates: the wall shows now, the desk shows periods. Both classify a camera with
``assessment.cameras.classify`` and count alerts with ``assessment.figures.alert_figures``, so the wall and
the ranking cannot disagree on what "online", "good" or "1-3-5 met" means. Each rate comes with its parts (``<key>_parts``: counted, of total) for the KPI's tooltip; the wall's reader
(``readers/wall.py``) calls these, ``panels.KPI_GRID`` lists the tiles.
"""

from __future__ import annotations

import time
from typing import Any


from assessment import cameras, figures
from onescreen import names

KPI_KEYS = ("camera_coverage", "camera_online", "camera_good")
_CELLS: dict[tuple[int, str | None], frozenset[str]] = {}


def read_health(client: Any, ix: Any) -> dict[str, dict[str, Any]]:
    """The health hash fields that matter (state, last frame, image) of every pulled camera, one pipeline."""
    streamed = [c.id for c in ix.cameras if c.streamed]
    pipe = client.pipeline(transaction=False)
    for cid in streamed:
        pipe.hmget(names.camera_health(cid), "state", "last_frame_at", "image")
    return {cid: {"state": st, "last_frame_at": last, "image": image}
            for cid, (st, last, image) in zip(streamed, pipe.execute()) if st}


def _cells(ix: Any, scope: str | None) -> frozenset[str]:
    key = (id(ix), scope)
    if key not in _CELLS:
        if len(_CELLS) > 1024:
            _CELLS.clear()
        _CELLS[key] = frozenset(n for n, lvl in ix.level.items() if lvl == "cell" and ix.inside(n, scope))
    return _CELLS[key]


def camera_rates(ix: Any, scope: str | None, health: dict[str, dict[str, Any]], seen: set[str],
                 now: float | None = None) -> dict[str, float | None]:
    """覆盖率 (cells with an online camera / cells), 在线率 and 完好率 (of registered cameras) in ``scope``."""
    now = time.time() if now is None else now
    cams = ix.cameras_in(scope)
    online = good = 0
    covered: set[str] = set()
    for c in cams:
        v = cameras.classify(health.get(c.id), now if c.id in seen else None, now)
        online += v.online
        good += v.good
        if v.online:
            covered.add(c.cell_id)
    cells = _cells(ix, scope)
    parts = {"camera_coverage": (len(covered & cells), len(cells)), "camera_online": (online, len(cams)),
             "camera_good": (good, len(cams))}
    return {**{key: figures.rate(*p) for key, p in parts.items()},
            **{f"{key}_parts": p for key, p in parts.items()}}


def alert_rates(today: list[tuple[Any, ...]]) -> dict[str, float | None]:
    """1-3-5达标率 and 化解率 of today's alerts; rows as the wall reads them: (district, community, cell,
    status, opened_at, acknowledged_at, dispatched_at, on_scene_at)."""
    got = figures.alert_figures((r[4], r[5], r[6], r[7], r[3]) for r in today)
    return {"rapid_rate": got["attainment_135_rate"], "resolution_rate": got["resolution_rate"],
            "rapid_rate_parts": (got["alerts_135"], got["alerts_dispatched"]),
            "resolution_rate_parts": (got["alerts_resolved"], got["alerts"])}
