"""`mmgw demo`: a simulated trading day, end to end, compressed to a couple of minutes.

The simulator and the gateway run as separate processes (as `mmgw up` starts them) on the
file link for the whole trading day, from its first session (ZCE's night session, the evening
before) to the close, the stretches when every market is closed passed in no time; a progress
bar follows the exchange's clock. At the close the gateway is stopped and what it left is
checked the way an inspection would: the journal verified against its signed checkpoints, the
quote timeline exported from it, the obligations evaluated by each rule pack and the daily
reports written.

    RUN_DIR/journal.db ...        the journal, its checkpoints and public key
    RUN_DIR/exports/timeline.jsonl   the quote timeline (TIMELINE.md)
    RUN_DIR/reports/              the daily obligation reports (HTML and JSON per product)
    RUN_DIR/summary.json          what the summary printed
"""

import json
import time
from datetime import UTC, date, datetime, timezone
from pathlib import Path
from typing import Any

import msgspec
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.refdata.loader import (
    RULE_PACKS,
    Config,
    load_config,
    load_file,
    load_rule_pack,
)
from adapters.sim.day import venue_tz
from adapters.stepfile.server import Anchor
from gateway.desk import DeskConfig
from gateway.export import export_timeline
from gateway.journal import verify
from gateway.launcher import LaunchError, alive, down, status, up
from gateway.reports import EVALUATORS, reports_for_packs
from quoting.obligations.timeline import parse, restrict

SHORT_FROM, CLOSE = "14:00", "15:00"
# simulated seconds per wall second by link: over FIX the exchange's messages take a few tens
# of milliseconds to reach the gateway on two busy cores (p90 73-114 ms at 200x), and at 200x
# an RFQ's 15 s response time is 75 ms: half the answers came too late (in real time the
# link's round trip is 1.8 ms p50, bench/fix_link.py)
DEMO_SPEED = {"stepfile": 200.0, "fix": 100.0}


def _previous_aside(run: Path) -> Path | None:
    """A previous demo's directory is kept, renamed by its time, never overwritten."""
    if not run.exists() or not any(run.iterdir()):
        return None
    if (run / "processes.json").exists():
        raise LaunchError(f"{run} has processes of its own (mmgw down --run-dir {run} first)")
    stamp = datetime.fromtimestamp(run.stat().st_mtime, UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = run.with_name(f"{run.name}.{stamp}")
    run.rename(aside)
    return aside


def _anchor(run: Path) -> Anchor | None:
    try:
        return msgspec.json.decode((run / "link" / ".sim" / "anchor.json").read_bytes(),
                                   type=Anchor)
    except (OSError, msgspec.DecodeError):
        return None  # not written yet


def _sim_ns(run: Path) -> int | None:
    try:
        return json.loads((run / "link" / ".sim" / "status.json").read_text())["sim_ns"]
    except (OSError, ValueError, KeyError):
        return None  # not written yet, or being replaced


def _local_ns(day: date, hhmm: str, offset: timezone) -> int:
    hour, minute = (int(x) for x in hhmm.split(":"))
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=offset)
    return int(moment.timestamp()) * 1_000_000_000


