"""Configurations for load drills: the repository's `configs/` with wider option chains on a
quiet market, so a kill or a failover drill runs against thousands of our quotes standing at
the exchange at once (`bench/kill.py`, the 2,000-quote kill test).

Quiet: no takers, no auction orders, no RFQs, and the simulated book and competitor stand
far from the theoretical value, so nothing trades against our quotes and they stay live.
Wide: `strikes_per_side` strikes each side of the money per month and type on the two SSE
ETF option chains (the 300ETF chain's codes moved up so the two chains' codes stay apart).
"""

import re
import shutil
from pathlib import Path


def quiet_wide_configs(source: Path, target: Path, strikes_per_side: int = 60) -> Path:
    """Copy `source` (a configs directory) to `target` and widen and quieten it there."""
    shutil.copytree(source, target, dirs_exist_ok=True)
    instruments = target / "instruments.toml"
    text = instruments.read_text(encoding="utf-8")
    text, n = re.subn(r"(product = \"(?:510050|510300)\"[\s\S]*?strikes_per_side = )\d+",
                      rf"\g<1>{strikes_per_side}", text)
    if n != 2:
        raise ValueError(f"{instruments}: expected the 510050 and 510300 chains, found {n}")
    text = text.replace("first_code = 10009501", "first_code = 10019001")
    instruments.write_text(text, encoding="utf-8")
    sim = target / "sim.toml"
    flow = {"taker_orders_per_hour": "0.0", "auction_orders": "0", "rfqs_per_hour": "0.0",
            "background_spread_ticks": "100000"}
    text = sim.read_text(encoding="utf-8")
    for key, value in flow.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        if n != 1:
            raise ValueError(f"{sim}: no {key} to set")
    sim.write_text(text, encoding="utf-8")
    # thousands of quotes at once: funds for every bid and short's margin, and collars that
    # let the deep in-the-money options' quotes stand
    risk = target / "risk.toml"
    text = risk.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^funds_yuan = .*$", "funds_yuan = 20_000_000_000", text)
    for product in ("510050", "510300"):
        text, m = re.subn(rf"(\[products\.{product}\]\n(?:.+\n)*?)max_notional_yuan = .*\n"
                          r"theo = .*\n", r"\g<1>max_notional_yuan = 100_000_000\n"
                          "theo = { ticks = 100000, fraction = 1.0 }\n", text)
        n += m
    if n != 3:
        raise ValueError(f"{risk}: funds and the two chains' limits not found ({n} of 3)")
    risk.write_text(text, encoding="utf-8")
    return target
