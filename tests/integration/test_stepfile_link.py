"""The file link end to end: the gateway's StepFileLink against `mmgw sim serve` processes,
with restarts of either side, a corrupt record and cancel-on-disconnect."""

import asyncio
import os
import signal
import time

import pytest

from adapters.stepfile.files import REJECTS
from adapters.stepfile.link import StepFileLink
from core.clock import RealClock
from core.enums import CancelReason, ExecType, QuoteStatusCode, ScopeKind, Side
from core.events import (
    CancelOrder,
    CancelQuote,
    ExecutionReport,
    LinkStatus,
    MarketData,
    MassCancel,
    MassCancelReport,
    NewOrder,
    Quote,
    QuoteStatus,
    Rfq,
    Scope,
)
from core.ports import LinkState
from tests.integration.linkkit import day_listing, start_server, stop_server, wait_for

CONTRACT = "10009001"


@pytest.fixture(scope="module")
def listing():
    return day_listing()


@pytest.fixture(scope="module")
def ticks(listing):
    return {i.instrument_id: i.tick for i in listing.instruments}


def quote(quote_id, bid, ask, *, qty=10, rfq_id=None, contract=CONTRACT):
    now = time.time_ns()
    return Quote(ts_event=now, ts_init=now, quote_id=quote_id, instrument_id=contract,
                 account="MM01", bid_px_ticks=bid, bid_qty=qty if bid else 0,
                 ask_px_ticks=ask, ask_qty=qty if ask else 0, rfq_id=rfq_id)


def statuses(events, quote_id):
    return [e.status for e in events if isinstance(e, QuoteStatus) and e.quote_id == quote_id]


def test_quotes_fills_and_rfq_answers_cross_the_link(tmp_path, ticks, listing):
    server = start_server(tmp_path, speed="20")
    by_id = listing.by_id()
    limit_up = by_id[CONTRACT].limit_up_ticks

    async def session():
        events = []
        link = StepFileLink(tmp_path, ticks, RealClock(), heartbeat_s=0.5)
        await link.start(events.append)
        await wait_for(lambda: link.state is LinkState.UP)
        link.submit(quote("q1", 100, 200))
        # flushed (the gateway does it after each product's requote): in the file before
        # the loop turn ends
        assert b"q1" not in (tmp_path / "reqresp.step").read_bytes()
        link.flush()
        assert b"q1" in (tmp_path / "reqresp.step").read_bytes()
        await wait_for(lambda: statuses(events, "q1") == [QuoteStatusCode.ACCEPTED])
        # a bid at the limit-up price crosses the competing market maker's ask: a fill
        link.submit(quote("q2", limit_up, None, qty=1))
        await wait_for(lambda: any(isinstance(e, ExecutionReport) and e.client_id == "q2"
                                   and e.exec_type is ExecType.TRADE for e in events))
        await wait_for(lambda: any(isinstance(e, MarketData) and e.instrument_id == CONTRACT
                                   for e in events))
        await wait_for(lambda: any(isinstance(e, Rfq) for e in events), 30)
        rfq = next(e for e in events if isinstance(e, Rfq))
        inst = by_id[rfq.instrument_id]
        bid = max(inst.prev_close_ticks - 5, inst.limit_down_ticks or 1)
        ask = min(inst.prev_close_ticks + 5, inst.limit_up_ticks)
        link.submit(quote("r1", bid, ask, rfq_id=rfq.rfq_id, contract=rfq.instrument_id))
        await wait_for(lambda: statuses(events, "r1") == [QuoteStatusCode.ACCEPTED])
        # a cancel, a hedge order and its cancel, and a mass cancel of the product
        now = time.time_ns()
        link.submit(CancelQuote(ts_event=now, ts_init=now, request_id="x1",
                                instrument_id=rfq.instrument_id, account="MM01"))
        await wait_for(lambda: QuoteStatusCode.CANCELLED in statuses(events, "r1"))
        link.submit(NewOrder(ts_event=now, ts_init=now, client_id="h1", instrument_id=CONTRACT,
                             account="MM01", side=Side.BUY, px_ticks=1, qty=1))
        await wait_for(lambda: any(isinstance(e, ExecutionReport) and e.client_id == "h1"
                                   and e.exec_type is ExecType.NEW for e in events))
        link.submit(CancelOrder(ts_event=now, ts_init=now, request_id="x2", client_id="h1",
                                instrument_id=CONTRACT, account="MM01"))
        await wait_for(lambda: any(isinstance(e, ExecutionReport) and e.client_id == "h1"
                                   and e.exec_type is ExecType.CANCELLED for e in events))
        link.submit(quote("q3", 100, 200))
        await wait_for(lambda: statuses(events, "q3") == [QuoteStatusCode.ACCEPTED])
        link.submit(MassCancel(ts_event=now, ts_init=now, request_id="m1", account="MM01",
                               scope=Scope(kind=ScopeKind.PRODUCT, value="510050")))
        await wait_for(lambda: any(isinstance(e, MassCancelReport) for e in events))
        await link.stop()
        return events

    events = asyncio.run(session())
    stop_server(server)
    answer = next(e for e in events if isinstance(e, QuoteStatus) and e.quote_id == "r1")
    assert answer.rfq_id is not None
    replaced = [e for e in events if isinstance(e, QuoteStatus) and e.quote_id == "q1"
                and e.status is QuoteStatusCode.CANCELLED]
    assert [e.cancel_reason for e in replaced] == [CancelReason.REPLACED]
    report = next(e for e in events if isinstance(e, MassCancelReport))
    assert "q3" in report.cancelled_quotes
    assert statuses(events, "q3") == [QuoteStatusCode.ACCEPTED, QuoteStatusCode.CANCELLED]


