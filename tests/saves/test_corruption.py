"""Damaged saves are refused with one clear ``SaveError`` naming the file — never a traceback,
never a half-loaded game: at least 250 variants of a golden save (truncations, flipped bytes,
wrong lengths and versions, bad checksums, random bytes, the empty file) and hand-made states
whose checksums are right but whose contents are wrong (types, shapes, classes, ext codes)."""

from __future__ import annotations

import random
import struct

import msgpack
import numpy as np
import pytest

from engine import saves
from engine.saves import container, state
from engine.errors import SaveError

from .conftest import golden_path

GOLDEN = golden_path(1, "hedger")


def _repack(data: bytes, header_change=None, payload: bytes | None = None,
            keep_digest: bool = True) -> bytes:
    """The golden file with its header edited and/or payload replaced, checksums made right."""
    header, old_payload = saves.parse_container(data, "golden", saves.MAGIC, "save")
    payload = old_payload if payload is None else payload
    header = {k: v for k, v in header.items() if k not in ("payload_len", "payload_blake2b")}
    if header_change is not None:
        header = header_change(header)
    return saves.pack_container(saves.MAGIC, header, payload)


def _tree_variant(data: bytes, edit) -> bytes:
    """The golden payload decoded, edited by ``edit(tree)``, re-encoded with right checksums."""
    _, payload = saves.parse_container(data, "golden", saves.MAGIC, "save")
    tree = msgpack.unpackb(payload, strict_map_key=False, ext_hook=msgpack.ExtType)
    edit(tree)
    return _repack(data, payload=msgpack.packb(tree, use_bin_type=True))


def _field(obj_node, name):
    """The value node of field ``name`` in an engine-object node."""
    flat = obj_node[state.T_OBJECT][1]
    return flat, flat.index(name) + 1


def _exchange(tree):
    sim = tree[state.T_OBJECT][1][tree[state.T_OBJECT][1].index("sim") + 1]
    flat, i = _field(sim, "exchange")
    return flat[i]


def _acc(tree):
    flat, i = _field(_exchange(tree), "acc")
    return flat[i]


def _books(tree):
    flat, i = _field(_exchange(tree), "books")
    return flat[i]


def _set(path_fn, name, value):
    def edit(tree):
        flat, i = _field(path_fn(tree), name)
        flat[i] = value(flat[i]) if callable(value) else value
    return edit


