"""One simulated trading day: list the contracts, run every product's session calendar on a
simulated clock, let the simulated clients (or a recorded flow) trade, and summarise."""

import itertools
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, timezone
from pathlib import Path
from typing import Any

from adapters.refdata.loader import Config
from adapters.sim.exchange import Exchange, ProductRules
from adapters.sim.flow import ReplayFlow, SimulatedFlow
from adapters.sim.market import Market
from core.calendar import TradingCalendar, parse_offset, session_times
from core.clock import NS_PER_S, SimClock
from core.enums import InstrumentKind, Phase
from core.listing import Listing, list_day


def product_rules(config: Config) -> dict[str, ProductRules]:
    """The trading rules of every configured product, by product id."""
    venues = config.venues.venues
    rules: dict[str, ProductRules] = {}
    for sec in config.instruments.securities:
        rules[sec.product or sec.code] = ProductRules(
            sec.venue, sec.auction.tie_break, None, venues[sec.venue].self_trade)
    for fut in config.instruments.futures:
        rules[fut.product] = ProductRules(
            fut.venue, fut.auction.tie_break, None, venues[fut.venue].self_trade)
    for chain in config.instruments.option_chains:
        rules[chain.product] = ProductRules(
            chain.venue, chain.auction.tie_break, chain.circuit_breaker,
            venues[chain.venue].self_trade)
    return rules


def product_schedules(config: Config) -> dict[str, str]:
    """The schedule name of every configured product."""
    out = {(s.product or s.code): s.schedule for s in config.instruments.securities}
    out.update({f.product: f.schedule for f in config.instruments.futures})
    out.update({c.product: c.schedule for c in config.instruments.option_chains})
    return out


def venue_tz(config: Config) -> timezone:
    """The venues' local time zone; every venue must share it (they are all UTC+08:00)."""
    offsets = {v.utc_offset for v in config.venues.venues.values()}
    if len(offsets) != 1:
        raise ValueError(f"venues in different time zones are not supported: {sorted(offsets)}")
    return parse_offset(offsets.pop())


def phase_timeline(config: Config, calendar: TradingCalendar, day: date,
                   products: list[str]) -> list[tuple[int, str, Phase]]:
    """Every (epoch ns, product, phase) change of the day, in time order (products in their
    configured order at equal times)."""
    schedules = product_schedules(config)
    out: list[tuple[int, int, str, Phase]] = []
    tz = venue_tz(config)
    for order, product in enumerate(products):
        schedule = config.venues.schedules[schedules[product]]
        for ts, phase in session_times(schedule, day, calendar, tz):
            out.append((ts, order, product, phase))
    out.sort()
    return [(ts, product, phase) for ts, _, product, phase in out]


IDLE_MIN_S = 300  # a shorter stretch with every market closed is lived through
IDLE_LEAD_S = 60  # the simulator wakes this long before the next phase change


def idle_stretches(timeline: list[tuple[int, str, Phase]], from_ns: int, *,
                   min_s: int = IDLE_MIN_S,
                   lead_s: int = IDLE_LEAD_S) -> tuple[tuple[int, int], ...]:
    """The stretches after `from_ns` when every product is closed or in a break, `min_s` or
    longer, as (start, end) epoch ns: the simulator passes them in no time (the night after
    ZCE's night session, the lunch break), waking `lead_s` before the next phase change."""
    is_open: dict[str, bool] = {}
    closed_since: int | None = from_ns  # every product is closed before its first phase
    out: list[tuple[int, int]] = []
    for ts, changes in itertools.groupby(timeline, key=lambda change: change[0]):
        if closed_since is not None:
            start, end = max(closed_since, from_ns), ts - lead_s * NS_PER_S
            if end - start >= min_s * NS_PER_S:
                out.append((start, end))
        for _, product, phase in changes:
            is_open[product] = phase not in (Phase.CLOSED, Phase.BREAK)
        closed_since = None if any(is_open.values()) else ts
    return tuple(out)


