"""The order ticket (n) and the transfer dialog (t): typed sizes and prices, every order type,
the clock stopped while they are open (issue 14)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from textual.widgets import Input, Label, Select

from game.screens.ticket import TicketDialog, TransferDialog, build_order, preview
from game.widgets.account import AccountPanel
from game.widgets.orders import OrdersPanel

from .conftest import floor_app, new_model, run

SPOT = ["player.spot_usd=500000"]


def _text(widget) -> str:
    return str(widget.render())


async def _type(pilot, text: str) -> None:
    await pilot.press(*list(text))
    await pilot.pause()


async def _debrief_with_causes(app, pilot, model):
    """Open the debrief of ``model`` and wait for its counterfactual re-runs (a worker)."""
    from game.screens.debrief import DebriefScreen
    screen = DebriefScreen(model)
    await app.push_screen(screen)
    await app.workers.wait_for_complete()
    await pilot.pause()
    return screen


def test_a_stop_from_the_ticket_waits_in_the_exchange_and_shows_under_the_orders():
    async def scenario():
        app = floor_app(new_model(extra=SPOT), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            await pilot.press("n")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, TicketDialog)
            assert floor.pacer.paused  # the clock stops while the ticket is open
            assert dialog.side == "sell"  # the hedger is long BTC: the ticket offers the close
            dialog.query_one("#ticket-type", Select).value = "stop"
            await _type(pilot, "0.5")
            dialog.query_one("#ticket-trigger", Input).focus()
            await _type(pilot, "110000")
            assert "initial margin" in _text(dialog.query_one("#ticket-preview", Label))
            await pilot.press("enter")
            await pilot.pause()
            assert not isinstance(app.screen, TicketDialog) and not floor.pacer.paused
            floor.advance(1)
            await pilot.pause()
            (held,) = floor.model.ex.open_triggers(floor.player)
            assert (held.symbol, held.kind, held.side.word, held.trigger, held.qty,
                    held.reduce_only) == ("BTC", "stop", "sell", Decimal("110000"),
                                          Decimal("0.5"), True)
            rows = floor.query_one(OrdersPanel).rendered_text()
            assert any("stop sell" in r and "110,000" in r and "mark" in r for r in rows)
    run(scenario())


def test_the_ticket_says_what_is_wrong_and_stays_open():
    async def scenario():
        app = floor_app(new_model(extra=SPOT), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("n")
            await pilot.pause()
            dialog = app.screen
            await _type(pilot, "abc")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, TicketDialog)
            assert "size: type a number" in _text(dialog.query_one("#ticket-preview", Label))
            await pilot.press("escape")
            await pilot.pause()
            assert not app.floor.pacer.paused and not app.floor.model.ex.open_triggers(
                app.floor.player)
    run(scenario())


def test_transfer_moves_spot_money_into_futures():
    async def scenario():
        app = floor_app(new_model(extra=SPOT), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            equity = floor.snapshot.account.equity
            await pilot.press("t")
            await pilot.pause()
            assert isinstance(app.screen, TransferDialog) and floor.pacer.paused
            await _type(pilot, "200000")
            await pilot.press("enter")
            await pilot.pause()
            floor.advance(1)
            await pilot.pause()
            assert floor.model.run.wallet.balance == 300_000 * 1_000_000
            assert floor.snapshot.account.equity > equity + 190_000
            rows = floor.query_one(AccountPanel).rendered_text()
            assert any("spot wallet" in r and "$300,000" in r for r in rows)
    run(scenario())


def test_build_order_covers_every_type():
    assert build_order(7, "BTC", "buy", "market", "0.1", False, "", "", False).price is None
    limit = build_order(7, "BTC", "buy", "limit", "5000", True, "100000", "", False)
    assert (limit.usd, limit.price, limit.qty) == (5000, "100000", None)
    stop_limit = build_order(7, "BTC", "sell", "stop_limit", "0.1", False, "94000", "95000", True)
    assert (stop_limit.kind, stop_limit.trigger, stop_limit.price, stop_limit.reduce_only) == \
        ("stop", "95000", "94000", True)
    tp = build_order(7, "DOGE", "buy", "take_profit", "1000", False, "", "0.2", True)
    assert (tp.kind, tp.trigger, tp.price) == ("take_profit", "0.2", None)
    assert build_order(7, "BTC", "buy", "stop", "0.1", False, "", "", False) == \
        "trigger price: type a number, e.g. 95000"
    assert build_order(7, "BTC", "buy", "market", "10.5", True, "", "", False) == \
        "size in USD: whole dollars"


def test_the_ticket_sends_a_post_only_limit_and_the_leverage_it_was_given():
    """A limit order's time in force and a typed leverage reach the exchange: a post-only sell
    below the best bid is refused rather than taking liquidity, a good-till-cancelled one fills;
    the leverage typed with it (5×) is BTC's leverage afterwards."""
    assert build_order(7, "BTC", "buy", "limit", "1", False, "90000", "", False, "post_only",
                       "2×").tif == "post_only"
    assert build_order(7, "BTC", "buy", "market", "1", False, "", "", False, "gtc",
                       "0") == "leverage: a whole number from 1, got '0'"

    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            ex = floor.model.sim.exchange
            bid = floor.snapshot.quote("BTC").best_bid
            for tif, leverage in (("post_only", "3"), ("gtc", "5")):
                before = ex.position(floor.player, "BTC").qty
                await pilot.press("n")
                await pilot.pause()
                dialog = app.screen
                assert dialog.side == "sell"
                dialog.query_one("#ticket-type", Select).value = "limit"
                await pilot.pause()
                dialog.query_one("#ticket-tif", Select).value = tif
                dialog.query_one("#ticket-leverage", Input).value = leverage
                dialog.query_one("#ticket-price", Input).value = f"{float(bid) * 0.99:.1f}"
                await _type(pilot, "0.1")
                await pilot.press("enter")
                await pilot.pause()
                floor.advance(1)
                await pilot.pause()
                after = ex.position(floor.player, "BTC").qty
                assert (after < before) == (tif == "gtc"), (tif, before, after)
            assert ex.position(floor.player, "BTC").leverage == 5
    run(scenario())


