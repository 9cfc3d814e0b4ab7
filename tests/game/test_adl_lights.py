"""The ADL lights on the floor are the engine's, at that moment."""

from __future__ import annotations

from game.widgets.positions import Positions

from .conftest import floor_app, new_model, run


def _lights_shown(app) -> dict[str, int]:
    rows = app.floor.query_one(Positions).rendered_text()
    out = {}
    for row in rows[1:]:
        cells = row.split()
        if len(cells) > 1 and cells[0] in ("▶", *app.floor.model.symbols) and "ADL #" not in row:
            sym = cells[1] if cells[0] == "▶" else cells[0]
            out[sym] = row.count("■")
    return out


def _check(model):
    async def scenario():
        app = floor_app(model)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            ex, player = model.ex, model.player
            engine = {sym: ex.position(player, sym).adl_light for sym in model.symbols
                      if ex.position(player, sym).lots}
            assert engine and _lights_shown(app) == engine
            for sym in engine:  # the selected row explains its queue place
                app.floor.select_symbol(sym)
                await pilot.pause()
                p = ex.position(player, sym)
                detail = app.floor.query_one(Positions).rendered_text()[-1]
                assert f"#{p.adl_rank:,} of {p.adl_queue:,}" in detail
                assert ("longs" if p.lots > 0 else "shorts") in detail
    run(scenario())


def test_lights_at_the_open():
    _check(new_model())


def test_lights_mid_crash(crash_0510):
    _check(crash_0510)
