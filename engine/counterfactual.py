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

**The market maker's debrief** (``maker_what_if``) changes the player's desk instead of a level
switch: the same level and seed, the player's other commands (orders, transfers, ...) at their
logged times and its cut-short steps, but its ``SetQuotes`` and ``PullQuotes`` replaced by a
scripted desk, to the time the real run reached. The scripted desks react to the market, so they
are asked before every step what to tell the desk (deterministic: they read only the re-run's
own state; no clock, no randomness of their own), and a command goes in only when the desk's
settings differ from what the script wants. Both start from the **base settings**: the spreads
and sizes of the player's first ``SetQuotes`` that turns quoting on (one the desk refused is
skipped; later ones are ignored; a size or spread it left out is the desk default), else the desk
defaults (``QuoteSettings()``); the inventory skew stays the desk default. Both quote from the
session start.

* ``stay and widen`` — quotes all session and never pulls; at every sim-minute both spreads are
  set to base × w, w = clamp(1 / φ, 1, 20), where φ is the firms' mean depth factor on the desk's
  symbol as they last quoted it (``MarketMakers.quoted_factor``: 1 = calm size, a pulled firm
  keeps its token presence), capped at the desk's widest spread. It re-asserts quoting each
  minute, so a desk that stopped itself (``DeskStopped``) starts again.
* ``pull early`` — quotes the base settings until the first firm leaves its calm state (its
  stance, ``MarketMakers.stance``, becomes thinning or pulled: the first such change the recorder
  logs in ``maker_events``), then sends ``PullQuotes`` before the next step and never quotes
  again.

``maker_lessons(outcomes)`` compares the three ``MakerOutcome``s in sentences chosen by the numbers,
like ``lessons``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import portable
from .agents.market_makers import Stance
from .agents.player_maker import QuoteSettings
from .clock import fmt_hhmm
from .commands import Command, PullQuotes, SetQuotes
from .errors import InvalidInput
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


# --- the market maker's debrief ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MakerOutcome:
    """How one run ended for a market-making player, and where its money came from: the parts
    add up, ``pnl_usd == spread_earned_usd + rebates_usd − penalties_usd + inventory_pnl_usd``,
    to the cent."""
    name: str
    pnl_usd: float
    """Both wallets (futures equity and spot), end minus start (as ``Outcome.pnl_usd``)."""
    spread_earned_usd: float
    """Each desk fill's distance from the mid it was quoted around, times its size."""
    rebates_usd: float
    """What the exchange paid back on the desk's maker volume."""
    penalties_usd: float
    """What missed obligations cost (a designated market maker's)."""
    inventory_pnl_usd: float
    """The rest: ``pnl − spread earned − rebates + penalties``, what holding and unwinding the
    account's positions made or lost (the mark moving against the desk's inventory, any order the
    player placed itself), every fee included. Taken from the cent-rounded figures so that the
    parts add up exactly; the run summary's ``maker.inventory_pnl_usd``, from unrounded money
    units, may differ from it by a cent."""
    uptime_pct: float
    """Share of the session the desk quoted both sides within ±1% of the mark."""
    quoting_until: str | None
    """The last moment (HH:MM:SS) the desk's quoting was on, or None if it never was."""
    survived: bool
    liquidated_at: str | None
    equity_curve: tuple[tuple[int, float], ...]
    """(seconds since midnight, futures equity USD) every sim-minute."""


def _need_desk(run) -> None:
    if run.desk is None:
        raise InvalidInput(f"{run.level.name}: the player has no market-making desk (a maker's "
                           f"debrief needs a maker level: levels/maker.toml, levels/dmm.toml)")


def maker_outcome(name: str, run, quoting_until: str | None) -> MakerOutcome:
    """The market maker's outcome of ``run`` so far, from its report; ``quoting_until`` is
    measured by whoever stepped the run (``maker_rerun``), since the run does not record it."""
    _need_desk(run)
    p = run.report().player
    assert p is not None and p.maker is not None  # a run with a desk reports it
    m = p.maker
    pnl, spread, rebates, penalties = (round(usd * 100) for usd in (
        p.pnl_usd, m.spread_earned_usd, m.rebates_usd, m.penalties_usd))
    curve = tuple((c, v / MONEY_PER_USD) for c, v in run.recorder.equity_curve)
    return MakerOutcome(name, pnl / 100, spread / 100, rebates / 100, penalties / 100,
                        (pnl - spread - rebates + penalties) / 100, m.uptime_pct, quoting_until,
                        p.survived, p.liquidated_at, curve)


MAX_WIDENING = 20.0
"""The most ``stay and widen`` multiplies the base spreads by (the firms all but gone)."""

CALM = (Stance.NORMAL, Stance.WIDENED)
"""A firm's calm stances: full size (a widened firm has not left yet)."""


