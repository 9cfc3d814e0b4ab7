"""The workshop room (issue 17): trainees play in their browsers, a facilitator runs heats.
So far: the room's state (``store.py``) and a trainee's join and lobby screens
(``screens.py``); the server, the floor within a heat and the facilitator's screen come next."""
