"""Pre-trade checks: every quote and order the gateway would send, after the quoting gate and
before the link.

`PreTrade` keeps what the checks need (positions, what every live quote and order could still
add if it all traded, cash, the throttle's tokens, the ids used) and decides one message at a
time: `check_quote` / `check_order` return None and reserve the message's worst case, or a
`Refusal` naming the check, the field and the value. Reserving inside the check is what keeps
a burst from jointly breaching a limit: the next check sees what the previous one let through.
The shell feeds back what the exchange says (`on_fill`, `quote_gone`, `order_gone`) and never
calls a check for a cancel, so nothing here can hold one.

Worst cases, per contract c with net position p (positive long):
  buys  B = live bid quantity + live buy orders,  sells S = live ask + live sell orders
  long(c)  = max(p + B, 0)         short(c) = max(S - p, 0)
  SSE long-position limit:   sum long(c) over the underlying
  SSE total-position limit:  sum max(long(c), short(c))
  SSE daily buy-to-open:     bought to open today + sum max(B - max(-p, 0), 0)
  inventory (stocks, ETFs):  opening + p + B <= max,  opening + p - S >= min
  funds: cash - sum(premium or price of live buys + margin on short(c)) >= 0
Pure: no clock, no I/O; `now_ns` comes in with each call.
"""

import math
from dataclasses import dataclass, field

import msgspec

from core.enums import CallPut, InstrumentKind, Side
from core.events import NewOrder, Quote
from core.instruments import Instrument
from risk.limits import Margin, ProductLimits, RiskConfig

NS_PER_S = 1_000_000_000


class Refusal(msgspec.Struct, frozen=True, kw_only=True):
    """A pre-trade check said no: which check, and why (field and value)."""

    check: str
    message: str


@dataclass(slots=True)
class _Contract:
    """What the checks need of one contract, computed once."""

    inst: Instrument
    group: str  # the underlying (or the security itself) position limits add up on
    limits: ProductLimits
    tick: float
    mult: int
    option: bool
    future: bool
    security: bool  # a stock or an ETF: inventory, no margin
    short_margin: float  # yuan a lot short (options: the opening margin, futures: both ways)
    tradable: bool
    yuan_per_tick: float = 0.0  # a tick of one unit: tick x multiplier
    collars: tuple[float, ...] = ()  # theo, last trade, previous quote: (ticks, fraction) each

    def __post_init__(self) -> None:
        self.yuan_per_tick = self.tick * self.mult
        lim = self.limits
        self.collars = (lim.theo.ticks, lim.theo.fraction, lim.last_trade.ticks,
                        lim.last_trade.fraction, lim.previous_quote.ticks,
                        lim.previous_quote.fraction)


@dataclass(slots=True)
class _Book:
    """One contract's position and what could still trade."""

    position: int = 0
    quote_id: str = ""
    bid_px: int | None = None
    bid_qty: int = 0
    ask_px: int | None = None
    ask_qty: int = 0
    order_buy: int = 0
    order_sell: int = 0
    order_buy_cash: float = 0.0
    prev_bid: int | None = None  # the previous quote sent here
    prev_ask: int | None = None
    prev_ns: int = 0  # when (the market's time; 0: unknown, no reference)
    # this contract's part of the group sums, as last added
    long: int = 0
    total: int = 0
    bto: int = 0
    need: float = 0.0


@dataclass(slots=True)
class _Order:
    contract: str
    side: Side
    px_ticks: int
    leaves: int


