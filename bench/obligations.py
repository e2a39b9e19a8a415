"""Evaluate a large quote timeline: events per second, against the 5-million-in-10-s target.

    .venv/bin/python bench/obligations.py [--events N]

Writes a synthetic sse-options timeline (one product of 80 contracts, whole trading days of
quote updates) to a temporary file, then times reading and evaluating it the way
`mmgw obligations evaluate` does, and prints events per second and the projection for five
million (with --exact-too, the exact event-by-event path as well, checked to agree).
Target (issue 5): five million events in under 10 seconds.
"""

import argparse
import json
import platform
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.refdata.loader import load_rule_pack
from quoting.obligations.fast import evaluate_bytes
from quoting.obligations.sse_options import evaluate
from quoting.obligations.timeline import parse

TARGET_EVENTS, TARGET_S = 5_000_000, 10.0
SESSIONS = [("09:15:00", "opening_auction"), ("09:25:00", "closed"), ("09:30:00", "continuous"),
            ("11:30:00", "closed"), ("13:00:00", "continuous"), ("14:57:00", "closing_auction"),
            ("15:00:00", "closed")]


def write(path: Path, events: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    contracts = [f"{10_000_000 + i}" for i in range(80)]
    lines = []
    for i, c in enumerate(contracts):
        lines.append(json.dumps({"type": "contract", "contract": c, "product": "510050",
                                 "venue": "SSE", "kind": "option", "underlying_kind": "etf",
                                 "call_put": "call" if i % 2 else "put", "strike": 3.0,
                                 "expiry": "2026-12-23" if i < 40 else "2027-03-24",
                                 "tick": 0.0001}))
    per_day = 400_000
    day = date(2026, 12, 1)
    written = 0
    while written < events:
        stamp = f"{day.isoformat()}T"
        for at, name in SESSIONS[:3]:
            lines.append(json.dumps({"ts": f"{stamp}{at}.000+08:00", "type": "phase",
                                     "product": "*", "phase": name}))
        n = min(per_day, events - written)
        # continuous trading: 09:30-11:30 and 13:00-14:57 (237 minutes), quotes in time order
        offsets = sorted(rng.randrange(237 * 60_000) for _ in range(n))
        lunch_done = False
        for k, ms in enumerate(offsets):
            minute_ms = ms if ms < 120 * 60_000 else ms + 90 * 60_000
            if ms >= 120 * 60_000 and not lunch_done:
                for at, name in SESSIONS[3:5]:
                    lines.append(json.dumps({"ts": f"{stamp}{at}.000+08:00", "type": "phase",
                                             "product": "*", "phase": name}))
                lunch_done = True
            seconds, millis = divmod(9 * 3_600_000 + 30 * 60_000 + minute_ms, 1000)
            clock = (f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
                     f".{millis:03d}")
            c = contracts[k % 80]
            bid = 500 + rng.randrange(-20, 20)
            width = rng.choice((30, 40, 50, 55, 60))
            lines.append(f'{{"ts": "{stamp}{clock}+08:00", "type": "quote", '
                         f'"contract": "{c}", "bids": [[{bid / 10000:.4f}, 10]], '
                         f'"asks": [[{(bid + width) / 10000:.4f}, 10]]}}')
        for at, name in SESSIONS[5:]:
            lines.append(json.dumps({"ts": f"{stamp}{at}.000+08:00", "type": "phase",
                                     "product": "*", "phase": name}))
        written += n
        day += timedelta(days=1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--exact-too", action="store_true",
                        help="also time the exact path (slow) and check it agrees")
    args = parser.parse_args()
    pack = load_rule_pack("sse-options")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "timeline.jsonl"
        lines = write(path, args.events)
        start = time.perf_counter()
        result = evaluate_bytes(path.read_bytes(), pack)
        done = time.perf_counter()
        exact_rate = None
        if args.exact_too:
            begin = time.perf_counter()
            with path.open("rb") as fh:
                exact = evaluate(parse(fh), pack)
            exact_rate = lines / (time.perf_counter() - begin)
            assert abs(exact["products"]["510050"]["weighted_participation"]
                       - result["products"]["510050"]["weighted_participation"]) < 1e-9
    rate = lines / (done - start)
    projected = TARGET_EVENTS / rate
    print(f"python {platform.python_version()} on {platform.machine()}; {lines:,} lines")
    print(f"read and evaluate (mmgw obligations evaluate's path): {done - start:.2f} s, "
          f"{rate:,.0f} events/s")
    if exact_rate is not None:
        print(f"the exact event-by-event path, same file: {exact_rate:,.0f} events/s "
              "(same figures)")
    print(f"five million events: {projected:.1f} s projected (target < {TARGET_S:.0f} s: "
          f"{'met' if projected < TARGET_S else 'MISSED'})")
    product = result["products"]["510050"]
    print(f"check: {len(product['days'])} days, weighted participation "
          f"{product['weighted_participation']:.4f}, grade {product['grade']}")


if __name__ == "__main__":
    main()
