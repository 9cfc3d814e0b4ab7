"""Is a restored state one the engine could have reached? The meaning of a state, checked.

A save's checksums say that its bytes are the ones written; they cannot say that whoever wrote
them played by the rules (anyone can recompute a checksum). Before a restored run starts,
``audit_run`` checks what every state the engine reaches between two steps satisfies:

* the run's fixed wiring is the fresh run's (``skeleton``, taken before the restore): the same
  instruments, symbols, funds, market rules, clock, player and agents;
* the account arrays have their shapes, dtypes and bounds (money within ``±MAX_MONEY``), funds
  are where the exchange put them, every position nets to zero per symbol, a flat position has
  no cost and no isolated margin, leverage is 1 .. the instrument's maximum, isolated margin is
  ≥ 0 wherever an isolated position is open, and no trader has a cross pool with positions open
  and negative equity (unless one of its symbols is in a trading halt);
* every insurance fund holds at least its floor (unless the ADL breaker, which lets a fund run a
  deficit, is on);
* every book is well formed (records, price queues, level totals, heaps, never crossed), every
  exchange order record is in its book and every booked order has a record, each order's margin
  is ``ceil(lots × price × unit / leverage)`` (0 if reduce-only) and each account's order margin
  is the sum of its orders'; ``_next_oid`` is above every order id;
* marks and index prices are whole ticks in 1 .. ``MAX_PRICE_TICKS``, the basis finite;
* money adds up: ``total_money() == net_deposits``.

``audit_run`` never raises: it returns the problems found (at most ``MAX_PROBLEMS``), each a short
sentence naming what is wrong. An empty list means the state is one the engine can run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .checks import _Problems, _guard, _int_in, _is_int, audit_exchange

# --- the fixed wiring: what a restore must not change ------------------------------------------
_STATIC_EXCHANGE = ("symbols", "_sym", "units", "instruments", "price_grid", "qty_grid",
                    "adl_policy")
_STATIC_FUNDS = ("ids", "names", "fund_of", "floor", "workout_slippage_ppm", "takeover_stress_ppm",
                 "adl_drawdown_ppm")
_STATIC_RULES = ("adl_breaker", "halt_drop_ppm", "halt_window", "halt_seconds")
_STATIC_MARKS = ("method", "alpha", "stale_steps")
_STATIC_SIM = ("seed", "start", "end", "step_seconds")
_STATIC_RUN = ("seed", "player", "session_end")


def skeleton(run) -> dict:
    """The fixed wiring of a freshly built run (taken before a restore writes into it)."""
    from .state import capture
    sim = run.sim
    ex = sim.exchange
    out: dict[str, Any] = {}
    for owner, names, prefix in ((run, _STATIC_RUN, "run"), (sim, _STATIC_SIM, "sim"),
                                 (ex, _STATIC_EXCHANGE, "exchange"),
                                 (ex.funds, _STATIC_FUNDS, "exchange.funds"),
                                 (ex.rules, _STATIC_RULES, "exchange.rules"),
                                 (ex.marks, _STATIC_MARKS, "exchange.marks")):
        for name in names:
            if hasattr(owner, name):
                try:
                    out[f"{prefix}.{name}"] = capture(getattr(owner, name))
                except Exception:  # noqa: BLE001 - a field the capture cannot write is skipped
                    pass
    return {"fields": out, "agents": [type(a) for a in sim.agents],
            "agent_arrays": [_arrays_of(a) for a in sim.agents],
            "hooks": (len(sim.scenario), len(sim.listeners)), "books": len(ex.books),
            "n_symbols": ex.acc.n_symbols}


def _arrays_of(agent) -> dict[str, tuple]:
    """(dtype, shape) of an agent's array fields: fixed when the agent is built."""
    from .state import attributes
    return {k: (v.dtype.str, v.shape) for k, v in attributes(agent) if isinstance(v, np.ndarray)}


