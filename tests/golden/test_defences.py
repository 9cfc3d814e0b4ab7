"""The article's defences work in the engine (issue 14): the hedger who moves spot money in at
04:40, puts stops under its longs and a take-profit under its DOGE short survives seed 1 with
money left; the passive hedger is liquidated and loses every dollar of its cross account — what it
keeps is only the part of its isolated DOGE short that ADL did not take (on seed 1: nothing).
Full size, the default level."""

from decimal import Decimal
from pathlib import Path

from engine import CrashRun, load_level
from engine.commands import PlaceTrigger, Transfer

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"


def _play(defend: bool) -> dict:
    run = CrashRun(load_level(LEVEL), seed=1)
    sim, ex, a = run.sim, run.sim.exchange, run.player
    fired, hits, liquidated = [], [], []
    sim.listeners.append(lambda s, events: fired.extend(
        e for e in events if type(e).__name__ == "OrderTriggered"))
    sim.listeners.append(lambda s, events: hits.extend(
        e.t for e in events if type(e).__name__ == "AdlFill" and e.counterparty == a))
    sim.listeners.append(lambda s, events: liquidated.extend(
        e.t for e in events if type(e).__name__ == "LiquidationStarted" and e.account == a))
    done = not defend
    while not sim.finished:
        if not done and sim.clock >= 4 * 3600 + 40 * 60:
            sim.submit(Transfer(a, "500000", "futures"))
            for sym in ("BTC", "ETH"):  # stops 2% under the mark, closing the whole long
                mark = ex.position(a, sym).mark
                sim.submit(PlaceTrigger(a, sym, "sell", "stop", str(round(mark * 98 / 100, 1)),
                                        qty=str(ex.position(a, sym).qty), reduce_only=True))
            doge = ex.position(a, "DOGE")  # the hedge's profit taken 30% under the mark
            sim.submit(PlaceTrigger(a, "DOGE", "buy", "take_profit",
                                    str(round(doge.mark * 70 / 100, 5)), qty=str(-doge.qty),
                                    reduce_only=True))
            done = True
        sim.step()
    summary = run.summary()
    assert summary["conservation_error"] == 0
    doge = ex.position(a, "DOGE")
    return {**summary["player"], "fired": [(e.symbol, e.kind, e.error) for e in fired],
            "wallet": ex.account(a).wallet, "doge_qty": doge.qty,
            "hits_after": sum(t > max(liquidated, default=t) for t in hits),
            "doge_equity": doge.isolated_margin + doge.upnl}


def test_the_defended_hedger_survives_and_the_passive_one_does_not():
    defended, passive = _play(True), _play(False)
    assert passive["survived"] is False and passive["spot_end_usd"] == 500_000
    assert passive["liquidations"] == 2  # both longs: the cross account's money is all gone ...
    # ... what is left is what ADL did not take of the isolated DOGE short, and in the wallet
    # what ADL paid out on DOGE after the longs were liquidated (Bybit pays an isolated
    # position's closed profit and released margin into the wallet). Seed 1 since session 18:
    # ADL took the whole short (34 hits, all before the longs went at 05:11:02), its proceeds
    # went to the cross wallet and down with the longs, and the account ends at $0
    assert -2_000_000 < passive["doge_qty"] <= 0 and passive["adl_hits"] > 0
    assert (passive["wallet"] > 0) == (passive["hits_after"] > 0)
    assert round(passive["doge_equity"] + passive["wallet"], 2) == \
        round(Decimal(str(passive["equity_end"])), 2)
    assert passive["equity_end"] < 0.2 * 650_000  # under a fifth of its futures money ($94,728)
    assert defended["survived"] is True and defended["equity_end"] > 0
    assert defended["spot_end_usd"] == 0  # it moved all of it in
    assert {(sym, kind) for sym, kind, error in defended["fired"] if not error} == \
        {("BTC", "stop"), ("ETH", "stop")}
    # both wallets counted: the defence loses less than the passive play by $100k or more
    assert defended["pnl_usd"] > passive["pnl_usd"] + 100_000
