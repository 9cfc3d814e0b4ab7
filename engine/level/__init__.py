"""Level files: read a TOML level strictly, validate it against ``schema``, apply ``--set``.

    level = load_level("levels/1011.toml", overrides=["crowd.long_share=0.9"])
    level.get("crowd.long_share")                     # 0.9
    level.data["exchange"]["insurance_fund"]["BTC"]   # every default filled in
    level.times.start                                 # seconds since midnight

Every problem is collected and raised together in one ``LevelError``, one line each, e.g.
``levels/x.toml: line 42: crowd.long_share = 1.7 — must be between 0 and 1``. The validator is
written by hand rather than with msgspec because it must report every problem at once, each with
the line it is on (``engine.level.tomlpos``), and the engine takes no dependency beyond numpy.

The package, one concern a module: ``model`` (``Level``, ``ClockTimes``), ``schema`` (the format as
data), ``tomlpos`` (key → line), ``reading`` (safe file reading, TOML parsing, limits), ``problems``
(``Problem``, error text, did-you-mean), ``values`` and ``walker`` (checking fields against the
schema), ``validation`` (rules across fields, ``validate``), ``overrides`` (``--set``),
``inheritance`` (``base =``), ``loading`` (``load_level``), ``discovery`` (finding and listing
levels) and ``docs`` (the starting template and the generated reference). Every name is
re-exported here: import from ``engine.level``.
"""

from __future__ import annotations

from ..text import escape_text
from .discovery import SHIPPED_LEVELS_DIR, find_level, level_names, list_levels
from .docs import new_level_text, objective_vocabulary_markdown, schema_reference_markdown
from .inheritance import MAX_BASE_DEPTH
from .loading import level_from_raw, load_level, with_overrides
from .model import ClockTimes, Level, time_to_seconds
from .overrides import MAX_KEY_CHARS, _apply_override, _parse_override
from .problems import ABSENT, MAX_PROBLEMS, Problem, toml_value
from .reading import shape_problem
from .schema import ADL_POLICIES, FORMAT, Field, GOAL, ListOf, MAX_ACCOUNT_CELLS, MAX_FIELD_USD, \
    MAX_FLOW_USD, MAX_FUND_USD, MAX_LEVEL_BYTES, MAX_LEVEL_MONEY_USD, MAX_NESTING, MAX_PRICE_RISE, \
    MAX_QUOTE_LEVELS, MAX_START_TICKS, MAX_SYMBOLS, PRESETS, PerSymbol, SCHEMA, SYMBOL, Table, \
    walk
from .tomlpos import KeyLines, KeyPath, MAX_PATH_PARTS, line_of, parse_path, path_text, quote
from .validation import validate
from .values import _bounds
from .walker import SHARED_FUND_KEY

__all__ = [
    "ABSENT", "ADL_POLICIES", "ClockTimes", "FORMAT", "Field", "GOAL", "KeyLines", "KeyPath",
    "Level", "ListOf", "MAX_ACCOUNT_CELLS", "MAX_BASE_DEPTH", "MAX_FIELD_USD", "MAX_FLOW_USD",
    "MAX_FUND_USD", "MAX_KEY_CHARS", "MAX_LEVEL_BYTES", "MAX_LEVEL_MONEY_USD", "MAX_NESTING",
    "MAX_PATH_PARTS", "MAX_PRICE_RISE", "MAX_PROBLEMS", "MAX_QUOTE_LEVELS", "MAX_START_TICKS",
    "MAX_SYMBOLS", "PRESETS", "PerSymbol", "Problem", "SCHEMA", "SHARED_FUND_KEY",
    "SHIPPED_LEVELS_DIR", "SYMBOL", "Table", "_apply_override", "_bounds", "_parse_override",
    "escape_text", "find_level", "level_from_raw", "level_names", "line_of", "list_levels",
    "load_level", "new_level_text", "objective_vocabulary_markdown", "parse_path", "path_text",
    "quote", "schema_reference_markdown", "shape_problem", "time_to_seconds", "toml_value",
    "validate", "walk", "with_overrides",
]