def test_the_preview_liquidation_price_is_the_isolated_one():
    class Quote:
        mark, last, decimals = 100_000.0, None, 1
    # a 10× isolated long of $10,000 at 100,000 with 0.4% maintenance: 0.9 / 0.996 × 100,000
    text = preview(Quote, 10, "buy", "limit", "10000", True, "100000", "", 0.004)
    assert "initial margin $1,000" in text and "90,361.4" in text


def test_the_sessions_rules_show_on_the_floor_and_in_the_debrief():
    from game.debrief_model import build
    from game.widgets.bars import ClockBar
    model = new_model(extra=["exchange.fund_multiplier=20"])
    # the test crowd's size is a rule of this session too
    assert model.rules() == ("crowd.accounts=1500", "exchange.fund_multiplier=20")
    assert "rules: crowd.accounts=1500, exchange.fund_multiplier=20" in build(model).title

    async def scenario():
        app = floor_app(model)
        async with app.run_test(size=(120, 40)):
            (bar,) = app.floor.query_one(ClockBar).rendered_text()
            assert "rules: crowd.accounts=1500…" in bar  # shortened at a word boundary
    run(scenario())


def test_the_story_tells_what_a_fired_stop_did():
    """A stop under the hedger's BTC long, a little under the mark: when it fires the notice
    says so, with what it sold (all of it, part of it, or nothing) — never a plain 'Filled'."""
    from engine.commands import PlaceTrigger
    model = new_model(extra=SPOT)
    run_, a = model.run, model.player
    btc = model.ex.position(a, "BTC")
    trigger = round(btc.mark * Decimal("0.995"), 1)
    model.sim.submit(PlaceTrigger(a, "BTC", "sell", "stop", str(trigger), qty="1",
                                  reduce_only=True))
    for _ in range(3600):  # an hour of one-second steps at most
        run_.sim.step()
        if any(n.title.startswith("Stop") for n in model.log.notices):
            break
    fired = [n for n in model.log.notices if n.title.startswith("Stop")]
    assert fired, [m.text for m in model.log.timeline][-5:]
    (notice,) = fired
    assert f"trigger {trigger:,.1f}" in notice.message
    assert notice.title in ("Stop filled", "Stop partly filled", "Stop not filled")
    assert ("sold 1.000 BTC" in notice.message) == (notice.title == "Stop filled")
    assert any(m.text.startswith("stop sell 1 BTC at") for m in model.log.timeline)


def test_adl_is_seen_on_the_tape(crash_end):
    """A step of many ADL fills is one summary row, so it is not pushed out by the same step's
    liquidations; the f key filters the tape to liquidations, ADL or the player's own."""
    from game.widgets.tape import Tape
    tape = list(crash_end.log.tape)
    summaries = [e for e in tape if e.count > 1]
    assert summaries and all(e.count > 6 and f"{e.count} " in e.note for e in summaries)
    adl = crash_end.snapshot("BTC", tape_filter="ADL").tape
    assert adl and all(e.kind == "adl" for e in adl)
    mine = crash_end.snapshot("BTC", tape_filter="mine").tape
    assert all(e.mine for e in mine)

    async def scenario():
        app = floor_app(crash_end)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f", "f")
            await pilot.pause()
            panel = app.floor.query_one(Tape)
            assert app.floor.tape_filter == "ADL" and panel.border_subtitle == "f: ADL"
            rows = panel.rendered_text()
            assert rows and all("ADL'd" in r for r in rows if r.strip())
    run(scenario())


