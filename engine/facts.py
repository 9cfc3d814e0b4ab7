"""The facts of the default crash (../shared/docs/crash.md), checked on run summaries: the
stylized facts F1–F10, the causal facts C1–C4, the timing facts F11–F14 and the structure facts
F15–F20. Each check returns (passed, measured) so tests, the CLI and calibration share one
definition of the targets."""

from __future__ import annotations

from typing import overload

from .clock import fmt_hhmm, parse_hhmm


@overload
def _t(hhmm: str) -> int: ...
@overload
def _t(hhmm: None) -> None: ...
def _t(hhmm: str | None) -> int | None:
    return None if hhmm is None else parse_hhmm(hhmm)


def check_facts(summary: dict, *, tracked_hedger: bool = True) -> dict[str, tuple[bool, object]]:
    """F1–F9 on one run's summary (F10 needs a second run: ``check_f10``)."""
    sym = summary["symbols"]
    depth = summary["tracked_depth"]
    liq, adl = summary["liquidations"], summary["adl"]
    out: dict[str, tuple[bool, object]] = {}
    out["F1 BTC opens near 122,000"] = (abs(sym["BTC"]["open"] / 122_000 - 1) <= 0.01,
                                        sym["BTC"]["open"])
    before = [usd for hhmm, usd in depth["series"] if _t(hhmm) < parse_hhmm("04:40")]
    start = min(before) if before else depth["start_usd"]
    out["F2 tracked depth ≈ $1.2M before 04:40"] = (0.9e6 <= start <= 1.5e6, start)
    bottom = 1 - depth["min_usd"] / depth["start_usd"] if depth["start_usd"] else 0
    at = _t(depth["min_at"])
    out["F3 depth bottoms −90%..−99.5% between 05:05 and 05:30"] = (
        0.90 <= bottom <= 0.995 and parse_hhmm("05:05") <= at <= parse_hhmm("05:30"),
        (round(-bottom * 100, 1), depth["min_at"]))
    btc = sym["BTC"]["max_drawdown_pct"]
    out["F4 BTC peak-to-trough −10%..−17%"] = (10 <= btc <= 17, btc)
    alts = {k: v["max_drawdown_pct"] for k, v in sym.items() if k not in ("BTC", "ETH", "DOGE")}
    worst = max(alts.values()) if alts else 0
    doge = sym.get("DOGE", {}).get("max_drawdown_pct")
    out["F5 hardest alt −60..−90%, DOGE −30..−55%"] = (
        60 <= worst <= 90 and doge is not None and 30 <= doge <= 55, (worst, doge))
    first, peak = _t(adl["first_at"]), _t(liq["peak_minute"])
    out["F6 first ADL 05:00–05:25, ≤3 min after the peak liquidation minute"] = (
        first is not None and peak is not None
        and parse_hhmm("05:00") <= first <= parse_hhmm("05:25") and 0 <= first - peak <= 180,
        (adl["first_at"], liq["peak_minute"]))
    share = liq["long_share"] or 0
    out["F7 87% long (±2 pts); 80–92% of liquidations long"] = (
        abs(summary["long_share_start"] - 0.87) <= 0.02 and 0.80 <= share <= 0.92,
        (summary["long_share_start"], share))
    oi = summary["open_interest"]["change_pct"]
    out["F8 open interest −25%..−50%"] = (oi is not None and -50 <= oi <= -25, oi)
    if tracked_hedger and summary.get("player"):
        h = summary["player"]
        adl_at, liq_at = _t(h["adl_at"]), _t(h["liquidated_at"])
        window = (parse_hhmm("05:00"), parse_hhmm("05:30"))
        out["F9 hedger ADL'd on DOGE before its longs are liquidated"] = (
            adl_at is not None and liq_at is not None and adl_at < liq_at
            and window[0] <= adl_at <= window[1] and window[0] <= liq_at <= window[1],
            (h["adl_at"], h["liquidated_at"]))
    return out


def check_f10(base: dict, bitmex_like: dict) -> tuple[bool, object]:
    """F10: with funds ×20, ADL events fall by at least 90%."""
    before, after = base["adl"]["count"], bitmex_like["adl"]["count"]
    return (before > 0 and after <= 0.1 * before, (before, after))


CAUSAL_SWITCHES: dict[str, list[str]] = {
    "never": ["market_makers.withdrawal=never"],
    "obligated": ["market_makers.obligated_firms=5"],
    "balanced": ["crowd.long_share=0.5"],
    "half_shock": ["index.shock_scale=0.5"],
}
"""The counterfactual runs of the causal facts: the same level and seed, one switch changed (C2
obligates every one of the default level's five firms)."""


