"""Documentation generated from the schema: the commented starting file (``new_level_text``)
and the field reference in ``levels/README.md`` (``schema_reference_markdown``), with the
objective vocabulary."""

from __future__ import annotations

from typing import Any

from .problems import _toml
from .schema import FORMAT, SCHEMA, Field, PerSymbol, Table
from .values import _bound_text, _bounds


# --- documentation generated from the schema --------------------------------------------------
_SYMBOL_EXAMPLE = "BTC"
_LIVE_IN_TEMPLATE = ("format", "title", "symbols.<SYM>.price")
_EXAMPLES: dict[str, Any] = {
    "format": FORMAT, "symbols.<SYM>.price": 122_000, "symbols.<SYM>.preset": _SYMBOL_EXAMPLE,
    "symbols.<SYM>.waypoints": [["04:00", 122_000], ["05:20", 104_000]],
    "tracked_symbol": _SYMBOL_EXAMPLE, "player.maker_symbol": _SYMBOL_EXAMPLE,
    "clock.epilogue": "06:00", "news[].at": "04:20",
    "news[].headline": "Tariff threat: 100% on all imports", "player.positions[].symbol":
    _SYMBOL_EXAMPLE, "player.positions[].side": "long", "player.positions[].notional_usd": 250_000,
    "base": "1011", "objectives[].metric": "end_equity_usd", "objectives[].at_least": 400_000,
    "objectives[].at_most": 25, "objectives[].is": True, "lesson_checks[].metric": "adl_hits",
    "lesson_checks[].at_least": 1, "lesson_checks[].at_most": 0, "lesson_checks[].is": True,
    "objectives[].label": "End with at least $400,000", "variants[].name": "thin",
    "variants[].label": "A thin fund: a quarter of today's",
    "variants[].set": ["exchange.fund_multiplier=0.25"],
}
_ALTERNATIVES = ("base", "objectives[].at_most", "objectives[].is", "lesson_checks[].at_most",
                 "lesson_checks[].is")
"""Template lines shown as ``## key = example``: alternatives, or fields whose example needs
another file; uncommenting every ``# key = value`` line leaves them out."""


def _allowed(spec: Field) -> str:
    """What values a field takes, briefly: ``0 – 1``, ``≥ 0``, ``easy, normal, hard``."""
    low, high = _bounds(spec)
    if spec.kind == "choice":
        return ", ".join(spec.choices)
    if spec.kind == "time":
        return "HH:MM or HH:MM:SS, hours 0–47"
    if spec.kind == "waypoints":
        return "[time, price > 0] pairs, times rising, within the clock"
    if low is not None and high is not None and low == high:
        return _bound_text(low)
    if low is not None and high is not None:
        return f"{_bound_text(low, True)} – {_bound_text(high, True)}"
    if low is not None:
        return f"≥ {_bound_text(low, True)}"
    return f"≤ {_bound_text(high, True)}" if high is not None else ""


def _example(spec: Field, path: str) -> Any:
    if path in _EXAMPLES:
        return _EXAMPLES[path]
    if spec.default is not None or not spec.required:
        return spec.default
    fallback = {"time": "04:00", "choice": (spec.choices or ("",))[0], "str": "..."}
    return fallback.get(spec.kind, spec.min or 1)


def _template_field(key: str, spec: Field, path: str, title: str, live: bool,
                    note: str = "") -> str:
    value = title if path == "title" else _example(spec, path)
    notes = [spec.doc, note, _allowed(spec)]
    if spec.required:
        notes.append("required")
    elif value != spec.default and "default" not in spec.doc:
        notes.append(f"default: {'none' if spec.default is None else _toml(spec.default)}")
    assignment = f"{key} = {_toml(value, grouped=True)}"
    prefix = "" if live and path in _LIVE_IN_TEMPLATE else "## " if path in _ALTERNATIVES \
        else "# "
    return f"{prefix}{assignment:<32}  # " + "; ".join(n for n in notes if n)


