"""A readable summary of a headless run, for the terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def _usd(x: float | None) -> str:
    if x is None:
        return "—"
    for unit, size in (("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"${x / size:,.1f}{unit}"
    return f"${x:,.0f}"


def print_summary(s: dict, console: Console | None = None) -> None:
    console = console or Console()
    console.print(f"[bold]{s['level']}[/] seed {s['seed']}  {s['sim_start']}–{s['sim_end']} HKT  "
                  f"checksum {s['checksum']}")
    prices = Table(title="Local prices (last trade)")
    for col in ("symbol", "open", "low", "low at", "close", "max drawdown", "ADL fills"):
        prices.add_column(col, justify="right")
    for sym, v in s["symbols"].items():
        prices.add_row(sym, f"{v['open']:,}", f"{v['low']:,}", v["low_at"], f"{v['close']:,}",
                       f"{v['max_drawdown_pct']:.1f}%", f"{v['adl_fills']:,}")
    console.print(prices)
    liq, adl, oi, depth = s["liquidations"], s["adl"], s["open_interest"], s["tracked_depth"]
    facts = Table(title="The crash", show_header=False)
    facts.add_column(justify="left")
    facts.add_column(justify="right")
    share = liq["long_share"]
    facts.add_row("liquidations", f"{liq['count']:,} positions, {_usd(liq['notional_usd'])}, "
                  f"{share * 100:.0f}% long" if share is not None else "none")
    facts.add_row("peak liquidation minute", liq["peak_minute"] or "—")
    facts.add_row(f"{depth['symbol']} depth ±1%", f"{_usd(depth['start_usd'])} → min "
                  f"{_usd(depth['min_usd'])} at {depth['min_at']}")
    facts.add_row("ADL", f"{adl['count']:,} fills, {_usd(adl['notional_usd'])}, "
                  f"{adl['accounts']:,} accounts, first at {adl['first_at'] or '—'}")
    research = adl.get("research")
    if research and research["accounts_hit"]:
        needed = "" if research["needed_usd"] is None else \
            (f"; needed {_usd(research['needed_usd'])}, overshoot "
             f"{_usd(research['overshoot_usd'])}")
        facts.add_row("ADL haircuts", f"{_usd(research['taken_usd'])} of profit taken{needed}; "
                      f"largest account {research['max_share'] * 100:.1f}%, "
                      f"{len(research['waves'])} wave(s)")
    change = "" if oi["change_pct"] is None else f" ({oi['change_pct']:+.1f}%)"
    facts.add_row("open interest", f"{_usd(oi['start_usd'])} → {_usd(oi['end_usd'])}{change}")
    facts.add_row("crowd long share at start", f"{s['long_share_start'] * 100:.1f}%")
    for name, f in s["insurance_fund"].items():
        dry = f" — could carry no more from {f['exhausted_at']}" if f["exhausted_at"] else ""
        facts.add_row(f"insurance fund {name}", f"{_usd(f['start_usd'])} → {_usd(f['end_usd'])}"
                      f" (min {_usd(f['min_usd'])}){dry}")
    h = s.get("player")
    if h:
        facts.add_row(f"the player ({h['role']})", f"ADL'd at {h['adl_at'] or '—'}, liquidated at "
                      f"{h['liquidated_at'] or '—'}; equity {_usd(h['equity_start'])} → "
                      f"{_usd(h['equity_end'])}")
    facts.add_row("money conservation error", str(s["conservation_error"]))
    console.print(facts)
