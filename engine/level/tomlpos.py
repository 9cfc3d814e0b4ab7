"""Where a key is in a TOML source: dotted key path → line number, for error messages.

    lines = KeyLines(source, tomllib.loads(source))
    lines.line("crowd.long_share")           # 12
    lines.line("news[2].at")                 # the line of `at` in the third [[news]] table
    lines.line("symbols.BTC.waypoints[1]")   # the line where that array element starts

A small scanner over a document that ``tomllib`` has already accepted: it follows ``[table]`` and
``[[array.of.tables]]`` headers, dotted and quoted keys, inline tables, arrays (every element gets
the line it starts on), comments and multi-line strings. It records the line of every key; a
table or key only mentioned as a prefix (``symbols`` in ``[symbols.BTC]``) gets the line of its
first mention. When the parsed data is given, the scanner's key set is checked against it and any
disagreement makes every answer None: a made-up line number is worse than none.
"""

from __future__ import annotations

import bisect
import re
import tomllib
from collections.abc import Iterable, Iterator
from typing import Any

KeyPath = tuple[str | int, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR = re.compile(r"[^\s,\]\}#]+")
_DATE_THEN_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:")
_PATH_PART = re.compile(r"""\s*(?:([A-Za-z0-9_<>-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*""")
_INDEX = re.compile(r"\[(\d{1,9})\]\s*")
MAX_PATH_PARTS = 64
"""A key path of more parts than this is not a path (``parse_path`` says None)."""
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                          "\u2066-\u2069]")


class _Unsure(Exception):
    """The scanner met something it does not understand; no answer is trustworthy."""


def parse_path(text: str) -> KeyPath | None:
    """``'news[2].at'`` → ``('news', 2, 'at')``; quoted keys allowed (``symbols."X Y"``).

    None when ``text`` is not a well-formed path, has more than ``MAX_PATH_PARTS`` parts or an
    index of more than 9 digits.
    """
    parts: list[str | int] = []
    pos = 0
    while True:
        match = _PATH_PART.match(text, pos)
        if not match:
            return None
        bare, basic, literal = match.groups()
        try:
            parts.append(bare if bare is not None else literal if literal is not None
                         else _decode_basic(f'"{basic}"'))
        except _Unsure:
            return None
        pos = match.end()
        while (index := _INDEX.match(text, pos)):
            parts.append(int(index.group(1)))
            pos = index.end()
        if len(parts) > MAX_PATH_PARTS:
            return None
        if pos == len(text):
            return tuple(parts)
        if text[pos] != ".":
            return None
        pos += 1


def path_text(path: KeyPath) -> str:
    """The inverse of :func:`parse_path`: ``('news', 2, 'at')`` → ``'news[2].at'``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            key = part if _BARE_KEY.fullmatch(part) else quote(part)
            out += f".{key}" if out else key
    return out


def quote(key: str) -> str:
    """A TOML basic string: ``'a "b"'`` → ``'"a \\"b\\""'``. Control characters (C0, DEL, C1,
    line separators, bidirectional controls) are written as ``\\uXXXX``: still the same TOML
    string, and safe to print on a terminal."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped) + '"'


def _decode_basic(token: str) -> str:
    try:
        return tomllib.loads(f"k = {token}")["k"]
    except tomllib.TOMLDecodeError:
        raise _Unsure(token) from None


class KeyLines:
    """Line numbers (1-based) of the keys of one TOML source."""

    def __init__(self, source: str, data: dict | None = None):
        try:
            self._lines: dict[KeyPath, int] = _Scanner(source).scan()
        except (_Unsure, IndexError):
            self._lines = {}
        if data is not None and set(self._lines) != set(_all_paths(data)):
            self._lines = {}

    def line(self, path: str | KeyPath) -> int | None:
        """The line where ``path`` is written, or None when it is not in the source or unsure."""
        key = parse_path(path) if isinstance(path, str) else tuple(path)
        return self._lines.get(key) if key is not None else None


