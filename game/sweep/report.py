"""A sweep's report as one self-contained HTML file (inline SVG charts, no scripts, nothing
fetched), and its main chart as an SVG file of its own for a README.

Charts: the ADL profit each policy took against the budget that was needed (the main chart);
the overshoot's distribution per variant; the paired difference of each variant against the
baseline on the same seeds with its bootstrap 95% interval; distributions of the liquidated
notional, the largest haircut's share and the player's PnL. Tables: every summary metric, and
the seeds where each variant did worst, with the command that replays the run.
"""

from __future__ import annotations

from html import escape

from .summary import KEY_METRICS, fmt

W, ROW, LEFT, RIGHT, TOP = 760, 26, 170, 40, 44
COLOURS = {"bar": "#4c78a8", "range": "#9ecae9", "mean": "#e45756", "needed": "#54a24b",
           "axis": "#888", "text": "#222"}


def _bounds(lo: float, hi: float, zero: bool) -> tuple[float, float]:
    """The axis: with ``zero`` (a difference) always through 0; else 0 only when the values
    come within a third of their span of it, padded by 5%."""
    if zero or (lo > 0 and lo < (hi - lo) / 3) or (hi < 0 and -hi < (hi - lo) / 3):
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = (hi - lo) * 0.05 or max(abs(hi), 1.0) * 0.05
    return (lo if lo == 0 else lo - pad), (hi if hi == 0 else hi + pad)


def _scale(lo: float, hi: float):
    span = (hi - lo) or 1.0
    return lambda v: LEFT + (v - lo) / span * (W - LEFT - RIGHT)


def _frame(title: str, n: int, x, lo: float, hi: float, key: str, note: str = "") -> list[str]:
    h = TOP + n * ROW + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{h}" '
           f'viewBox="0 0 {W} {h}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<text x="10" y="18" font-size="14" font-weight="bold" fill="{COLOURS["text"]}">'
           f'{escape(title)}</text>']
    if note:
        out.append(f'<text x="10" y="34" fill="#555">{escape(note)}</text>')
    base = TOP + n * ROW
    for k in range(5):
        v = lo + (hi - lo) * k / 4
        out.append(f'<line x1="{x(v):.1f}" y1="{TOP - 6}" x2="{x(v):.1f}" y2="{base}" '
                   f'stroke="#eee"/>')
        out.append(f'<text x="{x(v):.1f}" y="{base + 16}" text-anchor="middle" '
                   f'fill="{COLOURS["axis"]}">{escape(fmt(key, v))}</text>')
    if lo <= 0 <= hi:
        out.append(f'<line x1="{x(0):.1f}" y1="{TOP - 6}" x2="{x(0):.1f}" y2="{base}" '
                   f'stroke="{COLOURS["axis"]}"/>')
    return out


def range_chart(title: str, key: str, rows: list[tuple[str, dict]], note: str = "",
                needed: dict[str, float] | None = None) -> str:
    """Per variant: the p5–p95 range, the median tick, the mean dot (and a needed marker)."""
    rows = [(label, d) for label, d in rows if d.get("n")]
    if not rows:
        return ""
    values = [d[k] for _, d in rows for k in ("p5", "p95", "mean")]
    values += list((needed or {}).values())
    lo, hi = _bounds(min(values), max(values), zero=False)
    x = _scale(lo, hi)
    out = _frame(title, len(rows), x, lo, hi, key, note)
    for i, (label, d) in enumerate(rows):
        y = TOP + i * ROW + ROW / 2
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<rect x="{x(d["p5"]):.1f}" y="{y - 7:.1f}" '
                   f'width="{max(1.0, x(d["p95"]) - x(d["p5"])):.1f}" height="14" '
                   f'fill="{COLOURS["range"]}"/>')
        out.append(f'<line x1="{x(d["p50"]):.1f}" y1="{y - 9:.1f}" x2="{x(d["p50"]):.1f}" '
                   f'y2="{y + 9:.1f}" stroke="{COLOURS["bar"]}" stroke-width="2"/>')
        out.append(f'<circle cx="{x(d["mean"]):.1f}" cy="{y:.1f}" r="4" '
                   f'fill="{COLOURS["mean"]}"/>')
        if needed and label in needed:
            nx = x(needed[label])
            out.append(f'<line x1="{nx:.1f}" y1="{y - 10:.1f}" x2="{nx:.1f}" y2="{y + 10:.1f}" '
                       f'stroke="{COLOURS["needed"]}" stroke-width="3"/>')
    out.append("</svg>")
    return "\n".join(out)


