"""Level files are read strictly: every problem reported, with file, line, key path and value.

Each invalid fixture in ``fixtures/invalid/`` documents itself: one ``# expect:`` header line per
problem, listing fragments of the message (``line N`` means the message must start with
``<file>: line N:``; without it the message must carry no line number).
"""

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from engine.errors import LevelError
from engine.level import (ClockTimes, Level, find_level, list_levels, load_level, new_level_text,
                          schema_reference_markdown, time_to_seconds)
from engine.level.schema import MAX_LEVEL_BYTES, SCHEMA, walk
from engine.level.tomlpos import KeyLines, line_of, parse_path, path_text

ROOT = Path(__file__).resolve().parents[2]
INVALID = sorted((Path(__file__).parent / "fixtures" / "invalid").glob("*.toml"))
MINIMAL = "[symbols.BTC]\nprice = 122000\n"
LINE = re.compile(r"line \d+")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, overrides=()) -> list[str]:
    with pytest.raises(LevelError) as caught:
        load_level(path, overrides)
    return caught.value.problems


# --- a valid level ----------------------------------------------------------------------------
def test_minimal_level_loads_with_every_default_filled(tmp_path):
    path = write(tmp_path, "minimal.toml", MINIMAL)
    level = load_level(path)
    assert isinstance(level, Level)
    resolved = {"symbols.BTC.price": 122000, "symbols.BTC.preset": "BTC", "tracked_symbol": "BTC"}
    for field_path, spec in walk():
        if "[]" not in field_path:
            concrete = field_path.replace("<SYM>", "BTC")
            assert level.get(concrete) == resolved.get(concrete, spec.default), concrete
    assert level.data["news"] == [] and level.data["player"]["positions"] == []
    assert level.data["exchange"]["insurance_fund"] == {"BTC": 1_000_000}
    assert (level.name, level.path, level.symbols) == ("minimal", path, ["BTC"])
    assert level.overrides == []
    assert level.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert level.times == ClockTimes(start=4 * 3600, end=5 * 3600 + 35 * 60, epilogue=None)
    assert level.times.stop == level.times.end


def test_level_values_are_normalised(tmp_path):
    path = write(tmp_path, "night.toml", 'tracked_symbol = "ETH"\n[clock]\nstart = 23:30:00\n'
                 'end = "25:00"\nepilogue = "25:30:15"\n[symbols.BTC]\nprice = 122000\n'
                 '[symbols.ETH]\nprice = 4300.5\nwaypoints = [["24:00", 4000]]\n'
                 '[symbols.ALTX]\npreset = "ALT"\nprice = 0.5\n'
                 '[exchange.insurance_fund]\nshared = 5000000\n[crowd]\nlong_share = 1\n')
    level = load_level(path)
    assert level.symbols == ["BTC", "ETH", "ALTX"] and level.tracked_symbol == "ETH"
    assert level.get("clock.start") == "23:30:00"  # a bare TOML time is accepted
    assert level.times == ClockTimes(84600, 90000, 91815)
    assert level.get("symbols.ETH.waypoints") == [["24:00", 4000.0]]
    assert level.get("symbols.ALTX.preset") == "ALT"
    assert level.get("exchange.insurance_fund") == {"shared": 5000000, "BTC": 1_000_000,
                                                    "ETH": 1_000_000, "ALTX": 1_000_000}
    assert level.get("crowd.long_share") == 1.0 and isinstance(level.get("crowd.long_share"), float)
    assert level.seconds("market_makers.pull_at") == 5 * 3600
    assert "epilogue" in level.to_toml_dict()["clock"]
    with pytest.raises(KeyError):
        level.get("crowd.long_shar")


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_level(path).symbols == ["BTC"]


def test_time_to_seconds():
    assert time_to_seconds("04:30") == 16200 and time_to_seconds("47:59:59") == 172799
    for bad in ("48:00", "4:60", "04:30:60", "0430", "٠٤:٣٠"):
        with pytest.raises(ValueError):
            time_to_seconds(bad)


# --- invalid files ----------------------------------------------------------------------------
def expectations(path: Path) -> list[list[str]]:
    text = path.read_bytes().decode("utf-8", errors="replace")
    return [[part.strip() for part in line.split(":", 1)[1].split("|")]
            for line in text.splitlines() if line.startswith("# expect:")]