def _structured_variants(data: bytes) -> list[tuple[str, bytes]]:
    ext = msgpack.ExtType
    edits = {
        "wallet as float64": _set(_acc, "wallet", lambda n: state.pack_ndarray(
            state.unpack_ndarray(n.data).astype(np.float64)) if isinstance(n, ext) else
            state.pack_ndarray(np.asarray(n, dtype=np.float64))),
        "qty with the wrong symbol count": _set(_acc, "qty", state.pack_ndarray(
            np.zeros((7, 16), dtype=np.int64))),
        "n as a string": _set(_acc, "n", "many"),
        "n past the capacity": _set(_acc, "n", 10**9),
        "unknown ext code": _set(_acc, "wallet", ext(42, b"\x00" * 8)),
        "array with a lying length": _set(_acc, "wallet", ext(
            state.EXT_NDARRAY, b"\x03<i8\x01" + struct.pack("<Q", 10**6) + b"\x00" * 16)),
        "array of objects": _set(_acc, "wallet", ext(
            state.EXT_NDARRAY, b"\x03|O8\x01" + struct.pack("<Q", 1) + b"\x00" * 8)),
        "big int too big": _set(_exchange, "fee_pool", ext(state.EXT_BIGINT, b"\x01" * 100)),
        "unknown class": lambda t: t[state.T_OBJECT].__setitem__(0, "engine.nope:Nothing"),
        "class outside the engine": lambda t: t[state.T_OBJECT].__setitem__(0, "os:system"),
        "unknown field in a slotted class": lambda t: _books(t)[0][state.T_OBJECT][1].extend(
            ["no_such_field", 1]),
        "dangling reference": _set(_exchange, "rng", {state.T_REF: 10**6}),
        "unknown node tag": _set(_exchange, "fee_pool", {99: 1}),
        "bad generator state": _set(_exchange, "rng", {state.T_GENERATOR: ["PCG64", {
            state.T_DICT: ["state", 1]}]}),
        "unknown bit generator": _set(_exchange, "rng", {state.T_GENERATOR: ["Evil", 1]}),
        "books as a number": _set(_exchange, "books", 3),
        "orders as a list": _set(_exchange, "_orders", [1, 2, 3]),
        "money created": _set(_exchange, "fee_pool", lambda n: n + 10**9),
        "root is a list": lambda t: t.clear(),
        "odd dict": _set(_exchange, "_orders", {state.T_DICT: [1]}),
        "bad enum": _set(_exchange, "adl_policy", {state.T_ENUM: [
            "engine.adl:AdlPolicy", "nonsense"]}),
        "bad decimal": _set(_exchange, "fee_pool", {state.T_DECIMAL: "1.2.3"}),
        "memoryview where a book is": _set(_exchange, "books", {state.T_SKIP: "engine.level:Level"}),
        "method of nothing": _set(_exchange, "fee_pool", {state.T_METHOD: [{state.T_REF: 0},
                                                                           "no_method"]}),
    }
    out = []
    for name, edit in edits.items():
        def apply(tree, edit=edit):
            if name == "root is a list":
                tree.clear()
                tree[5] = 1
            else:
                edit(tree)
        out.append((f"state: {name}", _tree_variant(data, apply)))
    header_edits = {
        "version 0": lambda h: dict(h, format_version=0),
        "version 2 (newer)": lambda h: dict(h, format_version=2),
        "version 99": lambda h: dict(h, format_version=99),
        "version -1": lambda h: dict(h, format_version=-1),
        "version as text": lambda h: dict(h, format_version="1"),
        "no version": lambda h: {k: v for k, v in h.items() if k != "format_version"},
        "kind replay": lambda h: dict(h, kind="replay"),
        "seed as text": lambda h: dict(h, seed="1"),
        "level missing": lambda h: {k: v for k, v in h.items() if k != "level"},
        "level not a map": lambda h: dict(h, level=[1, 2]),
        "level text damaged": lambda h: dict(h, level={**{k: v for k, v in h["level"].items()
                                                       if k != "raw"}, "text": b"[[[",
                                                    "path": "/nonexistent/x.toml"}),
        "other seed": lambda h: dict(h, seed=h["seed"] + 1),
        "other time": lambda h: dict(h, t=h["t"] + 5),
    }
    out += [(f"header: {n}", _repack(data, e)) for n, e in header_edits.items()]
    header, payload = saves.parse_container(data, "golden", saves.MAGIC, "save")
    head = msgpack.packb(header, use_bin_type=True)
    out.append(("header: not a map", saves.MAGIC + struct.pack("<I", 3) + saves.digest(
        msgpack.packb([1, 2])) + msgpack.packb([1, 2]) + payload))
    out.append(("header: ext type", saves.MAGIC + struct.pack("<I", 4) + saves.digest(
        msgpack.packb(msgpack.ExtType(5, b"ab"))) + msgpack.packb(msgpack.ExtType(5, b"ab"))))
    out.append(("header: garbage with a right digest", saves.MAGIC + struct.pack("<I", 5)
                + saves.digest(b"\xc1\xc1\xc1\xc1\xc1") + b"\xc1\xc1\xc1\xc1\xc1"))
    out.append(("payload: not msgpack", _repack(data, payload=b"\xc1" * 64)))
    out.append(("payload: extra data", _repack(data, payload=payload + b"\x00")))
    out.append(("payload: deep nesting", _repack(data, payload=b"\x91" * 100_000 + b"\x00")))
    assert head
    return out


