"""`mmgw up`, `mmgw status`, `mmgw kill` and `mmgw down` as a desk runs them: real processes
on loopback, the status from both the gateway and the exchange, a kill that empties the
exchange's book of our quotes and stays latched until released."""

import json
import subprocess
import time

import pytest

from gateway.journal import records
from gateway.launcher import alive
from tests.integration.linkkit import DAY, MMGW


def mmgw(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([str(MMGW), *args], check=False, capture_output=True, text=True,
                          timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def status(run) -> dict:
    return json.loads(mmgw("status", "--run-dir", str(run), "--json").stdout)


def wait_for(run, predicate, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        figures = status(run)
        if predicate(figures):
            return figures
        assert time.monotonic() < deadline, figures
        time.sleep(0.5)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    run = tmp_path_factory.mktemp("up") / "run"
    mmgw("up", "--run-dir", str(run), "--speed", "10", "--day", f"{DAY:%Y-%m-%d}",
         "--requote-s", "0.5")
    yield run
    mmgw("down", "--run-dir", str(run))


def test_up_starts_both_processes_and_they_agree_on_live_quotes(run):
    again = mmgw("up", "--run-dir", str(run), check=False)
    assert again.returncode == 2 and "already up" in again.stderr

    def agreed(figures: dict) -> bool:
        live = figures["live_quotes"]
        return bool(live["gateway"]) and live["gateway"] == live["exchange"]

    figures = wait_for(run, agreed)
    assert all(p["alive"] for p in figures["processes"].values())
    assert set(figures["processes"]) == {"simulator", "gateway", "department"}
    assert figures["links"] == {"stepfile": "up"} and figures["quoting"] is True
    assert figures["kill"] == {"all": "ACTIVE"}
    # the obligation meters run live for every product of configs/desk.toml
    assert {"sse-options:510050", "zce-options:SR_O", "bse-stocks:830799"} <= set(
        figures["meters"])
    sse = figures["meters"]["sse-options:510050"]
    assert sse["coverage_required"] == 0.8 and 0 < sse["continuous_participation"] <= 1
    text = mmgw("status", "--run-dir", str(run)).stdout
    assert "stepfile: up" in text and "sse-options:510050" in text


def test_kill_empties_the_exchange_and_stays_latched_until_released(run):
    wait_for(run, lambda f: bool(f["live_quotes"]["exchange"]))
    refused = mmgw("kill", "--run-dir", str(run), "--scope", "desk:510050",
                   "--reason", "typo", check=False)
    assert refused.returncode == 3 and "desk:510050" in refused.stderr

    killed = json.loads(mmgw("kill", "--run-dir", str(run), "--scope", "all",
                             "--reason", "drill", "--json").stdout)
    assert killed["ok"] and killed["actor"] == "risk"
    result = killed
    assert result["state"] == "HALTED" and result["cancelled"] > 0
    # every cancel confirmed by the exchange before the answer, blocking at once
    assert result["unconfirmed"] == 0 and result["blocked_ms"] < result["confirmed_ms"] < 5000
    assert status(run)["live_quotes"]["gateway"] == 0
    figures = wait_for(run, lambda f: f["live_quotes"]["exchange"] == 0)
    assert figures["live_quotes"]["gateway"] == 0 and figures["kill"] == {"all": "HALTED"}
    time.sleep(2)  # several requote cycles: nothing comes back while the switch is latched
    assert status(run)["live_quotes"]["exchange"] == 0

    mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason", "drill over", "--reset")
    figures = wait_for(run, lambda f: bool(f["live_quotes"]["exchange"]))
    assert figures["kill"] == {"all": "ACTIVE"}


def test_a_kill_by_underlying_reaches_its_options_and_nothing_else(run):
    before = wait_for(run, lambda f: bool(f["live_quotes"]["exchange"]))
    killed = json.loads(mmgw("kill", "--run-dir", str(run), "--scope", "underlying:510050",
                             "--reason", "510050 halted", "--json").stdout)
    # the 510050 chain's 72 contracts: a quote each, and a replacement in flight for some
    assert killed["unconfirmed"] == 0 and 0 < killed["cancelled"] <= 2 * 72
    figures = status(run)
    assert figures["kill"] == {"underlying:510050": "HALTED"}
    assert 0 < figures["live_quotes"]["gateway"] <= before["live_quotes"]["gateway"] - 60
    mmgw("kill", "--run-dir", str(run), "--scope", "underlying:510050", "--reason", "open",
         "--reset")


def test_the_journal_holds_the_kill_with_who_and_why(run):
    mmgw("kill", "--run-dir", str(run), "--scope", "product:SR_O", "--reason", "vol spike")
    mmgw("kill", "--run-dir", str(run), "--scope", "product:SR_O", "--reason", "calm",
         "--reset")
    url = f"sqlite:///{run / 'journal.db'}"
    deadline = time.monotonic() + 10
    while True:  # the journal's writer commits in batches
        audit = [r for r in records(url) if r.actor == "risk"]
        if sum(b"vol spike" in r.payload or b"calm" in r.payload for r in audit) == 2:
            break
        assert time.monotonic() < deadline, audit
        time.sleep(0.2)
    killed = next(r for r in audit if b"vol spike" in r.payload)
    assert "ok" in killed.outcome and killed.kind


def test_down_stops_everything(tmp_path):
    run = tmp_path / "run"
    mmgw("up", "--run-dir", str(run), "--speed", "10", "--day", f"{DAY:%Y-%m-%d}")
    pids = [p["pid"] for p in status(run)["processes"].values()]
    out = mmgw("down", "--run-dir", str(run)).stdout
    assert "gateway    stopped" in out and "simulator  stopped" in out
    assert not any(alive(pid) for pid in pids)
    assert "nothing was running" in mmgw("down", "--run-dir", str(run)).stdout
    gone = mmgw("status", "--run-dir", str(run), check=False)
    assert gone.returncode == 2 and f"nothing runs in {run}" in gone.stderr
