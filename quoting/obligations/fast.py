"""The fast path of an evaluation: the same engine, with quotes taken a column at a time.

A large timeline is mostly `quote` lines. Here pyarrow reads the whole file at once, every
quote is judged in numpy (exact integer arithmetic on ticks, as the gate does), and the time
between one rare event (phase, limit, exemption, fill, RFQ, cancel...) and the next is credited
contract by contract in numpy; the rare events themselves are decoded exactly (msgspec) and fed
to the engine one by one. The result is the exact path's (a test holds the two together).

The fast path declines, and the caller takes the exact path, whenever it cannot be sure of
exactness or of naming an error precisely: a pack that needs more than the best level (BSE),
a price off the tick grid, a fractional size, a missing or malformed field, an unknown
contract, times out of order, or anything pyarrow cannot read.
"""

from datetime import date, timedelta
from fractions import Fraction

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from quoting.obligations.engine import AUCTIONS, DayTotals, QuoteTimeEngine
from quoting.obligations.timeline import (
    _LINE_DECODER,
    SECOND_NS,
    ContractRecord,
    TimedEvent,
    Timeline,
    to_ns,
)
from quoting.rules import RulePack

DAY_NS = 86_400 * SECOND_NS
# only what the quotes need is read a column at a time; the rest is decoded line by line
_SCHEMA = pa.schema([("type", pa.string()), ("ts", pa.string()), ("contract", pa.string()),
                     ("bids", pa.list_(pa.list_(pa.float64()))),
                     ("asks", pa.list_(pa.list_(pa.float64())))])
_PARSE = pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore")
_READ = pj.ReadOptions(block_size=1 << 24)
_EPOCH = date(1970, 1, 1)


class _Declined(Exception):
    """The fast path cannot vouch for this timeline."""


def _numpy(array: pa.ChunkedArray | pa.Array, fill: object) -> np.ndarray:
    return pc.fill_null(array, fill).to_numpy(zero_copy_only=False)


