"""A heat's results for the facilitator: CSV for a spreadsheet, and one self-contained HTML page
(the leaderboard, the equity curves of the top and bottom players, and the market's story).

Names are escaped in the page (people typed them); a CSV cell that a spreadsheet would read as a
formula (``=``, ``+``, ``-``, ``@`` first) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from html import escape

from engine.clock import fmt_hhmm

from .store import RoomStore

COLUMNS = ("rank", "name", "status", "sim_time", "equity_usd", "pnl_usd", "score", "stars",
           "adl_hits", "survived")


def rows(store: RoomStore, heat_id: int) -> list[dict]:
    """The leaderboard as plain rows."""
    out = []
    for rank, t in enumerate(store.leaderboard(heat_id), start=1):
        r = t.result or {}
        out.append({"rank": rank, "name": t.name,
                     "status": "finished" if t.finished else
                     ("playing" if t.sim_clock is not None else "in the lobby"),
                     "sim_time": None if t.sim_clock is None else fmt_hhmm(t.sim_clock),
                     "equity_usd": t.equity_usd, "pnl_usd": r.get("pnl_usd"),
                     "score": r.get("score"), "stars": r.get("stars"),
                     "adl_hits": r.get("adl_hits"), "survived": r.get("survived")})
    return out


def _cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(store: RoomStore, heat_id: int) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows(store, heat_id):
        writer.writerow([_cell(r[c]) for c in COLUMNS])
    return buf.getvalue()


def _curves_svg(curves: list[tuple[str, list[tuple[int, float]]]]) -> str:
    """Equity against sim time, one line per player."""
    points = [p for _, c in curves for p in c]
    if not points:
        return ""
    w, h, left, top, bottom = 760, 280, 70, 20, 30
    t0, t1 = min(p[0] for p in points), max(p[0] for p in points)
    e0, e1 = min(p[1] for p in points), max(p[1] for p in points)
    tspan, espan = (t1 - t0) or 1, (e1 - e0) or 1.0

    def xy(t, e):
        return (left + (t - t0) / tspan * (w - left - 20),
                top + (1 - (e - e0) / espan) * (h - top - bottom))
    colours = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="11"><rect width="100%" height="100%" '
           f'fill="white"/>']
    for k, (name, curve) in enumerate(curves):
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, e) for t, e in curve))
        colour = colours[k % len(colours)]
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + 6}" y="{top + 14 * (k + 1)}" fill="{colour}">'
                   f'{escape(name)}</text>')
    out.append(f'<text x="{left}" y="{h - 8}">{escape(fmt_hhmm(t0))}</text>')
    out.append(f'<text x="{w - 60}" y="{h - 8}">{escape(fmt_hhmm(t1))}</text>')
    out.append(f'<text x="4" y="{top + 8}">${e1:,.0f}</text>')
    out.append(f'<text x="4" y="{h - bottom}">${e0:,.0f}</text>')
    out.append("</svg>")
    return "\n".join(out)


def to_html(store: RoomStore, heat_id: int, story: list[str] | None = None) -> str:
    """The heat's page: leaderboard, the top and bottom players' equity curves, and ``story``
    (lines of the market's story: what happened in the heat's crash)."""
    heat = store.heat(heat_id)
    board = store.leaderboard(heat_id)
    picked = board[:2] + [t for t in board[-2:] if t not in board[:2]]
    curves = [(t.name, store.curve(t.id)) for t in picked]
    table = "".join("<tr>" + "".join(f"<td>{escape('' if r[c] is None else str(r[c]))}</td>"
                                     for c in COLUMNS) + "</tr>" for r in rows(store, heat_id))
    head = "".join(f"<th>{c}</th>" for c in COLUMNS)
    told = "".join(f"<li>{escape(line)}</li>" for line in (story or []))
    title = f"Heat {heat.id}: {heat.level}" + (f" ({heat.variant})" if heat.variant else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:4px 8px}}th{{background:#f6f6f6}}</style></head><body>
<h1>{escape(title)}</h1><p>Seed {heat.seed}; {len(board)} trainees.</p>
<h2>Leaderboard</h2><table><tr>{head}</tr>{table}</table>
<h2>Equity: the top and the bottom of the board</h2>{_curves_svg(curves)}
<h2>The market's story</h2><ul>{told}</ul>
</body></html>
"""


def market_story(summary: dict) -> list[str]:
    """What the heat's crash did, from a run summary (the market is the same for every trainee:
    one level, one seed)."""
    liq, adl = summary["liquidations"], summary["adl"]
    lines = [f"{t} HKT: {name} pulled its quotes" for t, name, s in
             summary.get("market_makers", []) if s == "pulled"][:5]
    lines.append(f"Liquidations: ${liq['notional_usd']:,.0f} locally, the peak minute at "
                 f"{liq['peak_minute'] or '—'} HKT")
    lines.append(f"ADL: {adl['count']:,} fills, ${adl['notional_usd']:,.0f}, first at "
                 f"{adl['first_at'] or '—'}")
    for sym, v in summary["symbols"].items():
        lines.append(f"{sym}: low {v['low']:,} at {v['low_at']}, drawdown "
                     f"{v['max_drawdown_pct']:.1f}%")
    return lines
