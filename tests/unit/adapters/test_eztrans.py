"""End-of-day files of a simulated day: reference data, trades, positions, closing prices."""

from collections import Counter
from datetime import date

import pytest

from adapters.eztrans.files import (
    EzTransError,
    import_contracts,
    read_positions,
    read_reference,
    reconcile,
    write_end_of_day,
)
from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config
from adapters.sim.day import prepare_day
from core.enums import Side

DAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def eod(tmp_path_factory):
    config = load_config()
    calendar = build_calendar(config.holidays)
    sim_day = prepare_day(config, calendar, DAY, 5)
    sim_day.run()
    folder = write_end_of_day(sim_day, tmp_path_factory.mktemp("eztrans"), calendar)
    return sim_day, folder


def test_the_four_files_are_written(eod):
    _, folder = eod
    assert sorted(p.name for p in folder.iterdir()) == [
        "closing_20261123.csv", "positions_20261123.csv", "reference_20261124.csv",
        "trades_20261123.csv"]


def test_the_reference_file_lists_the_next_day_and_imports_by_underlying(eod):
    sim_day, folder = eod
    reference = read_reference(folder / "reference_20261124.csv")
    assert len(reference) == len(sim_day.listing.instruments)
    contracts = import_contracts(folder / "reference_20261124.csv", "510050")
    kinds = Counter(i.kind for i in contracts)
    assert kinds == {"option": 72, "etf": 1}
    option = next(i for i in contracts if i.is_option)
    assert option.limit_up_ticks > option.prev_close_ticks > 0
    assert option.multiplier == 10000 and option.underlying_kind == "etf"


def test_positions_balance_the_days_fills(eod):
    sim_day, folder = eod
    net = Counter()
    for fill in sim_day.exchange.fills:
        net[(fill.account, fill.instrument_id)] += (fill.last_qty if fill.side is Side.BUY
                                                    else -fill.last_qty)
    balances = {(b.account, b.contract): b.closing
                for b in read_positions(folder / "positions_20261123.csv")}
    assert balances == {k: v for k, v in net.items() if k in balances}
    assert set(balances) == set(net)


def test_reconciliation_reports_every_difference(eod):
    _, folder = eod
    path = folder / "positions_20261123.csv"
    ours = {b.contract: b.closing for b in read_positions(path) if b.account == "MM91"}
    assert reconcile(ours, path, "MM91") == []
    changed = next(iter(ours))
    seeded = dict(ours)
    seeded[changed] += 3
    seeded["NOT-AT-EXCHANGE"] = 5
    dropped = sorted(ours)[-1]
    del seeded[dropped]
    found = {(d.contract, d.diff) for d in reconcile(seeded, path, "MM91")}
    assert found == {(changed, 3), ("NOT-AT-EXCHANGE", 5), (dropped, -ours[dropped])}


def test_a_truncated_file_is_refused(eod, tmp_path):
    _, folder = eod
    text = (folder / "positions_20261123.csv").read_bytes().splitlines()
    broken = tmp_path / "positions.csv"
    broken.write_bytes(b"\n".join(text[:-2]) + b"\n")
    with pytest.raises(EzTransError, match="trailer"):
        read_positions(broken)


def test_a_bad_field_names_file_line_field_and_value(eod, tmp_path):
    _, folder = eod
    lines = (folder / "reference_20261124.csv").read_bytes().decode("gbk").splitlines()
    fields = lines[5].split(",")
    fields[-3] = "0.00005"  # prev_settle off the 0.0001 grid... or a stock's 0.001
    lines[5] = ",".join(fields)
    broken = tmp_path / "reference.csv"
    broken.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    with pytest.raises(EzTransError) as info:
        read_reference(broken)
    message = str(info.value)
    assert "reference.csv:6: prev_settle = '0.00005': not a multiple of the tick" in message
