"""Load the TOML configuration under configs/ into the frozen Structs of core.config."""

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from core.config import (
    ConfigError,
    HolidaysConfig,
    InstrumentsConfig,
    SimConfig,
    VenuesConfig,
    decode,
)
from quoting.rules import RulePack

T = TypeVar("T", bound=msgspec.Struct)

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"


def read_toml(path: Path) -> dict[str, Any]:
    """Parse one TOML file; a syntax error names the file, line and column."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "<file>", str(path), "file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "<syntax>", "", str(exc)) from exc


def load_file(path: Path, schema: type[T]) -> T:
    """Read `path` and decode it as `schema`; errors name the file, the key and the value."""
    decoded: T = decode(read_toml(path), schema, source=str(path))
    return decoded


@dataclass(frozen=True, slots=True)
class Config:
    """Everything under one configs/ directory, decoded and cross-checked."""

    root: Path
    venues: VenuesConfig
    instruments: InstrumentsConfig
    holidays: HolidaysConfig
    sim: SimConfig


RULE_PACKS = ("sse-options", "bse-stocks", "sse-etf", "zce-futures", "zce-options")


def load_rule_pack(name: str, root: Path | None = None) -> RulePack:
    """One rule pack from configs/rules/<name>.toml."""
    root = root or DEFAULT_CONFIG_DIR
    if name not in RULE_PACKS:
        raise ConfigError(str(root / "rules"), "name", name,
                          f"not a rule pack; one of {', '.join(RULE_PACKS)}")
    pack = load_file(root / "rules" / f"{name}.toml", RulePack)
    if pack.name != name:
        raise ConfigError(str(root / "rules" / f"{name}.toml"), "name", pack.name,
                          f"the file's pack is named {pack.name!r}, not {name!r}")
    return pack


def load_config(root: Path | None = None) -> Config:
    """Load and cross-check configs/: venues.toml, instruments.toml, calendar/holidays.toml
    and sim.toml. A reference to a schedule or venue that does not exist is a ConfigError."""
    root = root or DEFAULT_CONFIG_DIR
    venues = load_file(root / "venues.toml", VenuesConfig)
    instruments = load_file(root / "instruments.toml", InstrumentsConfig)
    holidays = load_file(root / "calendar" / "holidays.toml", HolidaysConfig)
    sim = load_file(root / "sim.toml", SimConfig)
    _cross_check(root, venues, instruments, sim)
    return Config(root, venues, instruments, holidays, sim)


def _cross_check(
    root: Path, venues: VenuesConfig, instruments: InstrumentsConfig, sim: SimConfig
) -> None:
    source = str(root / "instruments.toml")
    groups: list[tuple[str, tuple[Any, ...]]] = [
        ("securities", instruments.securities),
        ("futures", instruments.futures),
        ("option_chains", instruments.option_chains),
    ]
    for group, items in groups:
        for index, item in enumerate(items):
            if item.schedule not in venues.schedules:
                raise ConfigError(
                    source, f"{group}.{index}.schedule", item.schedule, "no such schedule"
                )
            if item.venue not in venues.venues:
                raise ConfigError(source, f"{group}.{index}.venue", item.venue, "no such venue")
    for index, chain in enumerate(instruments.option_chains):
        if chain.limits is None and chain.limit_pct is None:
            raise ConfigError(
                source, f"option_chains.{index}.limits", None, "set limits or limit_pct"
            )
    known = {s.code for s in instruments.securities} | {f.product for f in instruments.futures}
    for index, dyn in enumerate(sim.underlyings):
        if dyn.symbol not in known:
            raise ConfigError(
                str(root / "sim.toml"), f"underlyings.{index}.symbol", dyn.symbol,
                "not a security or futures product in instruments.toml",
            )
