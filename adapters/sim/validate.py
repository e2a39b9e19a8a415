"""What the simulated exchange refuses, and why: each reason names the field and its value."""

from adapters.sim.state import Contract, RfqState
from core.enums import Phase, TimeInForce
from core.events import NewOrder, Quote


def quote_problem(contract: Contract, q: Quote, rfqs: dict[str, RfqState]) -> str:
    """Why the exchange refuses quote `q`, naming the field and value, or "" to accept it."""
    inst = contract.inst
    if contract.phase in (Phase.CLOSED, Phase.HALTED):
        return f"phase: {contract.phase} does not accept quotes"
    if q.bid_px_ticks is None and q.ask_px_ticks is None:
        return "quote: neither side is present"
    for name, px, qty in (("bid", q.bid_px_ticks, q.bid_qty), ("ask", q.ask_px_ticks,
                                                                q.ask_qty)):
        if px is None:
            if qty:
                return f"{name}_qty: {qty} without a {name} price"
            continue
        if px <= 0:
            return f"{name}_px: {px} is not positive"
        if not inst.within_limits(px):
            return (f"{name}_px: {inst.price(px)} outside the price limits "
                    f"[{inst.price(inst.limit_down_ticks or 0)}, "
                    f"{inst.price(inst.limit_up_ticks or 0)}]")
        if qty < inst.min_qty or qty % inst.lot:
            return f"{name}_qty: {qty} below {inst.min_qty} or not a multiple of {inst.lot}"
    if (q.bid_px_ticks is not None and q.ask_px_ticks is not None
            and q.bid_px_ticks >= q.ask_px_ticks):
        return (f"quote: crossed, bid {inst.price(q.bid_px_ticks)} >= "
                f"ask {inst.price(q.ask_px_ticks)}")
    if q.rfq_id is not None and q.rfq_id not in rfqs:
        return f"rfq_id: unknown {q.rfq_id!r}"
    if q.rfq_id is not None and rfqs[q.rfq_id].rfq.instrument_id != q.instrument_id:
        return f"rfq_id: {q.rfq_id!r} is for another contract"
    return ""


def order_problem(contract: Contract, o: NewOrder, duplicate: bool) -> str:
    """Why the exchange refuses order `o` (`duplicate`: its client id is live), or ""."""
    inst = contract.inst
    if contract.phase in (Phase.CLOSED, Phase.HALTED):
        return f"phase: {contract.phase} does not accept orders"
    if o.px_ticks <= 0:
        return f"px: {o.px_ticks} is not positive"
    if not inst.within_limits(o.px_ticks):
        return f"px: {inst.price(o.px_ticks)} outside the price limits"
    if o.qty < inst.min_qty or o.qty % inst.lot:
        return f"qty: {o.qty} below {inst.min_qty} or not a multiple of {inst.lot}"
    if duplicate:
        return f"client_id: {o.client_id!r} is already live"
    if o.tif is TimeInForce.IOC and contract.phase.is_auction:
        return "tif: ioc is not accepted in a call auction"
    return ""
