"""The assessment's columns (CONTRACT §8) and the pure computations behind them, one small function per source.

Counts are integers, rates are percentages with one decimal (0–100, as the wall shows them), the mean
satisfaction has two decimals; a figure whose denominator is zero is None, and a figure whose source is not
installed (cases, visits, grid workers before their branches land) is None too, shown as "—": never a
made-up zero. Every function takes plain rows, so the tests feed hand-computed fixtures.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

# (column, kind): kind is count | rate | mean. The order is the API's, the CSV's and the desk's.
FIGURES: tuple[tuple[str, str], ...] = (
    ("cases_reported", "count"), ("cases_accepted_in_time", "count"), ("cases_handled_on_time", "count"),
    ("cases_overdue", "count"), ("cases_returned", "count"), ("satisfaction_mean", "mean"),
    ("visits_due", "count"), ("visits_done", "count"),
    ("workers", "count"), ("workers_online", "count"), ("workers_online_rate", "rate"),
    ("patrol_on_post_rate", "rate"), ("spot_checks", "count"), ("spot_checks_on_post", "count"),
    ("spot_checks_passed", "count"),
    ("alerts", "count"), ("alerts_dispatched", "count"), ("alerts_135", "count"), ("attainment_135_rate", "rate"),
    ("alerts_resolved", "count"), ("resolution_rate", "rate"),
    ("camera_coverage_rate", "rate"), ("camera_online_rate", "rate"), ("camera_good_rate", "rate"),
)
COLUMNS = tuple(name for name, _ in FIGURES)
KIND = dict(FIGURES)
LOWER_IS_BETTER = frozenset({"cases_overdue", "cases_returned"})  # ranked ascending, a rise shown as worse

# "1-3-5" (docs/alerts.md, the wall's 1-3-5达标率): seconds from opening to acknowledged, dispatched, on scene.
LIMITS_135 = {"ack": 60, "dispatch": 180, "on_scene": 300}
RESOLVED = ("resolved", "closed")


def rate(n: float, total: float) -> float | None:
    """n / total as a percentage with one decimal; None when there is nothing to measure. Honest at the ends:
    100 only when all, 0 only when none (23,999 of 24,000 is 99.9, never 100; 1 of 24,000 is 0.1, never 0)."""
    if not total:
        return None
    value = round(100.0 * n / total, 1)
    if n < total and value >= 100.0:
        return 99.9
    if n > 0 and value <= 0.0:
        return 0.1
    return value


def _secs(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    aware = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in (start, end)]  # SQLite gives naive UTC
    return (aware[1] - aware[0]).total_seconds()


def met_135(opened: datetime, ack: datetime | None, dispatched: datetime | None, on_scene: datetime | None) -> bool:
    """True when a dispatched alert was acknowledged within 1 min, dispatched within 3 and on scene within 5."""
    clocks = (_secs(opened, ack), _secs(opened, dispatched), _secs(opened, on_scene))
    return all(s is not None and s <= limit for s, limit in zip(clocks, LIMITS_135.values()))


def alert_figures(rows: Iterable[tuple[Any, ...]]) -> dict[str, Any]:
    """Rows (opened_at, acknowledged_at, dispatched_at, on_scene_at, status) of the alerts opened in a period.

    1-3-5 attainment counts among the dispatched alerts (an alert closed by phone or as a false alarm was
    never meant to have anyone on scene), as the wall has always measured it; 化解率 = resolved or closed
    among all opened."""
    alerts = dispatched = ok = resolved = 0
    for opened, ack, disp, scene, status in rows:
        alerts += 1
        resolved += status in RESOLVED
        if disp is not None:
            dispatched += 1
            ok += met_135(opened, ack, disp, scene)
    return alert_counts(alerts, dispatched, ok, resolved)


def alert_counts(alerts: int, dispatched: int, met: int, resolved: int) -> dict[str, Any]:
    """The alert columns from their four counts (SQL counts them for a period; ``alert_figures`` for rows)."""
    return {"alerts": alerts, "alerts_dispatched": dispatched, "alerts_135": met,
            "attainment_135_rate": rate(met, dispatched), "alerts_resolved": resolved,
            "resolution_rate": rate(resolved, alerts)}


def spot_check_figures(rows: Iterable[tuple[bool, bool, bool, bool]]) -> dict[str, Any]:
    """Rows (on_post, on_route, uniform, equipment) of the spot checks made in a period.

    A check is passed when all four items were found (on post, on route, in uniform, with equipment)."""
    checks = passed = on_post = 0
    for post, route, uniform, equipment in rows:
        checks += 1
        on_post += bool(post)
        passed += bool(post and route and uniform and equipment)
    return {"spot_checks": checks, "spot_checks_on_post": on_post, "spot_checks_passed": passed}


def on_post_figures(sums: tuple[int, int] | None) -> dict[str, Any]:
    """Sums (samples while on shift, samples on post) of the sampled patrol hours: the on-post rate (在岗率),
    time-weighted like the camera rates."""
    samples, on_post = sums or (0, 0)
    return {"patrol_on_post_rate": rate(on_post, samples)}


def camera_figures(sums: tuple[int, int, int, int, int] | None) -> dict[str, Any]:
    """Sums (cells, covered, cameras, online, good) over the hourly aggregates of a period and a group.

    Each is a sum over samples, so the rates are time-weighted: a camera offline half the month counts half."""
    cells, covered, cameras, online, good = sums or (0, 0, 0, 0, 0)
    return {"camera_coverage_rate": rate(covered, cells), "camera_online_rate": rate(online, cameras),
            "camera_good_rate": rate(good, cameras)}


def change(now: Any, before: Any) -> float | None:
    """The change of a figure against the previous period (points for a rate); None when either is missing."""
    if now is None or before is None:
        return None
    return round(now - before, 2)


def display(value: Any, column: str) -> str:
    """A figure as screens and the printed review show it ("—" when missing); the CSV holds the bare number."""
    if value is None:
        return "—"
    kind = KIND[column]
    return f"{value}%" if kind == "rate" else (f"{value:.2f}" if kind == "mean" else str(value))
