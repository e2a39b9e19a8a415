"""A quoting desk wired to a simulated exchange session: the engine builds and gates every
chain's quotes at each phase change and every five minutes, and sends what the gate passed."""

from collections import Counter
from collections.abc import Callable
from datetime import date

import numpy as np

from adapters.refdata.loader import load_rule_pack
from core.clock import NS_PER_S
from core.enums import Phase
from core.events import Event, Quote, QuoteStatus
from quoting.construct import QuoteParams
from quoting.engine import ChainMarket, ProductQuoter, QuoteModel
from quoting.gate import LIMIT_CODE, NO_PRICE, PHASE_CODE, ChainRules, Exemption, Rule
from quoting.models.black import implied_vol
from quoting.surface import Surface, fit_slice

DAY = date(2026, 11, 23)
YEAR_NS = 365 * 24 * 3600 * NS_PER_S
# product -> (rule pack, quote model, width in ticks, size)
PRODUCTS = {
    "510050": ("sse-options", QuoteModel.SURFACE, 8, 10),
    "510300": ("sse-options", QuoteModel.SURFACE, 8, 10),
    "SR_O": ("zce-options", QuoteModel.SURFACE, 10, 10),
    "512880": ("sse-etf", QuoteModel.IOPV, 2, 10000),
    "830799": ("bse-stocks", QuoteModel.REFERENCE, 10, 1000),
    "430047": ("bse-stocks", QuoteModel.REFERENCE, 10, 1000),
    "SR": ("zce-futures", QuoteModel.REFERENCE, 4, 10),
}


class Desk:
    """The quoting engine wired to a simulated exchange session, as a test harness."""

    def __init__(self, sim_day, *, public: bool = False):
        self.day = sim_day
        self.exchange = sim_day.exchange
        self.statuses: list[QuoteStatus] = []
        self.listeners: list[Callable[[Event], None]] = []
        self.exchange.connect("desk", self._on_event, public=public)
        self.quoters: dict[str, ProductQuoter] = {}
        for product, (pack, model, width, size) in PRODUCTS.items():
            insts = [c.inst for c in self.exchange.products[product].contracts]
            rules = ChainRules(load_rule_pack(pack), insts)
            params = QuoteParams.uniform(len(insts), width_ticks=width, size=size)
            quoter = ProductQuoter(rules, params, model=model)
            if model is QuoteModel.SURFACE:
                quoter.surface = self._fit(insts)
            self.quoters[product] = quoter
        self.accepted: Counter[str] = Counter()
        self.exemptions: Counter[str] = Counter()
        self.rejected: list[tuple[str, str, Rule]] = []
        self._ids = 0

    def _on_event(self, event):
        if isinstance(event, QuoteStatus):
            self.statuses.append(event)
        for listener in self.listeners:
            listener(event)

    def _fit(self, insts):
        """A surface fitted to the previous settlements' implied volatilities."""
        surface = Surface(insts[0].underlying or "")
        now = self.day.clock.now_ns()
        by_expiry: dict[date, list] = {}
        for inst in insts:
            by_expiry.setdefault(inst.expiry, []).append(inst)
        for expiry, group in by_expiry.items():
            under = [self._underlying_px(i) for i in group]
            years = np.array([self._years(i, now) for i in group])
            strikes = np.array([float(i.strike) for i in group])
            prices = np.array([float(i.price(i.prev_close_ticks)) for i in group])
            calls = np.array([i.call_put == "call" for i in group])
            ivs = implied_vol(prices, np.array(under), strikes, years, 1.0, calls).vol
            k = np.log(strikes / np.array(under))
            surface.set_fit(expiry, fit_slice(k, ivs, float(years.mean())).slice)
        return surface

    def _years(self, inst, now):
        close = self.day.market.expiry_ns(inst.expiry)
        return max((close - now) / YEAR_NS, 1 / 365 / 24)

    def _underlying_px(self, inst):
        under = self.exchange.contracts[inst.underlying]
        bid, ask = under.book.bids.best_px(), under.book.asks.best_px()
        px = (bid + ask) / 2 if bid and ask else (under.last_px or under.inst.prev_close_ticks)
        return px * float(under.inst.tick)

    def market(self, product) -> ChainMarket:
        contracts = self.exchange.products[product].contracts
        now = self.day.clock.now_ns()

        def arr(values):
            return np.array(values, dtype=np.int64)

        return ChainMarket(
            phase=arr([PHASE_CODE[c.phase] for c in contracts]),
            limit=arr([LIMIT_CODE[c.limit_state] for c in contracts]),
            best_bid=arr([c.book.bids.best_px() or NO_PRICE for c in contracts]),
            best_ask=arr([c.book.asks.best_px() or NO_PRICE for c in contracts]),
            last_px=arr([c.last_px or NO_PRICE for c in contracts]),
            iopv=arr([c.iopv or NO_PRICE for c in contracts]),
            underlying_px=np.array([self._underlying_px(c.inst) if c.inst.underlying
                                    else 0.0 for c in contracts]),
            years=np.array([self._years(c.inst, now) if c.inst.expiry else 0.0
                            for c in contracts]),
        )

    def quote_all(self):
        for product, quoter in self.quoters.items():
            contracts = self.exchange.products[product].contracts
            phase = self.exchange.products[product].phase
            if phase in (Phase.CLOSED, Phase.HALTED, Phase.BREAK, Phase.PRE_OPEN):
                continue
            result = quoter.quote(self.market(product), phase)
            built = result.quotes
            for i, contract in enumerate(contracts):
                if built.bid_px[i] == NO_PRICE and built.ask_px[i] == NO_PRICE:
                    continue
                own_phase = contract.phase
                if result.rule[i]:
                    self.rejected.append((contract.inst.instrument_id, str(own_phase),
                                          Rule(int(result.rule[i]))))
                    continue
                self.accepted[str(own_phase)] += 1
                if result.exemption[i]:
                    self.exemptions[Exemption(int(result.exemption[i])).name] += 1
                self._ids += 1
                now = self.day.clock.now_ns()
                self.exchange.submit("desk", Quote(
                    ts_event=now, ts_init=now, quote_id=f"D{self._ids}",
                    instrument_id=contract.inst.instrument_id, account="MM01",
                    bid_px_ticks=None if built.bid_px[i] == NO_PRICE else int(built.bid_px[i]),
                    bid_qty=int(built.bid_qty[i]),
                    ask_px_ticks=None if built.ask_px[i] == NO_PRICE else int(built.ask_px[i]),
                    ask_qty=int(built.ask_qty[i])))




def quote_the_day(sim_day, desk: "Desk") -> None:
    """Run the day with the desk quoting at every phase change and every five minutes."""

    def every_five_minutes():
        desk.quote_all()
        sim_day.clock.call_later(300 * NS_PER_S, every_five_minutes)

    sim_day.on_phase.append(lambda product, phase: desk.quote_all())
    sim_day.clock.call_later(300 * NS_PER_S, every_five_minutes)
    sim_day.run(until_ns=sim_day.end_ns)
