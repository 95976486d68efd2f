"""``GET /assessment/review?month=YYYY-MM-DD``: the printable monthly review (月度考核报告), server-rendered.

A plain HTML page made for paper (A4 landscape, black on white, no scripts but the print button): the month's
figures by district, by community and by patrol unit, each with the previous month beside it. Same rows as
``/api/assessment?period=month`` (the module computes both), the same access rules (supervisor, admin, cut to
the account's scope); opened from the desk's 月度考核报告 link.
"""

from __future__ import annotations

from datetime import date, datetime, time

from flask import Blueprint, Response, g, request
from markupsafe import escape

from assessment import figures, people, report
from dashboard.api.assessment import ROLES
from dashboard.api.common import authed, error as _error
from dashboard.context import app_context
from dashboard.desk import data

bp = Blueprint("assessment_review", __name__)
SECTIONS = ("district", "community", "unit")
STYLE = """
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "Noto Sans SC", sans-serif; color: #000; background: #fff; font-size: 11px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 16px 0 6px; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; } tr { page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: 2px 4px; } td.num { text-align: right; white-space: nowrap; }
.prev { color: #555; } .meta { color: #333; margin: 2px 0; }
@media print { .noprint { display: none; } }
"""


@bp.get("/assessment/review")
@authed
def review() -> Response:
    if g.actor.role not in ROLES:
        return _error(403, f"role {g.actor.role} may not read the assessment")
    ctx = app_context()
    t = ctx.t
    try:
        day = date.fromisoformat(request.args.get("month") or ctx.now().date().isoformat())
    except ValueError:
        return _error(400, "month must be YYYY-MM-DD (a day of the month)")
    at = datetime.combine(day, time(12), ctx.tz)
    scope = data.visible_communities(ctx, g.actor)
    reg = data.registry(ctx)
    parts = []
    label = previous = ""
    for by in SECTIONS:
        people.configure(ctx.settings)  # the acceptance limit and visit cadence in force
        rep = report.assess(ctx.engine, reg, "month", by, ctx.now(), ctx.settings.city.timezone, scope=scope, at=at)
        label, previous = rep.period.label, rep.previous.label
        head = "".join(f"<th>{escape(t('assess.fig.' + c))}</th>" for c in figures.COLUMNS)
        rows = []
        for r in rep.rows:
            cells = "".join(f'<td class="num">{escape(figures.display(r[c], c))}<br><span class="prev">'
                            f'{escape(figures.display(r["previous"][c], c))}</span></td>' for c in figures.COLUMNS)
            rows.append(f"<tr data-key=\"{escape(r['key'])}\"><td>{escape(r['name'])}</td>{cells}</tr>")
        body = "".join(rows) or f'<tr><td colspan="{len(figures.COLUMNS) + 1}">{escape(t("assess.no_rows"))}</td></tr>'
        parts.append(f"<h2>{escape(t('assess.by.' + by))}</h2><table><tr><th>{escape(t('assess.name'))}</th>"
                     f"{head}</tr>{body}</table>")
    node = reg.node(g.actor.scope_node_id) if g.actor.scope_node_id else None
    meta = [t("assess.period_label", label=label, previous=previous) + f" · {t('assess.current')} / "
            f"{t('assess.previous')}",
            t("assess.review.scope", scope=node.name if node else t("assess.city")),
            t("assess.review.generated", time=ctx.now().strftime("%Y-%m-%d %H:%M"), user=g.actor.username)]
    html = (f"<!DOCTYPE html><html lang=\"{'zh-CN' if ctx.settings.dashboard.language == 'zh' else 'en-GB'}\">"
            f"<head><meta charset=\"utf-8\"><title>{escape(t('assess.review.title'))} {escape(label)}</title>"
            f"<style>{STYLE}</style></head><body>"
            f"<button class=\"noprint\" onclick=\"window.print()\">{escape(t('assess.review.print'))}</button>"
            f"<h1>{escape(ctx.settings.dashboard.center_name)} · {escape(t('assess.review.title'))} {escape(label)}</h1>"
            + "".join(f'<p class="meta">{escape(m)}</p>' for m in meta) + "".join(parts) + "</body></html>")
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-store"})
