"""Reading a level file safely: only a regular file, at most ``MAX_LEVEL_BYTES``, UTF-8, valid
TOML nested at most ``MAX_NESTING`` deep; and the problem lines that cite the file's lines."""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from ..errors import LevelError
from ..text import shorten
from .problems import _SHOWN_CHARS, Problem, _error
from .schema import MAX_LEVEL_BYTES, MAX_NESTING
from .tomlpos import KeyLines, KeyPath, children, path_text


# --- reading a file ---------------------------------------------------------------------------
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")
_DECLARED_TWICE = re.compile(r"Cannot declare (\(.*\)) twice")


def _file_kind(mode: int) -> str | None:
    """What a non-regular file is, for the message; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _read_bytes(path: Path, label: str) -> bytes:
    """The file's bytes. Only a regular file of at most ``MAX_LEVEL_BYTES`` is read: a directory,
    a FIFO (which would block forever), a device (``/dev/zero`` never ends) or a socket is refused
    from ``stat`` before it is opened, and the open itself cannot block (``O_NONBLOCK``; the
    opened file is checked again, in case it was swapped in between)."""
    limit = f"a level file may be at most {MAX_LEVEL_BYTES:,} bytes"
    wanted = "a level must be a regular file"
    try:
        kind = _file_kind(os.stat(path).st_mode)
        if kind is not None:
            raise _error([f"{label}: is {kind}, not a level file; {wanted}"])
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) \
            | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            kind = _file_kind(info.st_mode)
            if kind is not None:
                raise _error([f"{label}: is {kind}, not a level file; {wanted}"])
            if info.st_size > MAX_LEVEL_BYTES:
                raise _error([f"{label}: the file is {info.st_size:,} bytes; {limit}"])
            content = file.read(MAX_LEVEL_BYTES + 1)  # bounded, whatever stat said
    except LevelError:
        raise
    except FileNotFoundError:
        raise _error([f"{label}: no such file"]) from None
    except OSError as error:
        raise _error([f"{label}: cannot be read: {error.strerror or error}"]) from None
    except ValueError:  # a NUL byte in the path
        raise _error([f"{label}: not a usable file name (it holds a NUL character)"]) from None
    if len(content) > MAX_LEVEL_BYTES:
        raise _error([f"{label}: the file is larger than {MAX_LEVEL_BYTES:,} bytes; {limit}"])
    return content


def _decode(content: bytes, label: str) -> str:
    try:
        return content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = content.count(b"\n", 0, error.start) + 1
        raise _error([f"{label}: line {line}: not UTF-8 text — byte "
                      f"0x{content[error.start]:02x}; save the file as UTF-8"]) from None


_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4000,}")
_NESTING_TEXT = f"tables and arrays nest at most {MAX_NESTING} deep in a level"


def _parse_toml(text: str, label: str) -> dict:
    """The parsed TOML, or a one-line ``LevelError``: bad syntax, an integer too long for Python
    (over 4,300 digits), nesting too deep for the parser, or (checked after parsing, without
    recursion) nesting or dotted keys deeper than ``MAX_NESTING``."""
    raw, reason = _loads(text)
    if reason is not None:
        raise _error([_toml_error_text(reason, label)])
    problem = shape_problem(raw)
    if problem is not None:
        raise _error([f"{label}: {problem}"])
    return raw


def _loads(text: str) -> tuple[Any, str | None]:
    """``tomllib.loads`` that never raises: (data, None) or (None, the reason, with tomllib's
    position when it gives one)."""
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as error:
        return None, str(error)
    except RecursionError:
        return None, f"nested too deeply to read; {_NESTING_TEXT}"
    except ValueError:  # int(): "Exceeds the limit (4300 digits) for integer string conversion"
        match = _LONG_NUMBER.search(text)
        where = f" (at line {text.count(chr(10), 0, match.start()) + 1}, column " \
            f"{match.start() - text.rfind(chr(10), 0, match.start())})" if match else ""
        return None, f"a number has more than 4,300 digits (no level field takes one that " \
            f"long){where}"


def shape_problem(raw: Any, limit: int = MAX_NESTING) -> str | None:
    """Why ``raw`` (parsed TOML, or a level table from a save) cannot be a level's data, or None:
    tables and arrays nested more than ``limit`` deep (a dotted key of 3,000 parts is 3,000 tables
    deep), or a table key that is not a string. Iterative: any depth is safe to look at."""
    stack: list[tuple[Any, KeyPath]] = [(raw, ())]
    while stack:
        node, path = stack.pop()
        if not isinstance(node, (dict, list)):
            continue
        items = children(node)
        if len(path) >= limit:
            shown = shorten(path_text(path[:limit]) + "…", _SHOWN_CHARS)
            return f"{shown} — nested more than {limit} deep; {_NESTING_TEXT} (a dotted key " \
                f"has at most {limit} parts)"
        for key, child in items:
            if isinstance(node, dict) and not isinstance(key, str):
                return f"{shorten(path_text(path), _SHOWN_CHARS) or '(top level)'} — a key " \
                    f"that is not a string: {shorten(repr(key), 40)}"
            stack.append((child, path + (key,)))
    return None


def _toml_error_text(message: str, label: str) -> str:
    """tomllib's message with its position moved to the front: ``x.toml: line 3: ...``."""
    position = _TOML_POSITION.search(message)
    reason = message[:position.start()] if position else message
    twice = _DECLARED_TWICE.fullmatch(reason)
    if twice:
        keys = tuple(re.findall(r"'((?:[^'\\]|\\.)*)'", twice.group(1)))
        reason = f"[{path_text(keys)}] is declared twice (a duplicate table or key)"
    elif reason == "Cannot overwrite a value":
        reason = "a key is set twice (cannot overwrite a value)"
    if position and position.group(1):
        return f"{label}: line {position.group(1)}: not valid TOML — {reason} " \
               f"(column {position.group(2)})"
    at_end = " (at the end of the file)" if position else ""
    return f"{label}: not valid TOML — {reason}{at_end}"


def _file_problem_lines(problems: list[Problem], label: str, lines: KeyLines) -> list[str]:
    """Each problem as ``file: line N: path = value — message``, in file order."""
    located = []
    for order, problem in enumerate(problems):
        line = None if problem.missing else lines.line(problem.path)
        table_line = lines.line(problem.path[:-1]) if problem.missing and problem.path[:-1] \
            else None
        head = f"{label}: line {line}" if line else label
        message = problem.message + (f"; its table starts at line {table_line}" if table_line
                                     else "")
        sort_line = line or table_line or math.inf
        located.append((sort_line, order, f"{head}: {problem.subject()} — {message}"))
    return [text for *_, text in sorted(located)]
