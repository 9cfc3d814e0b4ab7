"""The simulation loop: a fixed step, commands in, events out, one seeded generator.

Each ``step()`` advances the clock by ``step_seconds`` and runs, in this fixed order:

1. **scenario** — hooks that move the index (the outside venues) and publish news;
2. **agents** — market makers, the crowd, arbitrageurs, in an order drawn from the generator;
3. **commands** — the player's queued commands, in arrival order;
4. **settle** — marks, the liquidation waterfall, ADL lights;
5. **listeners** — agents and recorders that read the step's events and the state: recorders
   never change it; agents update their own signals and queue what they will do next step, and
   the maker desk settles a minute that closed (its rebate or penalty moves money between the
   desk's account and the fee pool).

Determinism contract: the only randomness is ``self.rng`` (one ``numpy.random.Generator`` seeded from
the level's seed, shared with the exchange); nothing reads the wall clock; nothing iterates a set or
depends on hash order. Same level, seed and commands → same events and the same ``checksum()``.
"""

from __future__ import annotations

import hashlib
from typing import Protocol
from collections.abc import Callable, Iterable

import numpy as np

from .clock import fmt_hhmm, parse_hhmm
from .commands import Command, Desk, Wallet, apply, to_record
from .errors import InvalidInput
from .events import Event
from .exchange import Exchange
from .instruments import Instrument


class Agent(Protocol):
    """Anything that trades on the exchange once per step."""

    def act(self, sim: Simulation) -> None: ...

    def state_digest(self) -> bytes:
        """Bytes that change whenever the agent's private state does (for the checksum;
        ``engine.agents.base.AgentState`` derives them from the agent's slots)."""


Hook = Callable[["Simulation"], None]


class Simulation:
    def __init__(self, instruments: Iterable[Instrument], *, seed: int = 1, start: str = "04:00",
                 end: str = "05:35", step_seconds: int = 1, **exchange_options):
        if type(seed) is not int or not 0 <= seed <= 2**32 - 1:
            raise InvalidInput(f"seed must be a whole number from 0 to 4294967295, got {seed!r}")
        if type(step_seconds) is not int or not 1 <= step_seconds <= 60:
            raise InvalidInput(f"step_seconds must be 1..60, got {step_seconds!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.exchange = Exchange(instruments, rng=self.rng, **exchange_options)
        self.start = parse_hhmm(start, "start")
        self.end = parse_hhmm(end, "end")
        if self.end <= self.start:
            raise InvalidInput(f"end {end!r} must be after start {start!r}")
        self.step_seconds = step_seconds
        self.t = 0
        self.dt = step_seconds
        """Seconds the last step advanced (the last step of a run may be shorter)."""
        self.agents: list[Agent] = []
        self.scenario: list[Hook] = []
        self.listeners: list[Callable[[Simulation, list[Event]], None]] = []
        self.desks: dict[int, Desk] = {}
        """Market-making desks that quote commands steer, by account (a maker level's player)."""
        self.wallets: dict[int, Wallet] = {}
        """Spot wallets that transfer commands move money through, by account (the player's):
        state, saved and in the checksum."""
        self._pending: list[Command] = []
        self.command_log: list[tuple[int, dict]] = []
        """Every command submitted, as ``(t, commands.to_record(command))``: ``t`` is the time it
        was queued at, so it was applied by the step that started then (replays)."""
        self.short_steps: list[tuple[int, int]] = []
        """``(t, dt)`` of every step cut short by ``max_seconds`` (replays repeat them)."""
        self.minute_checksums: list[tuple[int, str]] | None = None
        """``(clock, checksum())`` at the end of every step that reaches a new minute, once
        ``record_checksums()`` is on (replays verify them); ``None`` when off."""

    # --- clock ---------------------------------------------------------------------------------
    @property
    def clock(self) -> int:
        """Seconds since midnight HKT."""
        return self.start + self.t

    @property
    def hhmm(self) -> str:
        return fmt_hhmm(self.clock, with_seconds=True)

    @property
    def duration(self) -> int:
        return self.end - self.start

    @property
    def finished(self) -> bool:
        return self.t >= self.duration

    # --- commands in, events out ------------------------------------------------------------------
    def submit(self, command: Command) -> None:
        """Queue a command for the next step."""
        if not isinstance(command, Command):
            raise InvalidInput(f"not a command: {command!r}")
        self._pending.append(command)
        self.command_log.append((self.t, to_record(command)))

    def add_desk(self, desk: Desk) -> None:
        """Register a market-making desk as an agent that quote commands of its account steer."""
        self.agents.append(desk)
        self.desks[desk.account] = desk

    def add_wallet(self, wallet: Wallet) -> None:
        """Register the spot wallet that transfer commands of its account use. A wallet is
        state (saved, in the checksum) but not an agent: it never acts, and the agents' order
        draw is the same with or without one."""
        self.wallets[wallet.account] = wallet

    def _after_restore(self) -> None:
        """Desks are wiring, not state: after a save is restored, the desks are the restored
        agents that are desks (a format-1 save kept them on the exchange)."""
        self.desks = {agent.account: agent for agent in self.agents
                      if isinstance(agent, Desk)}

    def record_checksums(self) -> None:
        """Keep a ``checksum()`` at every sim-minute from now on (costs a few ms a minute)."""
        if self.minute_checksums is None:
            self.minute_checksums = []

    def step(self, max_seconds: int | None = None) -> list[Event]:
        """Advance one step (shortened to end exactly at the end, or after ``max_seconds``);
        returns its events."""
        if self.finished:
            return []
        dt = min(self.step_seconds, self.duration - self.t)
        if max_seconds is not None and max(1, max_seconds) < dt:
            dt = max(1, max_seconds)
            self.short_steps.append((self.t, dt))
        self.t += dt
        self.dt = dt
        ex = self.exchange
        ex.t = self.t
        for hook in self.scenario:
            hook(self)
        for i in self.rng.permutation(len(self.agents)).tolist():
            self.agents[i].act(self)
        pending, self._pending = self._pending, []
        outcomes = [apply(ex, cmd, self.desks, self.wallets) for cmd in pending]
        events = ex.settle()
        events.extend(outcomes)
        for listener in self.listeners:
            listener(self, events)
        if self.minute_checksums is not None and self.clock // 60 != (self.clock - dt) // 60:
            self.minute_checksums.append((self.clock, self.checksum()))
        return events

    def checksum(self) -> str:
        """The exchange's checksum plus the clock and every agent's private state."""
        h = hashlib.blake2b(digest_size=16)
        h.update(self.exchange.checksum().encode())
        h.update(repr((self.t, self.start, self.end, self.step_seconds)).encode())
        for part in (*self.scenario, *self.agents):
            digest = getattr(part, "state_digest", None)  # a stateless hook has none
            if digest is not None:
                h.update(digest())
        for account in sorted(self.wallets):
            h.update(self.wallets[account].state_digest())
        return h.hexdigest()