def line_of(source: str, path: str | KeyPath) -> int | None:
    """One-off lookup: the line of ``path`` in ``source`` (which must be valid TOML), or None."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError:
        return None
    return KeyLines(source, data).line(path)


def children(node: Any) -> Iterable[tuple[Any, Any]]:
    """(key, child) pairs of a table or an array (index, item); none for a plain value."""
    if isinstance(node, dict):
        return node.items()
    if isinstance(node, list):
        return enumerate(node)
    return ()


def _all_paths(node: Any, prefix: KeyPath = ()) -> Iterator[KeyPath]:
    for key, child in children(node):
        yield prefix + (key,)
        yield from _all_paths(child, prefix + (key,))


class _Scanner:
    """One pass over the source, recording the line of every key, table and array element."""

    def __init__(self, source: str):
        self.text = source
        self.pos = 0
        self.newlines = [i for i, c in enumerate(source) if c == "\n"]
        self.lines: dict[KeyPath, int] = {}
        self.explicit: set[KeyPath] = set()
        self.table_arrays: dict[KeyPath, int] = {}  # resolved path → number of [[...]] so far

    # --- recording ---------------------------------------------------------------------------
    def line_at(self, pos: int) -> int:
        return bisect.bisect_left(self.newlines, pos) + 1

    def mention(self, path: KeyPath, pos: int) -> None:
        if path not in self.explicit:
            self.lines.setdefault(path, self.line_at(pos))

    def define(self, path: KeyPath, pos: int) -> None:
        if path not in self.explicit:
            self.lines[path] = self.line_at(pos)
            self.explicit.add(path)

    # --- characters --------------------------------------------------------------------------
    def peek(self, n: int = 1) -> str:
        return self.text[self.pos:self.pos + n]

    def skip_blank(self, newlines: bool) -> None:
        """Skip spaces and tabs (and, when ``newlines``, line breaks and comments)."""
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t" or (newlines and c in "\r\n"):
                self.pos += 1
            elif c == "#" and newlines:
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.pos):
            raise _Unsure(f"expected {token!r} at {self.pos}")
        self.pos += len(token)

    # --- document ----------------------------------------------------------------------------
    def scan(self) -> dict[KeyPath, int]:
        table: KeyPath = ()
        while True:
            self.skip_blank(newlines=True)
            if self.pos >= len(self.text):
                return self.lines
            if self.peek(2) == "[[":
                table = self.table_array_header()
            elif self.peek() == "[":
                table = self.table_header()
            else:
                self.key_value(table)
            self.skip_blank(newlines=False)
            if self.peek() == "#":
                self.skip_comment()
            if self.pos < len(self.text) and self.peek() not in "\r\n":
                raise _Unsure(f"junk after statement at {self.pos}")

    def table_header(self) -> KeyPath:
        start = self.pos
        self.expect("[")
        path = self.resolve(self.keys(), start)
        self.expect("]")
        self.define(path, start)
        return path

    def table_array_header(self) -> KeyPath:
        start = self.pos
        self.expect("[[")
        keys = self.keys()
        self.expect("]]")
        array = self.resolve(keys[:-1], start) + (keys[-1],)
        index = self.table_arrays.get(array, 0)
        self.table_arrays[array] = index + 1
        self.mention(array, start)
        self.define(array + (index,), start)
        return array + (index,)

    def resolve(self, keys: list[str], pos: int) -> KeyPath:
        """Header keys → a path, stepping into the latest table of each array of tables."""
        path: KeyPath = ()
        for key in keys:
            path += (key,)
            self.mention(path, pos)
            if path in self.table_arrays:
                path += (self.table_arrays[path] - 1,)
        return path

    def keys(self) -> list[str]:
        """A dotted key: ``a``, ``a.b``, ``"quoted key".c`` (whitespace around dots allowed)."""
        keys = []
        while True:
            self.skip_blank(newlines=False)
            keys.append(self.key())
            self.skip_blank(newlines=False)
            if self.peek() != ".":
                return keys
            self.pos += 1

    def key(self) -> str:
        c = self.peek()
        if c == '"':
            end = self.string_end(self.pos, '"')
            token, self.pos = self.text[self.pos:end], end
            return _decode_basic(token)
        if c == "'":
            end = self.text.index("'", self.pos + 1)
            token, self.pos = self.text[self.pos + 1:end], end + 1
            return token
        match = _BARE_KEY.match(self.text, self.pos)
        if not match:
            raise _Unsure(f"bad key at {self.pos}")
        self.pos = match.end()
        return match.group()

    def key_value(self, table: KeyPath) -> None:
        start = self.pos
        keys = self.keys()
        path = table
        for key in keys[:-1]:
            path += (key,)
            self.mention(path, start)
        self.define(path + (keys[-1],), start)
        self.expect("=")
        self.skip_blank(newlines=False)
        self.value(path + (keys[-1],))

    # --- values ------------------------------------------------------------------------------
    def value(self, path: KeyPath) -> None:
        c = self.peek()
        if self.peek(3) in ('"""', "'''"):
            self.pos = self.multiline_string_end(self.peek(3))
        elif c in "\"'":
            self.pos = self.string_end(self.pos, c) if c == '"' else \
                self.text.index("'", self.pos + 1) + 1
        elif c == "[":
            self.array(path)
        elif c == "{":
            self.inline_table(path)
        else:
            self.scalar()

    def string_end(self, pos: int, quote: str) -> int:
        """End (exclusive) of the one-line basic string starting at ``pos``."""
        pos += 1
        while self.text[pos] != quote:
            if self.text[pos] in "\r\n":
                raise _Unsure("newline in string")
            pos += 2 if self.text[pos] == "\\" else 1
        return pos + 1

    def multiline_string_end(self, delimiter: str) -> int:
        pos = self.pos + 3
        while True:
            if delimiter == '"""' and self.text[pos] == "\\":
                pos += 2
            elif self.text.startswith(delimiter, pos):
                pos += 3
                extra = 0
                while extra < 2 and self.text[pos:pos + 1] == delimiter[0]:
                    pos, extra = pos + 1, extra + 1
                return pos
            else:
                pos += 1

    def array(self, path: KeyPath) -> None:
        self.expect("[")
        index = 0
        while True:
            self.skip_blank(newlines=True)
            if self.peek() == "]":
                self.pos += 1
                return
            self.define(path + (index,), self.pos)
            self.value(path + (index,))
            index += 1
            self.skip_blank(newlines=True)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "]":
                raise _Unsure(f"bad array at {self.pos}")

    def inline_table(self, path: KeyPath) -> None:
        self.expect("{")
        while True:
            self.skip_blank(newlines=False)
            if self.peek() == "}":
                self.pos += 1
                return
            self.key_value(path)
            self.skip_blank(newlines=False)
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                raise _Unsure(f"bad inline table at {self.pos}")

    def scalar(self) -> None:
        if _DATE_THEN_TIME.match(self.text, self.pos):
            self.pos += 11  # "1979-05-27 07:32:00": the space belongs to the value
        match = _SCALAR.match(self.text, self.pos)
        if not match:
            raise _Unsure(f"bad value at {self.pos}")
        self.pos = match.end()