@dataclass
class PreTrade:
    config: RiskConfig
    instruments: list[Instrument]
    cash_yuan: float = 0.0
    refused: dict[str, int] = field(default_factory=dict)  # per check
    passed: int = 0

    def __post_init__(self) -> None:
        self.cash_yuan = self.config.funds_yuan
        by_id = {i.instrument_id: i for i in self.instruments}
        tradable = set(self.config.tradable)
        self._contracts: dict[str, _Contract] = {}
        for inst in self.instruments:
            limits = self.config.products.get(inst.product)
            if limits is None:
                continue  # not the desk's: every check on it refuses
            group = inst.underlying or inst.instrument_id
            option = inst.kind is InstrumentKind.OPTION
            future = inst.kind is InstrumentKind.FUTURE
            self._contracts[inst.instrument_id] = _Contract(
                inst, group, limits, float(inst.tick), inst.multiplier, option, future,
                not option and not future, _short_margin(inst, by_id, self.config),
                bool({group, inst.product, by_id[group].product if group in by_id else ""}
                     & tradable))
        self._books: dict[str, _Book] = {c: _Book() for c in self._contracts}
        self._long: dict[str, int] = {}
        self._total: dict[str, int] = {}
        self._bto: dict[str, int] = {}
        self._bto_done: dict[str, int] = {}
        self._need = 0.0
        self._orders: dict[str, _Order] = {}
        self._ids: set[str] = set()
        self._account = self.config.account
        self._max_age_ns = self.config.references.max_age_s * NS_PER_S
        self._window_ns = self.config.references.last_trade_window_s * NS_PER_S
        self._prev_window_ns = self.config.references.previous_quote_window_s * NS_PER_S
        self._tokens = float(self.config.throttle.burst)
        self._token_ns = 0
        self._rate = self.config.throttle.per_s / NS_PER_S

    # ---- decisions -------------------------------------------------------------------------

    def check_quote(self, quote: Quote, now_ns: int, *, theo_ticks: float, theo_ns: int,
                    last_px_ticks: int | None = None, last_ns: int = 0,
                    send_ns: int | None = None) -> Refusal | None:
        """None, and the quote's worst case reserved, when every check passes. `now_ns` is
        the exchange's time the references are aged by; `theo_ticks` the model's value the
        quote was built around (NaN: none) from market data of `theo_ns`; the last trade is
        a reference while younger than the configured window; `send_ns` (default `now_ns`)
        the link's time the throttle counts in."""
        return self._count(self._quote(quote, now_ns, theo_ticks, theo_ns, last_px_ticks,
                                       last_ns, now_ns if send_ns is None else send_ns))

    def _count(self, refusal: Refusal | None) -> Refusal | None:
        if refusal is not None:
            self.refused[refusal.check] = self.refused.get(refusal.check, 0) + 1
        else:
            self.passed += 1
        return refusal

    def _quote(self, q: Quote, now_ns: int, theo: float, theo_ns: int, last: int | None,
               last_ns: int, send_ns: int) -> Refusal | None:
        c = self._contracts.get(q.instrument_id)
        if c is None:
            return Refusal(check="limits", message=f"instrument_id: {q.instrument_id} has no "
                                                   f"limits in configs/risk.toml")
        if q.account != self._account:
            return Refusal(check="account", message=f"account: {q.account} is not the "
                           f"dedicated market-making account {self.config.account}")
        if not c.tradable:
            return Refusal(check="tradable", message=f"instrument_id: {q.instrument_id} "
                           f"({c.group}) is not on the tradable-underlying list")
        if q.quote_id in self._ids:
            return Refusal(check="duplicate_id", message=f"quote_id: {q.quote_id} was used")
        lim = c.limits
        bid, ask = q.bid_px_ticks, q.ask_px_ticks
        max_qty, max_notional, ypt = lim.max_quote_qty, lim.max_notional_yuan, c.yuan_per_tick
        fine = ((bid is None or (q.bid_qty <= max_qty and bid * ypt * q.bid_qty <= max_notional))
                and (ask is None or (q.ask_qty <= max_qty
                                     and ask * ypt * q.ask_qty <= max_notional)))
        for side, px, qty in () if fine else (("bid", bid, q.bid_qty), ("ask", ask, q.ask_qty)):
            if px is None:
                continue
            if qty > lim.max_quote_qty:
                return Refusal(check="max_quote_qty", message=f"{side}_qty: {qty} is over "
                               f"the {lim.max_quote_qty}-lot limit for {c.inst.product}")
            notional = px * c.yuan_per_tick * qty
            if notional > lim.max_notional_yuan:
                return Refusal(check="max_notional", message=f"{side}: {notional:.2f} yuan "
                               f"is over the {lim.max_notional_yuan:.0f} limit")
        book = self._books[q.instrument_id]
        refusal = self._collars(c, book, bid, ask, now_ns, theo, theo_ns, last, last_ns)
        if refusal is not None:
            return refusal
        refusal = self._self_trade(q.instrument_id, q.bid_px_ticks, q.ask_px_ticks)
        if refusal is not None:
            return refusal
        refusal = self._throttle(send_ns)
        if refusal is not None:
            return refusal
        # the worst case with this quote in place of the one standing
        saved = (book.quote_id, book.bid_px, book.bid_qty, book.ask_px, book.ask_qty)
        book.bid_px, book.bid_qty = q.bid_px_ticks, q.bid_qty if q.bid_px_ticks else 0
        book.ask_px, book.ask_qty = q.ask_px_ticks, q.ask_qty if q.ask_px_ticks else 0
        refusal = self._update(c, book, commit=False)
        if refusal is not None:
            book.quote_id, book.bid_px, book.bid_qty, book.ask_px, book.ask_qty = saved
            self._tokens += 1  # not sent: its token back
            return refusal
        book.quote_id = q.quote_id
        book.prev_bid, book.prev_ask, book.prev_ns = q.bid_px_ticks, q.ask_px_ticks, now_ns
        self._ids.add(q.quote_id)
        return None

    def check_order(self, order: NewOrder, now_ns: int, *, theo_ticks: float, theo_ns: int,
                    last_px_ticks: int | None = None, last_ns: int = 0,
                    delta_before: float, delta_per_lot: float,
                    send_ns: int | None = None) -> Refusal | None:
        """An order (a hedge): the quote's checks, and it must not leave the underlying's
        delta further from zero than it found it (no directional order leaves the account)."""
        return self._count(self._order(order, now_ns, theo_ticks, theo_ns, last_px_ticks,
                                       last_ns, delta_before, delta_per_lot,
                                       now_ns if send_ns is None else send_ns))

    def _order(self, o: NewOrder, now_ns: int, theo: float, theo_ns: int, last: int | None,
               last_ns: int, delta_before: float, delta_per_lot: float, send_ns: int
               ) -> Refusal | None:
        c = self._contracts.get(o.instrument_id)
        if c is None:
            return Refusal(check="limits", message=f"instrument_id: {o.instrument_id} has no "
                                                   f"limits in configs/risk.toml")
        if o.account != self.config.account:
            return Refusal(check="account", message=f"account: {o.account} is not the "
                           f"dedicated market-making account {self.config.account}")
        if not c.tradable:
            return Refusal(check="tradable", message=f"instrument_id: {o.instrument_id} "
                           f"({c.group}) is not on the tradable-underlying list")
        if o.client_id in self._ids:
            return Refusal(check="duplicate_id", message=f"client_id: {o.client_id} was used")
        lim = c.limits
        if o.qty > lim.max_order_qty:
            return Refusal(check="max_order_qty", message=f"qty: {o.qty} is over the "
                           f"{lim.max_order_qty}-lot limit for {c.inst.product}")
        notional = o.px_ticks * c.tick * o.qty * c.mult
        if notional > lim.max_notional_yuan:
            return Refusal(check="max_notional", message=f"order: {notional:.2f} yuan is "
                           f"over the {lim.max_notional_yuan:.0f} limit")
        signed = o.qty if o.side is Side.BUY else -o.qty
        after = delta_before + signed * delta_per_lot
        # toward zero, overshooting by less than one lot at most (a hedge rounds to lots)
        toward = after * delta_before >= 0 and abs(after) <= abs(delta_before) + 1e-9
        if not math.isfinite(after) or not (toward or abs(after) < abs(delta_per_lot)):
            return Refusal(check="directional", message=f"order: {o.side} {o.qty} "
                           f"{o.instrument_id} takes the {c.group} delta from "
                           f"{delta_before:.0f} to {after:.0f}: the market-making account "
                           f"trades no direction")
        book = self._books[o.instrument_id]
        bid, ask = (o.px_ticks, None) if o.side is Side.BUY else (None, o.px_ticks)
        refusal = self._collars(c, book, bid, ask, now_ns, theo, theo_ns, last, last_ns,
                                previous=False)
        if refusal is not None:
            return refusal
        if o.side is Side.BUY and book.ask_px is not None and o.px_ticks >= book.ask_px:
            return Refusal(check="self_trade", message=f"px_ticks: a buy at {o.px_ticks} "
                           f"would trade with our own ask at {book.ask_px}")
        if o.side is Side.SELL and book.bid_px is not None and o.px_ticks <= book.bid_px:
            return Refusal(check="self_trade", message=f"px_ticks: a sell at {o.px_ticks} "
                           f"would trade with our own bid at {book.bid_px}")
        refusal = self._throttle(send_ns)
        if refusal is not None:
            return refusal
        cash = o.px_ticks * c.tick * c.mult * o.qty
        if o.side is Side.BUY:
            book.order_buy += o.qty
            book.order_buy_cash += cash
        else:
            book.order_sell += o.qty
        refusal = self._update(c, book, commit=False)
        if refusal is not None:
            if o.side is Side.BUY:
                book.order_buy -= o.qty
                book.order_buy_cash -= cash
            else:
                book.order_sell -= o.qty
            self._tokens += 1
            return refusal
        self._orders[o.client_id] = _Order(o.instrument_id, o.side, o.px_ticks, o.qty)
        self._ids.add(o.client_id)
        return None

    def _collars(self, c: _Contract, book: _Book, bid: int | None, ask: int | None,
                 now_ns: int, theo: float, theo_ns: int, last: int | None, last_ns: int,
                 previous: bool = True) -> Refusal | None:
        if not theo > 0 or theo == math.inf:  # NaN fails the first test
            return Refusal(check="reference", message=f"theo: {theo} for {c.inst.instrument_id}"
                                                      f" is missing or not finite")
        if theo_ns <= 0 or now_ns - theo_ns > self._max_age_ns:
            age_s = (now_ns - theo_ns) / NS_PER_S
            max_age_s = self.config.references.max_age_s
            return Refusal(check="reference", message=f"theo: the market data behind "
                           f"{c.inst.instrument_id}'s value is {age_s:.0f} s old (stale after "
                           f"{max_age_s:.0f} s)" if theo_ns > 0 else
                           f"theo: no market data behind {c.inst.instrument_id}'s value")
        theo_t, theo_f, last_t, last_f, prev_t, prev_f = c.collars
        theo_room = theo * theo_f if theo * theo_f > theo_t else theo_t
        fresh_last = (last is not None and last > 0 and now_ns - last_ns <= self._window_ns)
        last_room = 0.0
        if fresh_last:
            last_room = last * last_f if last * last_f > last_t else last_t  # type: ignore[operator]
        # the common case in one expression; the loop below names what failed
        pb, pa = book.prev_bid, book.prev_ask
        if now_ns - book.prev_ns > self._prev_window_ns:
            pb = pa = None  # sent too long ago to say where the market is
        if ((bid is None or (abs(bid - theo) <= theo_room
                             and (not fresh_last or abs(bid - last) <= last_room)  # type: ignore[operator]
                             and (not previous or pb is None
                                  or abs(bid - pb) <= (pb * prev_f if pb * prev_f > prev_t
                                                       else prev_t))))
                and (ask is None or (abs(ask - theo) <= theo_room
                                     and (not fresh_last or abs(ask - last) <= last_room)  # type: ignore[operator]
                                     and (not previous or pa is None
                                          or abs(ask - pa) <= (pa * prev_f
                                                               if pa * prev_f > prev_t
                                                               else prev_t))))):
            return None
        for side, px, prev in (("bid", bid, pb), ("ask", ask, pa)):
            if px is None:
                continue
            if abs(px - theo) > theo_room:
                return Refusal(check="collar_theo", message=f"{side}_px_ticks: {px} is "
                               f"{abs(px - theo):.1f} ticks from theo {theo:.1f}")
            if fresh_last and abs(px - last) > last_room:  # type: ignore[operator]
                return Refusal(check="collar_last_trade", message=f"{side}_px_ticks: {px} is "
                               f"{abs(px - last):.0f} ticks from the last trade {last}")  # type: ignore[operator]
            if previous and prev is not None and abs(px - prev) > (
                    prev * prev_f if prev * prev_f > prev_t else prev_t):
                return Refusal(check="collar_previous", message=f"{side}_px_ticks: {px} is "
                               f"{abs(px - prev)} ticks from the previous quote's {prev}")
        return None

    def _self_trade(self, contract: str, bid: int | None, ask: int | None) -> Refusal | None:
        if not self._orders:
            return None
        for order in self._orders.values():
            if order.contract != contract:
                continue
            if order.side is Side.SELL and bid is not None and bid >= order.px_ticks:
                return Refusal(check="self_trade", message=f"bid_px_ticks: {bid} would trade "
                               f"with our own sell order at {order.px_ticks}")
            if order.side is Side.BUY and ask is not None and ask <= order.px_ticks:
                return Refusal(check="self_trade", message=f"ask_px_ticks: {ask} would trade "
                               f"with our own buy order at {order.px_ticks}")
        return None

    def _throttle(self, now_ns: int) -> Refusal | None:
        burst = self.config.throttle.burst
        tokens = min(burst, self._tokens + (now_ns - self._token_ns) * self._rate)
        self._token_ns = now_ns
        if tokens < 1:
            self._tokens = tokens
            return Refusal(check="throttle", message=f"rate: over {self.config.throttle.per_s:g}"
                           f" quotes and orders a second (burst {burst})")
        self._tokens = tokens - 1
        return None

    # ---- the worst cases -------------------------------------------------------------------

    def _update(self, c: _Contract, book: _Book, *, commit: bool) -> Refusal | None:
        """Recompute the contract's worst case and its group's sums; refuse (changing nothing)
        when a limit would be breached, unless `commit` (what the exchange did stands)."""
        p = book.position
        buys = book.bid_qty + book.order_buy
        sells = book.ask_qty + book.order_sell
        long = p + buys if p + buys > 0 else 0
        short = sells - p if sells > p else 0
        total = long if long > short else short
        closing = -p if p < 0 else 0
        bto = buys - closing if buys > closing else 0
        # futures are bought on margin: no cash for the price
        if c.future:
            need = c.short_margin * total
        else:
            need = book.order_buy_cash + (book.bid_px or 0) * c.yuan_per_tick * book.bid_qty
            if c.option:
                need += c.short_margin * short
        g = c.group
        lim = c.limits
        if not commit:
            n_long = self._long.get(g, 0) - book.long + long
            n_total = self._total.get(g, 0) - book.total + total
            n_bto = self._bto.get(g, 0) - book.bto + bto + self._bto_done.get(g, 0)
            if c.option:
                if lim.long_limit is not None and n_long > lim.long_limit:
                    return Refusal(check="long_limit", message=f"{g}: long positions could "
                                   f"reach {n_long} lots, over the {lim.long_limit} limit")
                if lim.total_limit is not None and n_total > lim.total_limit:
                    return Refusal(check="total_limit", message=f"{g}: positions could reach "
                                   f"{n_total} lots, over the {lim.total_limit} limit")
                if lim.daily_bto_limit is not None and n_bto > lim.daily_bto_limit:
                    return Refusal(check="daily_bto_limit", message=f"{g}: buys to open could "
                                   f"reach {n_bto} lots today, over the {lim.daily_bto_limit} "
                                   f"limit")
            if c.security:
                held = lim.opening_inventory + p
                if lim.inventory_max is not None and held + buys > lim.inventory_max:
                    return Refusal(check="inventory_max", message=f"{c.inst.instrument_id}: "
                                   f"inventory could reach {held + buys}, over the "
                                   f"{lim.inventory_max} limit")
                floor = lim.inventory_min if lim.inventory_min is not None else 0
                if held - sells < floor:
                    return Refusal(check="inventory_min", message=f"{c.inst.instrument_id}: "
                                   f"inventory could fall to {held - sells}, under {floor} "
                                   f"(held {held})")
            n_need = self._need - book.need + need
            if n_need > self.cash_yuan + 1e-6 and need > book.need:
                return Refusal(check="funds", message=f"funds: live quotes and orders could "
                               f"need {n_need:.0f} yuan of premium and margin, "
                               f"{self.cash_yuan:.0f} available")
        self._long[g] = self._long.get(g, 0) - book.long + long
        self._total[g] = self._total.get(g, 0) - book.total + total
        self._bto[g] = self._bto.get(g, 0) - book.bto + bto
        self._need += need - book.need
        book.long, book.total, book.bto, book.need = long, total, bto, need
        return None

    # ---- what the exchange said ----------------------------------------------------------

    def on_fill(self, contract: str, client_id: str, side: Side, qty: int, px_ticks: int,
                *, is_quote: bool) -> None:
        c = self._contracts.get(contract)
        if c is None:
            return
        book = self._books[contract]
        if side is Side.BUY:
            opened = max(qty - max(-book.position, 0), 0)
            self._bto_done[c.group] = self._bto_done.get(c.group, 0) + opened
        signed = qty if side is Side.BUY else -qty
        book.position += signed
        if not c.future:
            self.cash_yuan -= signed * px_ticks * c.tick * c.mult
        if is_quote and client_id == book.quote_id:
            if side is Side.BUY:
                book.bid_qty = max(book.bid_qty - qty, 0)
            else:
                book.ask_qty = max(book.ask_qty - qty, 0)
        order = self._orders.get(client_id)
        if not is_quote and order is not None:
            order.leaves -= qty
            cash = qty * order.px_ticks * c.tick * c.mult
            if side is Side.BUY:
                book.order_buy -= qty
                book.order_buy_cash -= cash
            else:
                book.order_sell -= qty
            if order.leaves <= 0:
                del self._orders[client_id]
        self._update(c, book, commit=True)

    def quote_gone(self, contract: str, quote_id: str) -> None:
        """The quote is no longer live (cancelled, rejected, filled, replaced)."""
        book = self._books.get(contract)
        if book is None or book.quote_id != quote_id:
            return
        book.quote_id, book.bid_px, book.bid_qty, book.ask_px, book.ask_qty = "", None, 0, None, 0
        self._update(self._contracts[contract], book, commit=True)

    def order_gone(self, client_id: str) -> None:
        order = self._orders.pop(client_id, None)
        if order is None:
            return
        c = self._contracts[order.contract]
        book = self._books[order.contract]
        if order.side is Side.BUY:
            book.order_buy -= order.leaves
            book.order_buy_cash -= order.leaves * order.px_ticks * c.tick * c.mult
        else:
            book.order_sell -= order.leaves
        self._update(c, book, commit=True)

    def restore_quote(self, quote: Quote) -> None:
        """A quote an earlier run sent (replayed from the journal): reserved, not checked."""
        c = self._contracts.get(quote.instrument_id)
        if c is None:
            return
        book = self._books[quote.instrument_id]
        book.quote_id = quote.quote_id
        book.bid_px, book.bid_qty = quote.bid_px_ticks, quote.bid_qty if quote.bid_px_ticks else 0
        book.ask_px, book.ask_qty = quote.ask_px_ticks, quote.ask_qty if quote.ask_px_ticks else 0
        book.prev_bid, book.prev_ask = quote.bid_px_ticks, quote.ask_px_ticks
        self._ids.add(quote.quote_id)
        self._update(c, book, commit=True)

    def cancel_all(self) -> None:
        """Everything live was cancelled (a mass cancel confirmed, or state reset)."""
        for contract, book in self._books.items():
            if book.quote_id:
                self.quote_gone(contract, book.quote_id)
        for client_id in list(self._orders):
            self.order_gone(client_id)

    # ---- readings ------------------------------------------------------------------------

    def position(self, contract: str) -> int:
        book = self._books.get(contract)
        return 0 if book is None else book.position

    def usage(self) -> dict[str, dict[str, float]]:
        """Per group: the worst cases against their limits; and funds."""
        out: dict[str, dict[str, float]] = {}
        for g in sorted(set(self._long) | set(self._bto_done)):
            out[g] = {"long_worst": self._long.get(g, 0), "total_worst": self._total.get(g, 0),
                      "bto_worst": self._bto.get(g, 0) + self._bto_done.get(g, 0)}
        out["funds"] = {"cash_yuan": round(self.cash_yuan, 2),
                        "reserved_yuan": round(self._need, 2)}
        return out


