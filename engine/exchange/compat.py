"""Saves from before the exchange was split into parts (``front.py``): where each of the old
``Exchange`` fields lives now (``state.restore`` follows ``Exchange._moved_fields``)."""

MOVED_FIELDS = {
    "_units": "units", "_price_grid": "price_grid", "_qty_grid": "qty_grid",
    "t": "journal.t", "_events": "journal.events", "net_deposits": "pools.net_deposits",
    "_orders": "ledger.orders", "_reduce_only": "ledger.reduce_only",
    "_next_oid": "ledger.next_oid", "fee_pool": "ledger.fee_pool",
    "fund_floor": "funds.floor", "fund_names": "funds.names", "fund_ids": "funds.ids",
    "_fund_of": "funds.fund_of", "workout_slippage_ppm": "funds.workout_slippage_ppm",
    **{name: f"rules.{name}" for name in ("adl_breaker", "adl_minute", "adl_used",
                                          "halt_drop_ppm", "halt_window", "halt_seconds",
                                          "halted_until", "halt_highs", "halts")},
}
