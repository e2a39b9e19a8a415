"""The simulated exchange: sessions in, events out, decided as the venue would.

One `Exchange` holds a book per contract and carries out what members send: SSE-style two-sided
quotes (a new one replaces the old), limit orders, cancels, mass cancels by scope and requests
for quote; it runs the phases it is told (call auctions uncross at one price, continuous
trading matches in price-time priority), enforces price limits, sends an option whose trade
would move too far into a circuit-breaker auction, halts contracts, prevents self-trades, and
copies every fill to drop-copy subscribers.

Every command received and every event emitted feeds a SHA-256 digest of the event log: the
same inputs give the same digest. Events reach their sessions after the command that caused
them has been carried out in full, so a session that answers at once never re-enters a match.
"""

from collections import Counter
from collections.abc import Callable
from decimal import Decimal

from adapters.sim.auction import uncross
from adapters.sim.book import BookSide, Entry, OrderBook
from adapters.sim.dispatch import Dispatcher, Session, Sink
from adapters.sim.state import (
    HOLDING,
    Contract,
    LiveQuote,
    Product,
    ProductRules,
    RfqState,
    in_scope,
    listing_order,
)
from adapters.sim.validate import order_problem, quote_problem
from core.clock import NS_PER_S, Clock
from core.enums import (
    CancelReason,
    ExecType,
    LimitState,
    Liquidity,
    OrderStatus,
    Phase,
    QuoteStatusCode,
    ScopeKind,
    Side,
    TimeInForce,
)
from core.events import (
    CancelOrder,
    CancelQuote,
    Command,
    ExecutionReport,
    Halt,
    LimitStateChange,
    MarketData,
    MassCancel,
    MassCancelReport,
    NewOrder,
    PhaseChange,
    Quote,
    QuoteStatus,
    Reject,
    RequestForQuote,
    Rfq,
    StatusReport,
    StatusRequest,
)
from core.listing import Listing

MD_DEPTH = 5


