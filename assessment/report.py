"""One call for every reader (API, CSV, desk, printable review): the rows of a ranking with the previous
period beside each, cut to the caller's scope.

Figures of the current period are to date (``periods.to_date``); the previous period is whole. A row is
``{"by", "key", "name", "parent", "period", "from", "to", <figures…>, "previous": {<figures…>}}``; the CSV
is the same rows with ``previous`` flattened into ``previous.<figure>`` columns.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from assessment import figures, groupings, periods, sources

BASE_COLUMNS = ("by", "key", "name", "parent", "period", "from", "to")
CSV_COLUMNS = BASE_COLUMNS + figures.COLUMNS + tuple(f"previous.{c}" for c in figures.COLUMNS)


class BadRequest(ValueError):
    """A period or grouping that does not exist (the API's 400)."""


@dataclass
class Report:
    period: periods.Period
    previous: periods.Period
    by: str
    rows: list[dict[str, Any]]
    unavailable: list[str]  # pending providers: their columns are None


def check(period: str | None, by: str | None) -> tuple[str, str]:
    """The period and grouping asked for, or BadRequest naming the allowed values."""
    if period not in periods.KINDS:
        raise BadRequest(f"period must be one of {', '.join(periods.KINDS)}")
    if by not in groupings.GROUPINGS:
        raise BadRequest(f"by must be one of {', '.join(groupings.GROUPINGS)}")
    return period, by


def _figures(session: Session, spans: list[periods.Period], by: str, communities: set[str] | None,
             keys: list[str]) -> list[dict[str, dict[str, Any]]]:
    """Every provider's figures of each period (back to back, oldest first), one pass per provider."""
    utc = [p.utc() for p in spans]
    out = [{k: dict.fromkeys(figures.COLUMNS) for k in keys} for _ in spans]
    for p in sources.PROVIDERS.values():
        if not p.available or by not in p.groupings:
            continue
        got = p.compute_spans(session, utc, by, communities) if communities != set() else [{} for _ in spans]
        for figs, seen in zip(out, got, strict=True):
            for k in keys:
                figs[k].update(seen.get(k) or p.empty())
    return out


def assess(engine: Engine, registry: Any, kind: str, by: str, now: datetime, tz: str,
           scope: set[str] | None = None, within: str | None = None, at: datetime | None = None) -> Report:
    """The ranking of grouping ``by`` for the ``kind`` period containing ``at`` (default ``now``), inside
    ``scope`` (the user's communities, None = city) and ``within`` (a drill-down node)."""
    kind, by = check(kind, by)
    whole = periods.period_of(kind, at or now, tz)
    current, before = periods.to_date(whole, now), periods.previous(whole)
    communities = groupings.communities_within(registry, within, scope)
    with Session(engine) as session:
        rows = groupings.registry_rows(registry, by, communities)
        for p in sources.PROVIDERS.values():
            if p.available and p.rows is not None and by in p.groupings:
                rows += p.rows(session, by, communities)
        keys = [k for k, _, _ in rows]
        prev_figs, now_figs = _figures(session, [before, current], by, communities, keys)
    out = []
    label, start, end, before_label = (whole.label, current.start.isoformat(),
                                       current.end.replace(microsecond=0).isoformat(), before.label)
    for key, name, parent in rows:
        out.append({"by": by, "key": key, "name": name, "parent": parent, "period": label, "from": start, "to": end,
                    **now_figs[key], "previous": {"period": before_label, **prev_figs[key]}})
    pending = [p.name for p in sources.PROVIDERS.values() if not p.available]
    return Report(whole, before, by, out, pending)


def ranked(rows: list[dict[str, Any]], sort: str | None) -> list[dict[str, Any]]:
    """Best first by figure ``sort`` (a missing figure last, ties by key); None keeps the registry's order.
    The desk's table and the CSV it links to use this one order."""
    if sort is None:
        return rows
    if sort not in figures.KIND:
        raise BadRequest(f"sort must be one of the figures: {', '.join(figures.COLUMNS)}")
    sign = 1 if sort in figures.LOWER_IS_BETTER else -1
    return sorted(rows, key=lambda r: (r[sort] is None, sign * (r[sort] or 0), r["key"]))


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the CSV has it: ``previous`` spread into ``previous.<figure>`` columns."""
    out = {k: v for k, v in row.items() if k != "previous"}
    out.update({f"previous.{c}": row["previous"].get(c) for c in figures.COLUMNS})
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV (UTF-8, header line, empty cell for None)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in flat(row).items()})
    return buf.getvalue()
