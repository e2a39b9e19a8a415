"""The department risk monitor: the book's risk as the gateway's event stream tells it.

Fed every event the gateway publishes (market data, fills, quote statuses, and the quotes,
orders and mass cancels it sends), the monitor keeps positions, cash and the market, and on
`evaluate(now_ns)` values the book on its own (implied volatilities from the options' mids,
Black-Scholes for ETF options, Black-76 for options on futures; not the quoting engine's
surface) and compares it with `configs/risk.toml`'s `[department]` levels:

- Greeks per contract, per underlying and in total (delta in underlying units, gamma in units
  a 1% move, vega in yuan a volatility point, theta in yuan a day; the total in yuan);
- inventory against the opening; the day's P&L (positions marked at the mid, else the last
  trade, else the previous close, against the opening marked at the previous close, plus
  the cash of the day's fills);
- margin used (maintenance margin of short options and of futures at today's prices),
  cash and the maintenance ratio (cash / maintenance margin);
- expiry: positions in contracts expiring within `expiry_days`; pin risk: positions expiring
  within `pin_days` whose strike is within `pin_band` of the underlying; exercise
  obligations of in-the-money SSE options expiring within `expiry_days` against the cash and
  the underlying held;
- overnight: the book as it stands from `overnight_from` against the overnight levels;
- quotes and orders sent per second (exchange time) and the notional of a side;
- BSE's indicators per stock: our share of the turnover, the reverse-trade share, the cancel
  ratio, self-trades and quote prices off the last trade.

A breach is an `Alert` with a key; `evaluate` returns the alerts that started and the keys
that cleared since the last call, so each breach prompts once. Pure: no clock, no I/O.
"""

import collections
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timezone
from typing import Any

import numpy as np

from core.enums import (
    CallPut,
    CancelReason,
    ExecType,
    InstrumentKind,
    QuoteStatusCode,
    Side,
    Venue,
)
from core.events import (
    Event,
    ExecutionReport,
    MarketData,
    MassCancel,
    NewOrder,
    Quote,
    QuoteStatus,
)
from core.instruments import Instrument
from quoting.models.black import black76, bsm, implied_vol
from risk.checks import margin_per_lot
from risk.limits import CashLimits, Department, GreekLimits, RiskConfig

NS_PER_S = 1_000_000_000
YEAR_NS = 365 * 24 * 3600 * NS_PER_S
GREEKS = ("delta", "gamma", "vega", "theta")


@dataclass(frozen=True, slots=True)
class Alert:
    """A level breached: `key` is stable while the breach lasts (kind and scope)."""

    key: str
    kind: str
    scope: str  # contract:C, underlying:U, product:P, or all
    value: float
    limit: float
    message: str
    products: tuple[str, ...]
    halt: bool = False  # a hard level: the process halts the scope itself


@dataclass(slots=True)
class _Bse:
    market_amount: float = 0.0
    volume: int = -1
    bought: float = 0.0
    sold: float = 0.0
    entered: int = 0
    cancelled: int = 0
    self_trades: int = 0
    price_outliers: int = 0


