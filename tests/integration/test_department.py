"""The department risk process as `mmgw up` runs it: a separate process fed by the gateway's
event stream, its reading, its alerts turned into prompts that risk staff confirm, its
silence stopping the quotes, the report; and the kill line, which cancels at the exchange
while the gateway's engine is stuck."""

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import time
from datetime import UTC
from pathlib import Path

import msgspec
import pytest

from adapters.eztrans.files import read_reference
from adapters.refdata.loader import load_file
from core.events import DECODER, Quote
from gateway.control import Status, request
from gateway.department import Department
from gateway.journal import records
from gateway.launcher import token_for
from risk.limits import RiskConfig
from risk.monitor import Alert
from tests.integration.linkkit import DAY, MMGW

ROOT = Path(__file__).resolve().parents[2]
HANG_S = 6


def mmgw(*args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run([str(MMGW), *args], check=False, capture_output=True, text=True,
                          timeout=120, env=env)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def status(run: Path) -> dict:
    return json.loads(mmgw("status", "--run-dir", str(run), "--json").stdout)


def wait_for(predicate, timeout_s: float = 30.0, what: str = ""):
    deadline = time.monotonic() + timeout_s
    while True:
        got = predicate()
        if got:
            return got
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.2)


def reading(run: Path) -> dict:
    path = run / "risk" / "department.json"
    return json.loads(path.read_text()) if path.exists() else {}