def check_causal(base: dict, runs: dict[str, dict]) -> dict[str, tuple[bool, object]]:
    """C1–C4 of crash.md: ``base`` is the level's run, ``runs`` the same seed under each of
    ``CAUSAL_SWITCHES`` (by name)."""
    def liq(s: dict) -> float:
        return s["liquidations"]["notional_usd"]

    def adl(s: dict) -> float:
        return s["adl"]["notional_usd"]

    def btc(s: dict) -> float:
        return s["symbols"]["BTC"]["max_drawdown_pct"]

    out: dict[str, tuple[bool, object]] = {}
    never, obligated = runs["never"], runs["obligated"]
    ratio = (liq(never) / liq(base) if liq(base) else None,
             adl(never) / adl(base) if adl(base) else None)
    out["C1 makers never withdraw: BTC ≤ 6%, liquidated ≤ 40%, ADL ≤ 10% of the baseline"] = (
        btc(never) <= 6 and ratio[0] is not None and ratio[0] <= 0.4
        and (adl(never) == 0 or (ratio[1] is not None and ratio[1] <= 0.1)),
        (btc(never), ratio))
    gain = liq(base) - liq(never)
    recovered = (liq(base) - liq(obligated)) / gain if gain > 0 else None
    out["C2 designated makers recover ≥ half of C1's cut in liquidations"] = (
        recovered is not None and recovered >= 0.5, recovered)
    share = btc(runs["balanced"]) / btc(base) if btc(base) else None
    out["C3 a balanced crowd: BTC drawdown ≤ 60% of the baseline's"] = (
        share is not None and share <= 0.6, share)
    half = adl(runs["half_shock"]) / adl(base) if adl(base) else None
    out["C4 half the shock: ADL notional ≤ 10% of the baseline's"] = (
        half is not None and half <= 0.1, half)
    return out


def _hhmm(t: int | None) -> str | None:
    return None if t is None else fmt_hhmm(t)


def _firm_times(summary: dict) -> tuple[int | None, int | None, int | None]:
    """(first thinning, the time every firm had pulled, first return at or after 05:35) from
    the firms' state changes; every firm logs its state at the start, so the names are all."""
    events = summary["market_makers"]
    firms = {name for _, name, _ in events}
    thin = next((_t(t) for t, _, state in events if state == "thinning"), None)
    pulled: dict[str, int] = {}
    for t, name, state in events:
        if state == "pulled":
            pulled.setdefault(name, _t(t))
    every = max(pulled.values()) if firms and len(pulled) == len(firms) else None
    back = next((_t(t) for t, _, state in events
                 if state == "returning" and _t(t) >= parse_hhmm("05:35")), None)
    return thin, every, back


def check_structure(summary: dict) -> dict[str, tuple[bool, object]]:
    """The timing facts F11–F13 and the structure facts F15, F16 (per run: ADL in at least three
    symbols; crash.md asks it on 7 of seeds 1–10), F17, F19 and F20 on one run's summary."""
    out: dict[str, tuple[bool, object]] = {}
    thin, every, _ = _firm_times(summary)
    out["F11 the first firm thins 04:35–04:50"] = (
        thin is not None and parse_hhmm("04:35") <= thin <= parse_hhmm("04:50"), _hhmm(thin))
    out["F12 every firm has pulled 04:55–05:10"] = (
        every is not None and parse_hhmm("04:55") <= every <= parse_hhmm("05:10"), _hhmm(every))
    bottom, peak = _t(summary["tracked_depth"]["min_at"]), _t(summary["liquidations"]["peak_minute"])
    out["F13 depth bottoms 05:10–05:25; peak liquidation minute 05:05–05:22"] = (
        parse_hhmm("05:10") <= bottom <= parse_hhmm("05:25")
        and peak is not None and parse_hhmm("05:05") <= peak <= parse_hhmm("05:22"),
        (summary["tracked_depth"]["min_at"], summary["liquidations"]["peak_minute"]))
    adl, liq = summary["adl"], summary["liquidations"]
    ratio = adl["notional_usd"] / liq["notional_usd"] if liq["notional_usd"] else None
    out["F15 ADL ÷ liquidated notional 15%–50%"] = (
        ratio is not None and 0.15 <= ratio <= 0.5, None if ratio is None else round(ratio, 4))
    out["F16 ADL in at least three symbols"] = (len(adl["symbols"]) >= 3, sorted(adl["symbols"]))
    top = adl["max_second_share"]
    out["F17 no second holds more than 40% of the ADL notional"] = (
        top is not None and top <= 0.4, top)
    hedged = adl["hedged_then_liquidated"]
    out["F19 ≥ 20% of the hedged crowd ADL'd on a leg are then liquidated"] = (
        hedged["share"] is not None and hedged["share"] >= 0.2, hedged["share"])
    market = summary.get("market")
    out["F20 market-wide liquidations $5B–$20B, peak minute ≥ $1B"] = (
        market is not None and 5e9 <= market["liquidated_usd"] <= 20e9
        and market["peak_minute_usd"] >= 1e9,
        None if market is None else (market["liquidated_usd"], market["peak_minute_usd"]))
    return out


def check_recovery(summary: dict) -> tuple[bool, object]:
    """F14, on a run with an epilogue to 06:10 or later: a firm re-quotes from 05:35 and the
    tracked depth is back to at least 90% of its start by 06:10."""
    _, _, back = _firm_times(summary)
    depth = summary["tracked_depth"]
    at = [usd for hhmm, usd in depth["series"] if _t(hhmm) <= parse_hhmm("06:10")]
    share = at[-1] / depth["start_usd"] if at and depth["start_usd"] else None
    return (back is not None and share is not None and share >= 0.9,
            (_hhmm(back), None if share is None else round(share, 3)))


def check_lows(summaries: list[dict]) -> tuple[bool, object]:
    """F18 over many seeds: no symbol's low sits on the same price on more than 3 of them (a
    low pinned to one resting order, not made by the flow)."""
    most: dict[str, int] = {}
    for sym in summaries[0]["symbols"] if summaries else []:
        lows = [s["symbols"][sym]["low"] for s in summaries]
        most[sym] = max(lows.count(x) for x in lows)
    return (all(n <= 3 for n in most.values()), most)