def test_a_killed_simulator_restarts_with_nothing_lost_or_doubled(tmp_path, ticks):
    server = start_server(tmp_path)
    seen: list[tuple[str, int]] = []

    async def session():
        events = []
        link = StepFileLink(tmp_path, ticks, RealClock(), heartbeat_s=0.5,
                            on_record=lambda role, seq: seen.append((role, seq)))
        await link.start(events.append)
        link.submit(quote("a1", 100, 200))
        await wait_for(lambda: statuses(events, "a1") == [QuoteStatusCode.ACCEPTED])
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        for n in range(2, 6):  # written while the exchange is down
            link.submit(quote(f"a{n}", 100 + n, 200))
        await asyncio.sleep(0.3)
        restarted = start_server(tmp_path)
        await wait_for(lambda: statuses(events, "a5") == [QuoteStatusCode.ACCEPTED])
        await asyncio.sleep(0.5)
        await link.stop()
        return events, restarted, link

    events, restarted, link = asyncio.run(session())
    err = stop_server(restarted)
    assert "simulator_recovered" in err
    assert link.state is LinkState.DOWN
    for n in range(1, 5):  # each replaced by the next, each reported once
        assert statuses(events, f"a{n}") == [QuoteStatusCode.ACCEPTED,
                                             QuoteStatusCode.CANCELLED]
    for role in ("execreport", "pubdata"):
        numbers = [seq for r, seq in seen if r == role]
        assert numbers == list(range(1, len(numbers) + 1)), role
    assert not (tmp_path / REJECTS).exists()


def test_a_restarted_gateway_resumes_after_what_it_handled(tmp_path, ticks):
    server = start_server(tmp_path, speed="20")
    seen: list[tuple[str, int]] = []

    async def first():
        events = []
        link = StepFileLink(tmp_path, ticks, RealClock(), heartbeat_s=0.5,
                            on_record=lambda role, seq: seen.append((role, seq)))
        await link.start(events.append)
        link.submit(quote("b1", 100, 200))
        await wait_for(lambda: statuses(events, "b1") == [QuoteStatusCode.ACCEPTED])
        # a crash: no stop(), nothing flushed or committed after this point
        link._loop.remove_reader(link._inotify.fileno())
        link._timer.cancel()

    async def second():
        events = []
        link = StepFileLink(tmp_path, ticks, RealClock(), heartbeat_s=0.5,
                            on_record=lambda role, seq: seen.append((role, seq)))
        await link.start(events.append)
        link.submit(quote("b2", 101, 200))
        await wait_for(lambda: statuses(events, "b2") == [QuoteStatusCode.ACCEPTED])
        await link.stop()
        return events

    asyncio.run(first())
    time.sleep(1.0)  # the exchange goes on writing public data meanwhile
    events = asyncio.run(second())
    stop_server(server)
    assert statuses(events, "b1") == [QuoteStatusCode.CANCELLED]  # replaced by b2, not again
    for role in ("execreport", "pubdata"):
        numbers = [seq for r, seq in seen if r == role]
        assert numbers == list(range(1, len(numbers) + 1)), role


def test_a_corrupt_request_is_rejected_and_the_link_goes_on(tmp_path, ticks):
    server = start_server(tmp_path)

    async def session(submit_first):
        events = []
        link = StepFileLink(tmp_path, ticks, RealClock(), heartbeat_s=0.5)
        await link.start(events.append)
        link.submit(submit_first)
        await wait_for(lambda: statuses(events, submit_first.quote_id))
        await link.stop()
        return events

    asyncio.run(session(quote("c1", 100, 200)))
    reqresp = tmp_path / "reqresp.step"
    lines = reqresp.read_bytes().splitlines()
    number = int(lines[-1].split(b"\t")[0]) + 1
    bad = lines[1].split(b"\t", 1)[1].replace(b"35=S", b"35=s")  # the checksum no longer fits
    with reqresp.open("ab") as fh:
        fh.write(b"%d\t%b\n" % (number, bad))
    events = asyncio.run(session(quote("c2", 101, 200)))
    stop_server(server)
    assert QuoteStatusCode.ACCEPTED in statuses(events, "c2")
    rejects = (tmp_path / REJECTS).read_text(encoding="utf-8")
    assert f"reqresp.step:{number}: record {number}: tag 10" in rejects


def test_cancel_on_disconnect_cancels_the_members_quotes(tmp_path, ticks):
    server = start_server(tmp_path, "--cancel-on-disconnect")

    async def session(quote_id, stop=True):
        events = []
        link = StepFileLink(tmp_path, ticks, RealClock(), heartbeat_s=0.5)
        await link.start(events.append)
        if quote_id:
            link.submit(quote(quote_id, 100, 200))
            await wait_for(lambda: statuses(events, quote_id) == [QuoteStatusCode.ACCEPTED])
        else:
            await asyncio.sleep(1.0)
        await link.stop()
        return events

    asyncio.run(session("d1"))
    time.sleep(0.5)
    events = asyncio.run(session(None))
    stop_server(server)
    cancelled = [e for e in events if isinstance(e, QuoteStatus) and e.quote_id == "d1"]
    assert [(e.status, e.cancel_reason) for e in cancelled] == [
        (QuoteStatusCode.CANCELLED, CancelReason.DISCONNECT)]
    downs = [e for e in events if isinstance(e, LinkStatus)]
    assert downs and downs[-1].state == "down"
