"""Whatever burst of quotes, fills and cancels arrives, the worst cases the pre-trade checks
let through never exceed a limit together."""

from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import Side
from tests.unit.risk.kit import check, pretrade, quote

CONTRACTS = ["C1", "C2", "P1"]
step = st.one_of(
    st.tuples(st.just("quote"), st.sampled_from(CONTRACTS), st.integers(0, 50),
              st.integers(0, 50)),
    st.tuples(st.just("fill"), st.sampled_from(CONTRACTS), st.sampled_from([Side.BUY,
                                                                           Side.SELL]),
              st.integers(1, 30)),
    st.tuples(st.just("gone"), st.sampled_from(CONTRACTS), st.just(0), st.just(0)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(step, min_size=1, max_size=60))
def test_a_burst_never_jointly_breaches_the_position_limits(steps):
    pt = pretrade()
    live: dict[str, list] = {}  # contract -> [quote id, bid left, ask left]
    for kind, iid, a, b in steps:
        if kind == "quote":
            q = quote(iid=iid, bid=990 if a else None, bid_qty=a, ask=1010 if b else None,
                      ask_qty=b)
            if (a or b) and check(pt, q) is None:
                live[iid] = [q.quote_id, a, b]
        elif kind == "fill" and iid in live:
            # the exchange fills no more than the quote shows
            side = 1 if a is Side.BUY else 2
            qty = min(b, live[iid][side])
            if qty:
                live[iid][side] -= qty
                pt.on_fill(iid, live[iid][0], a, qty, 1000, is_quote=True)
        elif kind == "gone" and iid in live:
            pt.quote_gone(iid, live.pop(iid)[0])
        usage = pt.usage().get("510050")
        if usage is not None:
            assert usage["long_worst"] <= 100
            assert usage["total_worst"] <= 150
            assert usage["bto_worst"] <= 120