def _check_skeleton(run, fresh: dict, out: _Problems) -> None:
    from .state import attributes, capture
    sim = run.sim
    ex = sim.exchange
    owners = {"run": run, "sim": sim, "exchange": ex, "exchange.funds": ex.funds,
              "exchange.rules": ex.rules, "exchange.marks": ex.marks}
    for key, want in fresh["fields"].items():
        prefix, _, name = key.rpartition(".")
        try:
            got = capture(getattr(owners[prefix], name))
        except Exception:  # noqa: BLE001
            got = None
        if got != want:
            out.add(f"{key} is not what the level sets up (the saved state changed the run's "
                    f"fixed rules)")
    if [type(a) for a in sim.agents] != fresh["agents"]:
        out.add("sim.agents: not the level's agents")
        return
    n = ex.acc.n if _is_int(ex.acc.n) else 0
    for agent, want in zip(sim.agents, fresh["agent_arrays"], strict=False):
        name = type(agent).__name__
        if _arrays_of(agent) != want:
            out.add(f"sim.agents: the {name}'s arrays are not the shapes the level gives them")
            continue
        for key, arr in attributes(agent):
            if key.endswith("ids") and isinstance(arr, np.ndarray) and arr.size and \
                    arr.dtype.kind in "iu" and not (0 <= int(arr.min()) and int(arr.max()) < n):
                out.add(f"sim.agents: the {name}'s {key} name accounts that do not exist")
    if (len(sim.scenario), len(sim.listeners)) != fresh["hooks"]:
        out.add("sim: the scenario hooks or listeners are not the level's")
    if len(ex.books) != fresh["books"]:
        out.add("exchange.books: one book per symbol expected")
    if ex.acc.n_symbols != fresh["n_symbols"]:
        out.add("exchange.acc.n_symbols is not the number of symbols")


# --- the audit -----------------------------------------------------------------------------------
def audit_run(run, fresh: dict | None = None) -> list[str]:
    """The problems with a restored ``CrashRun`` (empty: it is a state the engine can run).
    ``fresh`` is the ``skeleton`` of the run before the restore."""
    out = _Problems()
    _guard(out, "the run's wiring", lambda: _check_run(run, fresh, out))
    if not out:
        out.extend(audit_exchange(run.sim.exchange, run.sim.t))
    return list(out)



def _check_run(run, fresh: dict | None, out: _Problems) -> None:
    from ..exchange import Exchange
    from ..sim import Simulation
    sim = getattr(run, "sim", None)
    if type(sim) is not Simulation or type(sim.exchange) is not Exchange:
        out.add("run: its simulation or exchange is not an engine object")
        return
    if fresh is not None:
        _check_skeleton(run, fresh, out)
    if not _int_in(sim.t, 0, sim.duration):
        out.add(f"sim.t = {sim.t!r} is outside the run (0 .. {sim.duration})")
    if not _int_in(sim.dt, 0, sim.step_seconds):
        out.add(f"sim.dt = {sim.dt!r} is not a step length")
    if sim.rng is not sim.exchange.rng:
        out.add("sim.rng: the simulation and the exchange must share one generator")
    from ..commands import Command
    if not isinstance(sim._pending, list) or \
            not all(isinstance(c, Command) for c in sim._pending):
        out.add("sim._pending holds something that is not a command")
    log = sim.command_log
    if not isinstance(log, list) or not all(
            isinstance(e, tuple) and len(e) == 2 and _int_in(e[0], 0, sim.t)
            and isinstance(e[1], dict) for e in log):
        out.add("sim.command_log is not a list of (time, command record) up to now")
    else:
        from ..commands import to_record
        try:
            pending = [to_record(c) for c in sim._pending]
        except Exception:  # noqa: BLE001
            pending = None
        queued = [rec for t, rec in log[len(log) - len(sim._pending):] if t == sim.t] \
            if len(sim._pending) <= len(log) else None
        if pending != queued:
            out.add("sim._pending: the queued commands are not the last ones logged")
    steps = sim.short_steps
    if not isinstance(steps, list) or not all(
            isinstance(e, tuple) and len(e) == 2 and _int_in(e[0], 0, sim.t)
            and _int_in(e[1], 1, sim.step_seconds) for e in steps):
        out.add("sim.short_steps is not a list of (time, seconds)")
