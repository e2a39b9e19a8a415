"""Matching throughput and a 10,000-order auction uncrossing, beside naive baselines.

    .venv/bin/python bench/matching.py [--orders N]

Prints the machine's Python, orders per second through the simulator's exchange (with and
without publishing market data after every order), the same flow through a naive list-scan
matcher, and the 10,000-order uncrossing against a brute-force scan of every tick.
"""

import argparse
import platform
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.sim.auction import uncross
from core.enums import Phase, Side, TimeInForce
from tests.simkit import make_exchange, order, stock


def flow(n: int, seed: int = 1) -> list[tuple[str, Side, int, int, TimeInForce]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        side = Side.BUY if rng.random() < 0.5 else Side.SELL
        # resting orders around 2500, a third of them marketable IOCs
        if i % 3 == 0:
            px = 2500 + (8 if side is Side.BUY else -8)
            tif = TimeInForce.IOC
        else:
            px = 2500 + (-rng.randint(1, 20) if side is Side.BUY else rng.randint(1, 20))
            tif = TimeInForce.DAY
        out.append((f"A{rng.randint(1, 200)}", side, px, 100 * rng.randint(1, 5), tif))
    return out


def run_exchange(orders, publish: bool) -> float:
    ex, _ = make_exchange(stock("S", prev=2500, up=3250, down=1750))
    ex.connect("s", None, public=False)
    ex.connect("md", lambda e: None, public=True)
    ex.set_phase("S", Phase.CONTINUOUS)
    commands = [order("S", a, s, p, q, tif=t, client_id=f"c{i}")
                for i, (a, s, p, q, t) in enumerate(orders)]
    submit, flush = ex.submit, ex.flush
    start = time.perf_counter()
    for command in commands:
        submit("s", command)
        if publish:
            flush()
    return time.perf_counter() - start


def run_naive(orders) -> float:
    """A matcher a first draft might write: one list per side, scanned for the best price."""
    bids: list[list] = []
    asks: list[list] = []
    start = time.perf_counter()
    for seq, (account, side, px, size, tif) in enumerate(orders):
        qty = size
        book, other = (bids, asks) if side is Side.BUY else (asks, bids)
        while qty > 0 and other:
            if side is Side.BUY:
                best = min(other, key=lambda o: (o[0], o[1]))
                if best[0] > px:
                    break
            else:
                best = min(other, key=lambda o: (-o[0], o[1]))
                if best[0] < px:
                    break
            take = min(qty, best[2])
            qty -= take
            best[2] -= take
            if best[2] == 0:
                other.remove(best)
        if qty > 0 and tif is TimeInForce.DAY:
            book.append([px, seq, qty, account])
    return time.perf_counter() - start


def auction_orders(n: int, seed: int = 2) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    rng = random.Random(seed)
    bids = [(2500 + rng.randint(-200, 60), 100 * rng.randint(1, 10)) for _ in range(n // 2)]
    asks = [(2500 + rng.randint(-60, 200), 100 * rng.randint(1, 10)) for _ in range(n // 2)]
    return bids, asks


def brute_force_uncross(bids, asks) -> tuple[int, int]:
    lo, hi = min(p for p, _ in asks), max(p for p, _ in bids)
    best = (0, 0)
    for px in range(lo, hi + 1):
        volume = min(sum(q for p, q in bids if p >= px), sum(q for p, q in asks if p <= px))
        if volume > best[1]:
            best = (px, volume)
    return best


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    print(f"python {platform.python_version()} ({platform.python_implementation()}) on "
          f"{platform.machine()}, {args.orders:,} orders")
    orders = flow(args.orders)
    raw = run_exchange(orders, publish=False)
    with_md = run_exchange(orders, publish=True)
    naive = run_naive(orders[: max(args.orders // 10, 1)]) * 10
    print(f"matching, exchange               : {args.orders / raw:12,.0f} orders/s")
    print(f"matching, exchange + market data : {args.orders / with_md:12,.0f} orders/s")
    print(f"baseline, naive list-scan matcher: {args.orders / naive:12,.0f} orders/s "
          f"(on a tenth of the flow)")
    print(f"  exchange / baseline            : {naive / raw:12.1f}x")

    bids, asks = auction_orders(10_000)
    ours = timed(lambda: uncross(bids, asks, tie_break="nearest_reference",
                                 reference_px_ticks=2500), 20)
    brute = timed(lambda: brute_force_uncross(bids, asks), 2)
    result = uncross(bids, asks, tie_break="nearest_reference", reference_px_ticks=2500)
    assert result is not None and result.qty == brute_force_uncross(bids, asks)[1]
    print(f"auction uncross, 10,000 orders   : {statistics.median(ours) * 1e3:9.2f} ms median "
          f"(p_max {max(ours) * 1e3:.2f} ms), volume {result.qty:,} at {result.px_ticks}")
    print(f"baseline, brute force every tick : {statistics.median(brute) * 1e3:9.2f} ms "
          f"({statistics.median(brute) / statistics.median(ours):.0f}x slower)")


if __name__ == "__main__":
    main()
