"""engine/ is headless: importing it must not load textual or rich (design card)."""

import subprocess
import sys


def test_engine_never_imports_textual_or_rich():
    code = ("import sys, engine, engine.exchange, engine.sim, engine.exchange.waterfall, engine.adl\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
