"""The FIX link beside the file link, in the same run, against real simulator processes.

    .venv/bin/python bench/fix_link.py [--round-trips N] [--burst N]

For each link, a fresh `mmgw sim serve` (with `--fix-port` for FIX) and the gateway's link
on uvloop: the round trip of one quote at a time (sent, accepted by the simulator, the
QuoteStatus back in the gateway's loop), p50 and p99; then a burst: the rate quotes leave
the gateway (one way) and the rate their acknowledgements come back. The file link's figures
are the baseline the FIX link is printed against (issue 8). The FIX link runs twice: with
the gateway's FileStore (production: every message kept for resend) and with QuickFIX's
MemoryStore, to show what the store costs.
"""

import argparse
import platform
import shutil
import sys
import tempfile
from pathlib import Path

import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.fix.link import FixLink
from adapters.fix.settings import FixConfig
from bench.stepfile_link import measure
from core.clock import RealClock
from tests.integration.linkkit import free_port, start_server, stop_server


def run(link: str, round_trips: int, burst: int, store: str = "file") -> dict[str, float]:
    directory = Path(tempfile.mkdtemp(prefix=f"mmgw-{link}-"))
    port = free_port()
    extra = ("--fix-port", str(port)) if link == "fix" else ()
    server = start_server(directory / "link", *extra, start="09:30:05")
    try:
        def make(ticks):
            return FixLink(directory / "gateway-fix", "127.0.0.1", port, ticks, RealClock(),
                           snapshot_dir=None, config=FixConfig(store=store))
        return uvloop.run(measure(directory / "link", round_trips, burst,
                                  make if link == "fix" else None))
    finally:
        stop_server(server)
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--round-trips", type=int, default=2000)
    parser.add_argument("--burst", type=int, default=20_000)
    args = parser.parse_args()
    results = {"stepfile": run("stepfile", args.round_trips, args.burst),
               "fix": run("fix", args.round_trips, args.burst),
               "fix memory": run("fix", args.round_trips, args.burst, "memory")}
    print(f"python {platform.python_version()} on {platform.machine()}; the simulator in its "
          f"own process; {args.round_trips:,} round trips, a burst of {args.burst:,} quotes")
    print(f"{'link':<12}{'rtt p50 ms':>12}{'rtt p99 ms':>12}{'one way /s':>14}"
          f"{'acked /s':>12}{'acked':>10}")
    for link, r in results.items():
        print(f"{link:<12}{r['p50_ms']:>12.3f}{r['p99_ms']:>12.3f}{r['write_rate']:>14,.0f}"
              f"{r['ack_rate']:>12,.0f}{r['acked']:>10,}")
    base, fixr = results["stepfile"], results["fix"]
    print(f"FIX against the file link: round trip p50 x{fixr['p50_ms'] / base['p50_ms']:.2f}, "
          f"one way x{fixr['write_rate'] / base['write_rate']:.2f}, acknowledged "
          f"x{fixr['ack_rate'] / base['ack_rate']:.2f}")


if __name__ == "__main__":
    main()
