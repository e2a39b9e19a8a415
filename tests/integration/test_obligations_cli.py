"""`mmgw obligations evaluate` as a process, on the worked examples."""

import json
import subprocess
from pathlib import Path

from tests.integration.linkkit import MMGW

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"


def evaluate(*args):
    return subprocess.run([str(MMGW), "obligations", "evaluate", *args], capture_output=True,
                          text=True, check=False)


def test_both_examples_evaluate_to_the_expected_json():
    for pack, name in (("sse-options", "sse-options-small"), ("bse-stocks", "bse-stocks-small")):
        result = evaluate("--rules", pack, "--timeline", str(EXAMPLES / f"{name}.jsonl"),
                          "--json")
        assert result.returncode == 0, result.stderr
        got = json.loads(result.stdout)
        expected = json.loads((EXAMPLES / f"{name}.expected.json").read_text())
        assert got["rules"] == expected["rules"]
        assert set(got["products"]) == set(expected["products"])


def test_a_malformed_timeline_names_the_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    lines = (EXAMPLES / "sse-options-small.jsonl").read_text().splitlines()
    lines[3] = lines[3].replace('"contract"', '"contrakt"')
    bad.write_text("\n".join(lines) + "\n")
    result = evaluate("--rules", "sse-options", "--timeline", str(bad), "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert "bad.jsonl: line 4: contract: missing required field" in result.stderr


def test_every_rule_pack_evaluates_its_timeline(tmp_path):
    # a ZCE futures day on one contract quoted at the agreement's maximum spread
    lines = [{"type": "contract", "contract": "SR701", "product": "SR", "venue": "ZCE",
              "kind": "future", "tick": 1}]
    for at, phase in (("08:55", "opening_auction"), ("09:00", "continuous"),
                      ("15:00", "closed")):
        lines.append({"ts": f"2026-12-01T{at}:00.000+08:00", "type": "phase", "product": "*",
                      "phase": phase})
    lines.insert(3, {"ts": "2026-12-01T09:00:00.000+08:00", "type": "quote",
                     "contract": "SR701", "bids": [[5400, 10]], "asks": [[5405, 10]]})
    path = tmp_path / "zce.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    result = evaluate("--rules", "zce-futures", "--timeline", str(path), "--json")
    assert result.returncode == 0, result.stderr
    month = json.loads(result.stdout)["products"]["SR"]["contracts"]["SR701"]["months"]
    assert month["2026-12"]["valid_time_ratio"] == 1.0
    for pack in ("sse-etf", "zce-options"):
        assert evaluate("--rules", pack, "--timeline", str(path), "--json").returncode == 0