def matches(problem: str, path: Path, fragments: list[str]) -> bool:
    lines = [f for f in fragments if LINE.fullmatch(f)]
    if lines:
        located = problem.startswith(f"{path}: {lines[0]}: ")
    else:
        located = problem.startswith(f"{path}: ") and not problem.startswith(f"{path}: line ")
    return located and all(fragment in problem for fragment in fragments)


def test_there_are_many_invalid_fixtures():
    assert len(INVALID) >= 40


@pytest.mark.parametrize("fixture", INVALID, ids=lambda path: path.stem)
def test_invalid_fixture_reports_exactly_its_problems(fixture):
    expected = expectations(fixture)
    assert expected, f"{fixture.name} has no '# expect:' header"
    problems = problems_of(fixture)
    report = "\n".join(problems)
    assert len(problems) == len(expected), report
    unmatched = list(problems)
    for fragments in expected:
        found = next((p for p in unmatched if matches(p, fixture, fragments)), None)
        assert found, f"no problem matches {fragments}:\n{report}"
        unmatched.remove(found)


def test_oversize_file_is_refused_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "huge.toml"
    path.write_bytes(MINIMAL.encode() + b"#" * MAX_LEVEL_BYTES)
    monkeypatch.setattr(Path, "open", lambda *args, **kwargs: pytest.fail("opened the file"))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: ") and f"{MAX_LEVEL_BYTES:,} bytes" in problem


def test_missing_file_and_directory(tmp_path):
    assert problems_of(tmp_path / "nope.toml") == [f"{tmp_path / 'nope.toml'}: no such file"]
    assert "is a directory" in problems_of(tmp_path)[0]


def test_level_error_is_a_value_error_with_every_problem():
    error = LevelError(["a: one", "a: two"])
    assert isinstance(error, ValueError) and str(error) == "a: one\na: two"


# --- --set overrides --------------------------------------------------------------------------
@pytest.fixture
def level_file(tmp_path) -> Path:
    return write(tmp_path, "flash.toml", MINIMAL + '\n[[news]]\nat = "04:10"  # line 5\n'
                 'headline = "Tariffs"\n\n[[player.positions]]\nsymbol = "BTC"\nside = "long"\n'
                 "notional_usd = 100000\n")


def test_valid_overrides_change_values(level_file):
    overrides = ["exchange.insurance_fund.BTC=50000000", "crowd.long_share=0.9",
                 "market_makers.withdrawal=scripted", "clock.end=06:00", "summary=bare words",
                 'title="Quoted, = title"', "news[0].at=04:20", "player.positions[0].leverage=5",
                 'symbols.BTC.waypoints=[["04:00", 122000], ["05:00", 100000]]',
                 "symbols.ETH.price=4300", "clock.start = 03:55:00"]
    level = load_level(level_file, overrides)
    assert level.get("exchange.insurance_fund.BTC") == 50_000_000
    assert level.get("crowd.long_share") == 0.9
    assert level.get("market_makers.withdrawal") == "scripted"
    assert level.get("summary") == "bare words" and level.get("title") == "Quoted, = title"
    assert level.get("news[0].at") == "04:20" and level.get("player.positions[0].leverage") == 5
    assert level.get("symbols.BTC.waypoints") == [["04:00", 122000.0], ["05:00", 100000.0]]
    assert level.symbols == ["BTC", "ETH"] and level.get("crowd.notional_usd.ETH") == 10_000_000
    assert level.times == ClockTimes(3 * 3600 + 55 * 60, 6 * 3600, None)
    assert level.overrides == overrides


def test_later_override_sees_earlier_one(level_file):
    level = load_level(level_file, ['news=[{at="04:01", headline="a"}, {at="04:02", headline="b"}]',
                                    'news[1].headline="c"'])
    assert [item["headline"] for item in level.data["news"]] == ["a", "c"]
    level = load_level(level_file, ["crowd=[1]", "crowd.long_share=0.5", "news=7", "news=[]"])
    assert level.get("crowd.long_share") == 0.5 and level.get("news") == []
    assert "there is no news[0]" in problems_of(level_file, ["news=[]", "news[0].at=04:00"])[0]


