"""The file link: round trip and sustained throughput, against a real simulator process.

    .venv/bin/python bench/stepfile_link.py [--round-trips N] [--burst N]

Starts `mmgw sim serve` on a fresh link directory, connects the gateway's StepFileLink on
uvloop, and measures
- round trip: a quote written by the gateway, acknowledged by the simulator (QuoteStatus),
  the acknowledgement read back; one quote at a time; p50 and p99;
- sustained: a burst of quotes written as fast as the gateway can, the rate at which they
  reach the file (one way), and the rate at which their acknowledgements come back.
Targets (issue 3): p50 under 1 ms, at least 20,000 quotes per second one way.
"""

import argparse
import asyncio
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.stepfile.link import StepFileLink
from core.clock import RealClock
from core.enums import QuoteStatusCode
from core.events import Quote, QuoteStatus
from core.ports import LinkState
from tests.integration.linkkit import day_listing, start_server, stop_server

TARGET_P50_MS = 1.0
TARGET_RATE = 20_000


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


async def measure(directory: Path, round_trips: int, burst: int,
                  make_link: Callable | None = None) -> dict[str, float]:
    """Round trips and a burst over a link to the simulator serving `directory`: the file
    link, or the one `make_link(ticks)` builds."""
    listing = day_listing()
    ticks = {i.instrument_id: i.tick for i in listing.instruments}
    options = [i for i in listing.instruments
               if i.is_option and i.limit_up_ticks and i.prev_close_ticks > 20][:40]
    acked: dict[str, int] = {}

    def sink(event: object) -> None:
        if isinstance(event, QuoteStatus) and event.status is QuoteStatusCode.ACCEPTED:
            acked[event.quote_id] = time.perf_counter_ns()

    link = (make_link(ticks) if make_link is not None
            else StepFileLink(directory, ticks, RealClock(), heartbeat_s=1.0))
    await link.start(sink)
    while link.state is not LinkState.UP:
        await asyncio.sleep(0.01)

    def make(n: int) -> Quote:
        inst = options[n % len(options)]
        mid = inst.prev_close_ticks
        now = time.time_ns()
        # far from the market, so nothing trades and each quote just replaces the last
        return Quote(ts_event=now, ts_init=now, quote_id=f"b{n}",
                     instrument_id=inst.instrument_id, account="MM01",
                     bid_px_ticks=max(mid // 4, 1), bid_qty=10,
                     ask_px_ticks=min(mid * 2, inst.limit_up_ticks or mid * 2), ask_qty=10)

    trips = []
    for n in range(round_trips):
        quote = make(n)
        start = time.perf_counter_ns()
        link.submit(quote)
        while quote.quote_id not in acked:
            await asyncio.sleep(0)
        trips.append(acked[quote.quote_id] - start)

    quotes = [make(round_trips + n) for n in range(burst)]
    start = time.perf_counter_ns()
    for n in range(0, burst, 500):
        for quote in quotes[n:n + 500]:
            link.submit(quote)
        await asyncio.sleep(0)  # one loop turn: the batch goes out in one write
    written = time.perf_counter_ns()
    last = quotes[-1].quote_id
    deadline = time.monotonic() + 120
    while last not in acked and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
    done = time.perf_counter_ns()
    await link.stop()
    trips.sort()
    return {
        "p50_ms": statistics.median(trips) / 1e6,
        "p99_ms": trips[max(int(len(trips) * 0.99) - 1, 0)] / 1e6,
        "write_rate": burst / ((written - start) / 1e9),
        "ack_rate": burst / ((done - start) / 1e9),
        "acked": sum(1 for q in quotes if q.quote_id in acked),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=50_000)
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="mmgw-link-"))
    server = start_server(directory, start="09:30:05")
    try:
        result = uvloop.run(measure(directory, args.round_trips, args.burst))
    finally:
        stop_server(server)
        shutil.rmtree(directory, ignore_errors=True)
    print(f"python {platform.python_version()} on {platform.machine()}; file link, "
          "simulator in its own process")
    print(f"round trip (quote -> ack read back), {args.round_trips:,} quotes: "
          f"p50 {result['p50_ms']:.3f} ms, p99 {result['p99_ms']:.3f} ms "
          f"(target p50 < {TARGET_P50_MS} ms: {verdict(result['p50_ms'] < TARGET_P50_MS)})")
    print(f"one way, {args.burst:,} quotes written: {result['write_rate']:,.0f} quotes/s "
          f"(target >= {TARGET_RATE:,}: {verdict(result['write_rate'] >= TARGET_RATE)})")
    print(f"acknowledged by the simulator and read back: {result['ack_rate']:,.0f} quotes/s "
          f"({result['acked']:,} of {args.burst:,})")


if __name__ == "__main__":
    main()
