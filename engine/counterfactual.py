"""What caused what in the player's own run: the same level, seed and commands, one switch changed.

The debrief does not assert its lesson; it measures it. ``what_if(run)`` re-runs the player's
session — the same level, seed, every command at the time it was given, every step cut short
as it was — with one switch changed, to the time the real run reached:

* ``no ADL on you`` — ``exchange.adl_exempt_player``: the player's positions are last in every
  ADL queue, so ADL reaches them only if nobody else can take the loss;
* ``makers stay`` — ``market_makers.withdrawal = "never"``: the firms keep quoting their full
  depth whatever their risk says (the causal fact C1).

``lessons(real, others)`` turns the three outcomes into sentences, each one chosen by comparing
numbers (equity, liquidation time, ADL hits), so a level where ADL does not matter, or where the
makers' withdrawal does not, says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from .units import MONEY_PER_USD

SWITCHES: dict[str, list[str]] = {
    "no ADL on you": ["exchange.adl_exempt_player=true"],
    "makers stay": ["market_makers.withdrawal=never"],
}
"""The counterfactuals of a hedger's debrief, by name: one level switch each."""

MATTERS_USD = 1_000
"""A difference in the player's money smaller than this is no difference (rounding, a fee)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one run ended for the player."""
    name: str
    pnl_usd: float
    """Both wallets (futures equity and spot), end minus start."""
    equity_end: float
    survived: bool
    liquidated_at: str | None
    adl_at: str | None
    adl_hits: int
    equity_curve: tuple[tuple[int, float], ...]
    """(seconds since midnight, futures equity USD) every sim-minute."""


def outcome(name: str, run) -> Outcome:
    """The player's outcome of ``run`` so far."""
    p = run.summary()["player"]
    curve = tuple((c, v / MONEY_PER_USD) for c, v in run.recorder.equity_curve)
    return Outcome(name, p["pnl_usd"], p["equity_end"], p["survived"], p["liquidated_at"],
                   p["adl_at"], p["adl_hits"], curve)


def rerun(run, overrides: list[str]):
    """A fresh run of ``run``'s level with ``overrides``, fed the player's commands at their
    times (and its cut-short steps) up to the time ``run`` reached."""
    from .crash import CrashRun
    from .level import with_overrides
    from .saves.replay import catch_up
    fresh = CrashRun(with_overrides(run.level, overrides), seed=run.seed)
    catch_up(fresh, run)
    return fresh


def what_if(run, switches: dict[str, list[str]] | None = None) -> dict[str, Outcome]:
    """The player's outcome under each switch (default ``SWITCHES``), the real one first."""
    out = {"real": outcome("real", run)}
    for name, overrides in (switches or SWITCHES).items():
        out[name] = outcome(name, rerun(run, overrides))
    return out


def _usd(x: float) -> str:
    return f"−${-x:,.0f}" if x < 0 else f"${x:,.0f}"


def lessons(outcomes: dict[str, Outcome]) -> list[str]:
    """What the counterfactuals show about the real run, in sentences chosen by the numbers."""
    real = outcomes["real"]
    out: list[str] = []
    exempt = outcomes.get("no ADL on you")
    if exempt is not None:
        cost = exempt.pnl_usd - real.pnl_usd
        if real.adl_hits == 0:
            out.append("ADL never reached you.")
        elif abs(cost) < MATTERS_USD:
            out.append(f"ADL closed your positions {real.adl_hits} times, but it cost you "
                       f"nothing you would otherwise have kept (exempt: {_usd(exempt.pnl_usd)}).")
        elif cost > 0:
            out.append(f"ADL cost you {_usd(cost)}: exempt from it you would have ended at "
                       f"{_usd(exempt.pnl_usd)} instead of {_usd(real.pnl_usd)}.")
        else:
            out.append(f"ADL helped you by {_usd(-cost)}: it closed a position that would have "
                       f"lost more (exempt: {_usd(exempt.pnl_usd)}).")
        if real.liquidated_at and exempt.liquidated_at:
            if exempt.liquidated_at <= real.liquidated_at:
                out.append(f"Your liquidation was not ADL's doing: exempt from ADL you were "
                           f"liquidated all the same, at {exempt.liquidated_at} (really "
                           f"{real.liquidated_at}).")
            else:
                out.append(f"ADL brought your liquidation forward: exempt from it you were "
                           f"liquidated at {exempt.liquidated_at}, not {real.liquidated_at}.")
        elif real.liquidated_at and not exempt.liquidated_at:
            out.append(f"ADL is why you were liquidated: exempt from it you survive (liquidated "
                       f"at {real.liquidated_at} in the real run).")
    stay = outcomes.get("makers stay")
    if stay is not None:
        gain = stay.pnl_usd - real.pnl_usd
        if real.liquidated_at and stay.survived:
            out.append(f"Had the market makers stayed you would have survived, ending at "
                       f"{_usd(stay.pnl_usd)}: their withdrawal made the cascade that "
                       f"liquidated you.")
        elif abs(gain) < MATTERS_USD:
            out.append("The market makers' withdrawal made no difference to your account.")
        elif gain > 0:
            out.append(f"Had the market makers stayed you would have ended {_usd(gain)} better "
                       f"off ({_usd(stay.pnl_usd)}).")
        else:
            out.append(f"You did {_usd(-gain)} better than if the market makers had stayed: the "
                       f"crash they left behind paid you.")
    return out
