"""Finding levels: the shipped levels folder, a level by name or path, and the list of levels."""

from __future__ import annotations

from pathlib import Path

from ..errors import LevelError
from .problems import _error, _shown, _suggest


SHIPPED_LEVELS_DIR = Path(__file__).resolve().parents[2] / "levels"
"""The shipped levels; a ``base`` may always name a level in here."""


def _exists(path: Path) -> bool:
    """``path.exists()`` that says False for a name the OS cannot take (too long, a NUL)."""
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


def level_names(levels_dir: str | Path) -> list[str]:
    """The names (file stems) of the ``*.toml`` files in ``levels_dir``, sorted."""
    return sorted(file.stem for file in Path(levels_dir).glob("*.toml") if file.is_file())


def find_level(name_or_path: str, levels_dir: str | Path) -> Path:
    """``name_or_path`` if that file exists, else ``levels_dir/<name>.toml``."""
    candidate = Path(name_or_path)
    if _exists(candidate):
        return candidate
    named = Path(levels_dir) / f"{name_or_path}.toml"
    if _exists(named):
        return named
    names = level_names(levels_dir)
    hint = _suggest(candidate.stem, names)
    raise _error([f"{_shown(str(name_or_path))}: no such level file, and no level of that name "
                  f"in {levels_dir}; {hint}available levels: {', '.join(names) or '(none)'}"])


def list_levels(levels_dir: str | Path) -> list[tuple[str, str, str]]:
    """(name, title, summary) for every level, by ``order`` then name; an invalid one shows its
    first problem (at the default order, 100)."""
    from .loading import load_level  # loading needs discovery (a base's folder), so not at the top
    out: list[tuple[str, str, str] | tuple[str, str, str, int]] = []
    for name in level_names(levels_dir):
        file = Path(levels_dir) / f"{name}.toml"
        try:
            level = load_level(file)
        except LevelError as error:
            first = error.problems[0].removeprefix(f"{file}: ")
            out.append((name, f"(invalid: {first})", ""))
        else:
            out.append((name, level.data["title"], level.data["summary"], level.data["order"]))
    return [row[:3] for row in sorted(out, key=lambda r: (r[3] if len(r) > 3 else 100,
                                                          r[0]))]
