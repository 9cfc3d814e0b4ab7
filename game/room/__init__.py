"""The workshop room (``crashfloor room``): trainees play in their browsers (textual-serve), a
facilitator runs heats. ``store.py`` the room's state (SQLite), ``screens.py`` and ``app.py`` a
trainee's app, ``facilitator.py`` the facilitator's screen, ``export.py`` a heat's results,
``cli.py`` the commands."""
