"""Text from files and command lines, made safe to print on a terminal.

    escape_text("title \\x1b[2J")      # 'title \\\\x1b[2J': the escape is shown, not obeyed
    shorten("a" * 500, 40)            # 'aaaa…' (40 characters)

A level file, a ``--set`` value or a save can carry terminal control sequences (ESC/CSI, OSC,
a bell, a carriage return that overwrites the line before it) or Unicode direction overrides that
reorder what is shown. Wherever such text is echoed (an error message quoting a key or a value, a
level title in ``crashfloor check``), :func:`escape_text` writes every C0 and C1 control
character, DEL, the line and paragraph separators and the bidirectional controls as a visible
escape (``\\x1b``, ``\\u202e``); everything else, including non-ASCII letters and emoji, is left
as it is.
"""

from __future__ import annotations

import unicodedata

_HIDDEN = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")
"""Unicode categories never printed as they are: controls, format characters (bidi overrides,
zero-width marks), lone surrogates, private-use and unassigned code points, line separators."""


def _escaped(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _hidden(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or (code > 0x9F
                                                   and unicodedata.category(ch) in _HIDDEN)


def escape_text(text: object, limit: int | None = None) -> str:
    """``text`` (any object, through ``str``) with control characters written as escapes; cut
    to ``limit`` characters (ending with ``…``) when given."""
    text = text if isinstance(text, str) else str(text)
    out = "".join(_escaped(ch) if _hidden(ch) else ch for ch in text)
    return out if limit is None else shorten(out, limit)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`escape_text` would escape."""
    return any(_hidden(ch) for ch in text)


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``…`` when cut."""
    return text if len(text) <= limit else text[:max(1, limit - 1)] + "…"
