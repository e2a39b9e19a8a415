"""The FIX link end to end: `mmgw sim serve --fix-port` (a real QuickFIX acceptor) and `mmgw
gateway run --link fix` (a real QuickFIX initiator) as processes on loopback: quotes
accepted, fills, RFQs answered, a drop-copy party receiving every fill, a kill that leaves
nothing live at the exchange, and cancel-on-disconnect when the gateway dies."""

import json
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import quickfix as fix

from adapters.fix.acceptor import session_defaults
from adapters.fix.messages import parse_text
from adapters.fix.settings import Application, FixConfig, write
from core.events import DECODER, ExecutionReport
from gateway.control import Kill, Status, make_tokens, request
from tests.integration.linkkit import MMGW, free_port


class DropCopy(Application):
    """The second party: logs on as DROP and keeps every message it is sent."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []
        self.logged_on = threading.Event()

    def onLogon(self, sessionID):
        self.logged_on.set()

    def fromApp(self, message, sessionID):
        self.messages.append(message.toString())


def exchange_live(link: Path) -> int:
    return json.loads((link / ".sim" / "status.json").read_text())["live_quotes"].get("MM01", 0)


def wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while not (got := predicate()):
        assert time.monotonic() < deadline, f"waited {timeout_s} s for {what}"
        time.sleep(0.2)
    return got


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    base = tmp_path_factory.mktemp("fix")
    link, run = base / "link", base / "run"
    run.mkdir()
    tokens = make_tokens(run / "control.tokens", {"rita": "risk", "otto": "ops"})
    port = free_port()
    sim = subprocess.Popen([str(MMGW), "sim", "serve", "--link-dir", str(link), "--speed", "10",
                            "--from", "09:29:30", "--fix-port", str(port),
                            "--cancel-on-disconnect"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: list(link.glob("eztrans/reference_*.csv")), 60, "the reference file")
    drop = DropCopy()
    settings = write(base / "drop" / "drop.cfg", session_defaults(base / "drop") | {
        "ConnectionType": "initiator", "SocketConnectHost": "127.0.0.1",
        "SocketConnectPort": str(port), "HeartBtInt": "1", "ReconnectInterval": "1"},
        [{"BeginString": "FIX.4.4", "SenderCompID": FixConfig().drop_copy_comp_id,
          "TargetCompID": FixConfig().exchange_comp_id}])
    initiator = fix.SocketInitiator(drop, fix.MemoryStoreFactory(), settings,
                                    fix.FileLogFactory(settings))
    initiator.start()
    gateway = subprocess.Popen([str(MMGW), "gateway", "run", "--run-dir", str(run),
                                "--link-dir", str(link), "--link", "fix", "--fix-port",
                                str(port), "--requote-s", "0.5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for((run / "control.sock").exists, 60, "the gateway")
    yield {"link": link, "run": run, "tokens": tokens, "drop": drop, "gateway": gateway,
           "sim": sim}
    initiator.stop()
    for proc in (gateway, sim):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)


def status(desk) -> dict:
    return request(desk["run"] / "control.sock", desk["tokens"]["otto"], Status()).result


def test_quotes_fills_and_rfq_answers_travel_over_fix(desk):
    figures = wait_for(lambda: (f := status(desk))["counts"]["fills"] > 0
                       and f["counts"]["rfq_answers"] > 0 and f, 60, "fills and RFQ answers")
    assert figures["links"] == {"fix": "up"} and figures["quoting"]
    assert figures["counts"]["accepted"] > 100 and figures["counts"]["rejected"] == 0, (
        figures["counts"], figures["exchange_rejections"])
    assert wait_for(lambda: exchange_live(desk["link"]) > 100, 10, "live quotes")
    # configs/fix.toml: SSE takes MassQuote; the others one Quote a contract
    log = (desk["link"] / "fix" / "log" / "FIX.4.4-SIM-MM01.messages.current.log").read_text()
    assert "\x0135=i\x01" in log and "\x0135=b\x01" in log and "\x0135=S\x01" in log


def test_the_drop_copy_party_receives_every_fill(desk):
    assert desk["drop"].logged_on.wait(10)
    fills = status(desk)["counts"]["fills"]
    copies = wait_for(lambda: [m for m in desk["drop"].messages if "\x0135=8\x01" in m]
                      if len([m for m in desk["drop"].messages
                              if "\x0135=8\x01" in m]) >= fills else None, 20,
                      "the drop copy to catch up")
    layouts = [parse_text(m) for m in copies]
    assert all(layout.get(150) == "F" and layout.get(1) == "MM01" for layout in layouts)
    assert len({layout.get(17) for layout in layouts}) == len(layouts)  # each fill once


def test_a_hedge_order_travels_over_fix(desk):
    """A confirmed hedge: a NewOrderSingle (IOC) out, its ExecutionReports back over FIX."""
    from gateway.control import Confirm, RiskAlert  # noqa: PLC0415
    from gateway.journal import records  # noqa: PLC0415

    sock, rita = desk["run"] / "control.sock", desk["tokens"]["rita"]
    raised = request(sock, rita, RiskAlert(
        key="delta:underlying:510050", kind="delta", scope="underlying:510050", value=2.0,
        limit=1.0, message="delta over its level", products=["510050"], measure="hedge"))
    done = request(sock, rita, Confirm(prompt=raised.result["prompt"], reason="hedge it"))
    assert done.ok, done.error
    assert done.result["outcome"].startswith("510050: ")

    def answered():
        rows = list(records(f"sqlite:///{desk['run'] / 'journal.db'}"))
        sent = [r for r in rows if r.kind == "command"
                and r.outcome.startswith("sent: hedge for prompt")]
        orders = {DECODER.decode(r.payload).client_id for r in sent}
        reports = [e for r in rows if r.kind == "event"
                   and isinstance(e := DECODER.decode(r.payload), ExecutionReport)
                   and e.client_id in orders]
        return reports if sent and reports else None

    reports = wait_for(answered, 10, "the hedge's execution reports")
    assert {r.exec_type.value for r in reports} <= {"new", "trade", "cancelled"}
    assert all(not r.is_quote and r.instrument_id == "510050" for r in reports)


def test_a_kill_over_fix_leaves_nothing_live(desk):
    answer = request(desk["run"] / "control.sock", desk["tokens"]["rita"],
                     Kill(scope="all", reason="fix drill"))
    assert answer.ok and answer.result["unconfirmed"] == 0 and answer.result["cancelled"] > 0
    assert answer.result["confirmed_ms"] is not None
    wait_for(lambda: exchange_live(desk["link"]) == 0, 5, "the exchange to be empty")


def test_cancel_on_disconnect_when_the_gateway_dies(desk):
    from gateway.control import KillReset  # noqa: PLC0415

    assert request(desk["run"] / "control.sock", desk["tokens"]["rita"],
                   KillReset(scope="all", reason="again")).ok
    wait_for(lambda: exchange_live(desk["link"]) > 100, 20, "quotes again")
    desk["gateway"].send_signal(signal.SIGKILL)  # no logout, no mass cancel: the socket drops
    desk["gateway"].wait(timeout=10)
    wait_for(lambda: exchange_live(desk["link"]) == 0, 15, "cancel-on-disconnect")


def test_the_exchange_dropped_and_restarted_is_reconciled_before_quoting_again(tmp_path):
    from gateway.journal import records  # noqa: PLC0415

    link, run = tmp_path / "link", tmp_path / "run"
    run.mkdir()
    tokens = make_tokens(run / "control.tokens", {"otto": "ops"})
    port = free_port()
    sim_command = [str(MMGW), "sim", "serve", "--link-dir", str(link), "--speed", "10",
                   "--from", "09:29:30", "--fix-port", str(port)]
    sim = subprocess.Popen(sim_command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: list(link.glob("eztrans/reference_*.csv")), 60, "the reference file")
    gateway = subprocess.Popen([str(MMGW), "gateway", "run", "--run-dir", str(run),
                                "--link-dir", str(link), "--link", "fix", "--fix-port",
                                str(port), "--requote-s", "0.5"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    desk = {"run": run, "tokens": tokens}
    try:
        wait_for((run / "control.sock").exists, 60, "the gateway")
        wait_for(lambda: exchange_live(link) > 100, 30, "live quotes")
        sim.send_signal(signal.SIGKILL)  # the exchange drops mid-stream
        sim.wait(timeout=10)
        wait_for(lambda: status(desk)["links"] == {"fix": "down"}, 15, "the link to drop")
        assert status(desk)["quoting"] is False
        sim = subprocess.Popen(sim_command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        figures = wait_for(lambda: (f := status(desk))["quoting"] and f, 60, "quoting again")
        assert figures["links"] == {"fix": "up"} and figures["stopped_because"] is None
        rows = list(records(f"sqlite:///{run / 'journal.db'}"))
        reconciled = [r for r in rows if r.kind == "reconcile"]
        assert len(reconciled) == 1, [r.outcome for r in rows if r.kind == "fault"]
        live, _, unknown = reconciled[0].outcome.partition(", gone ")
        assert int(live.removeprefix("live ")) > 100 and unknown.endswith("unknown 0")
        assert not [r for r in rows if r.kind == "fault"]
        wait_for(lambda: status(desk)["live_quotes"]["gateway"] == exchange_live(link) > 100,
                 20, "the books and the exchange to agree")
    finally:
        for proc in (gateway, sim):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=60)


def test_reconnects_back_off_exponentially(tmp_path):
    """A FIX link to a port nobody listens on tries at once, then again after a wait that
    doubles each time."""
    import asyncio  # noqa: PLC0415

    from adapters.fix.link import FixLink, backoff  # noqa: PLC0415
    from core.clock import RealClock  # noqa: PLC0415

    assert [d for _, d in zip(range(7), backoff(1, 30), strict=False)] == [1, 2, 4, 8, 16, 30,
                                                                          30]

    async def attempt() -> FixLink:
        link = FixLink(tmp_path / "fix", "127.0.0.1", free_port(), {}, RealClock(),
                       config=FixConfig(reconnect_s=0.5, reconnect_max_s=30, store="memory"))
        await link.start(lambda event: None)
        await asyncio.sleep(5.0)
        await link.stop()
        return link

    link = asyncio.run(attempt())
    # the waits double; each reconnect really connects again (QuickFIX's own log says so)
    assert link.waits[:2] == [0.5, 1.0] and len(link.attempts) == len(link.waits) + 1
    assert len(link.attempts) >= 3
    connects = [line for path in (tmp_path / "fix" / "log").glob("*.event.current.log")
                for line in path.read_text().splitlines() if "Connecting to" in line]
    assert len(connects) >= len(link.attempts)
