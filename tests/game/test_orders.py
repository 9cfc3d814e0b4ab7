"""Placing, amending and cancelling orders; the maker's desk; every invalid action's notice.

Each test has its own small run at 04:00 (built in well under a second); the floor is stepped by
hand, one step after each key, so the command reaches the exchange.
"""

from __future__ import annotations

from decimal import Decimal

from engine.book import Side

from game.widgets.desk import DeskPanel
from game.widgets.ladder import Ladder

from .conftest import floor_app, new_model, run, shown


def _own(app):
    model = app.floor.model
    return model.own_orders()


async def _press_and_step(pilot, *keys: str, steps: int = 1):
    await pilot.press(*keys)
    await pilot.pause()
    pilot.app.floor.advance(steps)
    await pilot.pause()


def test_place_amend_and_cancel_a_limit_order():
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            assert floor.symbol == "BTC" and not _own(app)
            best_ask = floor.snapshot.quote("BTC").best_ask
            await _press_and_step(pilot, "S")  # limit sell at the best ask (reduces the long)
            (order,) = _own(app)
            assert order.side is Side.SELL and order.price == Decimal(str(best_ask))
            assert order.qty == Decimal("0.409")  # $50k at the mark, on the 0.001 lot grid
            assert any(t == "Done" and "limit sell 0.409 BTC" in m for t, m, _ in shown(app))
            ladder = app.floor.query_one(Ladder).rendered_text()
            assert any(row.startswith("●") and f"{best_ask:,.1f}" in row for row in ladder)

            await pilot.press("o")  # select it: the ladder marks it ◆
            await pilot.pause()
            assert floor.model.selected_order == order.oid
            assert any(row.startswith("◆") for row in app.floor.query_one(Ladder).rendered_text())

            await pilot.press("right_square_bracket", "right_square_bracket", "3")  # 25 bps, $250k
            await pilot.pause()
            expected = floor.ticket.limit_price(floor.snapshot.quote("BTC"), "sell")
            await _press_and_step(pilot, "a")
            (amended,) = _own(app)
            assert amended.oid == order.oid
            assert amended.price == expected and amended.price > order.price
            assert amended.qty > order.qty

            await _press_and_step(pilot, "c")
            assert not _own(app)
            assert any("cancel order" in m for _, m, _ in shown(app))
    run(scenario())


def test_cancel_all_and_reduce_and_close():
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            await _press_and_step(pilot, "S")
            await _press_and_step(pilot, "right_square_bracket", "S")
            assert len(_own(app)) == 2
            await _press_and_step(pilot, "C")
            assert not _own(app)
            start = floor.snapshot.position("BTC").lots
            await _press_and_step(pilot, "r", "2")  # reduce by 50%
            assert floor.snapshot.position("BTC").lots == start - start // 2
            before = {p.symbol: abs(p.lots) for p in floor.snapshot.positions}
            await _press_and_step(pilot, "X")  # close everything the books can take
            after = {p.symbol: abs(p.lots) for p in floor.snapshot.positions}
            assert all(after.get(sym, 0) < lots for sym, lots in before.items())
    run(scenario())


def test_every_invalid_action_says_why():
    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            expected = []

            async def check(keys, title_part, message_part, steps=1):
                await _press_and_step(pilot, *keys, steps=steps)
                notes = shown(app)
                assert any(title_part in t and message_part in m for t, m, _ in notes), \
                    (keys, notes)
                expected.append(keys)

            await check(["5", "b"], "Rejected: market buy", "initial margin")  # too little margin
            await check(["c"], "Nothing to cancel", "no resting BTC orders")
            await check(["a"], "Nothing to amend", "no resting BTC orders")
            await check(["o"], "No order to select", "no resting BTC orders")
            await check(["C"], "Nothing to cancel", "no resting orders")
            await check(["m", "t"], "Rejected: switch BTC to isolated", "open position")
            await check(["right", "right", "right", "r", "1"], "Rejected: reduce ALT by 25%",
                        "no ALT position")
            await pilot.press("space")  # paused: an order is staged, sent when it runs
            await check(["s"], "Staged: sell", "when the clock runs again")
            log = len(floor.model.sim.command_log)
            await pilot.press("space")
            await pilot.pause()
            assert len(floor.model.sim.command_log) == log + 1 and not floor.staged
            for _, _, severity in shown(app):
                assert severity in ("information", "warning", "error")
            assert len(expected) == 8
    run(scenario())


def test_maker_desk_quotes_adjusts_and_pulls():
    async def scenario():
        app = floor_app(new_model("maker"), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            desk = floor.model.run.desk
            await _press_and_step(pilot, "q")  # the quotes show in the step that applies q
            assert desk.settings.quoting and floor.snapshot.desk.quotes == 6
            assert any(row.startswith("●") for row in floor.query_one(Ladder).rendered_text())
            await _press_and_step(pilot, "right_square_bracket")
            assert desk.settings.bid_spread_bps == desk.settings.ask_spread_bps == 8
            await _press_and_step(pilot, "e", "full_stop")  # edit the bid side: size up
            assert floor.query_one(DeskPanel).editing == "bid"
            assert desk.settings.bid_size_usd == 100_000 and desk.settings.ask_size_usd == 50_000
            await _press_and_step(pilot, "k")
            assert desk.settings.skew is False
            await _press_and_step(pilot, "x")
            assert not desk.settings.quoting and floor.snapshot.desk.quotes == 0
            assert any("pull all quotes" in m for _, m, _ in shown(app))
            await pilot.press("space", "q")  # quoting while paused: staged until it runs
            await pilot.pause()
            assert any(t == "Staged: start quoting" for t, _, _ in shown(app))
            assert not desk.settings.quoting
            await pilot.press("space")
            await pilot.pause()
            floor.advance(1)
            await pilot.pause()
            assert desk.settings.quoting
    run(scenario())


def test_hedger_keys_do_nothing_for_the_maker_and_the_reverse():
    async def scenario():
        app = floor_app(new_model("maker"), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await _press_and_step(pilot, "b", "S", "r")
            assert not app.floor.model.own_orders() and not app.floor.snapshot.positions
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await _press_and_step(pilot, "q", "x")
            assert not shown(app)
    run(scenario())


def test_rapid_quote_keys_are_not_lost():
    """] ] ] within one step widen three rungs, not one (each key builds on the last)."""
    from game.trading import QUOTE_SPREADS_BPS

    async def scenario():
        app = floor_app(new_model("maker"), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            desk = floor.model.run.desk
            start = desk.settings.bid_spread_bps
            await _press_and_step(pilot, "right_square_bracket", "right_square_bracket",
                                  "right_square_bracket")
            k = QUOTE_SPREADS_BPS.index(start)
            assert desk.settings.bid_spread_bps == QUOTE_SPREADS_BPS[k + 3]
    run(scenario())


def test_working_a_close_keeps_closing_until_flat():
    """W sends a reduce-only market close every step until the position is flat, then says so;
    W again stops it."""
    async def scenario():
        app = floor_app(new_model(until="05:09"), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            model = floor.model
            await pilot.press("W")
            await pilot.pause()
            assert model.working == {"BTC"}
            for _ in range(120):
                floor.advance(1)
                if not model.working:
                    break
            await pilot.pause()
            assert not model.working and floor.snapshot.position("BTC") is None
            closes = [rec for _, rec in model.sim.command_log if rec["type"] == "ClosePosition"]
            assert closes and all(rec["symbol"] == "BTC" for rec in closes)
            await pilot.press("right", "W", "W")  # ETH: start and stop
            await pilot.pause()
            assert not model.working
    run(scenario())