def _levels(column: pa.ChunkedArray, quotes: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(has a level, price, size) of the best [price, size] of each quote row's side."""
    if np.any(_numpy(pc.is_null(column), True)[quotes]):
        raise _Declined("a quote without bids or asks")
    lengths = _numpy(pc.list_value_length(column), 0)
    has_all = lengths > 0
    px_all = np.zeros(len(lengths))
    size_all = np.zeros(len(lengths))
    if has_all.any():
        best = pc.list_element(pc.filter(column, pa.array(has_all)), 0)
        if best.null_count or not pc.all(pc.equal(pc.list_value_length(best), 2)).as_py():
            raise _Declined("a level that is not [price, size]")
        px_all[has_all] = _numpy(pc.list_element(best, 0), 0.0)
        size_all[has_all] = _numpy(pc.list_element(best, 1), 0.0)
    return has_all[quotes], px_all[quotes], size_all[quotes]


def _ticks(px: np.ndarray, tick: np.ndarray) -> np.ndarray:
    scaled = px / tick
    ticks = np.rint(scaled)
    if np.any(np.abs(scaled - ticks) > 1e-7):
        raise _Declined("a price off the tick grid")
    return ticks.astype(np.int64)


def evaluate_fast(data: bytes, pack: RulePack,
                  engine_class: type[QuoteTimeEngine]) -> QuoteTimeEngine | None:
    """The engine run over `data` (a whole timeline), or None when the exact path must run."""
    if pack.name == "bse-stocks":
        return None  # BSE's validity walks every level
    try:
        return _run(data, pack, engine_class)
    except (_Declined, pa.ArrowException, msgspec.MsgspecError, KeyError, ValueError,
            TypeError):
        return None


def _run(data: bytes, pack: RulePack, engine_class: type[QuoteTimeEngine]) -> QuoteTimeEngine:
    table = pj.read_json(pa.BufferReader(data), read_options=_READ, parse_options=_PARSE)
    raw = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(raw == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    lines = np.flatnonzero(ends > starts)  # arrow skips empty lines: row i is lines[i]
    if len(lines) != table.num_rows or "type" not in table.column_names:
        raise _Declined("blank-looking lines or no type column")
    kinds = table.column("type")
    if kinds.null_count:
        raise _Declined("a line without a type")
    is_quote = pc.equal(kinds, "quote").to_numpy(zero_copy_only=False)
    rare_rows = np.flatnonzero(~is_quote)
    quote_rows = np.flatnonzero(is_quote)

    # the rare lines, decoded exactly
    rare: list[tuple[int, object]] = []
    contracts: dict[str, ContractRecord] = {}
    everyone: dict[str, ContractRecord] = {}
    for row in rare_rows:
        line = lines[row]
        event = _LINE_DECODER.decode(data[starts[line]:ends[line]])
        if isinstance(event, ContractRecord):
            if event.tick <= 0:
                raise _Declined("tick")
            everyone[event.contract] = event
            if event.venue != pack.venue or event.kind not in pack.kinds:
                continue  # a contract another pack governs
            contracts[event.contract] = event
        elif not _governed(event, contracts, everyone):
            continue
        rare.append((int(row), event))
    ids = list(contracts)
    if not ids:
        raise _Declined("no contracts this pack governs")

    # the quotes, judged a column at a time
    ci = _numpy(pc.index_in(table.column("contract"), value_set=pa.array(ids)), -1)
    ci = ci[quote_rows].astype(np.int64)
    if np.any(ci < 0):
        known = _numpy(pc.index_in(table.column("contract"),
                                   value_set=pa.array(list(everyone))), -1)[quote_rows]
        if np.any(known < 0):
            raise _Declined("a quote for an unknown contract, or without one")
        governed = ci >= 0  # quotes on contracts another pack governs are left out
        quote_rows, ci = quote_rows[governed], ci[governed]
    t_all = _numpy(pc.cast(table.column("ts"), pa.timestamp("ns", tz="UTC")).cast(pa.int64()),
                   -1)
    t_q = t_all[quote_rows]
    if np.any(t_q < 0):
        raise _Declined("a quote without a time")
    records = [contracts[c] for c in ids]
    tick = np.array([float(r.tick) for r in records])[ci]
    has_bid, bid_px, bid_size = _levels(table.column("bids"), quote_rows)
    has_ask, ask_px, ask_size = _levels(table.column("asks"), quote_rows)
    if np.any((has_bid & (bid_px <= 0)) | (has_ask & (ask_px <= 0))):
        raise _Declined("a price that is not positive")
    for size in (bid_size, ask_size):
        if np.any((size < 0) | (size != np.rint(size))):
            raise _Declined("a size that is not a whole number")
    bid = np.where(has_bid, _ticks(np.where(has_bid, bid_px, tick), tick), 0)
    ask = np.where(has_ask, _ticks(np.where(has_ask, ask_px, tick), tick), 0)
    bsize, asize = bid_size.astype(np.int64), ask_size.astype(np.int64)

    engine = engine_class(Timeline(contracts, offset=_offset(rare)), pack)
    states = [engine.contracts[c] for c in ids]
    pct = [Fraction(s.pct) for s in states]
    floor = [max(Fraction(pack.spread.abs_yuan), pack.spread.abs_ticks * Fraction(r.tick))
             / Fraction(r.tick) for r in records]
    pct_num = np.array([p.numerator for p in pct], dtype=np.int64)[ci]
    pct_den = np.array([p.denominator for p in pct], dtype=np.int64)[ci]
    floor_num = np.array([f.numerator for f in floor], dtype=np.int64)[ci]
    floor_den = np.array([f.denominator for f in floor], dtype=np.int64)[ci]
    two_sided = has_bid & has_ask
    basis = ask if pack.spread.basis == "ask" else bid
    spread = ask - bid
    allowed = np.maximum(pct_num * basis * floor_den, floor_num * pct_den)
    fits = two_sided & (spread * pct_den * floor_den <= allowed)
    smallest = np.minimum(bsize, asize)
    quote_flags = {
        "valid_cont": fits & (smallest >= pack.size.continuous),
        "valid_auction": fits & (smallest >= pack.size.auction),
        "two_sided": two_sided,
        "ratio": np.where(two_sided, spread / (allowed / (pct_den * floor_den)), 0.0),
        "size": np.where(two_sided, smallest, 0),
    }
    sides = has_bid.astype(np.int64) + has_ask
    amount = np.where(has_bid, bid * bsize, 0) + np.where(has_ask, ask * asize, 0)
    multiplier = np.array([r.multiplier for r in records], dtype=np.int64)[ci]
    amount = amount * multiplier

    # time order over every timed line
    rare_ts = {row: _ns(event) for row, event in rare if not isinstance(event, ContractRecord)}
    order_check = np.full(table.num_rows, -1, dtype=np.int64)
    order_check[quote_rows] = t_q
    for row, ts in rare_ts.items():
        order_check[row] = ts
    timed = order_check[order_check >= 0]
    if np.any(np.diff(timed) < 0):
        raise _Declined("times out of order")
    first_record = {event.contract: row for row, event in rare
                    if isinstance(event, ContractRecord)}
    first_quote = np.full(len(ids), np.iinfo(np.int64).max)
    first_quote[ci[::-1]] = quote_rows[::-1]  # the last write of each contract: its first row
    if any(first_quote[i] < first_record[c] for i, c in enumerate(ids)):
        raise _Declined("a quote before its contract record")

    cursor = 0
    offset_ns = _offset_ns(engine)
    for row, event in rare:
        end = int(np.searchsorted(quote_rows, row))
        if end > cursor:
            _credit(engine, states, slice(cursor, end), ci, t_q, quote_flags, sides, amount,
                    offset_ns)
            cursor = end
        if not isinstance(event, ContractRecord):
            engine.feed(event, rare_ts[row])  # type: ignore[arg-type]
    if cursor < len(quote_rows):
        _credit(engine, states, slice(cursor, len(quote_rows)), ci, t_q, quote_flags, sides,
                amount, offset_ns)
    engine._end_ns = int(timed[-1]) if timed.size else 0
    engine.settle()
    return engine


def _governed(event: object, contracts: dict[str, ContractRecord],
              everyone: dict[str, ContractRecord]) -> bool:
    """Whether an event is about what the pack governs (a contract event must follow its
    contract's record, as in the exact path)."""
    contract = getattr(event, "contract", None)
    if contract is not None:
        if contract not in everyone:
            raise _Declined("an event before its contract record")
        return contract in contracts
    product = getattr(event, "product", None)
    return product in (None, "*") or any(r.product == product for r in contracts.values())


def _offset(rare: list[tuple[int, object]]):
    for _, event in rare:
        ts = getattr(event, "ts", None)
        if ts is not None:
            if ts.tzinfo is None:
                raise _Declined("a time without an offset")
            return ts.tzinfo
    raise _Declined("no timed line to take the offset from")


def _offset_ns(engine: QuoteTimeEngine) -> int:
    offset = engine.timeline.offset
    delta = offset.utcoffset(None) if offset is not None else None
    return int(delta.total_seconds()) * SECOND_NS if delta else 0


def _ns(event: TimedEvent) -> int:
    return to_ns(event.ts)


def _credit(engine: QuoteTimeEngine, states: list, rows: slice, ci: np.ndarray,
            t_q: np.ndarray, flags: dict[str, np.ndarray], sides: np.ndarray,
            amount: np.ndarray, offset_ns: int) -> None:
    """Credit the quotes of one stretch between rare events, exactly as feeding them one by
    one would: each interval since a contract's last change goes to the state it had."""
    cis = ci[rows]
    # a stable sort on small integers (numpy sorts int16 by radix): by contract, in time order
    order = np.argsort(cis.astype(np.int16), kind="stable")
    c_sorted = cis[order]
    t = t_q[rows][order]
    f = {k: v[rows][order] for k, v in flags.items()}
    n = len(c_sorted)
    starts = np.flatnonzero(np.r_[True, c_sorted[1:] != c_sorted[:-1]])
    stops = np.r_[starts[1:], n]
    prev_t = np.empty(n, dtype=np.int64)
    prev_t[1:] = t[:-1]
    prev = {k: np.empty_like(v) for k, v in f.items()}
    for k, v in f.items():
        prev[k][1:] = v[:-1]
    counting = np.zeros(n, dtype=bool)
    auction = np.zeros(n, dtype=bool)
    for first, stop in zip(starts, stops, strict=True):
        c = states[c_sorted[first]]
        prev_t[first] = c.last_ns
        prev["valid_cont"][first] = c.valid_cont
        prev["valid_auction"][first] = c.valid_auction
        prev["two_sided"][first] = c.two_sided
        prev["ratio"][first] = c.ratio
        phase = c.phase
        counting[first:stop] = (phase == "continuous" and c.limit == "none"
                                and not (c.exempt or c.product.exempt))
        auction[first:stop] = phase in AUCTIONS
    dt = np.maximum(t - prev_t, 0)
    group = np.repeat(np.arange(len(starts)), stops - starts)
    # time since each previous change, to the day it started on
    day_prev = (prev_t + offset_ns) // DAY_NS
    _accumulate(states, c_sorted, starts, group, day_prev, counting, dt, prev)
    # the sides quoted, to the day they were sent on
    day_now = (t + offset_ns) // DAY_NS
    _amounts(states, c_sorted, starts, group, day_now, sides[rows][order],
             amount[rows][order])
    for first, stop in zip(starts, stops, strict=True):
        c = states[c_sorted[first]]
        last = stop - 1
        shown = np.flatnonzero(auction[first:stop] & prev["valid_auction"][first:stop]
                               & (dt[first:stop] > 0))
        if shown.size:
            c.last_valid_auction_ns = int(t[first + shown[-1]])
        c.valid_cont = bool(f["valid_cont"][last])
        c.valid_auction = bool(f["valid_auction"][last])
        c.two_sided = bool(f["two_sided"][last])
        c.ratio = float(f["ratio"][last])
        c.size = int(f["size"][last])
        c.last_ns = max(c.last_ns, int(t[last]))


def _day_of(day_index: int) -> date:
    return _EPOCH + timedelta(days=int(day_index))


def _totals(c, day_index: int) -> DayTotals:
    day = _day_of(day_index)
    totals = c.days.get(day)
    if totals is None:
        totals = c.days[day] = DayTotals()
    return totals


def _runs(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Where each run of equal (contract, day) starts; rows are sorted by contract and, in a
    contract, by time, so its days never decrease."""
    change = np.r_[True, (group[1:] != group[:-1]) | (day[1:] != day[:-1])]
    return np.flatnonzero(change)


def _accumulate(states: list, c_sorted: np.ndarray, starts: np.ndarray, group: np.ndarray,
                day: np.ndarray, counting: np.ndarray, dt: np.ndarray,
                prev: dict[str, np.ndarray]) -> None:
    mask = counting & (dt > 0)
    if not mask.any():
        return
    g, dy, d = group[mask], day[mask], dt[mask]
    runs = _runs(g, dy)
    cont = np.add.reduceat(d, runs)
    valid = np.add.reduceat(np.where(prev["valid_cont"][mask], d, 0), runs)
    two = np.add.reduceat(np.where(prev["two_sided"][mask], d, 0), runs)
    ratio = np.add.reduceat(np.where(prev["two_sided"][mask], prev["ratio"][mask] * d, 0.0),
                            runs)
    for k, first in enumerate(runs):
        totals = _totals(states[c_sorted[starts[g[first]]]], dy[first])
        totals.cont_ns += int(cont[k])
        totals.valid_ns += int(valid[k])
        totals.ratio_ns += int(two[k])
        totals.ratio_sum += float(ratio[k])


def _amounts(states: list, c_sorted: np.ndarray, starts: np.ndarray, group: np.ndarray,
             day: np.ndarray, sides: np.ndarray, amount: np.ndarray) -> None:
    runs = _runs(group, day)
    side_sum = np.add.reduceat(sides, runs)
    amount_sum = np.add.reduceat(amount, runs)
    for k, first in enumerate(runs):
        totals = _totals(states[c_sorted[starts[group[first]]]], day[first])
        totals.quotes += int(side_sum[k])
        totals.amount_ticks += int(amount_sum[k])

def evaluate_bytes(data: bytes, pack: RulePack) -> dict:
    """A whole timeline's evaluation under `pack`: the fast path when it can vouch for the
    file, the exact path otherwise (which also names the line and field of any error)."""
    from quoting.obligations import bse_stocks, sse_etf, sse_options, zce  # noqa: PLC0415
    from quoting.obligations.timeline import parse, restrict  # noqa: PLC0415

    engines: dict[str, type[QuoteTimeEngine]] = {
        "sse-options": sse_options.SseOptionsEvaluation, "sse-etf": sse_etf.SseEtfEvaluation,
        "zce-futures": zce.ZceEvaluation, "zce-options": zce.ZceEvaluation}
    engine_class = engines.get(pack.name)
    if engine_class is not None:
        engine = evaluate_fast(data, pack, engine_class)
        if engine is not None:
            return engine.result()  # type: ignore[attr-defined]
    timeline = restrict(parse(data.splitlines()), pack.venue, pack.kinds)
    if pack.name == "bse-stocks":
        return bse_stocks.evaluate(timeline, pack)
    engine = engine_class(timeline, pack)  # type: ignore[misc]
    engine.run()
    return engine.result()  # type: ignore[attr-defined]
