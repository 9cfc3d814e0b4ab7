"""The README's headless examples run as written (the first one in full; the level one up to
04:05), and ``engine`` exports every name they import."""

import re
from pathlib import Path

import engine

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_the_readme_has_its_headless_examples():
    assert len(SNIPPETS) >= 2


def test_every_name_the_readme_imports_from_engine_is_exported():
    names = {n.strip() for line in re.findall(r"^from engine import (.+)$", README, re.M)
             for n in line.split(",")}
    assert names and names <= set(engine.__all__), names - set(engine.__all__)


def test_the_exchange_example_runs(capsys):
    exec(compile(SNIPPETS[0], "README.md", "exec"), {})
    assert capsys.readouterr().out


def test_the_level_example_runs(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    code = SNIPPETS[1].replace('run.run(until="05:00")', 'run.run(until="04:03")')
    code = code.replace("run.run()\n", 'run.run(until="04:05")\n')
    exec(compile(code, "README.md", "exec"), {})
    assert "04:0" in capsys.readouterr().out


def test_the_coin_margined_example_runs(capsys):
    (code,) = [s for s in SNIPPETS if "CoinExchange(" in s]
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "10000 8000.0 0.25"
