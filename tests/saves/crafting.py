"""Hostile saves and replays, made from real ones: the header or the state edited, every checksum
recomputed (what anyone with the format's description can do), and the CLI run in a child
process with its temp folder and working folder inside the test's own folder."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import msgpack

from engine import saves

from .conftest import ROOT


def split(data: bytes, magic: bytes = saves.MAGIC) -> tuple[dict, bytes]:
    kind = "save" if magic == saves.MAGIC else "replay"
    return saves.parse_container(data, "crafted", magic, kind)


def repack(data: bytes, header_change=None, payload: bytes | None = None,
           magic: bytes = saves.MAGIC) -> bytes:
    """``data`` with its header edited by ``header_change(header) -> header`` and/or its
    payload replaced; every checksum made right again."""
    header, old = split(data, magic)
    header = {k: v for k, v in header.items() if k not in ("payload_len", "payload_blake2b")}
    if header_change is not None:
        header = header_change(header)
    return saves.pack_container(magic, header, old if payload is None else payload)


def with_level(data: bytes, magic: bytes = saves.MAGIC, *, keep_raw: bool = False,
               text: bytes | None = None, **changes) -> bytes:
    """``data`` whose header's level record is changed (``name=``, ``path=``...); without its
    table (``raw``) unless ``keep_raw``, so that a loader must use the embedded text; ``text``
    replaces that text (and its sha256 is made to match, as an attacker would)."""
    def change(header):
        record = dict(header["level"])
        if not keep_raw:
            record.pop("raw", None)
        if text is not None:
            record["text"] = text
            record["sha256"] = hashlib.sha256(text).hexdigest()
        record.update(changes)
        return dict(header, level=record)
    return repack(data, change, magic=magic)


def tree_of(data: bytes) -> object:
    """The state tree of a save, ext types left packed (for editing)."""
    _, payload = split(data)
    return msgpack.unpackb(payload, strict_map_key=False, ext_hook=msgpack.ExtType)


def with_tree(data: bytes, tree: object) -> bytes:
    return repack(data, payload=msgpack.packb(tree, use_bin_type=True))


def files_under(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, bytes]:
    """Every file below ``root`` (but not below ``skip``) and a digest of its bytes."""
    out = {}
    for path in sorted(root.rglob("*")):
        if any(path == s or s in path.parents for s in skip):
            continue
        if path.is_symlink() or not path.is_file():
            out[str(path)] = b"<not a regular file>"
        else:
            out[str(path)] = hashlib.sha256(path.read_bytes()).digest()
    return out


def cli(args: list[str], *, cwd: Path, tmpdir: Path, timeout: float = 180,
        env: dict | None = None) -> subprocess.CompletedProcess:
    """``crashfloor ARGS`` in a child process: working folder ``cwd``, temp folder ``tmpdir``."""
    child_env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONPATH=str(ROOT),
                     COLUMNS="200", **(env or {}))
    child_env.pop("CRASHFLOOR_SAVES", None)
    return subprocess.run([sys.executable, "-m", "game.cli", *args], cwd=cwd, env=child_env,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_clear_line(result: subprocess.CompletedProcess, *, ok: tuple[int, ...] = (2,)):
    """A refused file: the exit code says so, stderr is one ``crashfloor: ...`` line, no
    traceback."""
    assert result.returncode in ok, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, \
        result.stderr[-3000:]
    if result.returncode == 2:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("crashfloor: "), result.stderr[-2000:]
        assert len(lines[0]) < 1200
