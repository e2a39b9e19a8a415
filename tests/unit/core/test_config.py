"""A bad configuration fails at load, naming the file, the key and the value."""

import shutil
from pathlib import Path

import pytest

from adapters.refdata.loader import DEFAULT_CONFIG_DIR, load_config
from core.config import ConfigError


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "configs"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_shipped_configuration_loads():
    config = load_config()
    assert {c.product for c in config.instruments.option_chains} == {"510050", "510300", "SR_O"}


@pytest.mark.parametrize(("file", "old", "new", "key", "value"), [
    ("instruments.toml", 'tick = "0.0001"', 'tick = "-1"', "option_chains.0.tick",
     "-1"),
    ("instruments.toml", 'strikes_per_side = 4', 'strikes_per_side = 90',
     "option_chains.0.strikes_per_side", "90"),
    ("instruments.toml", 'limit_pct = "0.30"', 'limit_pct = "1.30"', "securities.3.limit_pct",
     "1.30"),
    ("venues.toml", 'self_trade = "cancel_incoming"', 'self_trade = "sometimes"',
     "venues.SSE.self_trade", "sometimes"),
    ("venues.toml", '{ at = "09:15", phase = "opening_auction" }',
     '{ at = "9:15", phase = "opening_auction" }', "schedules.sse_bse.entries.0.at", "9:15"),
    ("sim.toml", "vol = 0.18", "vol = 5.0", "underlyings.0.vol", "5.0"),
    ("sim.toml", "step_s = 1", "step_s = 1\nspeed = 3", "speed", "3"),
])
def test_a_bad_value_names_file_key_and_value(config_dir, file, old, new, key, value):
    _edit(config_dir / file, old, new)
    with pytest.raises(ConfigError) as info:
        load_config(config_dir)
    err = info.value
    assert err.source.endswith(file)
    assert err.key == key
    assert str(err.value) == value
    assert file in str(err) and key in str(err) and value in str(err)


def test_a_reference_to_a_missing_schedule_is_refused(config_dir):
    _edit(config_dir / "instruments.toml", 'schedule = "zce_night"', 'schedule = "nope"')
    with pytest.raises(ConfigError, match=r"futures\.0\.schedule = 'nope': no such schedule"):
        load_config(config_dir)


def test_a_toml_syntax_error_names_the_file_and_line(config_dir):
    (config_dir / "sim.toml").write_text("default_day = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"sim\.toml.*line 1"):
        load_config(config_dir)
