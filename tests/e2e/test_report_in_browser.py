"""The obligation report opens in a real browser (Debian's chromium) with its plots drawn."""

import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np

from tests.integration.linkkit import MMGW

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def test_the_daily_report_renders_with_its_plots(tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "chromium is installed by ops/install-browser.sh (make test runs it)"
    out = tmp_path / "reports"
    subprocess.run([str(MMGW), "report", "obligations", "--rules", "sse-options",
                    "--timeline", str(EXAMPLES / "sse-options-small.jsonl"), "--day",
                    "2026-12-01", "--out", str(out)], check=True, capture_output=True)
    page = out / "obligations-sse-options-588000-2026-12-01.html"
    shot = tmp_path / "page.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1000,2200", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = mpimg.imread(shot)[:, :, :3]
    # matplotlib's first colour (#1f77b4) draws the lines and bars: present only if the
    # embedded plots loaded and were painted
    blue = np.all(np.abs(pixels - np.array([0x1F, 0x77, 0xB4]) / 255) < 0.03, axis=2)
    red = (pixels[:, :, 0] > 0.8) & (pixels[:, :, 1] < 0.2) & (pixels[:, :, 2] < 0.2)
    assert blue.sum() > 20_000, blue.sum()
    assert red.sum() > 500  # the thresholds
    # and the page's text: the title is dark ink at the top
    assert (pixels[:80].mean(axis=2) < 0.3).sum() > 500
