"""The stylized facts F1–F10 of the default crash (../shared/docs/crash.md), checked on a run's
summary. Each check returns (passed, measured) so tests, the CLI and calibration share one
definition of the targets."""

from __future__ import annotations

from typing import overload

from .clock import parse_hhmm


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
