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


def test_an_unbuilt_pack_says_so():
    result = evaluate("--rules", "zce-futures", "--timeline",
                      str(EXAMPLES / "sse-options-small.jsonl"))
    assert result.returncode == 2 and "not built yet" in result.stderr