def base_settings(commands: list[Command]) -> QuoteSettings:
    """The scripted desks' base: the spreads and sizes of the first ``SetQuotes`` in
    ``commands`` that turns quoting on (one the desk refused is skipped; what it leaves out is the
    desk default), else the desk defaults."""
    for cmd in commands:
        if isinstance(cmd, SetQuotes) and cmd.quoting:
            base = QuoteSettings()
            try:
                base.update(bid_spread_bps=cmd.bid_spread_bps, ask_spread_bps=cmd.ask_spread_bps,
                            bid_size_usd=cmd.bid_size_usd, ask_size_usd=cmd.ask_size_usd)
            except InvalidInput:
                continue
            return base
    return QuoteSettings()


def widening(run) -> float:
    """``stay and widen``'s w: 1 / the firms' mean depth factor on the desk's symbol as they last
    quoted it, from 1 to ``MAX_WIDENING`` (1 with no firms)."""
    makers = run.makers
    if not makers.F:
        return 1.0
    depth = portable.mean(makers.quoted_factor[:, run.desk.s])
    return MAX_WIDENING if depth * MAX_WIDENING <= 1 else max(1.0, 1 / depth)


def firms_left_calm(run) -> bool:
    """Whether a firm has left its calm state: thinning, pulled or returning after a pull."""
    return any(stance not in CALM for stance in run.makers.stance)


def _steer(run, base: QuoteSettings, bid_bps: float, ask_bps: float) -> list[Command]:
    """The ``SetQuotes`` that has the desk quote ``bid_bps``/``ask_bps`` at the base sizes, or
    none when it already does (a needless one would re-post the ladder and change the run)."""
    v = run.desk.view(run.sim.exchange)
    want = (True, bid_bps, ask_bps, base.bid_size_usd, base.ask_size_usd)
    if (v.quoting, v.bid_spread_bps, v.ask_spread_bps, v.bid_size_usd, v.ask_size_usd) == want:
        return []
    return [SetQuotes(run.player, *want)]


class _MinuteDesk:
    """A scripted desk: asked before every step of the re-run what to tell the player's desk;
    it sets its quotes once a sim-minute (and at the start)."""

    def __init__(self, base: QuoteSettings):
        self.base = base
        self.minute: int | None = None

    def new_minute(self, run) -> bool:
        """Whether ``run`` has entered a sim-minute this desk has not set its quotes in yet."""
        minute, last = run.sim.clock // 60, self.minute
        self.minute = minute
        return minute != last


class StayAndWiden(_MinuteDesk):
    """``stay and widen``: quote all session, both spreads base × ``widening`` every minute."""

    def __call__(self, run) -> list[Command]:
        if not self.new_minute(run):
            return []
        w = widening(run)
        widest = QuoteSettings.LIMITS["bid_spread_bps"][1]
        return _steer(run, self.base, min(widest, self.base.bid_spread_bps * w),
                      min(widest, self.base.ask_spread_bps * w))


class PullEarly(_MinuteDesk):
    """``pull early``: the base settings until the first firm leaves its calm, then pull for
    good."""

    def __init__(self, base: QuoteSettings):
        super().__init__(base)
        self.pulled = False

    def __call__(self, run) -> list[Command]:
        if self.pulled:
            return []
        if firms_left_calm(run):
            self.pulled = True
            return [PullQuotes(run.player)]
        if not self.new_minute(run):
            return []
        return _steer(run, self.base, self.base.bid_spread_bps, self.base.ask_spread_bps)


MAKER_POLICIES: dict[str, Callable[[QuoteSettings], Callable[[Any], list[Command]]]] = {
    "stay and widen": StayAndWiden, "pull early": PullEarly}
"""The scripted desks of a market maker's debrief, by name (built from the base settings)."""


def maker_rerun(run, policy: str | None) -> tuple[Any, str | None]:
    """A fresh run of ``run``'s level and seed to ``run``'s time: the player's commands at their
    times (the ones queued for the next step queued too) and its cut-short steps, with its
    ``SetQuotes``/``PullQuotes`` replaced by the scripted desk ``policy`` (a ``MAKER_POLICIES``
    name), or kept (None). Returns the run and when its desk last quoted (HH:MM:SS, or None)."""
    from .crash import CrashRun
    from .saves.replay import catch_up, logged_commands
    script = None
    if policy is not None:
        script = MAKER_POLICIES[policy](base_settings(
            [c for t, c in logged_commands(run) if t < run.sim.t]))
    fresh = CrashRun(run.level, seed=run.seed)
    desk, ex = fresh.desk, fresh.sim.exchange
    assert desk is not None  # the level of run's, which has one
    quoted: list[int | None] = [None]

    def before_step(f) -> None:
        """Note whether the desk quotes (after the step before), then the script's commands."""
        if desk.view(ex).quoting:
            quoted[0] = f.sim.clock
        for command in script(f) if script is not None else ():
            f.sim.submit(command)
    catch_up(fresh, run, keep=None if script is None else _not_desk, before_step=before_step)
    if desk.view(ex).quoting:
        quoted[0] = fresh.sim.clock
    return fresh, None if quoted[0] is None else fmt_hhmm(quoted[0], with_seconds=True)