def _short_margin(inst: Instrument, by_id: dict[str, Instrument], config: RiskConfig) -> float:
    """Yuan of margin one lot short needs (futures: either way), at the previous settlement
    and the underlying's previous close, as the exchanges compute the opening margin."""
    if inst.kind is InstrumentKind.OPTION and inst.strike is not None:
        under = by_id.get(inst.underlying or "")
        if under is None:
            return math.inf  # no underlying: no margin figure, so no short allowed
        return margin_per_lot(inst, inst.prev_close_ticks * float(inst.tick),
                              under.prev_close_ticks * float(under.tick), config.margin)
    return margin_per_lot(inst, inst.prev_close_ticks * float(inst.tick), 0.0, config.margin)


def margin_per_lot(inst: Instrument, settle: float, spot: float, m: Margin) -> float:
    """Yuan of margin one lot short needs (futures: either way) at the contract's price
    `settle` and the underlying's `spot` (yuan): with the previous settlement and close, the
    opening margin; with today's, the maintenance margin (RULES.md 5; ZCE at the futures
    rate, options on futures at the futures margin less half the out-of-the-money amount)."""
    if inst.kind is InstrumentKind.FUTURE:
        return m.future_rate * settle * inst.multiplier
    if inst.kind is not InstrumentKind.OPTION or inst.strike is None:
        return 0.0
    s = spot
    k = float(inst.strike)
    call = inst.call_put is CallPut.CALL
    otm = max(k - s, 0.0) if call else max(s - k, 0.0)
    if inst.underlying_kind is InstrumentKind.FUTURE:
        fut = m.future_rate * s
        return (settle + max(fut - otm / 2, fut / 2)) * inst.multiplier
    if call:
        return (settle + max(m.sse_option_high * s - otm, m.sse_option_low * s)) \
            * inst.multiplier
    return min(settle + max(m.sse_option_high * s - otm, m.sse_option_low * k), k) \
        * inst.multiplier