def test_the_debrief_shows_what_caused_what_by_rerunning_the_session(crash_end):
    """The hedger's debrief re-runs the session (same seed and commands) exempt from ADL and
    with the makers staying, and says what each changed — computed, not written."""
    from game import debrief_model
    outcomes = debrief_model.counterfactuals(crash_end)
    real, exempt, stay = outcomes["real"], outcomes["no ADL on you"], outcomes["makers stay"]
    assert real.liquidated_at is not None and exempt.adl_hits == 0
    lines = debrief_model.cause_lines(outcomes)
    assert any(line.startswith("real: ") for line in lines)
    if stay.survived:
        assert any("Had the market makers stayed you would have survived" in x for x in lines)

    async def scenario():
        app = floor_app(crash_end)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _debrief_with_causes(app, pilot, crash_end)
            assert screen.outcomes is not None
            text = str(screen.query_one("#causes").render())
            assert "What caused what in your run" in text and "no ADL on you: " in text
    run(scenario())


def test_the_lesson_follows_the_numbers():
    """A level where ADL cannot touch the player (funds ×20: no ADL at all) and where the
    makers never leave: the counterfactuals find nothing to blame, and say so."""
    from engine.counterfactual import lessons, what_if
    model = new_model(until=None, extra=["exchange.fund_multiplier=20",
                                         "market_makers.withdrawal=never"])
    text = lessons(what_if(model.run))
    assert "ADL never reached you." in text
    assert "The market makers' withdrawal made no difference to your account." in text


def test_the_reduce_dialog_stops_the_clock_and_its_choice_goes_out():
    from game.screens.dialogs import ReduceDialog
    from game.screens.floor import key_rows

    async def scenario():
        app = floor_app(new_model(), paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            floor = app.floor
            await pilot.press("r")
            await pilot.pause()
            assert isinstance(app.screen, ReduceDialog) and floor.pacer.paused
            await pilot.press("2")  # 50%
            await pilot.pause()
            assert not floor.pacer.paused
            floor.advance(1)
            await pilot.pause()
            assert floor.snapshot.position("BTC").qty == Decimal("20.492")  # half of 40.984
    run(scenario())
    assert ("^q", "Quit (autosaves)") in key_rows(False)


def test_a_level_played_in_another_role_teaches_that_roles_lesson():
    from game.app import load
    from game.debrief_model import ROLE_LESSONS, build
    assert load("1011", "maker", SMALL_ROLE).data["lesson"] == ROLE_LESSONS["maker"]
    assert load("1011", "hedger", SMALL_ROLE).data["lesson"] == ROLE_LESSONS["hedger"]
    model = new_model(role="maker", until="04:20")
    debrief = build(model)
    assert debrief.lesson == ROLE_LESSONS["maker"]
    assert not any("You did nothing" in line for line in debrief.yours)
    assert model.rules() == ("crowd.accounts=1500",)  # the lesson is not a rule


SMALL_ROLE = ["crowd.accounts=1500"]


def test_the_margin_dialog_takes_a_typed_amount_up_to_the_maximum_it_shows():
    """Isolated DOGE: the dialog shows how much can be added and withdrawn now (the engine's
    own limits); more than that is refused in the dialog, ``max`` takes it all; a cross
    position offers only the mode switch. '[t]' in a label is escaped (it once vanished)."""
    from game import fmt
    from game.screens.dialogs import MarginDialog

    async def scenario():
        model = new_model(until="04:30")  # the DOGE short is in profit: margin can leave
        app = floor_app(model, paused=False)
        async with app.run_test(size=(120, 40)) as pilot:
            doge = app.floor.snapshot.position("DOGE")
            assert doge.margin_mode == "isolated" and doge.margin_removable > 0
            await pilot.press("right", "right", "m")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, MarginDialog)
            labels = [str(b.label) for b in dialog.query("Button")]
            assert labels == ["[a] add", "[w] withdraw", "[t] → cross"]
            hint = str(dialog.query("Label")[1].render())
            assert f"withdraw up to {fmt.usd(float(doge.margin_removable))}" in hint
            await pilot.press("w", *str(int(doge.margin_removable) + 10), "enter")
            await pilot.pause()
            assert "at most" in str(dialog.query_one("#margin-note").render())
            assert app.screen is dialog
            box = dialog.query_one("#margin-usd")
            box.value = "max"
            await pilot.press("enter")
            app.floor.advance(1)
            await pilot.pause()
            sent = [c for _, c in model.run.sim.command_log]
            assert sent and sent[-1]["type"] == "RemoveMargin"
            assert Decimal(sent[-1]["usd"]) == doge.margin_removable.quantize(Decimal("0.01"),
                                                                                rounding="ROUND_DOWN")
            await pilot.press("left", "left", "m")  # BTC: cross
            await pilot.pause()
            assert [b.disabled for b in app.screen.query("Button")] == [True, True, False]
            await pilot.press("a")
            assert "no isolated position" in str(app.screen.query_one("#margin-note").render())
    run(scenario())


