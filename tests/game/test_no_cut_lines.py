"""Nothing on the floor is cut mid-word at 120×40 or 80×24: every panel's line fits its panel
(an ellipsis where it must shorten, ``fmt.fit``), the symbols are shown whole, the keys bar
shows whole keys, and a notice never covers a panel (it has its own line)."""

from __future__ import annotations

import pytest

from game.screens.floor import VIEWS
from game.widgets.panel import LinePanel

from .conftest import floor_app, run

SIZES = [(120, 40), (80, 24)]


def _overflows(app) -> list[str]:
    """Every visible panel line wider than its panel: (panel, line)."""
    out = []
    for panel in app.screen.query(LinePanel):
        if not panel.display or panel.size.width <= 0:
            continue
        width, height = panel.size
        for row in panel.build(width, height)[:height]:
            if row.width > width:
                out.append(f"{panel.id} ({width} wide): {row.plain()!r}")
    return out


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("who", ["hedger", "maker"])
def test_no_panel_line_is_cut_in_any_view(crash_0510, maker_0445, size, who):
    model = crash_0510 if who == "hedger" else maker_0445

    async def scenario():
        app = floor_app(model)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            app.floor.notify("a long notice " * 20, title="Test", severity="error")
            problems = []
            for _ in VIEWS if size[0] < 118 else [None]:
                await pilot.pause()
                problems += _overflows(app)
                await pilot.press("v")
            assert not problems, "\n".join(problems)
            line = app.floor.query_one("#notices")
            assert line.rendered_text()[0].rstrip().endswith("l: log")
            assert "…" in line.rendered_text()[0]
    run(scenario())