@pytest.mark.parametrize("override, fragments", [
    ("crowd.long_shar=0.9", ["unknown key crowd.long_shar", "did you mean crowd.long_share?"]),
    ("long_share=0.9", ["unknown key long_share", "did you mean crowd.long_share?"]),
    ("exchange.fund_sharde=true", ["did you mean exchange.fund_shared?",
                                   "valid keys in [exchange]"]),
    ("crowd.long_share=1.7", ["--set crowd.long_share=1.7: must be between 0 and 1"]),
    ("crowd.long_share=high", ["--set crowd.long_share=high: must be a number", "not a string"]),
    ("crowd.accounts=1.5", ["must be a whole number", "not a float"]),
    ("market_makers.withdrawal=script", ["one of: emergent, scripted", "did you mean scripted?"]),
    ("clock.start=4am", ['must be a time "HH:MM"']),
    ("clock.start=06:00", ["--set clock.start=06:00: must be before clock.end (05:35)"]),
    ("clock.start=04:30", ['news[0].at = "04:10" — must be within the clock, 04:30 to 05:35',
                           "flash.toml: line 5)"]),
    ("exchange.insurance_fund.ETH=5", ["ETH is not a level symbol", "BTC, shared"]),
    ("symbols.XRP.price=2", ["symbols.XRP.preset", "not a preset", "BTC, ETH, DOGE, ALT"]),
    ("news[3].at=04:00", ["there is no news[3]", "news[0]"]),
    ("news.at=04:00", ["news is an array of tables", "news[0].at"]),
    ("crowd.long_share.x=1", ["crowd.long_share is a single value"]),
    ("crowd.long_share", ["expected key=value"]),
    ("=5", ["is not a key path"]),
    ("format=2", ["this level needs format 2; this crashfloor reads format 1"]),
])
def test_bad_override_is_reported_clearly(level_file, override, fragments):
    [problem] = problems_of(level_file, [override])
    assert problem.startswith(f"--set {override.split('=', 1)[0]}")
    for fragment in fragments:
        assert fragment in problem, problem


def test_file_and_override_problems_are_reported_together(tmp_path):
    path = write(tmp_path, "bad.toml", MINIMAL + "[crowd]\nlong_share = 2\n")
    problems = problems_of(path, ["crowd.long_shar=0.5", "crowd.leverage_min=3"])
    assert len(problems) == 2
    assert problems[0].startswith(f"{path}: line 4: crowd.long_share = 2")
    assert problems[1].startswith("--set crowd.long_shar=0.5: unknown key")


WEIRD_VALUES = ['"text"', "-1", "0", "1.5", "true", "nan", "-inf", "[1, 2]", "[[1, 2]]",
                '{a = 1}', "99999999999999999999999", "1979-05-27", "04:00:00", "", "[]"]


def test_any_value_for_any_field_gives_a_level_or_a_level_error(level_file):
    paths = [p.replace("<SYM>", "BTC").replace("[]", "[0]") for p, _ in walk()]
    paths += list(SCHEMA.fields) + ["symbols.BTC", "news[0]", "player.positions[0]"]
    for path in paths:
        for value in WEIRD_VALUES:
            try:
                load_level(level_file, [f"{path}={value}"])
            except LevelError as error:
                assert all(p.startswith(("--set ", str(level_file))) for p in error.problems)


def test_truncated_files_give_a_level_or_a_level_error(tmp_path):
    text = uncomment(new_level_text("cut"))
    for end in range(0, len(text), 7):
        path = write(tmp_path, "cut.toml", text[:end])
        try:
            load_level(path)
        except LevelError as error:
            assert error.problems and all(p.startswith(str(path)) for p in error.problems)


# --- generated documentation ------------------------------------------------------------------
def uncomment(text: str) -> str:
    """Turn every commented-out assignment and table header of the template into a live one."""
    return re.sub(r"(?m)^# (?=\[|[A-Za-z_][\w.]* = )", "", text)


def test_new_level_text_loads(tmp_path):
    text = new_level_text("first light")
    level = load_level(write(tmp_path, "first.toml", text))
    assert level.get("title") == "first light" and level.symbols == ["BTC"]
    for section in ("[clock]", "[exchange]", "[market_makers]", "[crowd]", "[arbitrage]",
                    "# [[news]]", "[player]", "# [[player.positions]]"):
        assert f"\n{section}" in text


def test_new_level_text_shows_loadable_defaults(tmp_path):
    """Uncommenting every line of the template gives a valid level with the documented values."""
    level = load_level(write(tmp_path, "all.toml", uncomment(new_level_text("all"))))
    assert level.get("crowd.long_share") == 0.87 and level.get("clock.epilogue") == "06:00"
    assert level.get("news[0].at") == "04:20" and level.get("player.positions[0].side") == "long"


def test_schema_reference_mentions_every_field():
    reference = schema_reference_markdown()
    for path, _spec in walk():
        assert f"`{path}`" in reference
    assert "### `[[player.positions]]`" in reference and "| `crowd.long_share` | fraction |" \
        in reference


