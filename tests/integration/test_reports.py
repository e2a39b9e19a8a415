"""`mmgw report obligations`: an HTML page with its plots and the figures as JSON."""

import json
import subprocess
from pathlib import Path

from tests.integration.linkkit import MMGW

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"


def report(*args):
    return subprocess.run([str(MMGW), "report", "obligations", *args], capture_output=True,
                          text=True, check=False)


def test_a_daily_report_has_its_plots_and_the_evaluated_figures(tmp_path):
    result = report("--rules", "sse-options", "--timeline",
                    str(EXAMPLES / "sse-options-small.jsonl"), "--day", "2026-12-01",
                    "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    page = Path(next(f for f in files if f.endswith(".html"))).read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4  # spread, coverage, size, indicators
    assert "weighted_participation" in page and "grade" in page
    figures = json.loads(Path(next(f for f in files if f.endswith(".json"))).read_text())
    expected = json.loads((EXAMPLES / "sse-options-small.expected.json").read_text())
    assert figures["figures"]["grade"] == expected["products"]["588000"]["grade"]


def test_a_monthly_report_adds_the_business_summary(tmp_path):
    result = report("--rules", "bse-stocks", "--timeline",
                    str(EXAMPLES / "bse-stocks-small.jsonl"), "--month", "2026-12",
                    "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(Path(next(f for f in json.loads(result.stdout)["files"]
                                if f.endswith(".json"))).read_text())
    assert data["summary"]["traded volume"] == 1000
    assert data["summary"]["net inventory from fills"] == -1000
    assert data["figures"]["deductions"] == 28


def test_an_empty_period_is_a_clear_error(tmp_path):
    result = report("--rules", "sse-options", "--timeline",
                    str(EXAMPLES / "sse-options-small.jsonl"), "--day", "2026-12-02",
                    "--out", str(tmp_path))
    assert result.returncode == 2
    assert "the timeline has no events in 2026-12-02" in result.stderr
