"""How long a contract stays without a valid quote after a fill: the path from the exchange's
fill to our next quote resting there, from the journals of demo runs, side by side.

    .venv/bin/mmgw demo --run-dir run/demo-file
    .venv/bin/mmgw demo --run-dir run/demo-fix --link fix
    .venv/bin/python bench/fill_to_requote.py run/demo-file run/demo-fix

For every fill of one of our quotes, the first quote the gateway sends for that contract
afterwards and the exchange's acceptance of it, in wall-clock milliseconds (the simulator's
times are turned back into wall time through the run's anchor, `link/.sim/anchor.json`):

- fill -> read: the exchange's fill until the gateway has it (the simulator writing or
  sending it, the link, the gateway's queue);
- read -> sent: the gateway's turn (its queue of events, the requote, the gate and the checks);
- sent -> live: our quote until the exchange has accepted it.

At the demo's 200x every millisecond here is 0.2 s of simulated time without a valid quote
on the contract, which is what the options' participation loses. The first run named is the
baseline the others are compared with.
"""

import argparse
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec

from adapters.stepfile.server import Anchor
from core.events import DECODER, ExecutionReport, Quote, QuoteStatus


def stages(run: Path) -> dict[str, list[float]]:
    anchor = msgspec.json.decode((run / "link" / ".sim" / "anchor.json").read_bytes(),
                                 type=Anchor)
    wall = anchor.wall_ns

    fills: dict[str, tuple[int, int]] = {}  # contract -> the first fill not yet answered
    sent: dict[str, tuple[int, int, int]] = {}  # quote id -> (fill sim, fill read, sent)
    out: dict[str, list[float]] = {"fill -> read": [], "read -> sent": [],
                                   "sent -> live": [], "fill -> live": []}
    db = sqlite3.connect(f"file:{run / 'journal.db'}?mode=ro", uri=True)
    for kind, payload in db.execute("SELECT kind, payload FROM journal WHERE kind IN "
                                    "('event', 'command') ORDER BY seq"):
        try:
            record = DECODER.decode(payload)
        except Exception:  # control commands are not domain messages
            continue
        if (isinstance(record, ExecutionReport) and record.is_quote
                and record.exec_type.value == "trade"):
            fills.setdefault(record.instrument_id, (record.ts_event, record.ts_init))
        elif isinstance(record, Quote) and kind == "command":
            fill = fills.pop(record.instrument_id, None)
            if fill is not None:
                sent[record.quote_id] = (*fill, record.ts_init)
        elif (isinstance(record, QuoteStatus) and record.status.value == "accepted"
              and record.quote_id in sent):
            fill_sim, read, out_ns = sent.pop(record.quote_id)
            live = wall(record.ts_event)
            parts = [(read - wall(fill_sim)) / 1e6, (out_ns - read) / 1e6, (live - out_ns) / 1e6]
            for name, value in zip(out, [*parts, sum(parts)], strict=True):
                out[name].append(value)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * q), len(ordered) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, help="demo run directories")
    args = parser.parse_args()
    base: dict[str, float] = {}
    for n, run in enumerate(args.runs):
        figures = stages(run)
        count = len(figures["fill -> live"])
        if not count:
            raise SystemExit(f"{run}: no fill followed by a quote the exchange accepted")
        print(f"{run}: {count} fills answered")
        for name, values in figures.items():
            p50, p90, p99 = (pct(values, q) for q in (0.5, 0.9, 0.99))
            line = f"  {name:14s} p50 {p50:8.1f} ms   p90 {p90:8.1f} ms   p99 {p99:8.1f} ms"
            if n == 0:
                base[name] = p50
            elif base.get(name):
                line += f"   p50 {p50 / base[name]:.2f}x the baseline's"
            print(line)


if __name__ == "__main__":
    main()
