"""Journal appends with the hash chain, committed to SQLite in groups.

    .venv/bin/python bench/journal.py [--records N]

Prints the rate at which the quote path can append (hash and queue) and the rate at which
records reach SQLite (appended and committed), against issue 6's target of 100,000 a second.
"""

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.events import ENCODER, Quote
from gateway.journal import Journal, verify

TARGET = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=300_000)
    args = parser.parse_args()
    payloads = [ENCODER.encode(Quote(
        ts_event=1_795_000_000_000_000_000 + i, ts_init=1_795_000_000_000_000_000 + i,
        quote_id=f"q{i}", instrument_id="10009001", account="MM01", bid_px_ticks=500,
        bid_qty=10, ask_px_ticks=520, ask_qty=10)) for i in range(args.records)]
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp)
        journal = Journal(f"sqlite:///{run / 'journal.db'}", run / "journal.checkpoints",
                          run / "journal.key")
        start = time.perf_counter()
        for i, payload in enumerate(payloads):
            journal.append("quote", "engine", payload, ts_ns=i, outcome="sent")
        appended = time.perf_counter()
        journal.flush(timeout_s=600)
        committed = time.perf_counter()
        journal.close(ts_ns=args.records)
        verdict = verify(f"sqlite:///{run / 'journal.db'}", run / "journal.checkpoints",
                         run / "journal.pub")
    append_rate = args.records / (appended - start)
    commit_rate = args.records / (committed - start)
    print(f"python {platform.python_version()} on {platform.machine()}; {args.records:,} "
          f"records of {len(payloads[0])} bytes")
    print(f"append (hash + queue, the quote path's cost): {append_rate:,.0f} records/s, "
          f"{1e6 / append_rate:.2f} us each")
    print(f"appended and committed to SQLite: {commit_rate:,.0f} records/s (target >= "
          f"{TARGET:,}: {'met' if commit_rate >= TARGET else 'MISSED'})")
    print(f"verify: {'ok' if verdict.ok else verdict.problem}, {verdict.records:,} records")


if __name__ == "__main__":
    main()
