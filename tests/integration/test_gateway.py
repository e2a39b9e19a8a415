"""The gateway as a process on the file link against `mmgw sim serve`: it imports the day's
contracts, quotes through the gate, answers RFQs, obeys the control channel, journals it all,
and what it journals verifies and evaluates."""

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from core.events import DECODER, ExecutionReport, NewOrder
from gateway.control import (
    Confirm,
    Dismiss,
    Kill,
    KillReset,
    RiskAlert,
    SetParams,
    Status,
    make_tokens,
    request,
)
from gateway.journal import records
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


def _alert(key: str, measure: str | None, scope: str, products: list[str],
           cleared: bool = False) -> RiskAlert:
    kind = key.partition(":")[0]
    return RiskAlert(key=key, kind=kind, scope=scope, value=2.0, limit=1.0,
                     message=f"{key} over its level", products=products, measure=measure,
                     cleared=cleared)


def test_prompts_and_their_measures(session):
    run, tokens, _ = session
    sock = run / "control.sock"
    raised = request(sock, tokens["bob"], _alert("vega:underlying:SR701", "pull",
                                                 "underlying:SR701", ["SR_O"]))
    assert raised.ok and raised.result["prompt"]
    pid = raised.result["prompt"]
    again = request(sock, tokens["bob"], _alert("vega:underlying:SR701", "pull",
                                                "underlying:SR701", ["SR_O"]))
    assert again.result["prompt"] == pid  # one prompt a breach
    assert [p["id"] for p in status(run, tokens)["prompts"]] == [pid]
    by_trader = request(sock, tokens["alice"], Confirm(prompt=pid, reason="mine"))
    assert not by_trader.ok and "not allowed to the trader role" in by_trader.error
    pulled = request(sock, tokens["bob"], Confirm(prompt=pid, reason="agreed"))
    assert pulled.ok and pulled.result["outcome"] == "pulled and halted SR_O"
    assert status(run, tokens)["kill"] == {"product:SR_O": "HALTED"}
    assert request(sock, tokens["bob"], KillReset(scope="product:SR_O", reason="t")).ok
    # a cleared breach closes its prompt; a dismissed one runs nothing
    other = request(sock, tokens["bob"], _alert("loss:all", "reduce_size", "all", ["510050"]))
    cleared = request(sock, tokens["bob"], _alert("loss:all", None, "all", [], cleared=True))
    assert cleared.result["cleared"] == [other.result["prompt"]]
    third = request(sock, tokens["bob"], _alert("theta:all", "widen", "all", ["510050"]))
    dismissed = request(sock, tokens["bob"], Dismiss(prompt=third.result["prompt"],
                                                     reason="expected"))
    assert dismissed.ok and status(run, tokens)["prompts"] == []
    # the hedge: an IOC order in the ETF against the 510050 delta (the options' and the
    # ETF's opening inventory of 5,000,000 units), at most the 1,000,000-unit order limit
    hedge = request(sock, tokens["bob"], _alert("delta:underlying:510050", "hedge",
                                                "underlying:510050", ["510050"]))
    done = request(sock, tokens["bob"], Confirm(prompt=hedge.result["prompt"], reason="h"))
    assert done.ok, done.error
    found = re.fullmatch(r"510050: (buy|sell) (\d+) at \d+ \(delta ([+-]\d+)\)",
                         done.result["outcome"])
    assert found, done.result["outcome"]
    side, qty, delta = found[1], int(found[2]), int(found[3])
    assert side == ("sell" if delta > 0 else "buy")  # toward zero, never away
    assert qty == min(abs(delta) // 100 * 100, 1_000_000)
    time.sleep(2)
    rows = list(records(f"sqlite:///{run / 'journal.db'}"))
    orders = [DECODER.decode(r.payload) for r in rows if r.kind == "command"
              and r.outcome.startswith("sent: hedge for prompt")]
    assert len(orders) == 1 and isinstance(orders[0], NewOrder)
    assert orders[0].instrument_id == "510050" and orders[0].tif == "ioc"
    answers = [e for r in rows if r.kind == "event"
               and isinstance(e := DECODER.decode(r.payload), ExecutionReport)
               and e.client_id == orders[0].client_id]
    assert answers, "the exchange answered the hedge"
    states = [r.outcome.split(":")[0] for r in rows if r.kind == "prompt"]
    assert states.count("raised") == 4
    assert {"confirmed", "cleared", "dismissed"} <= set(states)


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
