"""The fast path (columns) and the exact path (event by event) give the same evaluation."""

import json
import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.refdata.loader import load_rule_pack
from quoting.obligations import sse_etf, sse_options, zce
from quoting.obligations.fast import evaluate_fast
from quoting.obligations.timeline import parse

PACKS = {"sse-options": sse_options.SseOptionsEvaluation, "sse-etf": sse_etf.SseEtfEvaluation,
         "zce-options": zce.ZceEvaluation}
SESSIONS = [("09:15:00", "opening_auction"), ("09:25:00", "closed"), ("09:30:00", "continuous"),
            ("11:30:00", "closed"), ("13:00:00", "continuous"),
            ("14:57:00", "closing_auction"), ("15:00:00", "closed")]


def timeline(seed: int, kind: str, venue: str = "SSE") -> bytes:
    rng = random.Random(seed)
    ids = ["C1", "C2", "C3"]
    lines = []
    for i, c in enumerate(ids):
        record = {"type": "contract", "contract": c, "product": "P", "venue": venue,
                  "tick": 0.001 if kind == "etf" else 0.0001}
        if kind == "option":
            record |= {"kind": "option", "underlying_kind": "etf", "call_put": "call",
                       "strike": 1.0, "expiry": ["2026-12-23", "2027-01-27", "2027-03-24"][i]}
        else:
            record |= {"kind": "etf"}
        lines.append(record)
    day = date(2026, 12, 1)
    for _ in range(rng.randint(1, 3)):
        events = []
        for at, phase in SESSIONS:
            events.append((at + ".000", {"type": "phase", "product": "*", "phase": phase}))
        for n in range(rng.randint(5, 60)):
            seconds = rng.randint(9 * 3600 + 15 * 60, 15 * 3600)
            at = f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
            at += f".{rng.randrange(1000):03d}"
            c = rng.choice(ids)
            roll = rng.random()
            bid = rng.randint(100, 600)
            spread = rng.choice([bid // 10, bid // 10 + 1, 25, 26, 5, bid // 5])
            tick = 1000 if kind == "etf" else 10000
            if roll < 0.65:
                size = rng.choice([0, 1, 9, 10, 20])
                bids = [[bid / tick, size]] if rng.random() > 0.05 else []
                asks = [[(bid + spread) / tick, size]] if rng.random() > 0.05 else []
                events.append((at, {"type": "quote", "contract": c, "bids": bids,
                                    "asks": asks}))
            elif roll < 0.72:
                events.append((at, {"type": "cancel", "contract": c}))
            elif roll < 0.78:
                events.append((at, {"type": "limit", "contract": c,
                                    "state": rng.choice(["up", "down", "none"])}))
            elif roll < 0.83:
                events.append((at, {"type": "phase", "contract": c,
                                    "phase": rng.choice(["circuit_breaker_auction",
                                                         "continuous"])}))
            elif roll < 0.87:
                events.append((at, {"type": "exempt", "contract": c,
                                    "state": rng.choice(["start", "end"]), "reason": "x"}))
            elif roll < 0.93:
                rid = f"R{n}"
                events.append((at, {"type": "rfq", "rfq_id": rid, "contract": c}))
                events.append((at, {"type": "rfq_quote", "rfq_id": rid, "contract": c,
                                    "bids": [[bid / tick, 10]],
                                    "asks": [[(bid + spread) / tick, 10]]}))
            else:
                events.append((at, {"type": "fill", "contract": c, "side": "buy",
                                    "price": bid / tick, "size": 1}))
        events.sort(key=lambda e: e[0])
        for at, event in events:
            lines.append({"ts": f"{day.isoformat()}T{at}+08:00", **event})
        day += timedelta(days=1)
    return ("\n".join(json.dumps(line) for line in lines) + "\n").encode()


def same(a, b, path=""):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for key in a:
            same(a[key], b[key], f"{path}.{key}")
    elif isinstance(a, float) and isinstance(b, float):
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a)), path
    else:
        assert a == b, path


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**9), st.sampled_from(sorted(PACKS)))
def test_fast_and_exact_paths_agree(seed, pack_name):
    pack = load_rule_pack(pack_name)
    data = timeline(seed, "etf" if pack_name == "sse-etf" else "option",
                    "ZCE" if pack_name.startswith("zce") else "SSE")
    engine_class = PACKS[pack_name]
    fast = evaluate_fast(data, pack, engine_class)
    assert fast is not None, "the fast path declined a clean timeline"
    exact = engine_class(parse(data.splitlines()), pack)
    exact.run()
    same(fast.result(), exact.result())


@pytest.mark.parametrize("change", [
    lambda d: d.replace(b'"bids": [[0.0', b'"bids": [[0.00005', 1),  # off the tick grid
    lambda d: d.replace(b'"type": "quote"', b'"type": "quote", "contract": 5', 1),
])
def test_the_fast_path_declines_what_it_cannot_vouch_for(change):
    data = change(timeline(3, "option"))
    assert evaluate_fast(data, load_rule_pack("sse-options"),
                         sse_options.SseOptionsEvaluation) is None


def test_a_pack_evaluates_only_the_contracts_it_governs():
    from quoting.obligations.fast import evaluate_bytes  # noqa: PLC0415

    data = timeline(5, "option")
    stock = {"type": "contract", "contract": "920001", "product": "920001", "venue": "BSE",
             "kind": "stock", "tick": 0.01}
    quote = {"ts": "2026-12-01T10:00:00.000+08:00", "type": "quote", "contract": "920001",
             "bids": [[20.0, 1000]], "asks": [[20.1, 1000]]}
    lines = data.decode().splitlines()
    mixed = [json.dumps(stock), *lines[:3], *lines[3:]]
    # put the stock's quote where its time falls
    at = next(i for i, line in enumerate(mixed) if '"ts"' in line
              and json.loads(line)["ts"] > quote["ts"])
    mixed.insert(at, json.dumps(quote))
    both = evaluate_bytes(("\n".join(mixed) + "\n").encode(), load_rule_pack("sse-options"))
    alone = evaluate_bytes(data, load_rule_pack("sse-options"))
    same(both, alone)
    assert "920001" not in both["products"]