def run_demo(run: Path, *, day: date, seed: int = 7, speed: float = 200.0,
             short: bool = False, requote_s: float = 0.05, quiet: bool = False,
             config_dir: Path | None = None, link: str = "stepfile") -> dict[str, Any]:
    config = load_config(config_dir)
    offset = venue_tz(config)
    start = SHORT_FROM if short else None  # None: the day's first session
    aside = _previous_aside(run)
    started_at = time.monotonic()
    # market data every 3 s of the exchange's time, as its level-1 snapshots come: the
    # pre-trade checks refuse a quote whose market data is stale
    up(run, seed=seed, speed=speed, start=start, day=f"{day:%Y-%m-%d}", requote_s=requote_s,
       config_dir=config_dir, ezsr_interval_s=max(3.0 / speed, 0.01), link=link)
    anchor = _anchor(run)  # written before the simulator logs the gateway on: `up` waited
    if anchor is None:
        raise LaunchError(f"the simulator wrote no {run / 'link' / '.sim' / 'anchor.json'}")
    first = anchor.sim0_ns
    opened = datetime.fromtimestamp(first / 1e9, offset)
    total = anchor.running_ns(_local_ns(day, CLOSE, offset))
    figures: dict[str, Any] = {}
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.fields[clock]}"), TimeElapsedColumn(),
                      disable=quiet) as progress:
            task = progress.add_task(f"{day} seed {seed}", total=total,
                                     clock=f"{opened:%m-%d %H:%M}")
            processes = json.loads((run / "processes.json").read_text())
            while alive(processes["simulator"]["pid"]):
                now = _sim_ns(run)
                if now is not None:
                    local = datetime.fromtimestamp(now / 1e9, offset)
                    progress.update(task, completed=min(max(anchor.running_ns(now), 0), total),
                                    clock=f"{local:%m-%d %H:%M:%S}")
                if not alive(processes["gateway"]["pid"]):
                    raise LaunchError("the gateway stopped during the day; see "
                                      f"{processes['gateway']['log']}")
                time.sleep(0.25)
            if not (run / "link" / "eztrans" / f"{day:%Y%m%d}").is_dir():
                raise LaunchError("the simulator stopped before the close (no end-of-day "
                                  f"files); see {processes['simulator']['log']}")
            progress.update(task, completed=total, clock=CLOSE)
        figures = status(run)  # the gateway's counts, once the exchange has closed
    finally:
        stopped = down(run)
    wall_s = time.monotonic() - started_at
    return _after_the_close(run, day, config, config_dir, figures, stopped, wall_s, aside,
                            speed, f"{opened:%Y-%m-%d %H:%M}" if start is None else start)


def _department(run: Path, figures: dict[str, Any]) -> dict[str, Any]:
    """The department risk process's day: alerts kept, prompts left waiting, the last P&L."""
    alerts = run / "risk" / "alerts.jsonl"
    started = [json.loads(line) for line in alerts.read_text().splitlines()
               if line] if alerts.exists() else []
    kinds: dict[str, int] = {}
    for alert in started:
        if alert["event"] == "started":
            kind = alert["key"].partition(":")[0]
            kinds[kind] = kinds.get(kind, 0) + 1
    summary = figures.get("department", {}).get("summary", {})
    return {"alerts": kinds, "prompts_waiting": len(figures.get("prompts", [])),
            "pnl_yuan": summary.get("pnl"), "maintenance_ratio": summary.get("maintenance_ratio")}


