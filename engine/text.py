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

import re

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                      "\u2066-\u2069]")


def _escaped(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_text(text: object) -> str:
    """``text`` (any object, through ``str``) with control characters written as escapes."""
    text = text if isinstance(text, str) else str(text)
    return _CONTROL.sub(_escaped, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character that :func:`escape_text` would escape."""
    return _CONTROL.search(text) is not None


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters, ending with ``…`` when cut."""
    return text if len(text) <= limit else text[:max(1, limit - 1)] + "…"
