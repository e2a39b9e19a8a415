"""`mmgw` as a real process, from the virtual environment's console script."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from adapters.refdata.loader import DEFAULT_CONFIG_DIR

MMGW = Path(sys.executable).with_name("mmgw")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(MMGW), *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_help_lists_the_commands():
    result = run("--help")
    assert result.returncode == 0
    assert "sim" in result.stdout
    sim = run("sim", "run", "--help")
    assert sim.returncode == 0 and "--seed" in sim.stdout and "--json" in sim.stdout


def test_sim_run_prints_one_json_object_with_its_digest():
    result = run("sim", "run", "--seed", "7", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["seed"] == 7 and summary["day"] == "2026-11-23"
    assert len(summary["digest"]) == 64
    assert summary["trades"] > 0


def test_a_non_trading_day_is_a_clear_error():
    result = run("sim", "run", "--day", "2026-11-22", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "--day: 2026-11-22 is not a trading day" in result.stderr


def test_a_bad_config_names_file_key_and_value(tmp_path):
    target = tmp_path / "configs"
    shutil.copytree(DEFAULT_CONFIG_DIR, target)
    sim = target / "sim.toml"
    sim.write_text(sim.read_text(encoding="utf-8").replace("vol = 0.18", "vol = -1"),
                   encoding="utf-8")
    result = run("--config-dir", str(target), "sim", "run", "--json")
    assert result.returncode == 2
    assert "sim.toml: underlyings.0.vol = -1" in result.stderr
