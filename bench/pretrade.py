"""The pre-trade checks' cost per quote, on one core.

    .venv/bin/python bench/pretrade.py [--quotes N]

The day's 191 instruments and configs/risk.toml; quotes cycle over every contract the desk
quotes, each replacing the one standing there (so each reserves its worst case against the
position limits, inventory and funds) and passes every check. Prints the time per check and
checks a second, a passing and a refused stream, against the issue's targets (issue 7):
under 5 us a quote, at least 200,000 quotes a second on one core.
"""

import argparse
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.refdata.loader import load_config, load_file
from core.events import Quote
from risk.checks import PreTrade
from risk.limits import RiskConfig
from tests.integration.linkkit import day_listing

TARGET_US = 5.0
TARGET_PER_S = 200_000
NOW = 1_800_000_000 * 1_000_000_000


def quotes(instruments, n: int, risk: RiskConfig) -> list[tuple[Quote, float]]:
    """n quotes around each contract's previous close, two ticks a side, the desk's size."""
    desk = [i for i in instruments if i.product in risk.products]
    out = []
    for k in range(n):
        inst = desk[k % len(desk)]
        mid = inst.prev_close_ticks + (k // len(desk)) % 3  # moves a little each round
        size = 10 * inst.lot
        out.append((Quote(ts_event=NOW, ts_init=NOW, quote_id=f"B{k}",
                          instrument_id=inst.instrument_id, account=risk.account,
                          bid_px_ticks=max(mid - 2, 1), bid_qty=size, ask_px_ticks=mid + 2,
                          ask_qty=size), float(mid)))
    return out


def run(pt: PreTrade, stream: list[tuple[Quote, float]]) -> tuple[float, int]:
    refused = 0
    check = pt.check_quote
    started = time.perf_counter_ns()
    for n, (q, theo) in enumerate(stream):
        # the link's clock moves 10 us a quote: the throttle refills at 100,000 a second
        if check(q, NOW, theo_ticks=theo, theo_ns=NOW, send_ns=NOW + n * 10_000) is not None:
            refused += 1
    return (time.perf_counter_ns() - started) / len(stream) / 1e3, refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quotes", type=int, default=400_000)
    args = parser.parse_args()
    root = load_config().root
    risk = load_file(root / "risk.toml", RiskConfig)
    # a throttle that lets the bench's rate through: it measures the checks, not the limit
    risk = RiskConfig(**{f: getattr(risk, f) for f in risk.__struct_fields__}
                      | {"throttle": type(risk.throttle)(per_s=1e9, burst=10**9)})
    instruments = day_listing().instruments
    stream = quotes(instruments, args.quotes, risk)
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{len(instruments)} instruments, {args.quotes:,} quotes")
    results = {}
    for label, theo_shift in (("passing", 0.0), ("refused (collar)", 10_000.0)):
        pt = PreTrade(risk, instruments)
        shifted = [(q, theo + theo_shift) for q, theo in stream]
        run(pt, shifted[: args.quotes // 10])  # warm up
        pt = PreTrade(risk, instruments)
        us, refused = run(pt, shifted)
        results[label] = us
        print(f"{label:18s} {us:6.2f} us a quote  {1e6 / us:>11,.0f} a second  "
              f"refused {refused:,}")
    worst = max(results.values())
    print(f"target: under {TARGET_US} us and at least {TARGET_PER_S:,} a second: "
          f"{'met' if worst < TARGET_US and 1e6 / worst >= TARGET_PER_S else 'NOT met'} "
          f"({TARGET_US / worst:.1f}x under the limit)")


if __name__ == "__main__":
    main()