def _template_table(node: Table, path: str, title: str, live: bool) -> list[str]:
    """The fields of ``node`` (commented out) and then its sub-tables."""
    lines, sections = [], []
    for key, child in node.fields.items():
        child_path = f"{path}.{key}" if path else key
        if isinstance(child, Field):
            lines.append(_template_field(key, child, child_path, title, live))
        elif isinstance(child, PerSymbol) and isinstance(child.node, Field):
            lines.append(_template_field(f"{key}.{_SYMBOL_EXAMPLE}", child.node,
                                         f"{child_path}.<SYM>", title, live, child.doc))
        else:
            sections.append((child, child_path))
    for child, child_path in sections:
        lines += [""] + _template_section(child, child_path, title, live)
    return lines


def _template_section(node: Any, path: str, title: str, live: bool) -> list[str]:
    if isinstance(node, Table):
        header, inner, walk_path = f"[{path}]", node, path
    elif isinstance(node, PerSymbol):
        header, inner, walk_path = f"[{path}.{_SYMBOL_EXAMPLE}]", node.node, f"{path}.<SYM>"
    else:  # an array of tables: shown as a commented-out example
        header, inner, walk_path, live = f"[[{path}]]", node.table, f"{path}[]", False
    doc = node.doc or inner.doc
    first = ("" if live else "# ") + header + (f"  # {doc}" if doc else "")
    return [first] + _template_table(inner, walk_path, title, live)


def new_level_text(name: str) -> str:
    """A starting level file: every section and field, commented with its default and meaning."""
    name_text = " ".join(name.split())  # a newline in a comment would end the comment
    head = [f"# {name_text}: a crashfloor level (format {FORMAT}).",
            "#",
            "# Every field has a default except each symbol's price. A commented-out line shows a",
            "# field's default (or an example), what it means and what it allows: uncomment it to",
            "# change it. Times are HKT, \"HH:MM\" or \"HH:MM:SS\"; hours past 23 run past "
            "midnight.",
            f"# Check the file with:  crashfloor check levels/{name_text}.toml",
            ""]
    return "\n".join(head + _template_table(SCHEMA, "", name, True)) + "\n"


def _reference_sections(node: Table, path: str, title: str, doc: str):
    """Yield (title, doc, [(field path, Field, note)]) for ``node`` and each sub-table."""
    rows, sections = [], []
    for key, child in node.fields.items():
        child_path = f"{path}.{key}" if path else key
        if isinstance(child, Field):
            rows.append((child_path, child, ""))
        elif isinstance(child, PerSymbol) and isinstance(child.node, Field):
            rows.append((f"{child_path}.<SYM>", child.node, child.doc))
        elif isinstance(child, Table):
            sections.append((child, child_path, f"[{child_path}]", child.doc))
        elif isinstance(child, PerSymbol):
            sections.append((child.node, f"{child_path}.<SYM>", f"[{child_path}.<SYM>]",
                             child.doc or child.node.doc))
        else:
            sections.append((child.table, f"{child_path}[]", f"[[{child_path}]]",
                             child.doc or child.table.doc))
    yield title, doc, rows
    for args in sections:
        yield from _reference_sections(*args)


def objective_vocabulary_markdown() -> list[str]:
    """The metrics ``[[objectives]]`` and ``[[lesson_checks]]`` may name, as a Markdown table."""
    from ..objectives import METRICS
    out = ["### The objective vocabulary", "",
           "| Metric | Kind | Meaning |", "|---|---|---|"]
    for m in METRICS.values():
        kind = "yes/no (`is`)" if m.kind == "bool" else \
            f"number{f' ({m.unit})' if m.unit else ''} (`at_least` / `at_most`)"
        out.append(f"| `{m.name}` | {kind} | {m.doc} |")
    return out + [""]


def schema_reference_markdown() -> str:
    """The field reference: one Markdown table per section, generated from the schema, then the
    objective vocabulary."""
    out = []
    for title, doc, rows in _reference_sections(SCHEMA, "", "Top level", ""):
        if not rows:
            continue
        out += [f"### `{title}`" if title.startswith("[") else f"### {title}", ""]
        out += [doc, ""] if doc else []
        out += ["| Field | Kind | Default | Allowed | Meaning |", "|---|---|---|---|---|"]
        for path, spec, note in rows:
            default = "required" if spec.required else "—" if spec.default is None else \
                f"`{_toml(spec.default, grouped=True)}`"
            meaning = "; ".join(n for n in (spec.doc, note) if n)
            cells = [f"`{path}`", spec.kind, default, _allowed(spec), meaning]
            out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        out.append("")
    out += objective_vocabulary_markdown()
    return "\n".join(out)