def _not_desk(command: Command) -> bool:
    """A command the scripted desks keep: every one but the desk's own."""
    return not isinstance(command, (SetQuotes, PullQuotes))


def _real_quoting_until(run) -> str | None:
    """When the real desk last quoted: now if it still quotes; otherwise the run does not record
    when it stopped (a command, or the desk itself: ``DeskStopped``), so the session is re-run
    with the player's own commands to see."""
    if run.desk.view(run.sim.exchange).quoting:
        return run.sim.hhmm
    return maker_rerun(run, None)[1]


def maker_what_if(run) -> dict[str, MakerOutcome]:
    """The market maker's real outcome, then the same session with its desk scripted by each of
    ``MAKER_POLICIES``: two re-runs, three when the real desk no longer quotes (to find when it
    stopped). ``run`` is only read."""
    _need_desk(run)
    out = {"real": maker_outcome("real", run, _real_quoting_until(run))}
    for name in MAKER_POLICIES:
        fresh, quoting_until = maker_rerun(run, name)
        out[name] = maker_outcome(name, fresh, quoting_until)
    return out


def maker_lessons(outcomes: dict[str, MakerOutcome]) -> list[str]:
    """What the scripted desks show about the real session, in sentences chosen by the numbers
    (a difference under ``MATTERS_USD`` is none)."""
    real = outcomes["real"]
    out = [_money_source(real)]
    if real.penalties_usd >= MATTERS_USD:
        out.append(f"Missed obligations cost you {_usd(real.penalties_usd)} in penalties.")
    stay, pull = outcomes.get("stay and widen"), outcomes.get("pull early")
    if stay is not None:
        out.append(_compared(real, stay, "Staying all session and widening your spreads as the "
                                         "firms' depth fell"))
        out.extend(_survival(real, stay, "Staying and widening"))
    if pull is not None:
        if stay is not None and pull.quoting_until == stay.quoting_until:
            out.append("No firm left its calm while your desk could quote, so pulling early "
                       "would never have pulled.")
        else:
            when = f"at {pull.quoting_until}" if pull.quoting_until else "from the start"
            out.append(_compared(real, pull, f"Pulling your quotes when the first firm left its "
                                             f"calm ({when})"))
        out.extend(_survival(real, pull, "Pulling early"))
    return out


def _money_source(real: MakerOutcome) -> str:
    """Where the real session's money came from: the spread (and rebates) or the inventory."""
    earned, inventory = real.spread_earned_usd + real.rebates_usd, real.inventory_pnl_usd
    if inventory <= -MATTERS_USD and -inventory > earned:
        return (f"Your inventory lost {_usd(-inventory)}, more than the {_usd(earned)} your "
                f"spread and rebates earned.")
    if inventory <= -MATTERS_USD:
        return (f"Your spread and rebates earned {_usd(earned)} and paid for the "
                f"{_usd(-inventory)} your inventory lost.")
    if inventory >= MATTERS_USD:
        return (f"Your spread and rebates earned {_usd(earned)}, and your inventory made "
                f"{_usd(inventory)} more.")
    return (f"Your spread and rebates earned {_usd(earned)}; your inventory made no difference "
            f"({_usd(inventory)}).")


def _compared(real: MakerOutcome, alt: MakerOutcome, doing: str) -> str:
    """``doing`` (a scripted desk) against the real session, with where its money came from."""
    gain = alt.pnl_usd - real.pnl_usd
    parts = (f"spread and rebates {_usd(alt.spread_earned_usd + alt.rebates_usd)}, inventory "
             f"{_usd(alt.inventory_pnl_usd)}")
    if alt.penalties_usd:
        parts += f", penalties {_usd(alt.penalties_usd)}"
    if abs(gain) < MATTERS_USD:
        return f"{doing} would have made no difference to your account ({_usd(alt.pnl_usd)}: " \
               f"{parts})."
    better = f"{_usd(gain)} better off" if gain > 0 else f"{_usd(-gain)} worse off"
    return f"{doing} would have left you {better}: {_usd(alt.pnl_usd)} instead of " \
           f"{_usd(real.pnl_usd)} ({parts})."


def _survival(real: MakerOutcome, alt: MakerOutcome, doing: str) -> list[str]:
    """A sentence when ``doing`` changes whether the desk is liquidated."""
    if real.liquidated_at and alt.survived:
        return [f"{doing}, you would have survived (you were liquidated at "
                f"{real.liquidated_at})."]
    if real.survived and alt.liquidated_at:
        return [f"{doing}, you would have been liquidated at {alt.liquidated_at}."]
    return []
