"""Property: every level the schema accepts builds and steps a simulated minute, and nothing but
the engine's own typed errors escapes (a few fields changed at once, anywhere in their bounds)."""

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.crash import CrashRun
from engine.errors import CrashfloorError
from engine.level import _bounds, load_level
from engine.level.schema import walk

from ..conftest import MINI_LEVEL

SYMBOLS = ("BTC", "DOGE")  # the mini level's
FIELDS = [(path, spec) for path, spec in walk()
          if spec.kind in ("int", "float", "fraction", "usd", "bool", "choice")
          and "[]" not in path and path not in ("format", "seed", "base")
          and not path.startswith(("objectives", "lesson_checks", "variants", "scoring"))]


def _value(spec, draw):
    if spec.kind == "bool":
        return draw(st.booleans())
    if spec.kind == "choice":
        return repr(draw(st.sampled_from(spec.choices))) if spec.choices else None
    low, high = _bounds(spec)
    low = 0.0 if low is None else float(low)
    high = low + 1e6 if high is None else float(high)
    if high - low > 1e6 and low >= 0:  # wide USD and count ranges: spread over magnitudes
        x = math.exp(draw(st.floats(math.log1p(low), math.log1p(high)))) - 1
    else:
        x = draw(st.floats(low, high))
    x = min(max(x, low), high)
    return int(x) if spec.kind == "int" else round(x, 6) if spec.kind == "usd" else x


@st.composite
def overrides(draw):
    out = []
    for path, spec in draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=4,
                                     unique_by=lambda f: f[0])):
        value = _value(spec, draw)
        if value is None:
            continue
        value = str(value).lower() if isinstance(value, bool) else value
        sym = draw(st.sampled_from(SYMBOLS))
        out.append(f"{path.replace('<SYM>', sym)}={value}")
    return out


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(overrides())
def test_every_accepted_level_steps_a_minute_with_only_typed_errors(changes):
    try:
        level = load_level(MINI_LEVEL, changes)
    except CrashfloorError:
        return  # refused, in the level's own words
    try:
        run = CrashRun(level)
        run.run(until="04:51")
    except CrashfloorError:
        return
    assert run.summary()["conservation_error"] == 0, changes
