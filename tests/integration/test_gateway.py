"""The gateway as a process on the file link against `mmgw sim serve`: it imports the day's
contracts, quotes through the gate, answers RFQs, obeys the control channel, journals it all,
and what it journals verifies and evaluates."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from gateway.control import Kill, KillReset, SetParams, Status, make_tokens, request
from tests.integration.linkkit import MMGW, start_server, stop_server


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    base = tmp_path_factory.mktemp("gw")
    link, run = base / "link", base / "run"
    run.mkdir()
    tokens = make_tokens(run / "control.tokens", {"alice": "trader", "bob": "risk",
                                                  "carol": "auditor"},
                         {"alice": ["510050", "510300", "SR", "SR_O"]})
    server = start_server(link, speed="10", start="09:29:30")
    gateway = subprocess.Popen([str(MMGW), "gateway", "run", "--run-dir", str(run),
                                "--link-dir", str(link), "--requote-s", "0.5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (run / "control.sock").exists():
        assert gateway.poll() is None, gateway.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    time.sleep(6)  # a minute of simulated trading
    yield run, tokens, gateway
    if gateway.poll() is None:
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=30)
    stop_server(server)


def status(run, tokens):
    response = request(run / "control.sock", tokens["carol"], Status())
    assert response.ok
    return response.result


def test_the_gateway_quotes_and_answers_rfqs(session):
    run, tokens, _ = session
    figures = status(run, tokens)
    assert figures["quoting"] and figures["links"] == {"stepfile": "up"}
    assert figures["counts"]["accepted"] > 100 and figures["counts"]["rejected"] == 0
    assert figures["live_quotes"]["gateway"] > 100


def test_roles_and_commands_over_the_control_channel(session):
    run, tokens, _ = session
    changed = request(run / "control.sock", tokens["alice"],
                      SetParams(product="510050", values={"width_ticks": 6}))
    assert changed.ok
    refused = request(run / "control.sock", tokens["carol"],
                      SetParams(product="510050", values={"width_ticks": 6}))
    assert not refused.ok and "not allowed to the auditor role" in refused.error
    killed = request(run / "control.sock", tokens["bob"], Kill(scope="product:510300",
                                                               reason="test"))
    assert killed.ok and killed.result["state"] == "HALTED"
    assert status(run, tokens)["kill"] == {"product:510300": "HALTED"}
    by_trader = request(run / "control.sock", tokens["alice"],
                        KillReset(scope="product:510300", reason="mine now"))
    assert not by_trader.ok and "a trader may not reset it" in by_trader.error
    assert status(run, tokens)["kill"] == {"product:510300": "HALTED"}
    reset = request(run / "control.sock", tokens["bob"], KillReset(scope="product:510300",
                                                                  reason="done"))
    assert reset.ok
    not_hers = request(run / "control.sock", tokens["alice"],
                       Kill(scope="product:512880", reason="t"))
    assert not not_hers.ok and "not among the products alice runs" in not_hers.error
    everything = request(run / "control.sock", tokens["alice"], Kill(scope="all", reason="t"))
    assert not everything.ok and "512880" in everything.error
    own = request(run / "control.sock", tokens["alice"], Kill(scope="product:SR", reason="t"))
    assert own.ok
    assert request(run / "control.sock", tokens["alice"],
                   KillReset(scope="product:SR", reason="t")).ok


def test_a_stopped_gateway_leaves_a_journal_that_verifies_and_evaluates(session, tmp_path):
    run, _, gateway = session
    gateway.send_signal(signal.SIGTERM)
    gateway.wait(timeout=30)
    verdict = subprocess.run([str(MMGW), "journal", "verify", "--run-dir", str(run), "--json"],
                             capture_output=True, text=True, check=False)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    assert json.loads(verdict.stdout)["ok"]
    timeline = tmp_path / "timeline.jsonl"
    subprocess.run([str(MMGW), "journal", "export", "--run-dir", str(run), "--timeline",
                    str(timeline)], check=True, capture_output=True)
    result = subprocess.run([str(MMGW), "obligations", "evaluate", "--rules", "sse-options",
                             "--timeline", str(timeline), "--json"], capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    products = json.loads(result.stdout)["products"]
    assert set(products) == {"510050", "510300"}
    assert all(p["rfq_requests"] >= 0 for p in products.values())
    commands = Path(run / "gateway.status.json").read_text()
    assert json.loads(commands)["counts"]["sent"] > 100
    assert os.path.exists(run / "journal.pub")
