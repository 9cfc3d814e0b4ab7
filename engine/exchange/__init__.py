"""The exchange: books, accounts, margin, marks and the liquidation waterfall behind one API.

``Exchange`` (``front.py``) converts human numbers (USD, coins) once; its parts work in integer
ticks, lots and money units, and each owns its state:

* ``pools`` (``pools.py``) — pool arithmetic and the money that moves in and out of pools;
* ``ledger`` (``ledger.py``) — resting orders, fills, reduce-only, self-trade prevention, fees;
* ``funds`` (``funds.py``) — insurance funds: cash, floor, takeovers, work-out, deficits;
* ``rules`` (``rules.py``) — trading halts and the ADL breaker;
* ``journal`` (``journal.py``) — the clock ``t`` and the outgoing events.

``settle()`` runs the marks and the liquidation waterfall (``waterfall.py``), which finds pools
under water with the incremental ``scan`` (``scan.py``); ADL lights (``lights.py``) and the views
(``views.py``) read the same parts; ``entry.py`` turns human-unit orders into ledger calls.
Nothing outside this package reads a part's private members (``tests/engine/test_layering.py``).
"""

from .front import Exchange
from .ledger import OrderInfo
from .views import AccountView, OrderView, PositionView

__all__ = ["AccountView", "Exchange", "OrderInfo", "OrderView", "PositionView"]
