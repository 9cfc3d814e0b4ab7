"""Market-maker transparency: each firm's quoted depth now, its stance, when it pulled out."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row, bar

_STATE_STYLES = {"normal": "panel--up", "widened": "panel--accent", "thinning": "panel--warn",
                 "pulled": "panel--bad", "returning": "panel--accent", "quoting": "panel--up",
                 "off": "panel--muted"}


class MakerPanel(LinePanel):
    """Depth is each firm's resting notional within ±1% of mid in the selected symbol; the bar is
    scaled to the firm's calm share of the level's quoted depth."""

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        firms = snap.firms
        if not firms:
            return [Row("no market makers on this level", "panel--muted")]
        name_w = max(len(f.name) for f in firms) + 1
        calm = max([f.calm_usd for f in firms] + [f.depth_usd for f in firms] + [1.0])
        out_w = 10 if any(f.pulled_at is not None for f in firms) else 0
        rows = [self._firm(f, width, name_w, calm, out_w) for f in firms[:height]]
        share = snap.crowd_long_share
        if share is not None and height >= len(rows) + 2:
            # what the firms could see and the crowd could not: its positioning
            label = "crowd long "
            tail = f" {share:.0%} of positions"
            rows += [Row(), Row(label, "panel--muted").add(
                bar(share, max(0, width - len(label) - len(tail))), "panel--warn").add(
                tail, "panel--strong")]
        return rows

    @staticmethod
    def _firm(f, width: int, name_w: int, calm: float, out_w: int) -> Row:
        style = _STATE_STYLES.get(f.state, None)
        pulled = f" out {fmt.hhmm(f.pulled_at)}" if f.pulled_at is not None else " " * out_w
        depth = f" {fmt.usd_short(f.depth_usd):>7}"
        row = Row(f.name.ljust(name_w), "panel--mine" if f.mine else "panel--strong")
        row.add(f.state.ljust(10), style)
        bar_w = max(0, width - row.width - len(depth) - len(pulled))
        row.add(bar(f.depth_usd / calm, bar_w), style)
        row.add(depth, "panel--muted")
        return row.add(pulled, "panel--bad")