def _byte_variants(data: bytes, rng: random.Random) -> list[tuple[str, bytes]]:
    n = len(data)
    out = [("empty file", b""), ("magic only", data[:8]), ("one byte", data[:1]),
           ("wrong magic", b"NOTASAVE" + data[8:]), ("a replay's magic", saves.REPLAY_MAGIC
                                                      + data[8:]),
           ("text file", b"hello, this is not a save\n" * 20),
           ("appended garbage", data + b"garbage"), ("doubled", data + data)]
    cuts = sorted(set([9, 12, 40, 43, 44, 45, 100, n // 2, n - 1]
                      + [rng.randrange(1, n) for _ in range(70)]))
    out += [(f"truncated at {c}", data[:c]) for c in cuts]
    prefix = 44
    head_len = struct.unpack_from("<I", data, 8)[0]
    hot = list(range(0, prefix + 16)) + [prefix + head_len + k for k in range(16)]
    spots = sorted(set(hot + [rng.randrange(0, n) for _ in range(80)]))
    for pos in spots:
        flipped = bytearray(data)
        flipped[pos] ^= 1 << rng.randrange(8)
        out.append((f"bit flipped at {pos}", bytes(flipped)))
    for length in (0, 1, head_len - 1, head_len + 1, 2**31, 2**32 - 1):
        out.append((f"header length {length}", data[:8] + struct.pack("<I", length) + data[12:]))
    for size in (1, 16, 1000, 100_000):
        out.append((f"{size} random bytes", rng.randbytes(size)))
        out.append((f"magic + {size} random bytes", saves.MAGIC + rng.randbytes(size)))
    return out


def _variants() -> list[tuple[str, bytes]]:
    data = GOLDEN.read_bytes()
    rng = random.Random(20251011)
    return _byte_variants(data, rng) + _structured_variants(data)


def test_the_golden_save_itself_loads():
    assert saves.load_run(GOLDEN).sim.hhmm == "04:10:00"


def test_every_corrupted_variant_is_refused_clearly(tmp_path):
    variants = _variants()
    assert len(variants) >= 250, len(variants)
    survivors = []
    for i, (name, data) in enumerate(variants):
        path = tmp_path / f"v{i}.cfsave"
        path.write_bytes(data)
        try:
            saves.load_run(path)
        except SaveError as exc:
            message = str(exc)
            assert message.startswith(str(path)), (name, message)
            assert "\n" not in message and len(message) < 600, (name, message)
        else:
            survivors.append(name)
        try:
            saves.read_info(path)
        except SaveError:
            pass
    # a variant may only load when it changed nothing the engine uses (e.g. a bit in the
    # embedded level's comment text that the raw table overrides)
    assert survivors == [], survivors


def test_the_size_is_capped_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "big.cfsave"
    path.write_bytes(GOLDEN.read_bytes())
    monkeypatch.setattr(container, "MAX_FILE_BYTES", 1000)
    opened = []
    real_open = open
    monkeypatch.setattr("builtins.open", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    with pytest.raises(SaveError, match="more than any save"):
        saves.load_run(path)
    assert opened == []


def test_a_wrong_checksum_is_caught_when_the_same_engine_wrote_the_save(tmp_path):
    from .conftest import small_run
    run = small_run()
    run.run(until="04:02")
    path = saves.save_run(run, tmp_path / "now.cfsave")
    path.write_bytes(_repack(path.read_bytes(), lambda h: dict(h, checksum="0" * 32)))
    with pytest.raises(SaveError, match="checksum differs"):
        saves.load_run(path)


@pytest.mark.parametrize("what", ["missing", "folder"])
def test_missing_files_and_folders(tmp_path, what):
    path = tmp_path / "x.cfsave"
    if what == "folder":
        path.mkdir()
    with pytest.raises(SaveError, match=str(path)):
        saves.load_run(path)
