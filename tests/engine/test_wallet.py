"""The player's spot wallet (engine/agents/wallet.py) and the Transfer command."""

from pathlib import Path

import pytest

from engine import CrashRun, load_level
from engine.commands import CommandAccepted, CommandRejected, Transfer, apply

LEVEL = Path(__file__).resolve().parents[2] / "levels" / "1011.toml"
USD = 1_000_000


@pytest.fixture
def run():
    return CrashRun(load_level(LEVEL, ["crowd.accounts=300", "player.spot_usd=100000"]), seed=2)


def _total(run) -> int:
    """Money in the exchange plus the spot wallet: what a transfer must not change."""
    return run.sim.exchange.total_money() + run.wallet.balance


def test_transfers_move_money_between_the_wallets_exactly(run):
    ex, a, w = run.sim.exchange, run.player, run.wallet
    total, equity = _total(run), ex.equity_units(a)
    done = apply(ex, Transfer(a, "60000", "futures"), wallets=run.sim.wallets)
    assert isinstance(done, CommandAccepted)
    assert w.balance == 40_000 * USD and ex.equity_units(a) == equity + 60_000 * USD
    assert _total(run) == total and ex.total_money() == ex.net_deposits
    refused = apply(ex, Transfer(a, "40000.000001", "futures"), wallets=run.sim.wallets)
    assert isinstance(refused, CommandRejected) and "holds 40,000.00 USD" in refused.message
    assert w.balance == 40_000 * USD


def test_a_transfer_out_is_held_to_what_is_available(run):
    ex, a = run.sim.exchange, run.player
    available = ex.account(a).available
    too_much = apply(ex, Transfer(a, str(available + 1), "spot"), wallets=run.sim.wallets)
    assert isinstance(too_much, CommandRejected)
    assert run.wallet.balance == 100_000 * USD
    # the hedger's available margin is negative at the start (its open losses): $100k in is
    # not enough to take any out again
    apply(ex, Transfer(a, "100000", "futures"), wallets=run.sim.wallets)
    assert ex.account(a).available < 0
    assert isinstance(apply(ex, Transfer(a, "1", "spot"), wallets=run.sim.wallets),
                      CommandRejected)


def test_transfer_needs_a_wallet_and_a_direction(run):
    ex, a = run.sim.exchange, run.player
    bad = apply(ex, Transfer(a, "10", "savings"), wallets=run.sim.wallets)
    assert isinstance(bad, CommandRejected) and "futures, spot" in bad.message
    none = apply(ex, Transfer(a, "10", "futures"))
    assert isinstance(none, CommandRejected) and "no spot wallet" in none.message


def test_the_wallet_counts_in_the_players_pnl_not_as_profit(run):
    run.sim.submit(Transfer(run.player, "100000", "futures"))
    run.run(until="04:01")
    p = run.summary()["player"]
    assert p["spot_start_usd"] == 100_000 and p["spot_end_usd"] == 0
    # the deposit raised the futures equity by $100k; the PnL counts both wallets
    assert p["pnl_usd"] == pytest.approx(p["equity_end"] - p["equity_start"] - 100_000, abs=0.01)


def test_money_goes_back_out_to_spot_when_it_is_free():
    run = CrashRun(load_level(LEVEL, ["crowd.accounts=300", "player.spot_usd=100000",
                                      "player.role=maker"]), seed=2)
    ex, a = run.sim.exchange, run.player
    total = _total(run)
    back = apply(ex, Transfer(a, "20000", "spot"), wallets=run.sim.wallets)
    assert isinstance(back, CommandAccepted) and run.wallet.balance == 120_000 * USD
    assert _total(run) == total