def exchange_live(run: Path) -> int:
    return json.loads((run / "link" / ".sim" / "status.json").read_text())["live_quotes"].get(
        "MM01", 0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("department")
    configs = base / "configs"
    shutil.copytree(ROOT / "configs", configs)
    risk = configs / "risk.toml"
    # a vega level any position on 510050 passes: the alert, its prompt and the measure
    text = risk.read_text().replace("[department.underlyings.510050]\ndelta = 3_000_000\n"
                                    "gamma = 2_000_000\nvega = 300_000",
                                    "[department.underlyings.510050]\ndelta = 3_000_000\n"
                                    "gamma = 2_000_000\nvega = 1")
    assert "vega = 1\n" in text
    risk.write_text(text)
    run = base / "run"
    env = os.environ | {"MMGW_FAULT_HANG_S": str(HANG_S)}
    mmgw("--config-dir", str(configs), "up", "--run-dir", str(run), "--speed", "10", "--day",
         f"{DAY:%Y-%m-%d}", "--requote-s", "0.5", env=env)
    yield run
    mmgw("down", "--run-dir", str(run))


def test_up_starts_the_department_process_and_it_values_the_book(run):
    figures = status(run)
    assert set(figures["processes"]) == {"simulator", "gateway", "department"}
    assert all(p["alive"] for p in figures["processes"].values())
    got = wait_for(lambda: (r := reading(run)) and r["events"] > 100
                   and "510050" in r["greeks"]["underlyings"] and r, what="a reading")
    assert got["connected"] is True
    assert {"510050", "510300"} <= set(got["greeks"]["underlyings"])
    assert set(got["greeks"]["total"]) == {"delta_yuan", "gamma_yuan", "vega_yuan",
                                           "theta_yuan"}
    assert got["margin"]["cash"] > 0 and got["orders"]["sent"] > 0
    assert {"830799", "430047"} == set(got["bse"])
    # the gateway hears the process and shows its summary
    heard = wait_for(lambda: status(run)["department"]["heard_s_ago"] is not None
                     and status(run)["department"], what="a heartbeat")
    assert heard["heard_s_ago"] < 3 and "pnl" in heard["summary"]


def test_a_breach_prompts_and_only_risk_staff_confirm_its_measure(run):
    def vega_prompt():
        prompts = json.loads(mmgw("risk", "prompts", "--run-dir", str(run), "--json").stdout)
        return next((p for p in prompts if p["key"] == "vega:underlying:510050"), None)

    prompt = wait_for(vega_prompt, 60, "the vega prompt")
    assert prompt["measure"] == "widen" and prompt["raised_by"] == "department"
    trader = token_for(run, "trader")
    refused = mmgw("risk", "confirm", prompt["id"], "--reason", "mine", "--run-dir", str(run),
                   "--token", trader, "--json", check=False)
    assert refused.returncode == 3
    assert "not allowed to the trader role" in json.loads(refused.stdout)["error"]
    done = json.loads(mmgw("risk", "confirm", prompt["id"], "--reason", "vol desk agrees",
                           "--run-dir", str(run), "--json").stdout)
    assert done["ok"] and done["state"] == "confirmed" and done["actor"] == "risk"
    assert done["outcome"] == "widened 510050 x2"
    again = mmgw("risk", "confirm", prompt["id"], "--reason", "twice", "--run-dir", str(run),
                 "--json", check=False)
    assert "confirmed already" in json.loads(again.stdout)["error"]
    # the quotes after the measure are wider than before it
    time.sleep(3)
    request(run / "control.sock", token_for(run, "ops"), Status())  # the journal moves on
    rows = list(records(f"sqlite:///{run / 'journal.db'}"))
    confirmed = next(r.seq for r in rows if r.kind == "prompt"
                     and r.outcome.startswith(f"confirmed: {prompt['id']}"))
    assert any(r.kind == "prompt" and r.outcome.startswith(f"raised: {prompt['id']}")
               and r.actor == "department" for r in rows)

    def widths(after: bool) -> list[int]:
        out = []
        for r in rows:
            if r.kind != "command" or r.actor != "engine" or (r.seq > confirmed) != after:
                continue
            q = DECODER.decode(r.payload)
            if (isinstance(q, Quote) and q.instrument_id.startswith("1000900")
                    and q.bid_px_ticks and q.ask_px_ticks):
                out.append(q.ask_px_ticks - q.bid_px_ticks)
        return sorted(out)

    before, after = widths(False), widths(True)
    assert before and after
    assert after[len(after) // 2] >= 1.5 * before[len(before) // 2]


def test_the_department_falling_silent_stops_the_quotes(run):
    pid = json.loads((run / "processes.json").read_text())["department"]["pid"]
    os.kill(pid, signal.SIGSTOP)
    try:
        stopped = wait_for(lambda: (f := status(run))["quoting"] is False and f, 20,
                           "quoting to stop")
        assert "department risk process is silent" in stopped["stopped_because"]
    finally:
        os.kill(pid, signal.SIGCONT)
    wait_for(lambda: status(run)["quoting"] is True, 20, "quoting to resume")


def _answers(run: Path) -> bool:
    try:
        request(run / "control.sock", token_for(run, "ops"), Status(), timeout_s=0.3)
    except TimeoutError:
        return False
    return True


def test_a_kill_reaches_the_exchange_while_the_engine_is_stuck(run):
    wait_for(lambda: exchange_live(run) > 50, 30, "live quotes")
    (run / "hang-engine").touch()
    wait_for(lambda: not _answers(run), 10, "the engine to hang")
    done = mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason", "engine stuck",
                "--json")
    answer = json.loads(done.stdout)
    assert answer["ok"] and answer["state"] == "HALTED" and answer["cancelled"] > 50
    assert answer["engine"].startswith("not answering")
    # and where the engine is stuck, for ops: the fault injected in the loop's turn
    assert answer["engine_at"][-1].startswith("gateway/process.py:") and (
        answer["engine_at"][-1].endswith(" _hang")), answer["engine_at"]
    assert answer["blocked_ms"] is not None
    # the exchange has no quote of ours left while the engine is still stuck
    wait_for(lambda: exchange_live(run) == 0, 3, "the exchange to cancel")
    assert not _answers(run)
    # once the engine is back: latched, nothing live on either side, nothing sent since
    figures = wait_for(lambda: _answers(run) and status(run), HANG_S + 10, "the engine")
    assert figures["kill"]["all"] == "HALTED"
    time.sleep(1.5)
    figures = status(run)
    assert figures["live_quotes"] == {"gateway": 0, "exchange": 0}
    rows = list(records(f"sqlite:///{run / 'journal.db'}"))
    kill = next(r for r in rows if r.kind == "command" and r.outcome == "ok: Kill"
                and b"engine stuck" in r.payload)
    assert kill.actor == "risk"
    assert not [r for r in rows if r.seq > kill.seq and r.kind == "command"
                and r.actor == "engine"], "a quote went out after the kill"


def test_with_nothing_live_the_department_agrees_with_the_gateway_on_positions(run):
    def agreed():
        gateway = status(run)["positions"]
        department = reading(run)["greeks"]["contracts"]
        mine = {k: v["position"] for k, v in department.items() if re.fullmatch(r"\d{8}", k)}
        theirs = {k: v for k, v in gateway.items() if re.fullmatch(r"\d{8}", k)}
        return mine == theirs and bool(mine)

    wait_for(agreed, 15, "the positions to agree")


def test_a_hard_level_halts_everything_from_the_department(run):
    config = load_file(run.parent / "configs" / "risk.toml", RiskConfig)
    instruments = read_reference(run / "link" / "eztrans" / f"reference_{DAY:%Y%m%d}.csv")
    department = Department(run, config, instruments, UTC, token_for(run, "risk"))
    department.connected = True
    mmgw("kill", "--run-dir", str(run), "--scope", "all", "--reason", "before", "--reset")
    halt = Alert("loss_halt:all", "loss_halt", "all", -6e6, -5e6, "the day's P&L is below "
                 "-5,000,000 yuan: everything halts", ("510050",), halt=True)
    asyncio.run(department._tell([halt], []))
    figures = status(run)
    assert figures["kill"] == {"all": "HALTED"}
    assert figures["kill_latches"]["all"]["reason"].startswith("the day's P&L is below")


def test_the_report_on_demand_and_at_the_end_of_the_day(run, tmp_path):
    out = json.loads(mmgw("risk", "report", "--run-dir", str(run), "--out", str(tmp_path),
                          "--json").stdout)
    page = Path(out["html"]).read_text()
    assert "Greeks per underlying" in page and "510050" in page
    figures = json.loads(Path(out["json"]).read_text())
    assert figures["greeks"]["underlyings"]["510050"]["vega"] != 0
    mmgw("down", "--run-dir", str(run))
    assert list((run / "reports").glob("department-risk-*.html"))
    final = msgspec.json.decode((run / "risk" / "department.json").read_bytes())
    assert final["ts_ns"] >= figures["ts_ns"]