def _after_the_close(run: Path, day: date, config: Config, config_dir: Path | None,
                     figures: dict[str, Any], stopped: dict[str, str], wall_s: float,
                     aside: Path | None, speed: float, start: str) -> dict[str, Any]:
    offset = venue_tz(config)
    url = f"sqlite:///{run / 'journal.db'}"
    verdict = verify(url, run / "journal.checkpoints", run / "journal.pub")
    timeline_path = run / "exports" / "timeline.jsonl"
    lines = export_timeline(url, timeline_path, offset)
    with timeline_path.open("rb") as fh:
        timeline = parse(fh)
    desk = load_file((config_dir or config.root) / "desk.toml", DeskConfig)
    quoted = set(desk.products)  # the products the desk makes markets in
    packs = [load_rule_pack(name, config_dir) for name in RULE_PACKS]
    reports = reports_for_packs(timeline, packs, run / "reports", day=day, journal_url=url,
                                products=quoted)
    obligations: dict[str, Any] = {}
    for pack in packs:
        governed = restrict(timeline, pack.venue, pack.kinds)
        if governed.contracts:
            result = EVALUATORS[pack.name](governed, pack)
            for product, product_figures in result["products"].items():
                if product not in quoted:
                    continue
                obligations[f"{pack.name}:{product}"] = headline(pack.name, product_figures,
                                                                 day)
    counts = figures.get("counts", {})
    summary = {
        "day": day.isoformat(), "session": f"{start}-{CLOSE}", "speed": speed,
        "wall_s": round(wall_s, 1), "run_dir": str(run),
        "previous_run_moved_to": str(aside) if aside else None,
        "processes": stopped,
        "quotes": {"sent": counts.get("sent", 0), "accepted": counts.get("accepted", 0),
                   "rejected_by_exchange": figures.get("exchange_rejections", {}),
                   "refused_by_gate": figures.get("gate_refused_total", {})},
        "fills": counts.get("fills", 0),
        "link_rejects": counts.get("link_rejects", 0),
        "rfqs": {"received": counts.get("rfqs", 0), "answered": counts.get("rfq_answers", 0)},
        "obligations": obligations,
        "journal": {"verified": verdict.ok, "records": verdict.records,
                    "checkpoints": verdict.checkpoints, "problem": verdict.problem or None},
        "exports": {"timeline": str(timeline_path), "lines": lines},
        "reports": [str(p) for p in reports if p.suffix == ".html"]
        + [str(p) for p in sorted((run / "reports").glob("department-risk-*.html"))],
        "department_risk": _department(run, figures),
    }
    (run / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def headline(pack: str, figures: dict[str, Any], day: date) -> dict[str, Any]:
    """A product's indicators of the day against their thresholds, whatever the pack."""
    if pack == "sse-options":
        entry = figures.get("days", {}).get(day.isoformat(), {})
        return {key: entry.get(key) for key in ("continuous_participation", "coverage",
                                                "spread_ratio", "meets")
                if key in entry} | {"grade": figures.get("grade"),
                                    "rfq_response_rate": figures.get("rfq_response_rate")}
    if pack in ("zce-futures", "zce-options"):
        month = figures.get("months", {}).get(f"{day:%Y-%m}", {})
        out = {"contracts_meeting": month.get("meeting"), "contracts": month.get("contracts"),
               "valid_time_threshold": figures.get("threshold")}
        for key in ("response_ratio", "response_threshold"):
            if key in figures:
                out[f"rfq_{key}"] = figures[key]
        return out
    return {key: value for key, value in figures.items()
            if not isinstance(value, dict | list)}


def print_summary(summary: dict[str, Any]) -> None:
    quotes = summary["quotes"]
    print(f"day {summary['day']} ({summary['session']}) at {summary['speed']:g}x "
          f"in {summary['wall_s']} s; run directory {summary['run_dir']}")
    if summary["previous_run_moved_to"]:
        print(f"  (the previous demo's directory is kept as {summary['previous_run_moved_to']})")
    print(f"quotes    sent {quotes['sent']}, accepted by the exchange {quotes['accepted']}")
    for reason, n in sorted(quotes["rejected_by_exchange"].items()):
        print(f"          rejected by the exchange {n}: {reason}")
    if not quotes["rejected_by_exchange"]:
        print("          rejected by the exchange: none")
    refused = quotes["refused_by_gate"]
    print("          refused by the gate (contract x requote): "
          + (", ".join(f"{rule} {n}" for rule, n in sorted(refused.items())) or "none"))
    print(f"fills     {summary['fills']}")
    print(f"link      messages refused by either end: {summary['link_rejects'] or 'none'}"
          + (" (the journal's Reject events name each)" if summary["link_rejects"] else ""))
    rfqs = summary["rfqs"]
    print(f"RFQs      received {rfqs['received']}, answered {rfqs['answered']}")
    print("obligations (as the exchange computes them, for this day):")
    for name, figures in summary["obligations"].items():
        shown = ", ".join(f"{k} {_show(v)}" for k, v in figures.items())
        print(f"  {name:<24} {shown}")
    dept = summary["department_risk"]
    alerts = ", ".join(f"{k} {n}" for k, n in sorted(dept["alerts"].items())) or "none"
    pnl = "n/a" if dept["pnl_yuan"] is None else f"{dept['pnl_yuan']:,.0f} yuan"
    print(f"risk      department: P&L {pnl}, alerts {alerts}; "
          f"{dept['prompts_waiting']} prompts left unconfirmed")
    journal = summary["journal"]
    if journal["verified"]:
        print(f"journal   verified: {journal['records']} records, "
              f"{journal['checkpoints']} signed checkpoints")
    else:
        print(f"journal   FAILED verification: {journal['problem']}")
    print(f"exports   {summary['exports']['timeline']} ({summary['exports']['lines']} lines)")
    print(f"reports   {len(summary['reports'])} daily reports in "
          f"{Path(summary['run_dir']) / 'reports'}")


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
