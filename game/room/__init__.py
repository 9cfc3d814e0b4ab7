"""The workshop room (issue 17): trainees play in their browsers, a facilitator runs heats.
So far: the room's state (``store.py``)."""
