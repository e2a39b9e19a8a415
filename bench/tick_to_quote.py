"""Tick to quote through the gateway on the file link, against the real simulator.

    .venv/bin/python bench/tick_to_quote.py [--seconds 30] [--speed 1]

Starts `mmgw sim serve` and `mmgw gateway run` as separate processes (as `mmgw up` does), lets
the day run, and reads the gateway's own measure: from the moment it reads a price that moves
a quoted contract off the link (the EzSR snapshot, woken by inotify) to the moment the gated
requote is handed to the link (written to reqresp.step at the end of that event-loop turn).
The exchange's side of the file link (write, inotify, read) is measured by
bench/stepfile_link.py. The baseline is the timer-driven requote this gateway started with:
a tick waited for the next requote, `requote_s / 2` on average.
"""

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.launcher import down, status, up

REQUOTE_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--speed", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        up(run, speed=args.speed, start="10:00", day="2026-11-23", requote_s=REQUOTE_S)
        try:
            time.sleep(args.seconds)
            figures = status(run)
        finally:
            down(run)
    latency = figures.get("tick_to_quote_us", {"n": 0})
    counts = figures.get("counts", {})
    print(f"machine: {platform.processor() or platform.machine()}, python "
          f"{platform.python_version()}")
    print(f"ran {args.seconds:g} s at {args.speed:g}x: {counts.get('sent', 0)} quotes sent, "
          f"{latency['n']} ticks answered with a requote")
    if not latency["n"]:
        print("no tick was answered: nothing to measure")
        sys.exit(1)
    baseline_us = REQUOTE_S / 2 * 1e6
    print(f"tick to quote (gateway): p50 {latency['p50']:.0f} us, p99 {latency['p99']:.0f} us, "
          f"max {latency['max']:.0f} us")
    print(f"baseline (timer-driven requote every {REQUOTE_S:g} s): {baseline_us:.0f} us on "
          f"average; p50 is {baseline_us / latency['p50']:.0f}x faster")


if __name__ == "__main__":
    main()