def diff_chart(title: str, key: str, rows: list[tuple[str, dict]], note: str = "") -> str:
    """Per variant: the mean paired difference against the baseline and its 95% interval."""
    rows = [(label, d) for label, d in rows if d.get("n")]
    if not rows:
        return ""
    values = [v for _, d in rows for v in (d["mean"], *d["ci95"])]
    lo, hi = _bounds(min(values), max(values), zero=True)
    x = _scale(lo, hi)
    out = _frame(title, len(rows), x, lo, hi, key, note)
    for i, (label, d) in enumerate(rows):
        y = TOP + i * ROW + ROW / 2
        a, b = d["ci95"]
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        out.append(f'<line x1="{x(a):.1f}" y1="{y:.1f}" x2="{x(b):.1f}" y2="{y:.1f}" '
                   f'stroke="{COLOURS["bar"]}" stroke-width="3"/>')
        out.append(f'<circle cx="{x(d["mean"]):.1f}" cy="{y:.1f}" r="4" '
                   f'fill="{COLOURS["mean"]}"/>')
    out.append("</svg>")
    return "\n".join(out)


def main_chart(summary: dict) -> str:
    """The ADL profit each variant took (p5–p95, median, mean) against the mean budget that was
    needed (the green marker)."""
    per = summary["metrics"]["adl_taken_usd"]
    needed = {v: summary["metrics"]["adl_needed_usd"][v]["dist"].get("mean")
              for v in summary["variants"]}
    return range_chart(
        f"ADL: profit taken from winners per policy, {summary['seeds']} seeds",
        "adl_taken_usd", [(v, per[v]["dist"]) for v in summary["variants"]],
        "bar: p5–p95 · tick: median · red dot: mean · green line: the mean budget needed",
        {v: n for v, n in needed.items() if n is not None})


def html_report(summary: dict, command: str = "") -> str:
    """The whole report (one HTML document)."""
    variants = summary["variants"]
    m = summary["metrics"]
    base = variants[0] if variants else "baseline"
    others = variants[1:]
    parts = [main_chart(summary)]
    for key, label in (("adl_overshoot_usd", "ADL overshoot: profit taken beyond the need"),
                       ("liquidated_usd", "liquidated notional"),
                       ("adl_max_share", "largest single haircut, share of the total"),
                       ("pnl_player_usd", "the player's PnL")):
        parts.append(range_chart(f"{label}, per variant", key,
                                 [(v, m[key][v]["dist"]) for v in variants],
                                 "bar: p5–p95 · tick: median · red dot: mean"))
    for key, label in (("adl_overshoot_usd", "ADL overshoot"),
                       ("adl_taken_usd", "ADL profit taken"),
                       ("liquidated_usd", "liquidated notional")):
        parts.append(diff_chart(f"{label}: each variant − {base}, same seeds", key,
                                [(v, m[key][v].get("vs_baseline", {})) for v in others],
                                "line: bootstrap 95% interval of the mean difference · dot: mean"))
    head = "".join(f"<th>{escape(v)}</th>" for v in variants)
    body = []
    for key, label in KEY_METRICS:
        cells = "".join(
            f"<td>{escape(fmt(key, m[key][v]['dist'].get('mean')))}"
            f"<br><small>± {escape(fmt(key, m[key][v]['dist'].get('sd')))}</small></td>"
            for v in variants)
        body.append(f"<tr><th>{escape(label)}</th>{cells}</tr>")
    worst_key = summary["worst_metric"]
    worst = []
    for v in variants:
        for w in summary["worst"][v]:
            worst.append(f"<tr><td>{escape(v)}</td><td>{w['seed']}</td>"
                         f"<td>{escape(fmt(worst_key, w[worst_key]))}</td>"
                         f"<td><code>{escape(w['replay'])}</code></td></tr>")
    title = f"crashfloor sweep: {summary.get('level', '')}"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>body{{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}}
table{{border-collapse:collapse;margin:12px 0}}td,th{{border:1px solid #ddd;padding:4px 8px;
text-align:right}}th{{background:#f6f6f6}}td:first-child,th:first-child{{text-align:left}}
svg{{display:block;margin:16px 0}}code{{font-size:11px}}</style></head><body>
<h1>{escape(title)}</h1>
<p>{summary['runs']} runs: {len(variants)} variants × {summary['seeds']} seeds, paired on the
same seeds. {escape(command)}</p>
{''.join(p for p in parts if p)}
<h2>Every metric: mean ± sd over the seeds</h2>
<table><tr><th>metric</th>{head}</tr>{''.join(body)}</table>
<h2>Where each variant did worst ({escape(worst_key)})</h2>
<table><tr><th>variant</th><th>seed</th><th>{escape(worst_key)}</th><th>replay</th></tr>
{''.join(worst)}</table>
</body></html>
"""