def test_levels_readme_has_the_current_reference():
    readme = (ROOT / "levels" / "README.md").read_text(encoding="utf-8")
    generated = readme.split("<!-- BEGIN GENERATED REFERENCE -->\n")[1].split(
        "<!-- END GENERATED REFERENCE -->")[0]
    assert generated == schema_reference_markdown(), \
        "levels/README.md is stale: regenerate its reference (see the comment above it)"


# --- finding and listing levels ---------------------------------------------------------------
def test_find_level_by_path_or_name(tmp_path):
    path = write(tmp_path, "flash.toml", MINIMAL)
    assert find_level(str(path), tmp_path / "elsewhere") == path
    assert find_level("flash", tmp_path) == tmp_path / "flash.toml"
    with pytest.raises(LevelError) as caught:
        find_level("flsh", tmp_path)
    assert "did you mean flash?" in str(caught.value) and "available levels: flash" \
        in str(caught.value)


def test_list_levels_shows_invalid_ones_with_their_first_problem(tmp_path):
    write(tmp_path, "b.toml", 'title = "Bee"\nsummary = "second"\n' + MINIMAL)
    write(tmp_path, "a.toml", "[crowd]\nlong_share = 2\n" + MINIMAL)
    write(tmp_path, "notes.txt", "not a level")
    [(a, a_title, a_summary), b] = list_levels(tmp_path)
    assert a == "a" and a_title == "(invalid: line 2: crowd.long_share = 2 — must be between 0 " \
        "and 1)" and a_summary == ""
    assert b == ("b", "Bee", "second")


# --- tomlpos ----------------------------------------------------------------------------------
TRICKY = '''# a comment with [brackets] and key = "value"
title = "x"  # trailing comment
story = """
[not_a_table]
fake = 1 \\"""
"""
raw = \'\'\'
[[also.not]]\'\'\'
"quoted key".inner = 1
a . b = 2
clock = { start = "04:00", end = "05:00" }

[symbols.BTC]
price = 1
waypoints = [
  ["04:00", 1],  # ]
  [ "05:00",
    2 ],
]
when = 1979-05-27 07:32:00

[[news]]
at = "04:00"
[[news]]
at = "04:10"
'site' = 'x'

[player]
[[player.positions]]
symbol = "BTC"
[[player.positions.legs]]
n = 1
[[player.positions]]
symbol = "ETH"
'''


@pytest.mark.parametrize("path, line", [
    ("title", 2), ("story", 3), ("raw", 7), ('"quoted key".inner', 9), ("a.b", 10), ("a", 10),
    ("clock", 11), ("clock.end", 11), ("symbols", 13), ("symbols.BTC", 13),
    ("symbols.BTC.price", 14), ("symbols.BTC.waypoints", 15), ("symbols.BTC.waypoints[0]", 16),
    ("symbols.BTC.waypoints[1]", 17), ("symbols.BTC.waypoints[1][1]", 18),
    ("symbols.BTC.when", 20), ("news", 22), ("news[0]", 22), ("news[0].at", 23),
    ("news[1]", 24), ("news[1].at", 25), ("news[1].site", 26), ("player", 28),
    ("player.positions[0].symbol", 30), ("player.positions[0].legs[0].n", 32),
    ("player.positions[1].symbol", 34),
    ("not_a_table", None), ("also", None), ("news[2]", None), ("symbols.ETH", None),
])
def test_tomlpos_finds_the_line_of_each_key(path, line):
    assert line_of(TRICKY, path) == line


def test_tomlpos_is_silent_rather_than_wrong():
    assert line_of("a = [", "a") is None  # not valid TOML
    lines = KeyLines("a = 1\n", {"a": 1, "b": 2})  # the scan disagrees with the data
    assert lines.line("a") is None
    assert KeyLines("a = 1\n").line("a[") is None


def test_key_paths_round_trip():
    for text in ("crowd.long_share", "news[2].at", 'symbols."A B".price', "x[0][1]"):
        assert path_text(parse_path(text)) == text
    assert parse_path("news[2].at") == ("news", 2, "at")
    assert parse_path('a."b.c"') == ("a", "b.c")
    assert parse_path("a..b") is None and parse_path("") is None


def test_tomlpos_agrees_with_tomllib_on_every_fixture():
    for fixture in INVALID:
        try:
            text = fixture.read_text(encoding="utf-8")
            data = tomllib.loads(text)
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        assert KeyLines(text, data)._lines, fixture.name  # the scan matched tomllib's keys
