"""A gateway killed with SIGKILL mid-day and started again (`mmgw up` restarts what is
missing) recovers every live quote and every fill from its journal and the exchange's link
files: nothing doubled, nothing lost, ids never reused, and the journal still verifies."""

import json
import os
import re
import signal
import time

import pytest

from core.enums import ExecType
from core.events import DECODER, ExecutionReport, Quote
from gateway.journal import records
from gateway.launcher import alive
from gateway.process import link_positions
from tests.integration.linkkit import DAY
from tests.integration.test_launcher import mmgw, wait_for

EXEC_ID = re.compile(r"\x0117=([^\x01]+)")


def agreed(figures: dict) -> bool:
    live = figures["live_quotes"]
    return figures.get("quoting") is True and bool(live["gateway"]) and (
        live["gateway"] == live["exchange"])


@pytest.fixture(scope="module")
def restarted(tmp_path_factory):
    run = tmp_path_factory.mktemp("restart") / "run"
    mmgw("up", "--run-dir", str(run), "--speed", "10", "--day", f"{DAY:%Y-%m-%d}",
         "--requote-s", "0.5")
    try:
        before = wait_for(run, lambda f: agreed(f) and f["counts"]["fills"] > 50)
        mmgw("kill", "--run-dir", str(run), "--scope", "product:SR_O", "--reason", "pre-crash")
        gateway = json.loads((run / "processes.json").read_text())["gateway"]["pid"]
        os.kill(gateway, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while alive(gateway):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1)  # the exchange trades on without us
        again = mmgw("up", "--run-dir", str(run))
        assert "gateway" in again.stdout
        after = wait_for(run, lambda f: agreed(f) and f["counts"]["fills"]
                         > before["counts"]["fills"] + 20, timeout_s=60)
    finally:
        mmgw("down", "--run-dir", str(run))
    return run, before, after


def test_live_quotes_agree_with_the_exchange_after_the_restart(restarted):
    _, before, after = restarted
    assert after["live_quotes"]["gateway"] == after["live_quotes"]["exchange"]
    assert after["counts"]["sent"] > before["counts"]["sent"]
    assert after["counts"]["rejected"] == 0 and after["stopped_because"] is None
    # the count of the day continues: the restarted gateway knows the fills before the kill
    assert after["counts"]["fills"] > before["counts"]["fills"]
    log = (restarted[0] / "logs" / "gateway.log").read_text()
    assert "recovered_from_journal" in log and "Traceback" not in log


def test_a_latched_kill_survives_the_restart(restarted):
    _, _, after = restarted
    assert after["kill"] == {"product:SR_O": "HALTED"}


def test_every_fill_the_exchange_sent_is_journaled_once(restarted):
    run, _, after = restarted
    url = f"sqlite:///{run / 'journal.db'}"
    journaled = []
    for row in records(url):
        if row.kind == "event":
            event = DECODER.decode(row.payload)
            if isinstance(event, ExecutionReport) and event.exec_type is ExecType.TRADE:
                journaled.append(event.exec_id)
    assert len(journaled) == len(set(journaled)), "a fill journaled twice"
    # the exchange's own record of the member's fills, up to where the gateway had read
    handled = link_positions(url)["execreport"]
    exchange = set()
    for line in (run / "link" / "execreport.step").read_bytes().decode("gbk").splitlines():
        number, _, message = line.partition("\t")
        if int(number) <= handled and "\x01150=F\x01" in message:
            exchange.add(EXEC_ID.search(message).group(1))
    assert exchange == set(journaled)
    assert len(exchange) >= after["counts"]["fills"]


def test_no_quote_id_is_used_twice_and_the_journal_verifies(restarted):
    run, _, _ = restarted
    ids = [DECODER.decode(row.payload).quote_id
           for row in records(f"sqlite:///{run / 'journal.db'}")
           if row.kind == "command" and row.actor == "engine"
           and isinstance(DECODER.decode(row.payload), Quote)]
    assert len(ids) == len(set(ids))
    assert len({i.split(".")[0] for i in ids}) == 2  # two runs of the gateway
    verified = mmgw("journal", "verify", "--run-dir", str(run), "--json")
    assert verified.returncode == 0, verified.stdout
    assert any(row.kind == "recovery" for row in records(f"sqlite:///{run / 'journal.db'}"))