@dataclass
class DepartmentMonitor:
    config: RiskConfig
    instruments: list[Instrument]
    offset: timezone = UTC
    position: dict[str, int] = field(default_factory=dict)  # the day's net fills
    cash: dict[str, float] = field(default_factory=dict)  # yuan: minus what fills paid
    active: dict[str, Alert] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.dept: Department = self.config.department
        self.by_id = {i.instrument_id: i for i in self.instruments}
        self.opening = {i.instrument_id: lim.opening_inventory for i in self.instruments
                        if (lim := self.config.products.get(i.product)) is not None
                        and lim.opening_inventory}
        self.book: dict[str, tuple[int | None, int | None, int | None]] = {}  # bid, ask, last
        self.group = {i.instrument_id: i.underlying or i.instrument_id for i in self.instruments}
        self.products_of: dict[str, set[str]] = collections.defaultdict(set)
        for i in self.instruments:
            self.products_of[self.group[i.instrument_id]].add(i.product)
        self.options = [i for i in self.instruments if i.is_option and i.strike is not None
                        and i.expiry is not None and i.underlying in self.by_id]
        self._row = {i.instrument_id: n for n, i in enumerate(self.options)}
        self._strike = np.array([float(i.strike or 0) for i in self.options])
        self._call = np.array([i.call_put is CallPut.CALL for i in self.options])
        self._on_future = np.array([i.underlying_kind is InstrumentKind.FUTURE
                                    for i in self.options])
        self._mult = np.array([float(i.multiplier) for i in self.options])
        self.iv = np.full(len(self.options), np.nan)
        self._iv_ns = 0
        self._sent: collections.deque[int] = collections.deque()  # send times, last second
        self.orders = {"sent": 0, "peak_per_s": 0, "notional_max": 0.0, "notional_sum": 0.0,
                       "sides": 0, "mass_cancels": 0}
        self.bse = {i.instrument_id: _Bse() for i in self.instruments if i.venue is Venue.BSE}
        self._last_fill: dict[str, tuple[int, int, Side]] = {}

    # ---- what the gateway says -----------------------------------------------------------

    def seed(self, positions: dict[str, int], cash: dict[str, float],
             books: dict[str, list[int | None]]) -> None:
        """The gateway's state when the stream starts (after a restart of either side)."""
        self.position = {k: int(v) for k, v in positions.items() if k in self.by_id}
        self.cash = {k: float(v) for k, v in cash.items() if k in self.by_id}
        for iid, (bid, ask, last, *_rest) in books.items():
            if iid in self.by_id:
                self.book[iid] = (bid, ask, last)

    def on_event(self, event: Event | Quote | NewOrder | MassCancel) -> None:
        match event:
            case MarketData():
                inst = self.by_id.get(event.instrument_id)
                if inst is None:
                    return
                self.book[event.instrument_id] = (
                    event.bids[0][0] if event.bids else None,
                    event.asks[0][0] if event.asks else None, event.last_px_ticks)
                stats = self.bse.get(event.instrument_id)
                if stats is not None and event.last_px_ticks is not None:
                    if stats.volume >= 0 and event.volume > stats.volume:
                        stats.market_amount += ((event.volume - stats.volume)
                                                * event.last_px_ticks * float(inst.tick))
                    stats.volume = max(stats.volume, event.volume)
            case ExecutionReport() if event.exec_type is ExecType.TRADE:
                self._fill(event)
            case QuoteStatus() if event.status is QuoteStatusCode.CANCELLED:
                stats = self.bse.get(event.instrument_id)
                if stats is not None and event.cancel_reason in (
                        CancelReason.USER, CancelReason.REPLACED, CancelReason.MASS_CANCEL):
                    stats.cancelled += 1
            case Quote():
                self._sent_one(event.ts_init, event.instrument_id,
                               [(event.bid_px_ticks, event.bid_qty),
                                (event.ask_px_ticks, event.ask_qty)])
                stats = self.bse.get(event.instrument_id)
                if stats is not None:
                    stats.entered += 1
                    ref = self._reference(event.instrument_id)
                    for px in (event.bid_px_ticks, event.ask_px_ticks):
                        if px is not None and abs(px / ref - 1) > self.dept.bse.price_band:
                            stats.price_outliers += 1
            case NewOrder():
                self._sent_one(event.ts_init, event.instrument_id, [(event.px_ticks, event.qty)])
            case MassCancel():
                self.orders["mass_cancels"] += 1

    def _fill(self, fill: ExecutionReport) -> None:
        inst = self.by_id.get(fill.instrument_id)
        if inst is None or fill.last_qty <= 0:
            return
        signed = fill.last_qty if fill.side is Side.BUY else -fill.last_qty
        self.position[fill.instrument_id] = self.position.get(fill.instrument_id, 0) + signed
        amount = fill.last_qty * fill.last_px_ticks * float(inst.tick) * inst.multiplier
        self.cash[fill.instrument_id] = (self.cash.get(fill.instrument_id, 0.0)
                                         - math.copysign(amount, signed))
        stats = self.bse.get(fill.instrument_id)
        if stats is not None:
            if fill.side is Side.BUY:
                stats.bought += amount
            else:
                stats.sold += amount
            before = self._last_fill.get(fill.instrument_id)
            if (before is not None and before[0] == fill.ts_event
                    and before[1] == fill.last_px_ticks and before[2] is not fill.side):
                stats.self_trades += 1  # our bid and our ask met in one match
            self._last_fill[fill.instrument_id] = (fill.ts_event, fill.last_px_ticks,
                                                   fill.side)

    def _sent_one(self, ts_ns: int, iid: str, sides: list[tuple[int | None, int]]) -> None:
        self._sent.append(ts_ns)
        while self._sent and self._sent[0] <= ts_ns - NS_PER_S:
            self._sent.popleft()
        self.orders["sent"] += 1
        self.orders["peak_per_s"] = max(self.orders["peak_per_s"], len(self._sent))
        inst = self.by_id.get(iid)
        if inst is None:
            return
        for px, qty in sides:
            if px is None or qty <= 0:
                continue
            notional = px * float(inst.tick) * qty * inst.multiplier
            self.orders["notional_max"] = max(self.orders["notional_max"], notional)
            self.orders["notional_sum"] += notional
            self.orders["sides"] += 1

    # ---- valuation ---------------------------------------------------------------------------

    def mark(self, iid: str) -> float:
        """Yuan: the mid, else the last trade, else the previous close."""
        inst = self.by_id[iid]
        bid, ask, last = self.book.get(iid, (None, None, None))
        if bid is not None and ask is not None:
            px: float = (bid + ask) / 2
        elif last is not None:
            px = last
        else:
            px = inst.prev_close_ticks
        return px * float(inst.tick)

    def _reference(self, iid: str) -> float:
        last = self.book.get(iid, (None, None, None))[2]
        return float(last if last is not None else self.by_id[iid].prev_close_ticks)

    def _years(self, now_ns: int) -> np.ndarray:
        closes = np.array([datetime.combine(i.expiry, time(15, 0), tzinfo=self.offset)
                           .timestamp() * NS_PER_S for i in self.options if i.expiry])
        return np.maximum((closes - now_ns) / YEAR_NS, 1 / (365 * 24))

    def _implied(self, now_ns: int, *, start: bool = False) -> None:
        """Implied volatilities from the two-sided mids (`start`: the previous settlements
        against the previous closes); a contract without one keeps its last."""
        spot = np.array([self.by_id[i.underlying or ""].prev_close_ticks
                         * float(self.by_id[i.underlying or ""].tick) if start
                         else self.mark(i.underlying or "") for i in self.options])
        premium = np.array([i.prev_close_ticks * float(i.tick) if start
                            else self._two_sided_mid(i) for i in self.options])
        years = self._years(now_ns)
        rate = self.dept.rate
        forward = np.where(self._on_future, spot, spot * np.exp(rate * years))
        vol = implied_vol(premium, forward, self._strike, years, np.exp(-rate * years),
                          self._call, guess=self.iv).vol
        self.iv = np.where(np.isfinite(vol) & (vol > 0.01) & (vol < 3), vol, self.iv)

    def _two_sided_mid(self, inst: Instrument) -> float:
        bid, ask, _ = self.book.get(inst.instrument_id, (None, None, None))
        if bid is None or ask is None or bid <= 0 or ask < bid:
            return math.nan
        return (bid + ask) / 2 * float(inst.tick)

    def _option_greeks(self, now_ns: int) -> dict[str, np.ndarray]:
        """Per unit of each option: delta, gamma, vega (a volatility point), theta (a day)."""
        if not self._iv_ns:
            self._implied(now_ns, start=True)  # the previous settlements' to start from
        self._iv_ns = now_ns
        self._implied(now_ns)
        years = self._years(now_ns)
        spot = np.array([self.mark(i.underlying or "") for i in self.options])
        vol = np.where(np.isfinite(self.iv), self.iv, _fallback(self.iv))
        rate = self.dept.rate
        on_etf = bsm(spot, self._strike, years, vol, rate, 0.0, self._call)
        on_fut = black76(spot, self._strike, years, vol, rate, self._call)
        pick = self._on_future
        return {"spot": spot,
                "delta": np.where(pick, on_fut.delta, on_etf.delta),
                "gamma": np.where(pick, on_fut.gamma, on_etf.gamma),
                "vega": np.where(pick, on_fut.vega, on_etf.vega) / 100,
                "theta": np.where(pick, on_fut.theta, on_etf.theta) / 365,
                "iv": vol}

    # ---- the reading and the alerts ------------------------------------------------------

    def held(self, iid: str) -> int:
        return self.opening.get(iid, 0) + self.position.get(iid, 0)

    def evaluate(self, now_ns: int) -> tuple[dict[str, Any], list[Alert], list[str]]:
        """The book now: the reading, the alerts that started, the keys that cleared."""
        d = self.dept
        today = datetime.fromtimestamp(now_ns / NS_PER_S, self.offset).date()
        greeks = self._option_greeks(now_ns) if self.options else {}
        contracts: dict[str, dict[str, float]] = {}
        groups: dict[str, dict[str, float]] = {}
        alerts: list[Alert] = []

        def group_of(gid: str) -> dict[str, float]:
            spot = self.mark(gid) if gid in self.by_id else 0.0
            return groups.setdefault(gid, {"spot": spot, "delta": 0.0, "gamma": 0.0,
                                           "vega": 0.0, "theta": 0.0, "pnl": 0.0})

        pnl_total = 0.0
        for iid, inst in self.by_id.items():
            held = self.held(iid)
            pnl = ((held * self.mark(iid) - self.opening.get(iid, 0)
                    * inst.prev_close_ticks * float(inst.tick)) * inst.multiplier
                   + self.cash.get(iid, 0.0))
            if not held and not pnl:
                continue
            g = group_of(self.group[iid])
            g["pnl"] += pnl
            pnl_total += pnl
            row = self._row.get(iid)
            if row is not None:
                lots = held * inst.multiplier
                spot = float(greeks["spot"][row])
                mine = {"position": held, "iv": round(float(greeks["iv"][row]), 4),
                        "delta": lots * float(greeks["delta"][row]),
                        "gamma": lots * float(greeks["gamma"][row]) * spot * 0.01,
                        "vega": lots * float(greeks["vega"][row]),
                        "theta": lots * float(greeks["theta"][row]), "pnl": pnl}
            else:
                mine = {"position": held, "delta": float(held * inst.multiplier),
                        "gamma": 0.0, "vega": 0.0, "theta": 0.0, "pnl": pnl}
            if held:
                contracts[iid] = mine
            for name in GREEKS:
                g[name] += mine[name]
            if row is not None:  # a security's or a future's own size has inventory limits
                alerts += self._greek_alerts(f"contract:{iid}", mine, d.contract,
                                             (inst.product,))

        total = {"delta_yuan": 0.0, "gamma_yuan": 0.0, "vega_yuan": 0.0, "theta_yuan": 0.0}
        for gid, g in groups.items():
            total["delta_yuan"] += g["delta"] * g["spot"]
            total["gamma_yuan"] += g["gamma"] * g["spot"]
            total["vega_yuan"] += g["vega"]
            total["theta_yuan"] += g["theta"]
            limits = d.underlyings.get(gid) or d.underlyings.get(
                self.by_id[gid].product if gid in self.by_id else "", GreekLimits())
            alerts += self._greek_alerts(f"underlying:{gid}", g, limits,
                                         tuple(sorted(self.products_of[gid])))
        desk = tuple(sorted({p for ps in self.products_of.values() for p in ps}
                            & set(self.config.products)))
        alerts += self._cash_alerts("", total, d.total, desk)
        local = datetime.fromtimestamp(now_ns / NS_PER_S, self.offset).time()
        overnight = local >= time.fromisoformat(d.overnight_from)
        if overnight:
            alerts += self._cash_alerts("overnight_", total, d.overnight, desk)

        if d.loss_halt_yuan is not None and pnl_total < -d.loss_halt_yuan:
            alerts.append(Alert("loss_halt:all", "loss_halt", "all", pnl_total,
                                -d.loss_halt_yuan, f"the day's P&L {pnl_total:,.0f} yuan is "
                                f"below -{d.loss_halt_yuan:,.0f}: everything halts", desk,
                                halt=True))
        elif d.loss_alert_yuan is not None and pnl_total < -d.loss_alert_yuan:
            alerts.append(Alert("loss:all", "loss", "all", pnl_total, -d.loss_alert_yuan,
                                f"the day's P&L {pnl_total:,.0f} yuan is below "
                                f"-{d.loss_alert_yuan:,.0f}", desk))

        margin, cash_now, futures_pnl = self._margin()
        ratio = (cash_now + futures_pnl) / margin if margin > 0 else math.inf
        if ratio < d.maintenance_min:
            alerts.append(Alert("maintenance:all", "maintenance", "all", ratio,
                                d.maintenance_min, f"maintenance ratio {ratio:.2f} is under "
                                f"{d.maintenance_min:g} (cash {cash_now:,.0f}, maintenance "
                                f"margin {margin:,.0f})", desk))

        expiring, pins, exercise = self._expiry(today, greeks, cash_now - margin)
        for gid, rows in expiring.items():
            alerts.append(Alert(f"expiry:{gid}", "expiry", f"underlying:{gid}", len(rows),
                                d.expiry_days, f"{len(rows)} positions on {gid} expire within "
                                f"{d.expiry_days} days", tuple(sorted(self.products_of[gid]))))
        for row in pins:
            alerts.append(Alert(f"pin:{row['contract']}", "pin", f"contract:{row['contract']}",
                                row["distance"], d.pin_band, f"pin risk: {row['position']} "
                                f"{row['contract']} strike {row['strike']} is "
                                f"{row['distance']:.2%} from the underlying, "
                                f"{row['days']} days to expiry",
                                (self.by_id[row["contract"]].product,)))
        if not exercise["covered"]:
            alerts.append(Alert("exercise:all", "exercise", "all", exercise["cash_needed"],
                                exercise["cash_available"], "exercise obligations not "
                                "covered: " + "; ".join(exercise["short_of"]), desk))

        per_s = len(self._sent)  # the second up to the last one sent (the sender's clock)
        if d.max_orders_per_s is not None and self.orders["peak_per_s"] > d.max_orders_per_s:
            alerts.append(Alert("orders_per_s:all", "orders_per_s", "all",
                                self.orders["peak_per_s"], d.max_orders_per_s,
                                f"{self.orders['peak_per_s']} quotes and orders in one second, "
                                f"over {d.max_orders_per_s:g}", desk))
        if (d.max_notional_yuan is not None
                and self.orders["notional_max"] > d.max_notional_yuan):
            alerts.append(Alert("notional:all", "notional", "all", self.orders["notional_max"],
                                d.max_notional_yuan, f"a side of "
                                f"{self.orders['notional_max']:,.0f} yuan, over "
                                f"{d.max_notional_yuan:,.0f}", desk))
        bse = self._bse(alerts)

        reading = {
            "ts_ns": now_ns,
            "greeks": {"contracts": {k: _rounded(v) for k, v in contracts.items()},
                       "underlyings": {k: _rounded(v) for k, v in groups.items()},
                       "total": _rounded(total)},
            "inventory": {iid: {"opening": self.opening.get(iid, 0), "held": self.held(iid)}
                          for iid in sorted(set(self.opening) | {
                              k for k, v in self.position.items() if v})
                          if not self.by_id[iid].is_option},
            "pnl": {"total": round(pnl_total, 2),
                    "underlyings": {k: round(v["pnl"], 2) for k, v in groups.items()}},
            "margin": {"used": round(margin, 2), "cash": round(cash_now, 2),
                       "futures_pnl": round(futures_pnl, 2),
                       "available": round(cash_now + futures_pnl - margin, 2),
                       "maintenance_ratio": None if math.isinf(ratio) else round(ratio, 3)},
            "expiry": expiring, "pin": pins, "exercise": exercise,
            "overnight": {"applies": overnight, "from": d.overnight_from},
            "orders": {"per_s_last": per_s, "per_s_peak": self.orders["peak_per_s"],
                       "sent": self.orders["sent"],
                       "notional_max": round(self.orders["notional_max"], 2),
                       "notional_mean": round(self.orders["notional_sum"]
                                              / max(self.orders["sides"], 1), 2),
                       "mass_cancels": self.orders["mass_cancels"]},
            "bse": bse,
            "alerts": [_alert_view(a) for a in alerts],
        }
        now = {a.key: a for a in alerts}
        started = [a for k, a in now.items() if k not in self.active]
        cleared = [k for k in self.active if k not in now]
        self.active = now
        return reading, started, cleared

    def _greek_alerts(self, scope: str, values: dict[str, float], limits: GreekLimits,
                      products: tuple[str, ...]) -> list[Alert]:
        out = []
        for name in GREEKS:
            level = getattr(limits, name)
            if level is not None and abs(values[name]) > level:
                out.append(Alert(f"{name}:{scope}", name, scope, values[name], level,
                                 f"{scope} {name} {values[name]:+,.0f} is over {level:,.0f}",
                                 products))
        return out

    def _cash_alerts(self, prefix: str, total: dict[str, float], limits: CashLimits,
                     products: tuple[str, ...]) -> list[Alert]:
        out = []
        for name, value in total.items():
            level = getattr(limits, name)
            if level is not None and abs(value) > level:
                kind = prefix + name.removesuffix("_yuan")
                out.append(Alert(f"{kind}:all", kind, "all", value, level,
                                 f"{'overnight ' if prefix else ''}book {name} {value:+,.0f} "
                                 f"is over {level:,.0f}", products))
        return out

    def _margin(self) -> tuple[float, float, float]:
        """Maintenance margin used, cash now, and the futures' variation (yuan)."""
        margin, cash, futures = 0.0, float(self.config.funds_yuan), 0.0
        for iid, inst in self.by_id.items():
            held = self.held(iid)
            if inst.kind is InstrumentKind.FUTURE:
                futures += held * self.mark(iid) * inst.multiplier + self.cash.get(iid, 0.0)
                margin += abs(held) * margin_per_lot(inst, self.mark(iid), 0.0,
                                                     self.config.margin)
                continue
            cash += self.cash.get(iid, 0.0)
            if held < 0 and inst.is_option and inst.underlying in self.by_id:
                margin += -held * margin_per_lot(inst, self.mark(iid),
                                                 self.mark(inst.underlying or ""),
                                                 self.config.margin)
        return margin, cash, futures

    def _expiry(self, today: date, greeks: dict[str, np.ndarray], cash_free: float
                ) -> tuple[dict[str, list[dict]], list[dict], dict[str, Any]]:
        d = self.dept
        expiring: dict[str, list[dict]] = {}
        pins: list[dict] = []
        cash_needed = 0.0
        units_needed: dict[str, int] = {}
        for inst in self.options:
            held = self.held(inst.instrument_id)
            if not held or inst.expiry is None:
                continue
            days = (inst.expiry - today).days
            if days > d.expiry_days:
                continue
            gid = inst.underlying or ""
            spot = float(greeks["spot"][self._row[inst.instrument_id]])
            strike = float(inst.strike or 0)
            expiring.setdefault(gid, []).append({"contract": inst.instrument_id,
                                                 "position": held, "days": days})
            distance = abs(strike / spot - 1) if spot > 0 else math.inf
            if days <= d.pin_days and distance <= d.pin_band:
                pins.append({"contract": inst.instrument_id, "position": held,
                             "strike": strike, "spot": round(spot, 4),
                             "distance": round(distance, 5), "days": days})
            call = inst.call_put is CallPut.CALL
            in_money = spot > strike if call else spot < strike
            if not in_money or inst.underlying_kind is InstrumentKind.FUTURE:
                continue  # futures options exercise into futures: margin, not delivery
            units = abs(held) * inst.multiplier
            if (held < 0) == call:  # short call or long put: we deliver the underlying
                units_needed[gid] = units_needed.get(gid, 0) + units
            else:  # long call or short put: we pay the strike
                cash_needed += units * strike
        short_of = []
        for gid, units in units_needed.items():
            have = max(self.held(gid), 0) if gid in self.by_id else 0
            if units > have:  # what is not held is bought at the spot
                missing = units - have
                cash_needed += missing * self.mark(gid) if gid in self.by_id else math.inf
                short_of.append(f"{gid}: {units} units to deliver, {have} held")
        covered = cash_needed <= cash_free
        if not covered:
            short_of.append(f"cash: {cash_needed:,.0f} yuan needed, {cash_free:,.0f} free")
        return expiring, pins, {"cash_needed": round(cash_needed, 2),
                                "cash_available": round(cash_free, 2),
                                "units_needed": units_needed, "covered": covered,
                                "short_of": short_of}

    def _bse(self, alerts: list[Alert]) -> dict[str, dict[str, float]]:
        lim = self.dept.bse
        out = {}
        for iid, s in self.bse.items():
            ours = s.bought + s.sold
            figures = {"turnover_share": ours / s.market_amount if s.market_amount else 0.0,
                       "reverse_share": min(s.bought, s.sold) / ours if ours else 0.0,
                       "cancel_ratio": s.cancelled / s.entered if s.entered else 0.0,
                       "self_trades": s.self_trades, "price_outliers": s.price_outliers,
                       "entered": s.entered, "traded_yuan": round(ours, 2)}
            out[iid] = {k: round(v, 4) if isinstance(v, float) else v
                        for k, v in figures.items()}
            product = (self.by_id[iid].product,)
            for name, level in (("turnover_share", lim.turnover_share),
                                ("reverse_share", lim.reverse_share),
                                ("cancel_ratio", lim.cancel_ratio),
                                ("self_trades", lim.self_trades),
                                ("price_outliers", lim.price_outliers)):
                value = figures[name]
                if value > level:
                    alerts.append(Alert(f"bse_{name}:{iid}", f"bse_{name}", f"contract:{iid}",
                                        value, level, f"{iid} {name.replace('_', ' ')} "
                                        f"{value:.4g} is over {level:g}", product))
        return out


def _fallback(iv: np.ndarray) -> float:
    known = iv[np.isfinite(iv)]
    return float(np.median(known)) if known.size else 0.2


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in values.items()}


def _alert_view(a: Alert) -> dict[str, Any]:
    return {"key": a.key, "kind": a.kind, "scope": a.scope, "value": a.value,
            "limit": a.limit, "message": a.message, "products": list(a.products),
            "halt": a.halt}
