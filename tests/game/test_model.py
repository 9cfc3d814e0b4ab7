"""The UI-side pieces without a screen: formatting, the order ticket, the event log, snapshots."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.clock import parse_hhmm
from engine.commands import (AddMargin, AmendOrder, CancelAll, CancelOrder, ClosePosition,
                             PlaceOrder, PullQuotes, RemoveMargin, SetMarginMode, SetQuotes)
from game import fmt
from game.debrief_model import build
from game.story import describe
from engine.book import Side
from game.trading import QuoteTicket, Ticket

from .conftest import new_model


def test_formatting():
    assert fmt.decimals_of(Decimal("0.00001")) == 5 and fmt.decimals_of(Decimal("1")) == 0
    assert fmt.price(113544.7, 1) == "113,544.7" and fmt.price(None, 1) == "—"
    assert fmt.usd(-1234.4) == "−$1,234" and fmt.usd(1234, signed=True) == "+$1,234"
    assert fmt.usd_short(1_250_000) == "$1.25M" and fmt.usd_short(27_000) == "$27.0k"
    assert fmt.usd_short(-346_500, signed=True) == "−$346.5k"
    assert fmt.pct(-0.0412) == "−4.1%" and fmt.pct(0.41, False, 0) == "41%"
    assert fmt.hhmm(5 * 3600 + 14 * 60 + 3, seconds=True) == "05:14:03"


class _Quote:
    symbol, tick, lot = "BTC", Decimal("0.1"), Decimal("0.001")
    mark = last = index = 100_000.0
    best_bid, best_ask = 99_990.05, 100_010.05


def test_ticket_sizes_and_prices_sit_on_the_grid():
    t = Ticket()
    assert t.quantity(_Quote) == Decimal("0.500")              # $50k at 100,000
    assert t.limit_price(_Quote, "buy") == Decimal("99990.0")  # bids round down
    assert t.limit_price(_Quote, "sell") == Decimal("100010.1")  # asks round up
    t.shift_offset(2)                                            # 25 bps back
    assert t.limit_price(_Quote, "buy") == Decimal("99740.0")
    order = t.limit(7, _Quote, "sell")
    # sizes travel as the preset's dollars; the engine puts them on the lot grid
    assert order == PlaceOrder(7, "BTC", Side.SELL, price="100260.1", tif="gtc", usd=50_000)
    assert t.market(7, _Quote, "buy") == PlaceOrder(7, "BTC", Side.BUY, tif="ioc", usd=50_000)
    t.choose_size(99)
    assert t.size_usd == 5_000_000


def test_quote_ticket_steps_one_side_or_both():
    class Settings:
        bid_spread_bps = ask_spread_bps = 5.0
        bid_size_usd = ask_size_usd = 50_000.0
    q = QuoteTicket()
    assert q.spread(1, Settings, 1) == SetQuotes(1, bid_spread_bps=8.0, ask_spread_bps=8.0)
    assert q.next_side() == "bid"
    assert q.size(1, Settings, -1) == SetQuotes(1, bid_size_usd=25_000.0)
    assert q.next_side() == "ask" and q.next_side() == "both"


@pytest.mark.parametrize("command, text", [
    (PlaceOrder(1, "BTC", "buy", "0.5"), "market buy 0.5 BTC"),
    (PlaceOrder(1, "BTC", "sell", "0.5", "100000.5"), "limit sell 0.5 BTC at 100,000.5"),
    (AmendOrder(1, 9, "1.5", "2"), "amend order #9 to 2 at 1.5"),
    (CancelOrder(1, 9), "cancel order #9"), (CancelAll(1), "cancel all orders"),
    (ClosePosition(1, "ETH", "0.25"), "reduce ETH by 25%"), (ClosePosition(1, "ETH"), "close ETH"),
    (AddMargin(1, "DOGE", "10000"), "add $10,000 margin to DOGE"),
    (RemoveMargin(1, "DOGE", "10000"), "withdraw $10,000 margin from DOGE"),
    (SetMarginMode(1, "BTC", "isolated"), "switch BTC to isolated margin"),
    (PullQuotes(1), "pull all quotes"),
    (SetQuotes(1, quoting=True, bid_spread_bps=8.0), "start quoting, bid spread 8 bps"),
])
def test_commands_in_the_players_words(command, text):
    assert describe(command, {"BTC": 1}) == text


def test_snapshot_at_the_open():
    model = new_model()
    snap = model.snapshot("BTC")
    assert snap.clock.clock == parse_hhmm("04:00") and not snap.clock.finished
    assert snap.news and snap.news[0][0] == parse_hhmm("04:00")   # the opening headline
    assert snap.clock.next_news[0] == parse_hhmm("04:40")
    assert {p.symbol for p in snap.positions} == {"BTC", "ETH", "DOGE"}
    assert snap.book.bids and snap.book.asks and snap.book.bids[0].price < snap.book.asks[0].price
    assert snap.tracked_depth.start_usd == model.run.recorder.depth_start / 1_000_000
    assert [f.name for f in snap.funds] == model.ex.funds.names and not snap.tape


def test_the_floors_story_agrees_with_the_recorder(crash_end):
    """The player's timeline (from events) and the engine's own summary tell one story."""
    summary = crash_end.run.summary()
    hedger = summary["hedger"]

    def first_minute(kind):
        moments = [m.clock // 60 * 60 for m in crash_end.timeline if m.kind == kind]
        return moments[0] if moments else None

    assert first_minute("adl") == (hedger["adl_at"] and parse_hhmm(hedger["adl_at"]) // 60 * 60)
    assert first_minute("liquidation") == (
        hedger["liquidated_at"] and parse_hhmm(hedger["liquidated_at"]) // 60 * 60)
    assert {e.kind for e in crash_end.log.tape} <= {"liquidation", "adl"}
    debrief = build(crash_end)
    assert debrief.equity[-1][0] == crash_end.sim.clock
    assert "--set" in debrief.what_if[1]


def test_a_desk_that_cannot_quote_says_so_with_its_own_event():
    """Quotes too big for the desk's margin: the engine emits ``DeskStopped`` (not a made-up
    cancel) and the floor's story turns it into a notice and a timeline moment."""
    from engine.events import DeskStopped
    model = new_model("maker")
    seen = []
    model.sim.listeners.append(lambda sim, events: seen.extend(
        e for e in events if isinstance(e, DeskStopped)))
    model.submit(SetQuotes(model.player, quoting=True, bid_size_usd=5e7, ask_size_usd=5e7))
    model.advance(3)
    assert seen and seen[0].account == model.player and "margin" in seen[0].reason
    notices = model.drain_notices()
    assert any(n.title == "Your desk" and n.message.startswith("quoting stopped:") for n in notices)
    assert any(m.kind == "desk" for m in model.timeline)
