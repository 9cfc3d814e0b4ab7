"""The exchange package's parts own their state: nothing outside ``engine/exchange/`` reads or
writes a private member (a name with a leading underscore) of the exchange or of its parts."""

import ast
from pathlib import Path

from engine.exchange import front, funds, journal, ledger, pools, rules, scan

ROOT = Path(__file__).resolve().parents[2]
PARTS = (front.Exchange, ledger.OrderLedger, pools.MarginPools, funds.InsuranceFunds,
         rules.MarketRules, journal.Journal, scan.MarginScan)


def _private_names() -> set[str]:
    names = set()
    for cls in PARTS:
        for klass in cls.__mro__[:-1]:
            names.update(n for n in vars(klass) if n.startswith("_") and not n.startswith("__"))
            slots = vars(klass).get("__slots__", ())
            names.update(n for n in slots if n.startswith("_") and not n.startswith("__"))
        probe = cls.__new__(cls)
        names.update(n for n in getattr(probe, "__dict__", {}) if n.startswith("_"))
    names.update(("_orders", "_events", "_units", "_next_oid", "_reduce_only", "_fund_of",
                  "_upnl", "_notional", "_cancel", "_settle_fills", "_drain_stp", "_sym",
                  "_price_grid", "_qty_grid", "_a", "_s"))
    return names - {"_not_state", "_moved_fields", "_dropped_fields"}


def _offences(path: Path, private: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in private:
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            out.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.attr}")
    return out


def test_nothing_outside_the_exchange_package_touches_its_private_members():
    private = _private_names()
    files = [p for folder in ("engine", "game") for p in (ROOT / folder).rglob("*.py")
             if "engine/exchange/" not in p.as_posix()]
    offences = [line for p in sorted(files) for line in _offences(p, private)]
    assert not offences, "private members of the exchange used outside it:\n" + "\n".join(offences)


def test_the_exchange_front_stays_thin_and_no_module_is_huge():
    lines = {p.relative_to(ROOT).as_posix(): len(p.read_text(encoding="utf-8").splitlines())
             for folder in ("engine", "game") for p in (ROOT / folder).rglob("*.py")}
    assert lines["engine/exchange/front.py"] <= 350, lines
    assert max(lines.values()) <= 500, lines