class Exchange:
    def __init__(
        self,
        listing: Listing,
        rules: dict[str, ProductRules],
        clock: Clock,
        *,
        rfq_deadline_s: int = 15,
    ) -> None:
        self.clock = clock
        self.rfq_deadline_ns = rfq_deadline_s * NS_PER_S
        self.products: dict[str, Product] = {}
        self.contracts: dict[str, Contract] = {}
        for inst in listing.instruments:
            product = self.products.get(inst.product)
            if product is None:
                if inst.product not in rules:
                    raise ValueError(f"no trading rules for product {inst.product}")
                product = self.products[inst.product] = Product(inst.product, rules[inst.product])
            contract = Contract(inst, product, OrderBook(inst.instrument_id),
                                inst.prev_close_ticks, len(self.contracts))
            product.contracts.append(contract)
            self.contracts[inst.instrument_id] = contract
        self.out = Dispatcher()
        self._quotes: dict[tuple[str, str], LiveQuote] = {}  # (account, instrument) -> quote
        self._orders: dict[tuple[str, str], tuple[Contract, Entry]] = {}  # (account, client id)
        self._rfqs: dict[str, RfqState] = {}
        self._held: list[tuple[str, Command]] = []
        self._dirty: dict[str, Contract] = {}
        self._seq = 0
        self._exec_seq = 0
        self.stats: Counter[str] = Counter()
        self.fills: list[ExecutionReport] = []
        """every fill of the day, both sides, for the end-of-day trade and position files"""
        self.rejects: Counter[str] = Counter()

    # ---- sessions and subscribers ------------------------------------------------------------

    def connect(
        self, session_id: str, sink: Sink | None, *, public: bool = True,
        cancel_on_disconnect: bool = False,
    ) -> None:
        """Open (or reopen) a member session; `public` sessions receive market data and RFQs."""
        self.out.sessions[session_id] = Session(session_id, sink, public, cancel_on_disconnect)

    def disconnect(self, session_id: str) -> None:
        """Close a session; with cancel-on-disconnect every quote and order it placed goes, and
        the session's sink still hears of each (a durable link writes them for its return)."""
        session = self.out.sessions[session_id]
        if session.cancel_on_disconnect:
            for quote in [q for q in self._quotes.values() if q.session == session_id]:
                self._cancel_quote(quote, CancelReason.DISCONNECT)
            for contract, entry in [v for v in self._orders.values() if v[1].session == session_id]:
                self._cancel_order(contract, entry, CancelReason.DISCONNECT)
        self.out.deliver()
        session.connected = False

    def add_drop_copy(self, sink: Sink, accounts: frozenset[str] | None = None) -> None:
        """Copy every fill (of `accounts`, or all) to `sink`, independent of the sessions."""
        self.out.drop_copies.append((accounts, sink))

    # ---- what the venue's operator does ------------------------------------------------------

    def set_phase(self, product_id: str, phase: Phase) -> None:
        """Move a product into `phase`: an auction that ends uncrosses (a contract's
        circuit-breaker auction too, announced, so that the contract follows its product into
        the new phase: the closing auction); continuous trading releases held commands; the
        close expires every quote and order."""
        product = self.products[product_id]
        old = product.phase
        if old is phase:
            return
        for contract in product.contracts:
            if contract.own_phase is Phase.CIRCUIT_BREAKER_AUCTION:
                self._end_circuit_breaker(contract)
            elif old.is_auction and not contract.halted:
                ref = contract.inst.prev_close_ticks if old is Phase.OPENING_AUCTION else None
                self._uncross(contract, ref)
        product.phase = phase
        self.out.emit(None, PhaseChange(
            ts_event=self.clock.now_ns(), ts_init=self.clock.now_ns(),
            venue=product.rules.venue, product=product_id, phase=phase,
        ))
        for contract in product.contracts:
            self._dirty[contract.inst.instrument_id] = contract
        if phase is Phase.CONTINUOUS:
            self._release_held(product_id)
        elif phase is Phase.CLOSED:
            self._expire(product)
            self._withdraw_held(
                lambda sid, cmd: self.contracts[cmd.instrument_id].product is product,
                "phase: closed before continuous trading resumed")
        self.out.deliver()

    def halt(self, instrument_id: str, reason: str) -> None:
        contract = self.contracts[instrument_id]
        if contract.halted:
            return
        contract.halted = True
        now = self.clock.now_ns()
        self.out.emit(None, Halt(ts_event=now, ts_init=now, instrument_id=instrument_id,
                              halted=True, reason=reason))
        self._dirty[instrument_id] = contract
        self.out.deliver()

    def resume(self, instrument_id: str) -> None:
        contract = self.contracts[instrument_id]
        if not contract.halted:
            return
        contract.halted = False
        now = self.clock.now_ns()
        self.out.emit(None, Halt(ts_event=now, ts_init=now, instrument_id=instrument_id,
                              halted=False))
        self._dirty[instrument_id] = contract
        self.out.deliver()

    def set_iopv(self, instrument_id: str, iopv_ticks: int) -> None:
        contract = self.contracts[instrument_id]
        contract.iopv = iopv_ticks
        self._dirty[instrument_id] = contract

    def flush(self) -> int:
        """Publish a snapshot of every contract that changed since the last flush (market data
        is conflated per contract); returns how many were published."""
        if not self._dirty:
            return 0
        now = self.clock.now_ns()
        dirty, self._dirty = self._dirty, {}
        # in listing order, so the log does not depend on which change came first in an instant
        for contract in sorted(dirty.values(), key=listing_order):
            contract.md_seq += 1
            book = contract.book
            indicative_px, indicative_qty = None, 0
            phase = contract.phase
            if phase.is_auction:
                result = uncross(book.bids.levels(), book.asks.levels(),
                                 tie_break=contract.product.rules.tie_break,
                                 reference_px_ticks=self._auction_reference(contract, phase))
                if result is not None:
                    indicative_px, indicative_qty = result.px_ticks, result.qty
            self.out.emit(None, MarketData(
                ts_event=now, ts_init=now, instrument_id=contract.inst.instrument_id,
                seq=contract.md_seq, phase=phase, limit_state=contract.limit_state,
                last_px_ticks=contract.last_px, volume=contract.volume,
                bids=book.bids.levels(MD_DEPTH), asks=book.asks.levels(MD_DEPTH),
                indicative_px_ticks=indicative_px, indicative_qty=indicative_qty,
                iopv_ticks=contract.iopv,
            ))
        self.out.deliver()
        return len(dirty)

    # ---- members' commands -------------------------------------------------------------------

    def submit(self, session_id: str, command: Command) -> None:
        """Carry out one command from a connected session."""
        session = self.out.sessions.get(session_id)
        if session is None or not session.connected:
            raise ValueError(f"session {session_id!r} is not connected")
        self.out.log(command)
        self.stats[f"cmd.{type(command).__name__}"] += 1
        self._process(session_id, command)
        self.out.deliver()

    def _process(self, session_id: str, command: Command) -> None:
        if isinstance(command, MassCancel):
            self._mass_cancel(session_id, command)
            return
        if isinstance(command, StatusRequest):
            now = self.clock.now_ns()
            self.out.emit(session_id, StatusReport(
                ts_event=now, ts_init=now, request_id=command.request_id,
                account=command.account,
                live_quotes=tuple(q.quote_id for (acct, _), q in self._quotes.items()
                                  if acct == command.account),
                live_orders=tuple(e.client_id for (acct, _), (_, e) in self._orders.items()
                                  if acct == command.account)))
            return
        contract = self.contracts.get(command.instrument_id)
        if contract is None:
            self._reject(session_id, command, f"instrument_id: unknown {command.instrument_id!r}")
            return
        if contract.phase in HOLDING:
            self._held.append((session_id, command))
            self.stats["held"] += 1
            return
        match command:
            case Quote():
                self._quote(session_id, contract, command)
            case NewOrder():
                self._new_order(session_id, contract, command)
            case CancelQuote():
                quote = self._quotes.get((command.account, command.instrument_id))
                if quote is None:
                    self._reject(session_id, command, "no live quote on this contract")
                else:
                    self._cancel_quote(quote, CancelReason.USER)
            case CancelOrder():
                found = self._orders.get((command.account, command.client_id))
                if found is None or found[0] is not contract:
                    self._reject(session_id, command,
                                 f"client_id: no live order {command.client_id!r}")
                else:
                    self._cancel_order(contract, found[1], CancelReason.USER)
            case RequestForQuote():
                self._request_for_quote(session_id, contract, command)

    def _withdraw_held(self, which: Callable[[str, Command], bool], reason: str) -> None:
        """Drop held commands that `which` picks, telling each sender with a Reject."""
        keep = []
        for session_id, command in self._held:
            if which(session_id, command):
                self._reject(session_id, command, reason)
            else:
                keep.append((session_id, command))
        self._held = keep

    def _release_held(self, product_id: str) -> None:
        keep, run = [], []
        for item in self._held:
            contract = self.contracts[item[1].instrument_id]  # type: ignore[union-attr]
            (run if contract.product.product_id == product_id else keep).append(item)
        self._held = keep
        for session_id, command in run:
            self._process(session_id, command)

    # ---- quotes ------------------------------------------------------------------------------

    def _quote(self, session_id: str, contract: Contract, q: Quote) -> None:
        problem = quote_problem(contract, q, self._rfqs)
        if problem:
            self.rejects[problem.split(":")[0]] += 1
            self.out.emit(session_id, QuoteStatus(
                ts_event=self.clock.now_ns(), ts_init=self.clock.now_ns(), quote_id=q.quote_id,
                instrument_id=q.instrument_id, account=q.account,
                status=QuoteStatusCode.REJECTED, reason=problem, rfq_id=q.rfq_id,
            ))
            return
        old = self._quotes.get((q.account, q.instrument_id))
        if old is not None:
            self._cancel_quote(old, CancelReason.REPLACED)
        live = LiveQuote(q.quote_id, q.account, session_id, contract, None, None, q.rfq_id)
        for side, px, qty in ((Side.BUY, q.bid_px_ticks, q.bid_qty),
                              (Side.SELL, q.ask_px_ticks, q.ask_qty)):
            if px is None:
                continue
            self._seq += 1
            entry = Entry(self._seq, f"Q{self._seq}", q.quote_id, q.account, session_id, side,
                          px, qty, is_quote=True)
            if side is Side.BUY:
                live.bid = entry
            else:
                live.ask = entry
        self._quotes[(q.account, q.instrument_id)] = live
        self.stats["quotes.accepted"] += 1
        self._quote_status(live, QuoteStatusCode.ACCEPTED)
        if q.rfq_id is not None:
            state = self._rfqs[q.rfq_id]
            state.responses += 1
            if state.first_response_ns is None:
                state.first_response_ns = self.clock.now_ns()
        for entry in (live.bid, live.ask):
            if entry is None:
                continue
            if contract.phase is Phase.CONTINUOUS:
                self._match(contract, entry)
            if entry.alive and entry.qty > 0:
                contract.book.side(entry.side).add(entry)
        if self._quotes.get((q.account, q.instrument_id)) is live and self._quote_done(live):
            # what trading left of it was taken by self-trade prevention
            self._drop_quote(live)
            self._quote_status(live, QuoteStatusCode.CANCELLED, CancelReason.SELF_TRADE)
        self._dirty[contract.inst.instrument_id] = contract

    def _quote_status(self, live: LiveQuote, status: QuoteStatusCode,
                      cancel_reason: CancelReason | None = None) -> None:
        now = self.clock.now_ns()
        bid, ask = live.bid, live.ask
        self.out.emit(live.session, QuoteStatus(
            ts_event=now, ts_init=now, quote_id=live.quote_id,
            instrument_id=live.contract.inst.instrument_id, account=live.account, status=status,
            bid_px_ticks=bid.px if bid else None, bid_qty=bid.qty if bid and bid.alive else 0,
            ask_px_ticks=ask.px if ask else None, ask_qty=ask.qty if ask and ask.alive else 0,
            rfq_id=live.rfq_id, cancel_reason=cancel_reason,
        ))

    @staticmethod
    def _quote_done(live: LiveQuote) -> bool:
        return all(e is None or e.qty == 0 for e in (live.bid, live.ask))

    def _drop_quote(self, live: LiveQuote) -> None:
        key = (live.account, live.contract.inst.instrument_id)
        if self._quotes.get(key) is live:
            del self._quotes[key]

    def _cancel_quote(self, live: LiveQuote, reason: CancelReason) -> None:
        book = live.contract.book
        for entry in (live.bid, live.ask):
            if entry is not None and entry.alive:
                book.side(entry.side).remove(entry)
        self._drop_quote(live)
        self.stats["quotes.cancelled"] += 1
        self._quote_status(live, QuoteStatusCode.CANCELLED, reason)
        self._dirty[live.contract.inst.instrument_id] = live.contract

    # ---- orders ------------------------------------------------------------------------------

    def _new_order(self, session_id: str, contract: Contract, o: NewOrder) -> None:
        inst = contract.inst
        problem = order_problem(contract, o, (o.account, o.client_id) in self._orders)
        self._seq += 1
        entry = Entry(self._seq, f"O{self._seq}", o.client_id, o.account, session_id, o.side,
                      o.px_ticks, o.qty)
        if problem:
            self.rejects[problem.split(":")[0]] += 1
            entry.alive = False
            self._report(contract, entry, ExecType.REJECTED, OrderStatus.REJECTED, reason=problem)
            return
        self._report(contract, entry, ExecType.NEW, OrderStatus.NEW)
        if contract.phase is Phase.CONTINUOUS:
            self._match(contract, entry)
        if not entry.alive or entry.qty == 0:
            return
        if o.tif is TimeInForce.IOC:
            self._finish_unbooked(contract, entry, CancelReason.IOC)
            return
        contract.book.side(entry.side).add(entry)
        self._orders[(o.account, o.client_id)] = (contract, entry)
        self._dirty[inst.instrument_id] = contract

    def _cancel_order(self, contract: Contract, entry: Entry, reason: CancelReason) -> None:
        contract.book.side(entry.side).remove(entry)
        self._orders.pop((entry.account, entry.client_id), None)
        self._report(contract, entry, ExecType.CANCELLED, OrderStatus.CANCELLED,
                     cancel_reason=reason)
        self._dirty[contract.inst.instrument_id] = contract

    def _finish_unbooked(self, contract: Contract, entry: Entry, reason: CancelReason) -> None:
        """Cancel what is left of an incoming entry (an order, or one side of a quote) that
        never reached the book."""
        entry.alive = False
        self._report(contract, entry, ExecType.CANCELLED, OrderStatus.CANCELLED,
                     cancel_reason=reason)
        entry.qty = 0

    # ---- matching ----------------------------------------------------------------------------

    def _match(self, contract: Contract, entry: Entry) -> None:
        """Trade an incoming entry against the opposite side while prices cross."""
        opposite = contract.book.side(entry.side.opposite)
        rules = contract.product.rules
        buying = entry.side is Side.BUY
        while entry.qty > 0:
            best = opposite.best()
            if best is None or (best.px > entry.px if buying else best.px < entry.px):
                return
            if best.account == entry.account:
                self.stats["self_trade_prevented"] += 1
                if rules.self_trade == "cancel_resting":
                    self._cancel_resting(contract, best, CancelReason.SELF_TRADE)
                    continue
                self._finish_unbooked(contract, entry, CancelReason.SELF_TRADE)
                return
            if rules.circuit_breaker and self._breaches(contract, best.px):
                self._start_circuit_breaker(contract)
                return
            qty = min(entry.qty, best.qty)
            entry.qty -= qty
            self._fill(contract, entry, best.px, qty, Liquidity.TAKER)
            opposite.reduce(best, qty)
            self._fill(contract, best, best.px, qty, Liquidity.MAKER)
            self._trade(contract, best.px, qty)

    def _cancel_resting(self, contract: Contract, entry: Entry, reason: CancelReason) -> None:
        if entry.is_quote:
            live = self._quotes.get((entry.account, contract.inst.instrument_id))
            if live is not None:
                self._cancel_quote(live, reason)
        else:
            self._cancel_order(contract, entry, reason)

    def _fill(self, contract: Contract, entry: Entry, px: int, qty: int,
              liquidity: Liquidity) -> None:
        """Report a fill of `qty` at `px` on an entry whose `qty` already has it taken off."""
        entry.cum += qty
        if entry.qty == 0:
            entry.alive = False
        status = OrderStatus.FILLED if entry.qty == 0 else OrderStatus.PARTIALLY_FILLED
        report = self._report(contract, entry, ExecType.TRADE, status, last_px=px,
                              last_qty=qty, liquidity=liquidity)
        self.fills.append(report)
        self.out.copy_fill(entry.account, report)
        if entry.is_quote:
            if status is OrderStatus.FILLED:
                live = self._quotes.get((entry.account, contract.inst.instrument_id))
                if live is not None and self._quote_done(live):
                    self._drop_quote(live)
                    self._quote_status(live, QuoteStatusCode.FILLED)
        elif status is OrderStatus.FILLED:
            self._orders.pop((entry.account, entry.client_id), None)

    def _trade(self, contract: Contract, px: int, qty: int) -> None:
        contract.last_px = px
        contract.volume += qty
        self.stats["trades"] += 1
        self.stats["traded_qty"] += qty
        inst = contract.inst
        state = (LimitState.UP if px == inst.limit_up_ticks else
                 LimitState.DOWN if px == inst.limit_down_ticks else LimitState.NONE)
        if state is not contract.limit_state:
            contract.limit_state = state
            now = self.clock.now_ns()
            self.out.emit(None, LimitStateChange(ts_event=now, ts_init=now,
                                              instrument_id=inst.instrument_id, state=state))
        self._dirty[inst.instrument_id] = contract

    # ---- call auctions and circuit breakers --------------------------------------------------

    def _auction_reference(self, contract: Contract, phase: Phase) -> int:
        if phase is Phase.OPENING_AUCTION or contract.last_px is None:
            return contract.inst.prev_close_ticks
        return contract.last_px

    def _uncross(self, contract: Contract, reference: int | None) -> None:
        book = contract.book
        ref = reference if reference is not None else (contract.last_px
                                                       or contract.inst.prev_close_ticks)
        result = uncross(book.bids.levels(), book.asks.levels(),
                         tie_break=contract.product.rules.tie_break, reference_px_ticks=ref)
        self.stats["auctions"] += 1
        if result is None:
            return
        self.stats["auctions.traded"] += 1
        px, left = result.px_ticks, result.qty
        buys = [e for e in book.bids.entries() if e.px >= px]
        sells = [e for e in book.asks.entries() if e.px <= px]
        i = j = 0
        while left > 0:
            buy, sell = buys[i], sells[j]
            qty = min(buy.qty, sell.qty, left)
            left -= qty
            self._auction_fill(contract, book.bids, buy, px, qty)
            self._auction_fill(contract, book.asks, sell, px, qty)
            self._trade(contract, px, qty)
            i += buy.qty == 0
            j += sell.qty == 0
        contract.reference_px = px

    def _auction_fill(self, contract: Contract, side: BookSide, entry: Entry, px: int,
                      qty: int) -> None:
        side.reduce(entry, qty)
        self._fill(contract, entry, px, qty, Liquidity.AUCTION)

    def _breaches(self, contract: Contract, px: int) -> bool:
        rule = contract.product.rules.circuit_breaker
        assert rule is not None
        move = abs(px - contract.reference_px)
        return move >= rule.min_ticks and Decimal(move) >= contract.reference_px * rule.move_pct

    def _start_circuit_breaker(self, contract: Contract) -> None:
        rule = contract.product.rules.circuit_breaker
        assert rule is not None
        self.stats["circuit_breakers"] += 1
        contract.own_phase = Phase.CIRCUIT_BREAKER_AUCTION
        now = self.clock.now_ns()
        self.out.emit(None, PhaseChange(
            ts_event=now, ts_init=now, venue=contract.product.rules.venue,
            product=contract.product.product_id, instrument_id=contract.inst.instrument_id,
            phase=Phase.CIRCUIT_BREAKER_AUCTION,
        ))
        contract.cb_timer = self.clock.call_at(
            now + rule.duration_s * NS_PER_S, lambda: self._end_circuit_breaker(contract)
        )
        self._dirty[contract.inst.instrument_id] = contract

    def _end_circuit_breaker(self, contract: Contract) -> None:
        """The auction uncrosses and the contract trades in its product's phase again (a
        contract's phase record of `continuous`: its own phase is over)."""
        if contract.cb_timer is not None:
            contract.cb_timer.cancel()
            contract.cb_timer = None
        self._uncross(contract, None)
        contract.own_phase = None
        now = self.clock.now_ns()
        self.out.emit(None, PhaseChange(
            ts_event=now, ts_init=now, venue=contract.product.rules.venue,
            product=contract.product.product_id, instrument_id=contract.inst.instrument_id,
            phase=Phase.CONTINUOUS,
        ))
        self._dirty[contract.inst.instrument_id] = contract
        self.out.deliver()

    # ---- mass cancel, RFQs, the close --------------------------------------------------------

    def _mass_cancel(self, session_id: str, m: MassCancel) -> None:
        scope = m.scope
        if scope.kind is ScopeKind.ACCOUNT and scope.value != m.account:
            self._reject(session_id, m, f"scope: account {scope.value!r} is not {m.account!r}")
            return
        named = scope.kind in (ScopeKind.CONTRACT, ScopeKind.PRODUCT, ScopeKind.UNDERLYING)
        if named and not any(in_scope(c, scope) for c in self.contracts.values()):
            self._reject(session_id, m, f"scope: nothing is listed in {scope}")
            return
        quotes = [q for (acct, _), q in self._quotes.items()
                  if acct == m.account and in_scope(q.contract, scope)]
        orders = []
        if m.include_orders:
            orders = [(c, e) for (acct, _), (c, e) in self._orders.items()
                      if acct == m.account and in_scope(c, scope)]
        # the report first, naming everything the request cancels (the member's confirmation
        # of the whole cancel in one message); then each quote's and order's own status
        self.stats["mass_cancels"] += 1
        now = self.clock.now_ns()
        self.out.emit(session_id, MassCancelReport(
            ts_event=now, ts_init=now, request_id=m.request_id, account=m.account, scope=scope,
            cancelled_quotes=tuple(q.quote_id for q in quotes),
            cancelled_orders=tuple(e.client_id for _, e in orders),
        ))
        self.out.deliver()  # the report leaves before the per-quote work
        for quote in quotes:
            self._cancel_quote(quote, CancelReason.MASS_CANCEL)
        for contract, entry in orders:
            self._cancel_order(contract, entry, CancelReason.MASS_CANCEL)
        # what the exchange holds for continuous trading must not outlive a mass cancel
        self._withdraw_held(lambda sid, cmd: (
            cmd.account == m.account and in_scope(self.contracts[cmd.instrument_id], scope)
            and (m.include_orders or not isinstance(cmd, NewOrder))),
            "mass_cancel: held command withdrawn")

    def _request_for_quote(self, session_id: str, contract: Contract,
                           r: RequestForQuote) -> None:
        if r.rfq_id in self._rfqs:
            self._reject(session_id, r, f"rfq_id: {r.rfq_id!r} was already used")
            return
        if contract.phase is not Phase.CONTINUOUS:
            self._reject(session_id, r, f"phase: no request for quote in {contract.phase}")
            return
        now = self.clock.now_ns()
        rfq = Rfq(ts_event=now, ts_init=now, rfq_id=r.rfq_id, instrument_id=r.instrument_id,
                  qty=r.qty, side=r.side, deadline_ns=now + self.rfq_deadline_ns)
        self._rfqs[r.rfq_id] = RfqState(rfq)
        self.stats["rfqs"] += 1
        self.out.emit(None, rfq)

    def rfq_summary(self) -> dict[str, int]:
        answered = in_time = 0
        for state in self._rfqs.values():
            if state.first_response_ns is not None:
                answered += 1
                in_time += state.first_response_ns <= state.rfq.deadline_ns
        return {"requests": len(self._rfqs), "answered": answered, "answered_in_time": in_time}

    def _expire(self, product: Product) -> None:
        for contract in product.contracts:
            iid = contract.inst.instrument_id
            for quote in [q for (_, i), q in self._quotes.items() if i == iid]:
                self._cancel_quote(quote, CancelReason.CLOSE)
            for c, entry in [v for v in self._orders.values() if v[0] is contract]:
                self._cancel_order(c, entry, CancelReason.CLOSE)

    # ---- reading the state (the simulator's own clients and tests) -------------------------

    def best(self, instrument_id: str) -> tuple[int | None, int | None]:
        book = self.contracts[instrument_id].book
        return book.bids.best_px(), book.asks.best_px()

    def live_quotes(self, account: str | None = None) -> list[LiveQuote]:
        return [q for (acct, _), q in self._quotes.items() if account is None or acct == account]

    def live_orders(self, account: str | None = None) -> list[Entry]:
        return [e for (acct, _), (_, e) in self._orders.items()
                if account is None or acct == account]

    @property
    def digest(self) -> str:
        return self.out.digest

    @property
    def events_logged(self) -> int:
        return self.out.logged

    # ---- events out --------------------------------------------------------------------------

    def _report(self, contract: Contract, entry: Entry, exec_type: ExecType,
                status: OrderStatus, *, last_px: int = 0, last_qty: int = 0,
                liquidity: Liquidity | None = None, reason: str = "",
                cancel_reason: CancelReason | None = None) -> ExecutionReport:
        self._exec_seq += 1
        now = self.clock.now_ns()
        report = ExecutionReport(
            ts_event=now, ts_init=now, exec_id=f"X{self._exec_seq}", order_id=entry.order_id,
            client_id=entry.client_id, instrument_id=contract.inst.instrument_id,
            account=entry.account, side=entry.side, exec_type=exec_type, status=status,
            px_ticks=entry.px, qty=entry.original_qty, last_px_ticks=last_px,
            last_qty=last_qty, cum_qty=entry.cum,
            leaves_qty=entry.qty if status in (OrderStatus.NEW,
                                               OrderStatus.PARTIALLY_FILLED) else 0,
            is_quote=entry.is_quote, liquidity=liquidity, reason=reason,
            cancel_reason=cancel_reason,
        )
        self.out.emit(entry.session, report)
        return report

    def _reject(self, session_id: str, command: Command, reason: str) -> None:
        self.rejects[reason.split(":", maxsplit=1)[0]] += 1
        ref = getattr(command, "quote_id", None) or getattr(command, "client_id", None) \
            or getattr(command, "request_id", None) or getattr(command, "rfq_id", "")
        now = self.clock.now_ns()
        self.out.emit(session_id, Reject(ts_event=now, ts_init=now, ref_id=ref, reason=reason,
                                         ref_type=type(command).__name__))