@dataclass(slots=True)
class SimDay:
    """A day ready to run: the exchange, its clock and its flow; participants may connect
    sessions to `exchange` before `run()`."""

    config: Config
    day: date
    seed: int
    listing: Listing
    clock: SimClock
    exchange: Exchange
    market: Market
    flow: SimulatedFlow | ReplayFlow
    timeline: list[tuple[int, str, Phase]]
    on_phase: list[Callable[[str, Phase], None]] = field(default_factory=list)

    @property
    def start_ns(self) -> int:
        return self.timeline[0][0]

    @property
    def end_ns(self) -> int:
        return self.timeline[-1][0]

    def run(self, until_ns: int | None = None) -> None:
        """Run the day (or up to `until_ns`), publishing market data after each instant."""
        clock, exchange = self.clock, self.exchange
        while True:
            nxt = clock.next_deadline_ns()
            if nxt is None or (until_ns is not None and nxt > until_ns):
                break
            clock.run_next()
            exchange.flush()
        if until_ns is not None and until_ns > clock.now_ns():
            clock.advance_to(until_ns)
            exchange.flush()


def prepare_day(config: Config, calendar: TradingCalendar, day: date, seed: int, *,
                record: Any = None, replay: Path | None = None) -> SimDay:
    """Build the day's exchange, market and flow; nothing runs until `SimDay.run()`."""
    tz = venue_tz(config)
    kinds = {s.code: InstrumentKind(s.kind) for s in config.instruments.securities}
    rules = product_rules(config)
    schedules = product_schedules(config)
    first_ts = min(session_times(config.venues.schedules[name], day, calendar, tz)[0][0]
                   for name in set(schedules.values()))
    start_ns = first_ts - 60 * NS_PER_S  # the market wakes a minute before the first phase
    market = Market(config.instruments, config.sim.underlyings, seed, start_ns, tz)
    listing = list_day(config.instruments, calendar, day, market.settle_pricer(kinds))
    for inst in listing.instruments:
        market.attach(inst)
    clock = SimClock(start_ns)
    exchange = Exchange(listing, rules, clock, rfq_deadline_s=config.sim.flow.rfq_deadline_s)
    products = list(exchange.products)
    timeline = phase_timeline(config, calendar, day, products)
    if replay is not None:
        flow: SimulatedFlow | ReplayFlow = ReplayFlow(exchange, clock, replay, record)
    else:
        flow = SimulatedFlow(exchange, clock, market, config.sim.flow, seed, record)
        flow.start_iopv()
    sim_day = SimDay(config, day, seed, listing, clock, exchange, market, flow, timeline)
    for ts, product, phase in timeline:
        clock.call_at(ts, lambda p=product, ph=phase: _set_phase(sim_day, p, ph))
    return sim_day


def _set_phase(sim_day: SimDay, product: str, phase: Phase) -> None:
    sim_day.exchange.set_phase(product, phase)
    sim_day.flow.on_phase(product, phase)
    for listener in sim_day.on_phase:
        listener(product, phase)


def summarise(sim_day: SimDay, wall_s: float) -> dict[str, Any]:
    """The day's figures; everything but `wall_s` is a function of the seed (or the replay)."""
    ex = sim_day.exchange
    stats = ex.stats
    volume: dict[str, int] = {}
    for contract in ex.contracts.values():
        product = contract.inst.product
        volume[product] = volume.get(product, 0) + contract.volume
    return {
        "day": sim_day.day.isoformat(),
        "seed": sim_day.seed,
        "instruments": len(ex.contracts),
        "products": len(ex.products),
        "events": ex.events_logged,
        "digest": ex.digest,
        "commands": {k.removeprefix("cmd."): v for k, v in sorted(stats.items())
                     if k.startswith("cmd.")},
        "quotes_accepted": stats["quotes.accepted"],
        "trades": stats["trades"],
        "traded_qty": stats["traded_qty"],
        "auctions": stats["auctions"],
        "auctions_traded": stats["auctions.traded"],
        "circuit_breakers": stats["circuit_breakers"],
        "self_trades_prevented": stats["self_trade_prevented"],
        "held_until_continuous": stats["held"],
        "mass_cancels": stats["mass_cancels"],
        "rejects": dict(sorted(ex.rejects.items())),
        "rfqs": ex.rfq_summary(),
        "volume_by_product": volume,
        "sim_hours": round((sim_day.clock.now_ns() - sim_day.start_ns) / NS_PER_S / 3600, 3),
        "wall_s": round(wall_s, 3),
    }


def run_day(config: Config, calendar: TradingCalendar, day: date, seed: int, *,
            record: Path | None = None, replay: Path | None = None) -> dict[str, Any]:
    """Run a whole simulated day and return its summary (see `summarise`)."""
    started = time.perf_counter()
    with ExitStack() as stack:
        record_fh = stack.enter_context(record.open("wb")) if record is not None else None
        sim_day = prepare_day(config, calendar, day, seed, record=record_fh, replay=replay)
        sim_day.run()
    return summarise(sim_day, time.perf_counter() - started)
