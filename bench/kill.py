"""The kill switch with 2,000 live quotes on the file link.

    .venv/bin/python bench/kill.py [--rounds N] [--strikes-per-side K]

`mmgw up` on the load-drill configuration (`gateway/stress.py`: the two SSE ETF option chains
at K strikes a side, a quiet market so every quote stands) at 5x; each round waits until the
gateway and the exchange agree on at least 2,000 live quotes, runs `mmgw kill --scope all
--json` as a risk officer would, checks that the exchange holds none of ours, and resets.
Prints per round the gateway's figures (from the kill's arrival: new quotes blocked; every
cancel confirmed by the exchange) and the command's wall time (Python start-up included),
then the medians and worst cases against the issue's targets (issue 7): confirmed (the
exchange's confirmation of every cancel in the gateway's hands) under 50 ms, blocked under
1 ms; and when the gateway's own books showed nothing live (settled).
"""

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gateway.stress import quiet_wide_configs

ROOT = Path(__file__).resolve().parents[1]
MMGW = str(Path(sys.executable).with_name("mmgw"))
TARGET_CONFIRM_MS = 50.0
TARGET_BLOCK_MS = 1.0
LIVE = 2000


def mmgw(*args: str) -> str:
    done = subprocess.run([MMGW, *args], capture_output=True, text=True, timeout=180,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"mmgw {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def live(run: Path) -> tuple[int, int]:
    figures = json.loads(mmgw("status", "--run-dir", str(run), "--json"))
    return figures["live_quotes"]["gateway"] or 0, figures["live_quotes"]["exchange"] or 0


def wait_live(run: Path, at_least: int, timeout_s: float = 90.0) -> int:
    deadline = time.monotonic() + timeout_s
    while True:
        gateway, exchange = live(run)
        if gateway >= at_least and gateway == exchange:
            return gateway
        if time.monotonic() > deadline:
            raise SystemExit(f"only {gateway} live quotes at the gateway, {exchange} at the "
                             f"exchange after {timeout_s:.0f} s")
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--strikes-per-side", type=int, default=66)
    args = parser.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}; "
          f"{args.rounds} rounds, {args.strikes_per_side} strikes a side")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        configs = quiet_wide_configs(ROOT / "configs", Path(tmp) / "configs",
                                     args.strikes_per_side)
        run = Path(tmp) / "run"
        mmgw("--config-dir", str(configs), "up", "--run-dir", str(run), "--speed", "5",
             "--requote-s", "0.5")
        try:
            for n in range(args.rounds):
                standing = wait_live(run, LIVE)
                started = time.perf_counter()
                answer = json.loads(mmgw("kill", "--run-dir", str(run), "--scope", "all",
                                         "--reason", f"bench round {n + 1}", "--json"))
                wall_ms = (time.perf_counter() - started) * 1e3
                if not answer["ok"] or answer["unconfirmed"]:
                    raise SystemExit(f"round {n + 1}: {answer}")
                time.sleep(1.0)  # the exchange's status file is rewritten every half second
                left = live(run)
                if left != (0, 0):
                    raise SystemExit(f"round {n + 1}: live after the kill: {left}")
                rows.append((standing, answer["cancelled"], answer["blocked_ms"],
                             answer["confirmed_ms"], answer["settled_ms"], wall_ms))
                print(f"round {n + 1}: {standing} live, {answer['cancelled']} cancelled; "
                      f"blocked {answer['blocked_ms']:.3f} ms, every cancel confirmed "
                      f"{answer['confirmed_ms']:.1f} ms, books settled "
                      f"{answer['settled_ms']:.1f} ms; mmgw kill {wall_ms:.0f} ms wall")
                mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason", "next round",
                     "--reset")
        finally:
            mmgw("down", "--run-dir", str(run))
    blocked = [r[2] for r in rows]
    confirmed = [r[3] for r in rows]
    print(f"blocked:   median {statistics.median(blocked):.3f} ms, worst {max(blocked):.3f} ms"
          f"  (target < {TARGET_BLOCK_MS:g} ms: "
          f"{'met' if max(blocked) < TARGET_BLOCK_MS else 'NOT met'})")
    print(f"confirmed: median {statistics.median(confirmed):.1f} ms, worst "
          f"{max(confirmed):.1f} ms  (target < {TARGET_CONFIRM_MS:g} ms: "
          f"{'met' if max(confirmed) < TARGET_CONFIRM_MS else 'NOT met'})")
    settled = [r[4] for r in rows]
    print(f"settled:   median {statistics.median(settled):.1f} ms, worst {max(settled):.1f} ms"
          f"  (the gateway's books showing none live; no target)")


if __name__ == "__main__":
    main()
