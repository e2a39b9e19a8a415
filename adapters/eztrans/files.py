"""EzTrans-style end-of-day files, written by the simulator and read by the gateway.

In `<dir>/<YYYYMMDD>/` after the close of day D:
- `reference_<next>.csv`: every contract listed on the next trading day (code, trading code,
  underlying, call/put, strike, expiry, multiplier, tick, previous settlement, price limits);
- `trades_<D>.csv`: the day's fills per account;
- `positions_<D>.csv`: position balances per account and contract, for reconciliation;
- `closing_<D>.csv`: closing and settlement prices.

Each is GBK text (as the exchange's files are): a header row of field names, one row a record,
and a last line `#rows=N` so a truncated file is caught. A reader's error names the file, the
line, the field and the value.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from core.calendar import TradingCalendar
from core.enums import CallPut, InstrumentKind, Side, Venue
from core.events import ExecutionReport
from core.instruments import Instrument
from core.listing import OptionSpec, list_day
from core.prices import from_ticks

if TYPE_CHECKING:
    from adapters.sim.day import SimDay

ENCODING = "gbk"

REFERENCE_FIELDS = ("contract_code", "trading_code", "venue", "product", "kind", "underlying",
                    "underlying_kind", "call_put", "strike", "expiry", "multiplier", "tick",
                    "min_qty", "lot", "tier", "prev_settle", "limit_up", "limit_down")
TRADE_FIELDS = ("account", "exec_id", "order_id", "client_id", "contract_code", "side",
                "price", "qty", "time_ns", "liquidity", "quote")
POSITION_FIELDS = ("account", "contract_code", "opening", "bought", "sold", "closing")
CLOSING_FIELDS = ("contract_code", "close", "settle", "volume")


class EzTransError(ValueError):
    """A file that cannot be read: names the file, the line, the field and the value."""


# ---- writing -----------------------------------------------------------------------------------

def _write(path: Path, fields: tuple[str, ...], rows: Iterable[Mapping[str, object]]) -> int:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        count += 1
    buffer.write(f"#rows={count}\n")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(buffer.getvalue().encode(ENCODING))
    tmp.replace(path)
    return count


def reference_row(inst: Instrument) -> dict[str, object]:
    return {
        "contract_code": inst.instrument_id, "trading_code": inst.name, "venue": inst.venue,
        "product": inst.product, "kind": inst.kind, "underlying": inst.underlying or "",
        "underlying_kind": inst.underlying_kind or "",
        "call_put": inst.call_put or "", "strike": inst.strike if inst.strike is not None else "",
        "expiry": inst.expiry.isoformat() if inst.expiry else "", "multiplier": inst.multiplier,
        "tick": inst.tick, "min_qty": inst.min_qty, "lot": inst.lot, "tier": inst.tier or "",
        "prev_settle": inst.price(inst.prev_close_ticks),
        "limit_up": inst.price(inst.limit_up_ticks) if inst.limit_up_ticks else "",
        "limit_down": inst.price(inst.limit_down_ticks) if inst.limit_down_ticks else "",
    }


def write_reference(path: Path, instruments: Iterable[Instrument]) -> int:
    return _write(path, REFERENCE_FIELDS, (reference_row(i) for i in instruments))


def write_trades(path: Path, fills: Iterable[ExecutionReport],
                 ticks: Mapping[str, Decimal]) -> int:
    return _write(path, TRADE_FIELDS, (
        {"account": f.account, "exec_id": f.exec_id, "order_id": f.order_id,
         "client_id": f.client_id, "contract_code": f.instrument_id, "side": f.side,
         "price": from_ticks(f.last_px_ticks, ticks[f.instrument_id]), "qty": f.last_qty,
         "time_ns": f.ts_event, "liquidity": f.liquidity or "", "quote": int(f.is_quote)}
        for f in fills))


@dataclass(frozen=True, slots=True)
class Balance:
    account: str
    contract: str
    opening: int
    bought: int
    sold: int

    @property
    def closing(self) -> int:
        return self.opening + self.bought - self.sold


def balances(fills: Iterable[ExecutionReport],
             opening: Mapping[tuple[str, str], int]) -> list[Balance]:
    """Closing balances per (account, contract): yesterday's plus today's buys less sells."""
    bought: dict[tuple[str, str], int] = {}
    sold: dict[tuple[str, str], int] = {}
    for fill in fills:
        key = (fill.account, fill.instrument_id)
        book = bought if fill.side is Side.BUY else sold
        book[key] = book.get(key, 0) + fill.last_qty
    keys = sorted(set(opening) | set(bought) | set(sold))
    return [Balance(a, c, opening.get((a, c), 0), bought.get((a, c), 0), sold.get((a, c), 0))
            for a, c in keys]


def write_positions(path: Path, rows: Iterable[Balance]) -> int:
    return _write(path, POSITION_FIELDS, (
        {"account": b.account, "contract_code": b.contract, "opening": b.opening,
         "bought": b.bought, "sold": b.sold, "closing": b.closing} for b in rows))


def write_end_of_day(sim_day: "SimDay", directory: Path, calendar: TradingCalendar) -> Path:
    """The four end-of-day files of a finished simulated day; returns their folder."""
    day = sim_day.day
    out = directory / f"{day:%Y%m%d}"
    out.mkdir(parents=True, exist_ok=True)
    exchange = sim_day.exchange
    ticks = {i.instrument_id: i.tick for i in sim_day.listing.instruments}
    write_trades(out / f"trades_{day:%Y%m%d}.csv", exchange.fills, ticks)
    previous = directory / f"{calendar.previous_trading_day(day):%Y%m%d}" / \
        f"positions_{calendar.previous_trading_day(day):%Y%m%d}.csv"
    opening = ({(b.account, b.contract): b.closing for b in read_positions(previous)}
               if previous.exists() else {})
    write_positions(out / f"positions_{day:%Y%m%d}.csv", balances(exchange.fills, opening))
    closes: dict[str, Decimal] = {}
    settles: dict[str, Decimal] = {}
    rows = []
    for contract in exchange.contracts.values():
        inst = contract.inst
        close_ticks = contract.last_px or inst.prev_close_ticks
        fair = sim_day.market.fair(inst, sim_day.clock.now_ns())
        settle = (inst.price(close_ticks) if not (inst.is_option or inst.kind is
                                                  InstrumentKind.FUTURE)
                  else max(Decimal(str(round(fair / float(inst.tick)))) * inst.tick, inst.tick))
        closes[inst.instrument_id] = inst.price(close_ticks)
        settles[inst.instrument_id] = settle
        rows.append({"contract_code": inst.instrument_id, "close": inst.price(close_ticks),
                     "settle": settle, "volume": contract.volume})
    _write(out / f"closing_{day:%Y%m%d}.csv", CLOSING_FIELDS, rows)
    next_day = calendar.next_trading_day(day)
    by_spec = {(i.underlying, i.call_put, i.strike, i.expiry): settles[i.instrument_id]
               for i in sim_day.listing.instruments if i.is_option}
    model = sim_day.market.settle_pricer(
        {s.code: InstrumentKind(s.kind) for s in sim_day.config.instruments.securities})

    def settle_next(spec: OptionSpec, on: date) -> Decimal:
        key = (spec.underlying, spec.call_put, spec.strike, spec.expiry)
        return by_spec.get(key) or model(spec, on)

    underlying_closes = {k: v for k, v in settles.items() if k in _underlyings(sim_day)}
    listing = list_day(sim_day.config.instruments, calendar, next_day, settle_next,
                       closes=underlying_closes)
    write_reference(out / f"reference_{next_day:%Y%m%d}.csv", listing.instruments)
    return out


def _underlyings(sim_day: "SimDay") -> set[str]:
    return {i.instrument_id for i in sim_day.listing.instruments if not i.is_option}


# ---- reading -----------------------------------------------------------------------------------

def _rows(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = path.read_bytes().decode(ENCODING)
    except FileNotFoundError as exc:
        raise EzTransError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise EzTransError(f"{path}: not GBK text at byte {exc.start}") from exc
    lines = text.splitlines()
    if not lines or not lines[-1].startswith("#rows="):
        raise EzTransError(f"{path}: no #rows= trailer (a truncated file?)")
    declared = lines[-1].removeprefix("#rows=")
    if not declared.isdigit() or int(declared) != len(lines) - 2:
        raise EzTransError(f"{path}:{len(lines)}: #rows={declared} but the file has "
                           f"{len(lines) - 2} rows")
    reader = csv.reader(lines[:-1])
    header = next(reader, None)
    if header is None or tuple(header) != fields:
        raise EzTransError(f"{path}:1: header {header} is not {list(fields)}")
    for line_no, row in enumerate(reader, 2):
        if len(row) != len(fields):
            raise EzTransError(f"{path}:{line_no}: {len(row)} fields, want {len(fields)}")
        yield line_no, dict(zip(fields, row, strict=True))


class _Row:
    """Typed access to one row; every error names the file, line, field and value."""

    def __init__(self, path: Path, line: int, row: dict[str, str]) -> None:
        self.path, self.line, self.row = path, line, row

    def fail(self, name: str, problem: str) -> EzTransError:
        return EzTransError(f"{self.path}:{self.line}: {name} = {self.row[name]!r}: {problem}")

    def text(self, name: str, *, required: bool = True) -> str:
        value = self.row[name]
        if required and not value:
            raise self.fail(name, "empty")
        return value

    def integer(self, name: str) -> int:
        value = self.row[name]
        if not value.lstrip("-").isdigit():
            raise self.fail(name, "not a whole number")
        return int(value)

    def decimal(self, name: str, *, required: bool = True) -> Decimal | None:
        value = self.row[name]
        if not value and not required:
            return None
        try:
            number = Decimal(value)
        except InvalidOperation as exc:
            raise self.fail(name, "not a decimal number") from exc
        if not number.is_finite():
            raise self.fail(name, "not a finite number")
        return number

    def ticks(self, name: str, tick: Decimal, *, required: bool = True) -> int | None:
        value = self.decimal(name, required=required)
        if value is None:
            return None
        count, rest = divmod(value, tick)
        if rest:
            raise self.fail(name, f"not a multiple of the tick {tick}")
        return int(count)

    def choice(self, name: str, kind: type, *, required: bool = True):
        value = self.row[name]
        if not value and not required:
            return None
        try:
            return kind(value)
        except ValueError as exc:
            raise self.fail(name, f"not one of {[str(k) for k in kind]}") from exc


def read_reference(path: Path) -> list[Instrument]:
    """Every contract of a reference file, checked field by field."""
    out = []
    for line, raw in _rows(path, REFERENCE_FIELDS):
        row = _Row(path, line, raw)
        tick = row.decimal("tick")
        assert tick is not None
        if tick <= 0:
            raise row.fail("tick", "must be positive")
        expiry_text = row.text("expiry", required=False)
        try:
            expiry = date.fromisoformat(expiry_text) if expiry_text else None
        except ValueError as exc:
            raise row.fail("expiry", "not a date YYYY-MM-DD") from exc
        prev = row.ticks("prev_settle", tick)
        assert prev is not None
        if prev <= 0:
            raise row.fail("prev_settle", "must be positive")
        out.append(Instrument(
            instrument_id=row.text("contract_code"), venue=row.choice("venue", Venue),
            kind=row.choice("kind", InstrumentKind), product=row.text("product"),
            name=row.text("trading_code", required=False), tick=tick,
            min_qty=row.integer("min_qty"), lot=row.integer("lot"),
            multiplier=row.integer("multiplier"),
            prev_close_ticks=prev, limit_up_ticks=row.ticks("limit_up", tick, required=False),
            limit_down_ticks=row.ticks("limit_down", tick, required=False),
            underlying=row.text("underlying", required=False) or None,
            call_put=row.choice("call_put", CallPut, required=False),
            strike=row.decimal("strike", required=False), expiry=expiry,
            tier=row.text("tier", required=False) or None,
            underlying_kind=row.choice("underlying_kind", InstrumentKind, required=False),
        ))
    return out


def import_contracts(path: Path, underlying: str) -> list[Instrument]:
    """The contracts on one underlying, from a reference file (worksheet item 11): its options
    and the underlying itself."""
    return [i for i in read_reference(path)
            if underlying in (i.underlying, i.instrument_id)]


def read_positions(path: Path) -> list[Balance]:
    out = []
    for line, raw in _rows(path, POSITION_FIELDS):
        row = _Row(path, line, raw)
        balance = Balance(row.text("account"), row.text("contract_code"), row.integer("opening"),
                          row.integer("bought"), row.integer("sold"))
        if balance.closing != row.integer("closing"):
            raise row.fail("closing", f"is not opening + bought - sold = {balance.closing}")
        out.append(balance)
    return out


@dataclass(frozen=True, slots=True)
class Difference:
    """One contract where our position and the exchange's balance disagree."""

    contract: str
    ours: int
    exchange: int

    @property
    def diff(self) -> int:
        return self.ours - self.exchange


def reconcile(ours: Mapping[str, int], path: Path, account: str) -> list[Difference]:
    """Every contract whose position differs between `ours` and the balance file for
    `account`, including contracts only one side holds; nothing when they agree."""
    theirs = {b.contract: b.closing for b in read_positions(path) if b.account == account}
    return [Difference(c, ours.get(c, 0), theirs.get(c, 0))
            for c in sorted(set(ours) | set(theirs)) if ours.get(c, 0) != theirs.get(c, 0)]
