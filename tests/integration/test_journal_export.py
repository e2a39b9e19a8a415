"""A simulated day, journaled as it happens: the journal verifies, and its exported timeline
evaluates to the figures the live meters showed at the close."""

from pathlib import Path

import msgspec
import pytest

from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config, load_rule_pack
from adapters.sim.day import prepare_day, venue_tz
from core.events import ENCODER, MarketData
from gateway.export import EVENT, INSTRUMENT, export_timeline
from gateway.journal import Journal, verify
from quoting.obligations.convert import TimelineConverter, to_events
from quoting.obligations.fast import evaluate_bytes
from quoting.obligations.meters import LiveMeters
from quoting.obligations.timeline import parse, to_ns
from tests.deskkit import DAY, Desk, quote_the_day


@pytest.fixture(scope="module")
def journaled_day(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    config = load_config()
    sim_day = prepare_day(config, build_calendar(config.holidays), DAY, 11)
    tz = venue_tz(config)
    pack = load_rule_pack("sse-options")
    journal = Journal(f"sqlite:///{run / 'journal.db'}", run / "journal.checkpoints",
                      run / "journal.key")
    instruments = list(sim_day.listing.instruments)
    for inst in instruments:
        journal.append(INSTRUMENT, "exchange", msgspec.msgpack.encode(inst),
                       ts_ns=sim_day.start_ns)
    converter = TimelineConverter(instruments, tz)
    governed = [line for line in converter.header()
                if line["venue"] == pack.venue and line["kind"] in pack.kinds]
    ids = {line["contract"] for line in governed}
    products = {line["product"] for line in governed}
    meters = LiveMeters([msgspec.convert(dict(line), type=_record()) for line in governed],
                        pack, tz)

    def on_event(event):
        journal.append(EVENT, "exchange", ENCODER.encode(event), ts_ns=event.ts_event)
        if isinstance(event, MarketData):
            return
        for line, timed in zip(lines := converter.convert(event), to_events(lines),
                               strict=True):
            contract, product = line.get("contract"), line.get("product")
            if contract in ids or (contract is None and product in ("*", *products)) or (
                    line["type"] == "rfq_cancel"):
                meters.feed(timed, to_ns(timed.ts))  # the timeline's own time, as exported

    desk = Desk(sim_day, public=True)
    desk.listeners.append(on_event)
    quote_the_day(sim_day, desk)
    journal.close(ts_ns=sim_day.end_ns)
    close = meters.read(sim_day.end_ns, 0)
    export_timeline(f"sqlite:///{run / 'journal.db'}", run / "timeline.jsonl", tz)
    return run, close


def _record():
    from quoting.obligations.timeline import ContractRecord  # noqa: PLC0415

    return ContractRecord


def test_the_days_journal_verifies(journaled_day):
    run, _ = journaled_day
    verdict = verify(f"sqlite:///{run / 'journal.db'}", run / "journal.checkpoints",
                     run / "journal.pub")
    assert verdict.ok and verdict.records > 10_000


def test_the_export_is_a_valid_timeline(journaled_day):
    run, _ = journaled_day
    timeline = parse((run / "timeline.jsonl").read_bytes().splitlines())
    assert len(timeline.contracts) == 191
    kinds = {type(e).__name__ for e in timeline.events}
    assert {"PhaseEvent", "QuoteEvent", "CancelEvent", "FillEvent", "RfqEvent"} <= kinds


def test_the_export_evaluates_to_what_the_meters_showed_at_the_close(journaled_day):
    run, close = journaled_day
    result = evaluate_bytes((run / "timeline.jsonl").read_bytes(),
                            load_rule_pack("sse-options"))
    meters = {m.product: m for m in close}
    assert set(meters) == {"510050", "510300"} == set(result["products"])
    for product, figures in result["products"].items():
        (day,) = figures["days"].values()
        assert day["continuous_participation"] == pytest.approx(
            meters[product].participation, abs=1e-12)
        assert figures["rfq_response_rate"] == meters[product].rfq_response_rate


def test_the_monthly_report_from_the_run_directory_has_the_business_summary(journaled_day,
                                                                           tmp_path):
    import json  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    from tests.integration.linkkit import MMGW  # noqa: PLC0415

    run, _ = journaled_day
    result = subprocess.run(
        [str(MMGW), "report", "obligations", "--rules", "sse-options", "--run-dir", str(run),
         "--month", "2026-11", "--out", str(tmp_path), "--json"],
        capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    assert sorted(p.rsplit("/", 1)[-1] for p in files if p.endswith(".html")) == [
        "obligations-sse-options-510050-2026-11.html",
        "obligations-sse-options-510300-2026-11.html"]
    summary = json.loads(Path(next(p for p in files if p.endswith(".json"))).read_text())[
        "summary"]
    assert summary["traded volume"] > 0
    assert isinstance(summary["P&L marked at the last mid (yuan)"], float)


def test_a_report_for_every_pack_that_governs_the_run(journaled_day, tmp_path):
    import json  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    from tests.integration.linkkit import MMGW  # noqa: PLC0415

    run, _ = journaled_day
    result = subprocess.run(
        [str(MMGW), "report", "obligations", "--run-dir", str(run), "--day", "2026-11-23",
         "--out", str(tmp_path), "--json"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    names = {Path(p).name.split("-2026")[0] for p in json.loads(result.stdout)["files"]
             if p.endswith(".html")}
    assert names == {"obligations-sse-options-510050", "obligations-sse-options-510300",
                     "obligations-bse-stocks-830799", "obligations-bse-stocks-430047",
                     "obligations-sse-etf-512880", "obligations-sse-etf-510050_ETF",
                     "obligations-sse-etf-510300_ETF", "obligations-zce-futures-SR",
                     "obligations-zce-options-SR_O"}
