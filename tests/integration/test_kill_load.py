"""A kill with more than 2,000 of our quotes live at the exchange (the load-drill
configuration: wide chains on a quiet market), and a kill while the throttle is empty: the
throttle never holds a cancel."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from gateway.stress import quiet_wide_configs
from tests.integration.linkkit import DAY, MMGW

ROOT = Path(__file__).resolve().parents[2]


def mmgw(*args: str) -> dict | str:
    done = subprocess.run([str(MMGW), *args], check=False, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in args else done.stdout


def live(run: Path) -> tuple[int, int]:
    figures = mmgw("status", "--run-dir", str(run), "--json")
    return figures["live_quotes"]["gateway"] or 0, figures["live_quotes"]["exchange"] or 0


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (got := predicate()):
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.3)
    return got


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("load")
    configs = quiet_wide_configs(ROOT / "configs", base / "configs", 66)
    run = base / "run"
    mmgw("--config-dir", str(configs), "up", "--run-dir", str(run), "--speed", "5", "--day",
         f"{DAY:%Y-%m-%d}", "--requote-s", "0.5")
    yield run
    mmgw("down", "--run-dir", str(run))


def test_kill_all_with_2000_live_quotes_leaves_none_at_the_exchange(run):
    standing = wait_for(lambda: (n := live(run))[0] >= 2000 and n[0] == n[1] and n, 90,
                        "2,000 live quotes on both sides")
    answer = mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason", "load drill",
                  "--json")
    assert answer["ok"] and answer["state"] == "HALTED"
    assert answer["cancelled"] >= standing[0] >= 2000
    assert answer["unconfirmed"] == 0 and answer["confirmed_ms"] is not None
    assert answer["blocked_ms"] is not None
    time.sleep(1.0)  # the exchange's own count is rewritten every half second
    assert live(run) == (0, 0)
    figures = mmgw("status", "--run-dir", str(run), "--json")
    assert figures["kill"] == {"all": "HALTED"}


def test_the_throttle_never_holds_a_cancel(run):
    def throttled() -> int:
        return mmgw("status", "--run-dir", str(run), "--json")["pretrade"]["refused"].get(
            "throttle", 0)

    before = throttled()
    mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason", "refill", "--reset")
    # 2,000 quotes want out at once: the bucket (600, then 2,000 a second) runs dry
    wait_for(lambda: throttled() > before and live(run)[0] > 500, 30, "the throttle to bite")
    answer = mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason",
                  "kill with the throttle dry", "--json")
    assert answer["ok"] and answer["cancelled"] > 500
    assert answer["unconfirmed"] == 0
    time.sleep(1.0)
    assert live(run) == (0, 0)
