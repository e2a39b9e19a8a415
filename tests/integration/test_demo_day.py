"""`mmgw demo` for a whole trading day, over each link, as a desk would run it: real processes
from ZCE's night session the evening before to the close, at the demo's own speed (200x over
the file link, 100x over FIX), and every obligation of every configured product met, as the
exchanges compute them. About seven minutes of CI between the two links."""

import json
import subprocess

import pytest

from adapters.refdata.loader import load_rule_pack
from tests.integration.linkkit import DAY, MMGW


@pytest.mark.parametrize("link", ["stepfile", "fix"])
def test_a_whole_day_meets_every_obligation(tmp_path, link):
    run = tmp_path / "run"
    done = subprocess.run([str(MMGW), "demo", "--run-dir", str(run), "--json", "--link", link,
                           "--day", f"{DAY:%Y-%m-%d}"], check=False, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["journal"]["verified"] and summary["link_rejects"] == 0
    assert summary["session"].endswith("20:55-15:00")  # the night session opened the day
    figures = summary["obligations"]
    assert {key.split(":")[1] for key in figures} == {
        "510050", "510300", "SR_O", "512880", "830799", "430047", "SR"}
    options = load_rule_pack("sse-options")
    for product in ("510050", "510300"):
        sse = figures[f"sse-options:{product}"]
        # grade A or B: participation and spread ratio both at least a pass, and the closing
        # auction's 100% coverage held (else the composite, and the grade, is nothing)
        assert sse["grade"] in ("A", "B"), (product, sse)
        assert sse["continuous_participation"] >= options.participation.continuous, sse
        assert sse["rfq_response_rate"] >= options.rfq.rate, (product, sse)
    for key in ("zce-futures:SR", "zce-options:SR_O"):
        zce = figures[key]
        assert zce["contracts_meeting"] == zce["contracts"] > 0, (key, zce)
    assert figures["zce-options:SR_O"]["rfq_response_ratio"] >= (
        figures["zce-options:SR_O"]["rfq_response_threshold"])
    assert figures["bse-stocks:830799"]["deductions"] == 0
    assert figures["bse-stocks:430047"]["deductions"] == 0
    etf = load_rule_pack("sse-etf").participation
    assert figures["sse-etf:512880"]["continuous_participation"] >= etf.continuous
    assert figures["sse-etf:512880"]["closing_participation"] >= etf.closing_auction
