"""Validating a level: the rules across fields (``_Checker``, over the schema walk of
``walker._Walker``) and ``validate``, which returns the data with defaults and every problem."""

from __future__ import annotations

from decimal import Decimal

from ..instruments import Instrument
from ..units import MONEY_PER_USD
from .model import time_to_seconds
from .overrides import _parse_override
from .problems import ABSENT, Problem, _suggest, _toml
from .reading import shape_problem
from .schema import FORMAT, MAX_ACCOUNT_CELLS, MAX_FUND_USD, MAX_LEVEL_MONEY_USD, MAX_PRICE_RISE, \
    MAX_QUOTE_LEVELS, MAX_START_TICKS, MAX_SYMBOLS, PRESETS, SCHEMA
from .tomlpos import KeyPath, path_text
from .venues import with_venue
from .values import _bound_text, _usd_text
from .walker import _MAX_PRICE_USD, _SYMBOL_NAME, SHARED_FUND_KEY, _Walker


_INSTRUMENTS = {name: Instrument.preset(name) for name in PRESETS}
_TICK_SIZES = {name: inst.tick_size for name, inst in _INSTRUMENTS.items()}


class _Checker(_Walker):
    """The schema walk plus the rules across fields: the whole validation of a level."""

    def check(self) -> dict:
        data = self.node(SCHEMA, self.raw, ())
        if data["symbols"]:
            self.check_symbols(data)
            self.check_player(data)
            self.check_size(data)
            self.check_prices(data)
            self.check_player_positions(data)
            self.check_funds(data)
            self.check_money(data)
        self.check_clock(data)
        self.check_leverage(data)
        for key in ("objectives", "lesson_checks"):
            for i, goal in enumerate(data[key]):
                self.check_goal(goal, (key, i))
        self.check_scoring(data)
        self.check_variants(data)
        return data

    # --- rules across fields -----------------------------------------------------------------
    def check_symbols(self, data: dict) -> None:
        for symbol, table in data["symbols"].items():
            if table["preset"] is None and symbol in PRESETS:
                table["preset"] = symbol
            elif table["preset"] is None and _SYMBOL_NAME.fullmatch(symbol) and \
                    self.ok(("symbols", symbol, "preset")):
                self.report(("symbols", symbol, "preset"), f"required field missing: {symbol} is "
                            f"not a preset, so name the preset it trades like, one of: "
                            f"{', '.join(PRESETS)}", missing=True)
        tracked = data["tracked_symbol"]
        if tracked is None:
            data["tracked_symbol"] = next(iter(data["symbols"]))
        elif tracked not in data["symbols"]:
            self.report(("tracked_symbol",), f"not a level symbol; "
                        f"{_suggest(tracked, self.symbols)}the level's symbols: "
                        f"{', '.join(self.symbols)}", tracked)

    def check_player(self, data: dict) -> None:
        maker = data["player"]["maker_symbol"]
        if maker is not None and maker not in data["symbols"] and \
                self.ok(("player", "maker_symbol")):
            self.report(("player", "maker_symbol"), f"not a level symbol; "
                        f"{_suggest(maker, self.symbols)}the level's symbols: "
                        f"{', '.join(self.symbols)}", maker)
        holder: dict[str, int] = {}
        for i, position in enumerate(data["player"]["positions"]):
            symbol, path = position["symbol"], ("player", "positions", i, "symbol")
            if symbol is None or not self.ok(path):
                continue
            if symbol not in data["symbols"]:
                self.report(path, f"not a level symbol; {_suggest(symbol, self.symbols)}"
                            f"the level's symbols: {', '.join(self.symbols)}", symbol)
            elif symbol in holder:
                self.report(path, f"duplicate: player.positions[{holder[symbol]}] already holds "
                            f"{symbol}; one position per symbol", symbol)
            holder.setdefault(symbol, i)

    def check_clock(self, data: dict) -> None:
        clock = data["clock"]
        start, end, epilogue = (("clock", key) for key in ("start", "end", "epilogue"))
        if self.ok(start, end) and time_to_seconds(clock["end"]) <= time_to_seconds(clock["start"]):
            self.report_pair(end, start, clock)
        if clock["epilogue"] is not None and self.ok(end, epilogue) and \
                time_to_seconds(clock["epilogue"]) <= time_to_seconds(clock["end"]):
            self.report_pair(epilogue, end, clock)
        if self.ok(start, end, epilogue):
            stop = clock["end"] if clock["epilogue"] is None else clock["epilogue"]
            self.check_window(data, clock["start"], stop)

    def report_pair(self, later: KeyPath, earlier: KeyPath, clock: dict) -> None:
        """``later`` must be after ``earlier``; blame whichever the file actually sets."""
        if self.in_file(later) or not self.in_file(earlier):
            self.report(later, f"must be after {path_text(earlier)} ({clock[earlier[1]]})",
                        clock[later[1]], related=(earlier,))
        else:
            self.report(earlier, f"must be before {path_text(later)} ({clock[later[1]]})",
                        clock[earlier[1]], related=(later,))

    def check_window(self, data: dict, start: str, stop: str) -> None:
        """News must fall inside the run, start .. (epilogue or end); waypoints not after it
        (waypoints before the start are history, skipped: a level based on another may start
        later without rewriting the path)."""
        low, high = time_to_seconds(start), time_to_seconds(stop)  # checked: check_clock
        clock = (("clock", "start"), ("clock", "end"), ("clock", "epilogue"))
        message = f"must be within the clock, {start} to {stop}"
        for i, item in enumerate(data["news"]):
            path = ("news", i, "at")
            if item["at"] is not None and self.ok(path) and \
                    not low <= time_to_seconds(item["at"]) <= high:
                self.report(path, message, item["at"], related=clock)
        for symbol, table in data["symbols"].items():
            path = ("symbols", symbol, "waypoints")
            for i, (when, _) in enumerate(table["waypoints"] if self.ok(path) else ()):
                if time_to_seconds(when) > high:  # earlier ones are history: a later start skips
                    self.report(path + (i,), f"the time must be at or before the clock's stop, "
                                f"{stop}", self.raw_value(path + (i,)), related=clock)

    def check_size(self, data: dict) -> None:
        """At most ``MAX_SYMBOLS`` symbols and ``MAX_ACCOUNT_CELLS`` account × symbol cells."""
        count = len(data["symbols"])
        if count > MAX_SYMBOLS:
            self.report(("symbols",), f"the level has {count:,} symbols; a level trades at most "
                        f"{MAX_SYMBOLS} (each adds a book, a quote ladder per firm and a column "
                        f"for every account)")
            return
        firms, levels = ("market_makers", "firms"), ("market_makers", "levels")
        makers = data["market_makers"]
        quotes = makers["firms"] * makers["levels"] * count
        if self.ok(firms, levels) and quotes > MAX_QUOTE_LEVELS:
            path = levels if self.in_file(levels) and not self.in_file(firms) else firms
            self.report(path, f"market_makers.firms × market_makers.levels × {count} symbols = "
                        f"{quotes:_} quote levels; at most {MAX_QUOTE_LEVELS:_} (with {count} "
                        f"symbols and {makers['levels']} levels, at most "
                        f"{MAX_QUOTE_LEVELS // max(1, makers['levels'] * count)} firms)",
                        makers[path[1]], related=(("symbols",), firms, levels))
        accounts, dips = ("crowd", "accounts"), ("crowd", "dip_buyers")
        if not self.ok(accounts, dips):
            return
        crowd = data["crowd"]
        cells = (crowd["accounts"] + crowd["dip_buyers"]) * count
        if cells > MAX_ACCOUNT_CELLS:
            most = max(0, MAX_ACCOUNT_CELLS // count - crowd["dip_buyers"])
            path = dips if self.in_file(dips) and not self.in_file(accounts) else accounts
            self.report(path, f"(crowd.accounts + crowd.dip_buyers) × {count} symbols = "
                        f"{cells:_} account-symbol cells; at most {MAX_ACCOUNT_CELLS:_}: with "
                        f"{count} symbols and {crowd['dip_buyers']:_} dip buyers, at most "
                        f"{most:_} crowd accounts (or fewer symbols)", crowd[path[1]],
                        related=(("symbols",), accounts, dips))

    def check_player_positions(self, data: dict) -> None:
        """A hedger's starting positions: a crowd to stand against them, at least one lot each at
        the start price, and the equity to fund the isolated ones' margin (computed as the engine
        seeds them: whole lots at the start price's ticks)."""
        player = data["player"]
        if player["role"] != "hedger" or not player["positions"]:
            return
        path = ("crowd", "accounts")
        if self.ok(path) and data["crowd"]["accounts"] == 0:
            self.report(path, "the crowd holds no positions to stand against the player's "
                        "[[player.positions]]: with player.role = hedger and positions, "
                        "crowd.accounts must be at least 1", 0,
                        related=(("player", "role"), ("player", "positions")))
        isolated, equity_path = 0, ("player", "equity_usd")
        for i, position in enumerate(player["positions"]):
            here = ("player", "positions", i)
            table = data["symbols"].get(position["symbol"])
            if table is None or table["preset"] not in _INSTRUMENTS or table["price"] is None \
                    or position["notional_usd"] is None or not self.ok(
                        here + ("symbol",), here + ("notional_usd",), here + ("leverage",),
                        ("symbols", position["symbol"], "price")):
                continue
            inst = _INSTRUMENTS[table["preset"]]
            unit = inst.unit_per_tick_lot
            ticks = max(1, round(table["price"] / float(inst.tick_size)))
            lots = round(position["notional_usd"] * MONEY_PER_USD / (ticks * unit))
            if lots == 0:
                lot_usd = ticks * unit / MONEY_PER_USD
                self.report(here + ("notional_usd",), f"is less than half a lot at the start "
                            f"price ({inst.lot_size} {position['symbol']} × {table['price']:g} = "
                            f"{lot_usd:g} USD): the position would be empty",
                            self.raw_value(here + ("notional_usd",)),
                            related=(("symbols", position["symbol"], "price"),))
            elif position["margin"] == "isolated":
                isolated += -(-lots * ticks * unit // position["leverage"])
        equity = round(player["equity_usd"] * MONEY_PER_USD)
        if isolated > equity and self.ok(equity_path):
            self.report(equity_path, f"must cover the isolated margin of the player's positions, "
                        f"{isolated / MONEY_PER_USD:,.2f} USD (notional_usd / leverage of each "
                        f"isolated position)", player["equity_usd"],
                        related=(("player", "positions"),))

    def check_prices(self, data: dict) -> None:
        """A start price at most ``MAX_START_TICKS`` ticks of its preset; every waypoint at most
        ``MAX_PRICE_RISE`` × the start price (positions are sized at the start: a hundredfold
        rise would make their notional a hundredfold)."""
        for symbol, table in data["symbols"].items():
            price_path, preset = ("symbols", symbol, "price"), table["preset"]
            if preset not in _TICK_SIZES or table["price"] is None or \
                    not self.ok(price_path, ("symbols", symbol, "preset")):
                continue
            tick = _TICK_SIZES[preset]
            top = min(float(tick * MAX_START_TICKS), _MAX_PRICE_USD)
            if table["price"] > top:
                self.report(price_path, f"must be at most {_bound_text(top, True)} with preset "
                            f"{preset} (tick {tick} USD): a price is at most "
                            f"{MAX_START_TICKS:_} ticks", self.raw_value(price_path),
                            related=(("symbols", symbol, "preset"),))
                continue
            path = ("symbols", symbol, "waypoints")
            rise = min(table["price"] * MAX_PRICE_RISE, top)
            for i, (_, price) in enumerate(table["waypoints"] if self.ok(path) else ()):
                if price > rise:
                    self.report(path + (i,), f"the price must be at most {MAX_PRICE_RISE} × the "
                                f"start price symbols.{symbol}.price ({table['price']:g}), at most "
                                f"{_bound_text(rise, True)}", self.raw_value(path + (i,)),
                                related=(price_path,))

    def check_funds(self, data: dict) -> None:
        """Every fund once sized (× fund_multiplier; with fund_sizing = stress, an upper estimate
        of the stress size) at most ``MAX_FUND_USD``, and the floor no higher than any fund."""
        exch = data["exchange"]
        keys = ("fund_multiplier", "fund_floor", "insurance_fund", "fund_shared", "fund_sizing",
                "fund_stress_pct")
        mult_path, floor_path, funds_path = (("exchange", k) for k in keys[:3])
        if not self.ok(*(("exchange", k) for k in keys)) or \
                any(path[:2] == funds_path for path in self.bad):
            return
        mult = Decimal(str(exch["fund_multiplier"]))
        funds = exch["insurance_fund"]
        sized: list[tuple[Decimal, str, KeyPath]] = []
        if exch["fund_shared"] and SHARED_FUND_KEY in funds:
            sized.append((Decimal(str(funds[SHARED_FUND_KEY])) * mult, "shared",
                          funds_path + (SHARED_FUND_KEY,)))
        elif exch["fund_shared"]:
            total = sum((Decimal(str(funds[sym])) for sym in data["symbols"]), Decimal(0))
            sized.append((total * mult, "shared", funds_path))
        else:
            sized += [(Decimal(str(funds[sym])) * mult, sym, funds_path + (sym,))
                      for sym in data["symbols"]]
        for usd, name, path in sized:
            if usd > MAX_FUND_USD:
                blame = mult_path if self.in_file(mult_path) and mult > 1 else path
                self.report(blame, f"the {name} fund would start at {_usd_text(usd)} "
                            f"({path_text(path)} × fund_multiplier {exch['fund_multiplier']:g}); "
                            f"a fund is at most {MAX_FUND_USD:_} USD",
                            self.raw_value(blame), related=(path, mult_path))
                return
        usd, name, path = min(sized, key=lambda item: item[0])
        if exch["fund_floor"] > usd:
            self.report(floor_path, f"must be at most the smallest fund it guards: the {name} "
                        f"fund starts at {_usd_text(usd)} ({path_text(path)} × fund_multiplier)",
                        exch["fund_floor"], related=(path, mult_path))
        if exch["fund_sizing"] == "stress":
            estimate, worst = self.stress_estimate(data)
            if estimate > MAX_FUND_USD:
                blame = next((p for p in (mult_path, ("exchange", "fund_stress_pct"))
                              if self.in_file(p)), ("exchange", "fund_sizing"))
                self.report(blame, f"with fund_sizing = stress the {worst} fund could be sized "
                            f"up to {_usd_text(estimate)} (open interest × fund_stress_pct × "
                            f"fund_multiplier); a fund is at most {MAX_FUND_USD:_} USD",
                            self.raw_value(blame), related=(mult_path, ("crowd", "notional_usd"),
                                                            ("exchange", "fund_stress_pct")))

    @staticmethod
    def stress_estimate(data: dict) -> tuple[float, str]:
        """An upper bound of the largest stress-sized fund, and its name: a move of
        fund_stress_pct leaves at most that share of one side's open interest as bad debt."""
        exch, crowd = data["exchange"], data["crowd"]
        factor = exch["fund_stress_pct"] / 100 * exch["fund_multiplier"]
        per = {sym: crowd["notional_usd"][sym] for sym in data["symbols"]}
        if data["player"]["role"] == "hedger":
            for position in data["player"]["positions"]:
                if position["symbol"] in per and position["notional_usd"] is not None:
                    per[position["symbol"]] += position["notional_usd"]
        if exch["fund_shared"]:
            return sum(per.values()) * factor, "shared"
        worst = max(per, key=per.__getitem__)
        return per[worst] * factor, worst

    def check_money(self, data: dict) -> None:
        """All the money the level starts with, added up, at most ``MAX_LEVEL_MONEY_USD``: the
        crowd's margin (an upper estimate), the firms' and arbitrageurs' capital, the player's
        equity, the funds and the cash pools of stink bids, dip buyers and momentum shorts."""
        crowd, makers, exch = data["crowd"], data["market_makers"], data["exchange"]
        parts: list[tuple[float, str, KeyPath]] = []
        if crowd["accounts"]:
            parts.append((2 * sum(crowd["notional_usd"].values()) * (2 + crowd["margin_buffer"]),
                          "crowd margin ≈ 2 × Σ crowd.notional_usd × (2 + crowd.margin_buffer)",
                          ("crowd", "notional_usd")))
        parts.append((makers["firms"] * makers["capital_usd"],
                      "market_makers.firms × market_makers.capital_usd",
                      ("market_makers", "capital_usd")))
        parts.append((data["arbitrage"]["capital_usd"], "arbitrage.capital_usd",
                      ("arbitrage", "capital_usd")))
        if data["player"]["role"] != "none":
            parts.append((data["player"]["equity_usd"], "player.equity_usd",
                          ("player", "equity_usd")))
        funds = exch["insurance_fund"]
        fund_total = (funds[SHARED_FUND_KEY] if exch["fund_shared"] and SHARED_FUND_KEY in funds
                      else sum(funds[sym] for sym in data["symbols"])) * exch["fund_multiplier"]
        if exch["fund_sizing"] == "stress":
            fund_total = max(fund_total, self.stress_estimate(data)[0] * (
                1 if exch["fund_shared"] else len(data["symbols"])))
        parts.append((fund_total, "insurance funds × fund_multiplier",
                      ("exchange", "insurance_fund")))
        parts.append((sum(crowd["stink_bids_usd"].values()) * 1.01, "Σ crowd.stink_bids_usd",
                      ("crowd", "stink_bids_usd")))
        if crowd["dip_buyers"]:
            parts.append((crowd["dip_buy_usd_per_min"] * 60, "crowd.dip_buy_usd_per_min × 60",
                          ("crowd", "dip_buy_usd_per_min")))
        parts.append((crowd["chase_usd_per_min"] * 30 / crowd["chase_leverage"],
                      "crowd.chase_usd_per_min × 30 / chase_leverage",
                      ("crowd", "chase_usd_per_min")))
        total = sum(usd for usd, _, _ in parts)
        inputs = {p[:2] for _, _, p in parts} | {("exchange", key) for key in (
            "fund_multiplier", "fund_sizing", "fund_stress_pct", "fund_shared", "fund_floor")}
        if total <= MAX_LEVEL_MONEY_USD or any(path[:2] in inputs for path in self.bad):
            return  # within the budget, or a problem with one of its inputs is reported already
        parts.sort(key=lambda part: -part[0])
        usd, _, path = parts[0]
        listed = "; ".join(f"{label} = {_usd_text(amount)}" for amount, label, _ in parts[:3])
        value = self.raw_value(path)
        self.report(path, f"the level's money adds up to {_usd_text(total)} ({listed}; ...); at "
                    f"most {MAX_LEVEL_MONEY_USD:_} USD in all: lower {path_text(path)}",
                    ABSENT if isinstance(value, dict) else value,
                    related=tuple(p for _, _, p in parts[1:3]))

    def check_leverage(self, data: dict) -> None:
        low, high = ("crowd", "leverage_min"), ("crowd", "leverage_max")
        crowd = data["crowd"]
        if self.ok(low, high) and crowd["leverage_min"] > crowd["leverage_max"]:
            path, other = (low, high) if self.in_file(low) else (high, low)
            relation = "at most" if path == low else "at least"
            limit = self.raw_value(other) if self.in_file(other) else crowd[other[1]]
            self.report(path, f"must be {relation} {path_text(other)} ({_toml(limit)})",
                        self.raw_value(path), related=(other,))

    def check_goal(self, goal: dict, path: KeyPath) -> None:
        """A yes/no metric takes ``is`` (or nothing); a number metric exactly one of
        ``at_least`` / ``at_most``."""
        from ..objectives import METRICS
        metric = METRICS.get(goal["metric"])
        if metric is None or not self.ok(path + ("metric",)):
            return
        given = [k for k in ("at_least", "at_most", "is") if goal[k] is not None]
        if metric.kind == "bool":
            for key in given:
                if key != "is":
                    self.report(path + (key,), f"{goal['metric']} is a yes/no metric: use "
                                f"is = true or is = false", self.raw_value(path + (key,)))
        elif "is" in given:
            self.report(path + ("is",), f"{goal['metric']} is a number: use at_least or at_most",
                        self.raw_value(path + ("is",)))
        elif len(given) != 1:
            self.report(path + ("metric",), f"{goal['metric']} is a number: give exactly one of "
                        f"at_least, at_most (got {', '.join(given) or 'neither'})",
                        goal["metric"])

    def check_scoring(self, data: dict) -> None:
        sc = data["scoring"]
        for low, high in (("star1", "star2"), ("star2", "star3")):
            if self.ok(("scoring", low), ("scoring", high)) and sc[low] > sc[high]:
                self.report(("scoring", high), f"must be at least scoring.{low} ({sc[low]})",
                            sc[high], related=(("scoring", low),))

    def check_variants(self, data: dict) -> None:
        seen: dict[str, int] = {}
        for i, variant in enumerate(data["variants"]):
            name = variant["name"]
            if name is not None and name in seen:
                self.report(("variants", i, "name"), f"duplicate: variants[{seen[name]}] has "
                            f"that name", name)
            seen.setdefault(name, i)
            for k, text in enumerate(variant["set"]):
                override = _parse_override(text, self.raw)
                if isinstance(override, str):
                    self.report(("variants", i, "set", k),
                                override.replace("--set ", "", 1), text)


def validate(raw: dict) -> tuple[dict, list[Problem]]:
    """Check parsed TOML against the schema: (data with defaults filled, problems)."""
    shape = "the level is not a table" if not isinstance(raw, dict) else shape_problem(raw)
    if shape is not None:
        return {}, [Problem((), shape)]
    version = raw.get("format", FORMAT)
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT:
        return {}, [Problem(("format",), f"this level needs format {version}; this crashfloor "
                            f"reads format {FORMAT}", version)]
    checker = _Checker(with_venue(raw))
    data = checker.check()
    return data, checker.problems
