"""The exchange's clock and its outgoing events, shared by every part of the exchange."""

from __future__ import annotations

from ..events import Event


class Journal:
    """What time it is on the exchange (``t``, seconds since the level's start, set by the
    simulation) and the events the parts have emitted since the last ``drain``."""

    __slots__ = ("t", "events")

    def __init__(self) -> None:
        self.t = 0
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def drain(self) -> list[Event]:
        events, self.events = self.events, []
        return events
