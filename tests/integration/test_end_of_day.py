"""A served day runs to its close and leaves the EzTrans files; the gateway's commands read
them: contracts by underlying, and reconciliation with a seeded mismatch."""

import json
import subprocess

from tests.integration.linkkit import MMGW, start_server, stop_server


def test_a_served_day_leaves_end_of_day_files_the_gateway_reads(tmp_path):
    server = start_server(tmp_path, speed="30", start="14:59:45")
    server.wait(timeout=60)
    err = stop_server(server)
    folder = tmp_path / "eztrans" / "20261123"
    assert "end-of-day files" in err
    assert (tmp_path / "ezsr" / "mktdt.txt").exists()

    contracts = subprocess.run(
        [str(MMGW), "eod", "contracts", "--reference", str(folder / "reference_20261124.csv"),
         "--underlying", "510300", "--json"], capture_output=True, text=True, check=False)
    assert contracts.returncode == 0, contracts.stderr
    listed = json.loads(contracts.stdout)["contracts"]
    assert len([c for c in listed if c["kind"] == "option"]) == 72

    balances = folder / "positions_20261123.csv"
    rows = balances.read_bytes().decode("gbk").splitlines()[1:-1]
    ours = {r.split(",")[1]: int(r.split(",")[5]) for r in rows if r.startswith("MM91,")}
    first = sorted(ours)[0]
    ours[first] += 1
    positions = tmp_path / "ours.json"
    positions.write_text(json.dumps(ours), encoding="utf-8")
    recon = subprocess.run(
        [str(MMGW), "eod", "reconcile", "--balances", str(balances), "--account", "MM91",
         "--positions", str(positions), "--json"], capture_output=True, text=True, check=False)
    assert recon.returncode == 1
    report = json.loads(recon.stdout)
    assert report["matched"] is False
    assert report["differences"] == [{"contract": first, "ours": ours[first],
                                      "exchange": ours[first] - 1, "diff": 1}]


def test_a_missing_reference_file_is_a_clear_error(tmp_path):
    result = subprocess.run(
        [str(MMGW), "eod", "contracts", "--reference", str(tmp_path / "nope.csv"),
         "--underlying", "510050"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "nope.csv: no such file" in result.stderr
