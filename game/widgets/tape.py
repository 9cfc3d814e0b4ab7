"""The liquidation and ADL tape, newest first: who, what, size, price and which tier took it."""

from __future__ import annotations

from .. import fmt
from .panel import LinePanel, Row

_TIER_CODES = {"book": "book", "fund": "fund", "ADL": "ADL", "book+fund": "b+f",
               "book+ADL": "b+A", "fund+ADL": "f+A", "book+fund+ADL": "bfA"}
_TIER_STYLES = {"book": "panel--muted", "fund": "panel--warn"}


class Tape(LinePanel):
    """``liq·book`` closed in the order book, ``liq·fund`` taken over by the insurance fund,
    ``liq·ADL`` fell through to auto-deleveraging; ``ADL'd`` is a profitable position closed
    against it (with its queue place)."""

    def show(self, snapshot) -> None:
        self.border_subtitle = f"f: {snapshot.tape_filter}"
        super().show(snapshot)

    def build(self, width: int, height: int) -> list[Row]:
        snap = self.snapshot
        if not snap.tape:
            empty = {"all": "no liquidations yet", "liquidations": "no liquidations yet",
                     "ADL": "no ADL yet", "mine": "nothing forced on you yet"}
            return [Row(empty.get(snap.tape_filter, "nothing yet"), "panel--muted")]
        return [self._entry(e, snap, width) for e in snap.tape[:height]]

    @staticmethod
    def _entry(e, snap, width: int) -> Row:
        q = snap.quote(e.symbol)
        wide = width >= 56
        row = Row(fmt.hhmm(e.clock, seconds=wide) + " ", "panel--muted")
        if e.kind == "adl":
            row.add("ADL'd ", "panel--bad")
        else:
            code = _TIER_CODES.get(e.tier, e.tier)
            row.add((f"liq·{code}" if wide else code).ljust(9 if wide else 5) + " ",
                    _TIER_STYLES.get(e.tier, "panel--bad"))
        who = e.who.removeprefix("trader ")
        row.add(who[:9].ljust(6), "panel--mine" if e.mine else "panel--strong")
        side = e.side if wide else e.side[0].upper()
        row.add(f" {side:<{6 if wide else 1}} ", "panel--up" if e.side == "long" else "panel--down")
        row.add(f"{fmt.qty(e.qty, q.qty_decimals)} {e.symbol}")
        price = "" if e.price is None else f" @{fmt.price(e.price, q.decimals)}"
        if row.width + len(price) <= width:  # the price goes first when the tape is narrow
            row.add(price, "panel--muted")
        if e.note and row.width + len(e.note) + 1 <= width:
            row.add(" " + e.note, "panel--muted")
        return row