def test_the_makers_panel_shows_the_crowds_positioning_and_real_bars():
    """What the firms could see — the crowd 87% long at the start — is on the floor; each
    firm's depth bar has room while no firm has pulled (no empty 'out' column)."""
    from game.widgets.makers import MakerPanel
    fresh = new_model()
    assert fresh.snapshot("BTC").crowd_long_share == pytest.approx(0.87, abs=0.01)

    async def scenario():
        app = floor_app(fresh)
        async with app.run_test(size=(120, 40)):
            rows = app.floor.query_one(MakerPanel).rendered_text()
            assert any(r.startswith("crowd long") and "87% of positions" in r for r in rows)
            assert all("█" in r for r in rows[:5])
    run(scenario())


def test_a_full_fund_is_not_called_dry(crash_end):
    """With a capacity limit a fund can carry no more while it still holds its cash: the panel
    says FULL (and when), DRY only at its floor."""
    from game.widgets.funds import FundGauges

    async def scenario():
        app = floor_app(crash_end)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("escape")  # the debrief opens at the end
            await pilot.pause()
            rows = app.floor.query_one(FundGauges).rendered_text()
            full = [f for f in app.floor.snapshot.funds
                    if f.exhausted_at is not None and f.now_usd > f.floor_usd]
            assert full
            for f in full:
                row = next(r for r in rows if r.startswith(f.name))
                assert "FULL" in row and "DRY" not in row
    run(scenario())


def test_the_market_makers_debrief_re_runs_its_desk_staying_and_pulling_early():
    """A maker's debrief scripts its desk two ways (stay and widen; pull early) on the same seed
    and shows where each run's money came from, the parts adding up to the PnL."""
    from engine.commands import SetQuotes
    from game import debrief_model
    model = new_model("maker")
    model.submit(SetQuotes(model.player, quoting=True))
    model.run.run(until="05:00")
    assert debrief_model.has_causes(model)

    async def scenario():
        app = floor_app(model)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await _debrief_with_causes(app, pilot, model)
            outcomes = screen.outcomes
            assert list(outcomes) == ["real", "stay and widen", "pull early"]
            for m in outcomes.values():
                parts = m.spread_earned_usd + m.rebates_usd - m.penalties_usd + m.inventory_pnl_usd
                assert round(parts, 2) == m.pnl_usd
            assert outcomes["pull early"].uptime_pct < outcomes["stay and widen"].uptime_pct
            text = str(screen.query_one("#causes").render())
            assert "stay and widen: " in text and "pull early: " in text and "uptime" in text
    run(scenario())


def test_g_shows_the_players_equity_curve_on_the_floor(crash_0510):
    """The in-game equity curve: g switches the chart to the futures equity per minute (the
    recorder's curve, then now) against the start; g again is the price."""
    from game.widgets.price_chart import PriceChart
    snap = crash_0510.snapshot("BTC")
    curve = snap.equity_history
    assert curve[0][0] == snap.clock.start and curve[-1][0] == snap.clock.clock
    assert curve[-1][1] == float(crash_0510.ex.equity(crash_0510.player))
    assert len(curve) == 71 and snap.forced == tuple(
        (m.clock, m.text) for m in crash_0510.log.timeline if m.kind in ("adl", "liquidation"))

    async def scenario():
        app = floor_app(crash_0510)
        async with app.run_test(size=(120, 40)) as pilot:
            chart = app.floor.query_one(PriceChart)
            await pilot.press("g")
            await pilot.pause()
            assert chart.border_title == "your futures equity · g: price"
            assert "start $650,000" in str(chart.border_subtitle)
            await pilot.press("g")
            await pilot.pause()
            assert chart.border_title.startswith("BTC · last trade vs index")
    run(scenario())
