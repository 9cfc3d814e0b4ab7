"""A level reaches the agents as typed, frozen records generated from the schema
(``engine/level/records.py`` writes ``engine/level/config.py``)."""

import dataclasses

import pytest

from engine.level import SCHEMA, load_level, walk
from engine.level import records
from engine.level.config import LevelConfig, MarketMakersConfig


def test_the_generated_records_match_the_schema():
    """Change the schema, then run ``python -m engine.level.records`` to regenerate them."""
    assert records.CONFIG_FILE.read_text(encoding="utf-8") == records.source(), \
        "engine/level/config.py is stale: run python -m engine.level.records"


def test_every_schema_field_is_a_record_field():
    """Every dotted path of the schema resolves on the default level's records (``getattr``
    raises on a field the records lack)."""
    cfg = load_level("levels/1011.toml").config
    seen = 0
    for path, _ in walk(SCHEMA):
        node = cfg
        for part in path.replace("[]", "").split("."):
            if part == "<SYM>":
                node = next(iter(node.values()))
            elif isinstance(node, tuple):
                node = None  # an empty array of tables has no item to look into
                break
            else:
                node = getattr(node, records.attr(part))
        seen += 1
    assert seen > 100


def test_records_are_frozen_typed_and_hold_times_in_seconds():
    level = load_level("levels/1011.toml", overrides=["market_makers.risk_pull=2.5"])
    cfg = level.config
    assert isinstance(cfg, LevelConfig) and isinstance(cfg.market_makers, MarketMakersConfig)
    assert cfg.market_makers.risk_pull == 2.5
    assert cfg.clock.start == 4 * 3600 and cfg.clock.end == 5 * 3600 + 35 * 60
    assert cfg.news[0].at == 4 * 3600 and cfg.symbols["BTC"].price == 122_000
    assert cfg.market_makers.depth_usd["BTC"] == level.data["market_makers"]["depth_usd"]["BTC"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.market_makers.risk_pull = 9  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.market_makers.depth_usd["BTC"] = 1  # type: ignore[index]
    with pytest.raises(AttributeError):
        cfg.market_makers.risk_pul  # noqa: B018 - a misspelt field fails loudly
