"""The floor's responsiveness, measured (issue #4): redraws per second and key latency at 60×.

``crashfloor bench`` calls ``measure_floor`` after the engine figures (``--no-tui`` skips it). It
opens the real ``CrashfloorApp`` on the default level's floor, mid-crash, with the real timer and
``Pacer`` running, inside ``App.run_test`` (the headless driver: everything runs — ticks, engine
steps, snapshots, widget renders, the compositor — except the final write to a terminal). Wall
time is read here with ``time.perf_counter``; this is a benchmark, never a timed test.
"""

from __future__ import annotations

import asyncio
import threading
import time
from statistics import median
from collections.abc import Iterable

from engine.crash import CrashRun

from .app import LEVELS_DIR, load
from .floor_model import FloorModel

KEY = "right"
"""The key pressed for latency: next symbol — visible (the whole floor switches symbol), cheap
(UI state only, no engine command), and allowed for both roles and while the clock runs."""
KEY_PRESSES = 20


async def _measure(model: FloorModel, seconds: float, speed: int, size) -> dict:
    from textual import events

    from .app import CrashfloorApp
    from .screens.floor import FloorScreen

    app = CrashfloorApp(model=model, speed=speed, paused=False, ticking=True,
                        guide=False)
    paints: list[float] = []
    handled: list[float] = []

    # Redraws are counted as real paints: each call of ``App._display`` for the floor screen with
    # a non-empty compositor update, i.e. a ``Screen._compositor_refresh`` that rendered changed
    # regions (what would be written to the terminal; the headless driver only skips the write).
    display = app._display

    def counting_display(screen, renderable):
        if renderable is not None and isinstance(screen, FloorScreen):
            paints.append(time.perf_counter())
        return display(screen, renderable)
    app._display = counting_display

    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        floor = app.floor
        assert floor is not None and floor.pacer.speed == speed and not floor.pacer.paused

        # Key latency: from the key being sent to the end of the action handler (its
        # ``sync`` included, so the new symbol is on every panel). Wrapping the bound method on
        # the instance: Textual looks actions up with getattr, so the wrapper is what runs.
        action = floor.action_symbol

        def timed_action(step: int) -> None:
            action(step)
            handled.append(time.perf_counter())
        floor.action_symbol = timed_action

        sim_start, wall_start = model.sim.t, time.perf_counter()
        paints.clear()
        pressed: list[float] = []
        driver = app._driver

        # Keys are sent the way a real terminal's input thread sends them (``Driver.
        # process_message`` from another thread), not with ``pilot.press`` awaited on the event
        # loop: a coroutine on the loop only runs between ticks, so it could never press a key
        # while a tick is busy stepping the engine — the wait this measurement is about.
        def press_keys() -> None:
            gap = seconds / (KEY_PRESSES + 1)
            for k in range(KEY_PRESSES):
                # spaced out, with a fixed jitter so presses do not lock to the 15 Hz tick phase
                target = wall_start + gap * (k + 1) + (k * 0.013) % (1 / 15)
                time.sleep(max(0.0, target - time.perf_counter()))
                pressed.append(time.perf_counter())
                driver.process_message(events.Key(KEY, None))
        presser = threading.Thread(target=press_keys, name="bench-keys", daemon=True)
        presser.start()
        await asyncio.sleep(max(0.0, wall_start + seconds - time.perf_counter()))
        deadline = time.perf_counter() + 2.0
        while (presser.is_alive() or len(handled) < len(pressed)) and \
                time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        latencies = [(h - p) * 1000 for p, h in zip(pressed, handled, strict=False)]
        wall = time.perf_counter() - wall_start
        sim_seconds = (model.sim.t - sim_start)
        redraws = sum(1 for t in paints if t - wall_start <= wall)
        finished = model.sim.finished

    return {"speed": speed, "size": list(size), "seconds": round(wall, 2),
            "redraws_per_s": round(redraws / wall, 1),
            "sim_seconds_per_wall_second": round(sim_seconds / wall, 1),
            "key_presses": KEY_PRESSES, "keys_handled": len(latencies),
            "key_latency_ms_median": round(median(latencies), 1) if latencies else None,
            "key_latency_ms_max": round(max(latencies), 1) if latencies else None,
            "sim_finished": finished}


def measure_floor(seconds: float = 8.0, speed: int = 60, size=(120, 40), at: str = "05:05",
                  level: str = "1011", overrides: Iterable[str] = ()) -> dict:
    """Run the real floor at ``speed`` for ``seconds`` of wall time from ``at`` (HKT, the crash in
    progress) at terminal ``size``; redraws per second, sim speed achieved, key latency in ms."""
    lv = load(level, None, overrides, LEVELS_DIR)
    model = FloorModel(CrashRun(lv))  # attached before stepping, so the tape is complete
    model.run.run(until=at)
    result = asyncio.run(_measure(model, seconds, speed, tuple(size)))
    result["from"] = at
    return result


def describe(r: dict) -> str:
    """One line for ``crashfloor bench``'s text output."""
    w, h = r["size"]
    return (f"tui: floor at {r['speed']:g}x, {w}x{h}, from {r['from']}: "
            f"{r['redraws_per_s']} redraws/s, {r['sim_seconds_per_wall_second']} sim-s per s, "
            f"key latency median {r['key_latency_ms_median']} ms, max {r['key_latency_ms_max']} "
            f"ms ({r['keys_handled']}/{r['key_presses']} keys, {r['seconds']} s)")
