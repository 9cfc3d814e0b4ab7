"""One definition of an agent's state (its ``__slots__``, ``engine.agents.base``) serves the
checksum and saves: every field an agent holds is in the checksum unless it is wiring."""

import copy

import numpy as np
import pytest

from engine import CrashRun, load_level
from engine.agents.base import AgentState


@pytest.fixture(scope="module")
def run():
    r = CrashRun(load_level("levels/maker.toml", overrides=["crowd.accounts=2000"]))
    r.run(until="04:33")
    return r


def _parts(run):
    return [*run.sim.scenario, *run.sim.agents]


def test_every_agent_declares_its_fields(run):
    for part in _parts(run):
        assert isinstance(part, AgentState), type(part).__name__
        assert not hasattr(part, "__dict__"), f"{type(part).__name__} has undeclared fields"


def test_every_state_field_is_in_the_checksum(run):
    """Change any one non-wiring field of any agent: the checksum changes (format 1 missed the
    makers' ``risk`` and ``quoted_factor``, and the scenario's noise)."""
    base = run.checksum()
    checked = 0
    for part in _parts(run):
        for name, value in list(part.state_fields()):
            saved = copy.deepcopy(value)
            setattr(part, name, _changed(value))
            try:
                assert run.checksum() != base, f"{type(part).__name__}.{name} is not hashed"
            finally:
                setattr(part, name, saved)
            checked += 1
    assert run.checksum() == base and checked >= 50


def _changed(value):
    if isinstance(value, np.ndarray):
        out = value.copy()
        if out.size:
            out.flat[0] = out.flat[0] + 1 if out.dtype.kind in "iuf" else not out.flat[0]
            return out
        return np.zeros(1, dtype=value.dtype)
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if value is None:
        return 0
    if isinstance(value, str):
        return value + "!"
    if isinstance(value, list):
        return [*value, 0]
    if isinstance(value, dict):
        return {**value, -1: 0.0}
    return _marker(value)


def _marker(value):
    """Anything else (a deque, a settings record): a value of another content."""
    from collections import deque
    if isinstance(value, deque):
        return deque([*value, (0, 0)])
    if hasattr(value, "__slots__"):
        other = copy.deepcopy(value)
        first = type(value).__slots__[0]
        setattr(other, first, _changed(getattr(value, first)))
        return other
    raise AssertionError(f"no way to change a {type(value).__name__}")
