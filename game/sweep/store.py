"""A sweep's folder: ``manifest.json`` and its rows as Parquet parts (``rows/part-NNNNN.parquet``).

Parts are written whole and renamed into place, so a sweep killed at any moment leaves every part
readable and loses at most the rows it had not written yet; the next sweep into the same folder
reads the finished (variant, seed) pairs and runs only the rest, and a sweep with more seeds or
more variants adds to it. Rows of another level file, another engine build, or a variant name
that meant other overrides are refused: they would not be comparable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from engine.errors import InvalidInput

from .rows import COLUMNS

FORMAT = 1


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise InvalidInput("a sweep writes Parquet and needs pyarrow: pip install -e '.[sweep]' "
                           "(or '.[dev]')") from None
    return pa, pq


def schema():
    pa, _ = _pyarrow()
    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
             "bool": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS])


class SweepStore:
    """The folder of one sweep (created on first use)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.rows_dir = self.folder / "rows"
        self.manifest_path = self.folder / "manifest.json"

    # --- the manifest ----------------------------------------------------------------------------
    def manifest(self) -> dict | None:
        if not self.manifest_path.exists():
            return None
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"{self.manifest_path}: not a sweep manifest ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InvalidInput(f"{self.manifest_path}: not a crashfloor sweep manifest of "
                               f"format {FORMAT}")
        return data

    def open(self, level: str, level_sha256: str, build: str,
             variants: dict[str, list[str]]) -> dict:
        """Check that this sweep may add to the folder (same level file, engine build, and the
        same overrides under every variant name it shares) and record its variants; the
        manifest."""
        old = self.manifest()
        if old is not None:
            for key, mine in (("level_sha256", level_sha256), ("engine_build", build)):
                if old[key] != mine:
                    what = "level file" if key == "level_sha256" else "engine build"
                    raise InvalidInput(
                        f"{self.folder} holds a sweep of another {what} ({old['level']}, "
                        f"{key} {old[key][:12]}; this one is {mine[:12]}): its rows would not "
                        f"be comparable. Choose another --out folder")
            for name, sets in variants.items():
                if name in old["variants"] and old["variants"][name] != sets:
                    raise InvalidInput(
                        f"{self.folder}: variant {name!r} was {old['variants'][name]} in this "
                        f"sweep, not {sets}: give it another name or another --out folder")
            merged = {**old["variants"], **variants}
        else:
            merged = dict(variants)
        manifest = {"format": FORMAT, "level": level, "level_sha256": level_sha256,
                    "engine_build": build, "variants": merged,
                    "columns": [name for name, _ in COLUMNS]}
        self.folder.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.manifest_path, json.dumps(manifest, indent=2).encode())
        return manifest

    # --- rows ------------------------------------------------------------------------------------
    def parts(self) -> list[Path]:
        return sorted(self.rows_dir.glob("part-*.parquet")) if self.rows_dir.exists() else []

    def rows(self) -> list[dict]:
        """Every row written so far, in the order written."""
        _, pq = _pyarrow()
        out: list[dict] = []
        for part in self.parts():
            out.extend(pq.read_table(part).to_pylist())
        return out

    def done(self) -> set[tuple[str, int]]:
        """The (variant, seed) pairs already in the folder."""
        if not self.parts():
            return set()
        _, pq = _pyarrow()
        pairs: set[tuple[str, int]] = set()
        for part in self.parts():
            table = pq.read_table(part, columns=["variant", "seed"])
            pairs.update(zip(table.column("variant").to_pylist(),
                             table.column("seed").to_pylist(), strict=True))
        return pairs

    def append(self, rows: list[dict]) -> Path | None:
        """Write ``rows`` as one new part (atomically); None when there are none."""
        if not rows:
            return None
        pa, pq = _pyarrow()
        self.rows_dir.mkdir(parents=True, exist_ok=True)
        number = max((int(p.stem.split("-")[1]) for p in self.parts()), default=0) + 1
        path = self.rows_dir / f"part-{number:05d}.parquet"
        table = pa.Table.from_pylist(rows, schema=schema())
        tmp = path.with_suffix(".tmp")
        pq.write_table(table, tmp)
        os.replace(tmp, path)
        return path


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
