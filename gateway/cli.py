"""`mmgw`: the command line of the gateway, the simulator and the risk processes.

Every command has --help; with --json it prints one JSON object on stdout and nothing else.
Errors go to stderr with a non-zero exit code.
"""

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import msgspec

from gateway.logs import configure_logging


class CliError(Exception):
    """A user error: printed as one line on stderr, exit code 2."""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--day: {text!r} is not a date (YYYY-MM-DD)") from exc


def _run_options(parser: argparse.ArgumentParser, *, run_dir: str, speed: float | None,
                 speed_help: str | None = None) -> None:
    """What a run of the simulator and the gateway is started with."""
    parser.add_argument("--run-dir", type=Path, default=Path(run_dir))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=_day, default=None)
    parser.add_argument("--speed", type=float, default=speed,
                        help=f"simulated seconds per wall-clock second "
                             f"({speed_help or f'default {speed:g}'})")
    parser.add_argument("--link", choices=("stepfile", "fix"), default="stepfile",
                        help="the gateway trades over the EzSTEP-style file link (default) or "
                             "over FIX 4.4 through QuickFIX")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmgw", description="A market-maker gateway with built-in risk controls.")
    parser.add_argument("--config-dir", type=Path, default=None,
                        help="the configuration directory (default: the repository's configs/)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sim = commands.add_parser("sim", help="the exchange simulator")
    sim_commands = sim.add_subparsers(dest="sim_command", required=True, metavar="SIM_COMMAND")
    run = sim_commands.add_parser(
        "run", help="run one simulated trading day with simulated clients and summarise it",
        description="Run one simulated trading day (simulated time, as fast as it computes) "
                    "and print its summary with the SHA-256 digest of its event log: the same "
                    "seed gives the same digest.")
    run.add_argument("--seed", type=int, default=1, help="the random seed (default 1)")
    run.add_argument("--day", type=_day, default=None,
                     help="the trading day, YYYY-MM-DD (default: sim.toml's default_day)")
    run.add_argument("--record", type=Path, default=None,
                     help="write the simulated clients' flow to this JSONL file")
    run.add_argument("--replay", type=Path, default=None,
                     help="replay a recorded flow instead of simulating clients")
    run.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    run.set_defaults(handler=_sim_run)

    serve = sim_commands.add_parser(
        "serve", help="serve a simulated day over a link directory (the EzSTEP-style file link)",
        description="Serve one simulated trading day to a member over the file link in "
                    "--link-dir, in real time times --speed, with the EzSR market-data file and "
                    "the EzTrans end-of-day files. A restart with the same directory recovers "
                    "the day where it was.")
    serve.add_argument("--link-dir", type=Path, required=True, help="the link directory")
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--day", type=_day, default=None)
    serve.add_argument("--speed", type=float, default=1.0,
                       help="simulated seconds per wall-clock second (default 1)")
    serve.add_argument("--from", dest="from_time", default=None, metavar="HH:MM[:SS]",
                       help="start the clock at this local time of the day (default: the "
                            "day's first phase change); earlier events are run at once")
    serve.add_argument("--member", default="MM01", help="the member's CompID and account")
    serve.add_argument("--heartbeat-s", type=float, default=1.0)
    serve.add_argument("--cancel-on-disconnect", action="store_true",
                       help="cancel the member's quotes and orders when it logs out or falls "
                            "silent")
    serve.add_argument("--ezsr-interval-s", type=float, default=1.0,
                       help="rewrite the EzSR snapshot file every so many wall seconds")
    serve.add_argument("--fix-port", type=int, default=None,
                       help="also serve the member over FIX 4.4 on this port (SIM -> MM01, "
                            "with a drop-copy session SIM -> DROP)")
    serve.set_defaults(handler=_sim_serve)

    fixat = sim_commands.add_parser(
        "fix-at", help="the simulator's FIX acceptor in QuickFIX's acceptance-test mode",
        description="Listen on --port as the FIX 4.4 acceptor QuickFIX's acceptance tests "
                    "expect (ISLD -> TW44, ResetOnLogon, the standard data dictionary; "
                    "NewOrderSingle and SecurityDefinition echoed, other application "
                    "messages refused) until SIGTERM. Settings and logs go to --dir.")
    fixat.add_argument("--port", type=int, required=True)
    fixat.add_argument("--dir", type=Path, default=Path("run/fix-at"))
    fixat.set_defaults(handler=_sim_fix_at)

    gateway = commands.add_parser("gateway", help="the gateway process")
    gateway_commands = gateway.add_subparsers(dest="gateway_command", required=True,
                                              metavar="GATEWAY_COMMAND")
    grun = gateway_commands.add_parser(
        "run", help="run the gateway on a file link until stopped (SIGTERM)",
        description="Import the day's contracts from the link's reference file, connect the "
                    "file link, quote the products of configs/desk.toml through the gate, "
                    "journal everything in RUN_DIR and serve the control channel there.")
    grun.add_argument("--run-dir", type=Path, default=Path("run"))
    grun.add_argument("--link-dir", type=Path, required=True)
    grun.add_argument("--day", type=_day, default=None)
    grun.add_argument("--requote-s", type=float, default=1.0)
    grun.add_argument("--account", default="MM01")
    grun.add_argument("--link", choices=("stepfile", "fix"), default="stepfile",
                      help="trade over the file link or over FIX (market data from the "
                           "EzSR file either way)")
    grun.add_argument("--fix-host", default="127.0.0.1")
    grun.add_argument("--fix-port", type=int, default=None)
    grun.set_defaults(handler=_gateway_run)

    demo = commands.add_parser(
        "demo", help="a simulated trading day end to end, in a couple of minutes",
        description="Run the simulator and the gateway as separate processes for a whole "
                    "trading day (from ZCE's night session the evening before to the close; "
                    "the stretches when every market is closed pass in no time) at --speed "
                    "times real time, with a progress bar; then verify the journal, export "
                    "the quote timeline, evaluate the obligations and write the daily "
                    "reports, and print a summary. Everything stays in RUN_DIR; a previous "
                    "demo's directory is renamed aside, never overwritten.")
    _run_options(demo, run_dir="run/demo", speed=None,
                 speed_help="default 200 over the file link, 100 over FIX: at 200x a 15 s "
                            "RFQ response time is 75 ms of wall time, less than a FIX "
                            "session's delivery takes under load on two cores")
    demo.add_argument("--short", action="store_true",
                      help="the last hour of the day only (14:00 to the close), for CI")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.set_defaults(handler=_demo)

    up = commands.add_parser(
        "up", help="start the simulator and the gateway on loopback, in the background",
        description="Start `mmgw sim serve` and `mmgw gateway run` as separate processes on a "
                    "file link in RUN_DIR/link, with the journal, the control socket, the "
                    "tokens (RUN_DIR/control.tokens) and the logs in RUN_DIR. Returns once the "
                    "gateway answers on its control socket (with the simulator still running and "
                    "the gateway gone, it starts the gateway again: it recovers the day from "
                    "its journal and the link). `mmgw status` and `mmgw kill` "
                    "talk to it; `mmgw down` stops both.")
    _run_options(up, run_dir="run", speed=1.0)
    up.add_argument("--from", dest="from_time", default="09:30", metavar="HH:MM[:SS]",
                    help="the local time of day the simulated clock starts at (default 09:30)")
    up.add_argument("--requote-s", type=float, default=1.0)
    up.set_defaults(handler=_up)

    st = commands.add_parser(
        "status", help="what runs: processes, links, live quotes, kill switches, meters",
        description="Ask the gateway in RUN_DIR (as ops) and read the exchange's own count of "
                    "the member's live quotes; print processes, link states, live quotes on "
                    "both sides, kill switches and the live obligation meters.")
    st.add_argument("--run-dir", type=Path, default=Path("run"))
    st.add_argument("--json", action="store_true")
    st.set_defaults(handler=_status)

    dn = commands.add_parser("down", help="stop the gateway, then the simulator")
    dn.add_argument("--run-dir", type=Path, default=Path("run"))
    dn.set_defaults(handler=_down)

    kill = commands.add_parser(
        "kill", help="one-click cancel: stop quoting and cancel everything in a scope",
        description="Latch the kill switch for SCOPE (all, account:ID, product:CODE, "
                    "underlying:CODE or contract:ID): the gateway stops quoting there and "
                    "mass-cancels at the exchange, and answers once the exchange has confirmed "
                    "every cancel. --reducing latches REDUCING instead of HALTED: after the "
                    "cancel only quote sides that reduce a position go out. It stays latched "
                    "until `mmgw kill --reset`. Runs with the risk token of "
                    "RUN_DIR/control.tokens unless --token is given.")
    kill.add_argument("--run-dir", type=Path, default=Path("run"))
    kill.add_argument("--scope", default="all")
    kill.add_argument("--reason", required=True)
    kill.add_argument("--reset", action="store_true", help="release the switch instead")
    kill.add_argument("--reducing", action="store_true",
                      help="latch REDUCING (only risk-reducing quote sides) instead of HALTED")
    kill.add_argument("--token", default=None)
    kill.add_argument("--json", action="store_true")
    kill.set_defaults(handler=_kill)

    risk = commands.add_parser("risk", help="the department risk process, its prompts and "
                                             "its report")
    risk_commands = risk.add_subparsers(dest="risk_command", required=True,
                                        metavar="RISK_COMMAND")
    dept = risk_commands.add_parser(
        "department", help="run the department risk process until stopped (SIGTERM)",
        description="Subscribe to the gateway's event stream in RUN_DIR and watch the book: "
                    "Greeks per contract, underlying and in total, inventory, P&L, margin and "
                    "the maintenance ratio, expiry, pin and overnight risk, exercise cover, "
                    "quotes a second and notional, BSE indicators, against configs/risk.toml's "
                    "[department] levels. Writes RUN_DIR/risk/department.json and alerts.jsonl, "
                    "tells the gateway every alert (a measure becomes a prompt to confirm) and "
                    "writes the day's report to RUN_DIR/reports when it stops.")
    dept.add_argument("--run-dir", type=Path, default=Path("run"))
    dept.add_argument("--link-dir", type=Path, default=None,
                      help="the link directory the reference data is read from "
                           "(default RUN_DIR/link)")
    dept.add_argument("--day", type=_day, default=None)
    dept.add_argument("--token", default=None,
                      help="default: the department's (else a risk) token of control.tokens")
    dept.set_defaults(handler=_risk_department)
    for name, help_text in (("confirm", "run the preset measure of a pending prompt"),
                            ("dismiss", "close a pending prompt without its measure")):
        cmd = risk_commands.add_parser(name, help=help_text)
        cmd.add_argument("prompt", help="the prompt's id, e.g. P1 (mmgw risk prompts)")
        cmd.add_argument("--reason", required=True)
        cmd.add_argument("--run-dir", type=Path, default=Path("run"))
        cmd.add_argument("--token", default=None, help="default: the risk token")
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(handler=_risk_prompt, confirm=name == "confirm")
    prompts = risk_commands.add_parser("prompts", help="the prompts waiting for confirmation")
    prompts.add_argument("--run-dir", type=Path, default=Path("run"))
    prompts.add_argument("--json", action="store_true")
    prompts.set_defaults(handler=_risk_prompts)
    report = risk_commands.add_parser(
        "report", help="write the department risk report now (HTML and JSON)")
    report.add_argument("--run-dir", type=Path, default=Path("run"))
    report.add_argument("--out", type=Path, default=None, help="default: RUN_DIR/reports")
    report.add_argument("--json", action="store_true")
    report.set_defaults(handler=_risk_report)

    price = commands.add_parser(
        "price", help="option price and Greeks, or the implied volatility of a premium",
        description="Price a European option (Black-Scholes-Merton with carry, or Black-76 on "
                    "a future: then --spot is the futures price) and print price, delta, gamma, "
                    "vega (per 1.00 vol), theta (per year) and rho (per 1.00 rate); with "
                    "--premium instead of --vol, the implied volatility and the Greeks at it.")
    price.add_argument("--model", choices=("bs", "black76"), default="bs")
    price.add_argument("--spot", type=float, required=True,
                       help="the underlying's price (the futures price for black76)")
    price.add_argument("--strike", type=float, required=True)
    price.add_argument("--years", type=float, required=True, help="time to expiry in years")
    given = price.add_mutually_exclusive_group(required=True)
    given.add_argument("--vol", type=float, help="volatility, e.g. 0.2 for 20%%")
    given.add_argument("--premium", type=float, help="an option price to imply the vol from")
    price.add_argument("--rate", type=float, required=True, help="continuous risk-free rate")
    price.add_argument("--carry", type=float, default=0.0,
                       help="continuous dividend yield / carry (bs only)")
    side = price.add_mutually_exclusive_group(required=True)
    side.add_argument("--call", action="store_true")
    side.add_argument("--put", action="store_true")
    price.add_argument("--json", action="store_true")
    price.set_defaults(handler=_price)

    obligations = commands.add_parser(
        "obligations", help="the exchanges' market-maker evaluation of a quote timeline")
    ob_commands = obligations.add_subparsers(dest="ob_command", required=True,
                                             metavar="OBLIGATIONS_COMMAND")
    evaluate = ob_commands.add_parser(
        "evaluate", help="evaluate a quote timeline (TIMELINE.md) under a rule pack",
        description="Compute every indicator of a rule pack over a quote timeline, as the "
                    "exchange computes it, and print the figures (one JSON object with --json).")
    evaluate.add_argument("--rules", required=True, metavar="PACK",
                          help="sse-options, bse-stocks, sse-etf, zce-futures or zce-options")
    evaluate.add_argument("--timeline", type=Path, required=True)
    evaluate.add_argument("--peer-volume", type=Decimal, default=None,
                          help="sse-options: the primary market makers' average volume, for "
                               "the volume adjustment of the grade")
    evaluate.add_argument("--letters", type=int, default=0,
                          help="sse-options: written supervision letters in the period")
    evaluate.add_argument("--annual", action="store_true",
                          help="sse-options: grade each month and fold them into the year")
    evaluate.add_argument("--peers", type=Path, default=None,
                          help="bse-stocks: JSON with the market makers per stock, the other "
                               "makers' stock counts and turnovers, and supervision, for the "
                               "quarterly score")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(handler=_obligations_evaluate)

    report = commands.add_parser("report", help="reports the exchanges and the desk expect")
    report_commands = report.add_subparsers(dest="report_command", required=True,
                                            metavar="REPORT")
    ob_report = report_commands.add_parser(
        "obligations", help="the daily or monthly obligation report per underlying",
        description="Write an HTML page with plots and a JSON of the figures per product for a "
                    "day or a month of a quote timeline.")
    ob_report.add_argument("--rules", default=None, metavar="PACK",
                           help="one rule pack (default: every pack that governs a contract "
                                "of the timeline)")
    source = ob_report.add_mutually_exclusive_group(required=True)
    source.add_argument("--timeline", type=Path, help="a quote timeline (TIMELINE.md)")
    source.add_argument("--run-dir", type=Path, help="a run directory: its journal")
    period = ob_report.add_mutually_exclusive_group(required=True)
    period.add_argument("--day", type=_day)
    period.add_argument("--month", metavar="YYYY-MM")
    ob_report.add_argument("--out", type=Path, default=Path("run/reports"))
    ob_report.add_argument("--json", action="store_true")
    ob_report.set_defaults(handler=_report_obligations)

    journal = commands.add_parser("journal", help="the tamper-evident audit journal")
    journal_commands = journal.add_subparsers(dest="journal_command", required=True,
                                              metavar="JOURNAL_COMMAND")
    verify = journal_commands.add_parser(
        "verify", help="recompute the hash chain and check the signed checkpoints",
        description="Recompute the journal's hash chain from its first record and check every "
                    "signed checkpoint; name the first record that was changed, deleted, "
                    "inserted or moved, or the tail that was cut off. Exit 1 when it fails.")
    verify.add_argument("--run-dir", type=Path, default=Path("run"))
    verify.add_argument("--db", default=None,
                        help="a SQLAlchemy URL (default: sqlite:///RUN_DIR/journal.db)")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=_journal_verify)
    export = journal_commands.add_parser(
        "export", help="write the journal's quote timeline (TIMELINE.md)")
    export.add_argument("--run-dir", type=Path, default=Path("run"))
    export.add_argument("--db", default=None,
                        help="a SQLAlchemy URL (default: sqlite:///RUN_DIR/journal.db)")
    export.add_argument("--timeline", type=Path, required=True)
    export.set_defaults(handler=_journal_export)

    eod = commands.add_parser("eod", help="the exchange's end-of-day (EzTrans) files")
    eod_commands = eod.add_subparsers(dest="eod_command", required=True, metavar="EOD_COMMAND")
    contracts = eod_commands.add_parser(
        "contracts", help="import the contracts on one underlying from a reference file")
    contracts.add_argument("--reference", type=Path, required=True)
    contracts.add_argument("--underlying", required=True)
    contracts.add_argument("--json", action="store_true")
    contracts.set_defaults(handler=_eod_contracts)
    recon = eod_commands.add_parser(
        "reconcile", help="reconcile our positions against the exchange's balance file")
    recon.add_argument("--balances", type=Path, required=True, help="positions_<day>.csv")
    recon.add_argument("--account", required=True)
    recon.add_argument("--positions", type=Path, required=True,
                       help='our positions as JSON: {"<contract>": <net quantity>, ...}')
    recon.add_argument("--json", action="store_true")
    recon.set_defaults(handler=_eod_reconcile)
    return parser


def _gateway_run(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415
    import signal  # noqa: PLC0415

    import structlog  # noqa: PLC0415
    import uvloop  # noqa: PLC0415

    from adapters.eztrans.files import read_reference  # noqa: PLC0415
    from adapters.fix.link import FixLink  # noqa: PLC0415
    from adapters.refdata.loader import load_file, load_rule_pack  # noqa: PLC0415
    from adapters.sim.day import venue_tz  # noqa: PLC0415
    from adapters.stepfile.link import StepFileLink  # noqa: PLC0415
    from core.clock import RealClock  # noqa: PLC0415
    from gateway.desk import DeskConfig, ProductSetup, close_ns  # noqa: PLC0415
    from gateway.journal import Journal  # noqa: PLC0415
    from risk.limits import RiskConfig  # noqa: PLC0415

    config, calendar, day = _load(args)
    reference = args.link_dir / "eztrans" / f"reference_{day:%Y%m%d}.csv"
    if not reference.exists():
        raise CliError(f"--link-dir: no reference file {reference} (start the exchange first)")
    instruments = read_reference(reference)
    desk = load_file((args.config_dir or config.root) / "desk.toml", DeskConfig)
    risk = load_file((args.config_dir or config.root) / "risk.toml", RiskConfig)
    if risk.account != args.account:
        raise CliError(f"--account: {args.account} is not the dedicated market-making account "
                       f"{risk.account} of risk.toml")
    setups = {product: ProductSetup(load_rule_pack(p.pack, args.config_dir), p.model,
                                    p.width_ticks, p.size)
              for product, p in desk.products.items()}
    run = args.run_dir
    run.mkdir(parents=True, exist_ok=True)
    if not (run / "control.tokens").exists():
        raise CliError(f"--run-dir: no control.tokens in {run} (mmgw up writes it)")
    clock = RealClock()
    url = f"sqlite:///{run / 'journal.db'}"
    journal = Journal(url, run / "journal.checkpoints",
                      run / "journal.key")
    holder: list = []  # the gateway, once built: the link tells it each record's place

    def on_record(role: str, seq: int) -> None:
        holder[0].note_record(role, seq)

    ticks = {i.instrument_id: i.tick for i in instruments}
    link: StepFileLink | FixLink
    if args.link == "fix":
        if args.fix_port is None:
            raise CliError("--fix-port: the FIX link needs the exchange's port")
        link = FixLink(run / "fix", args.fix_host, args.fix_port, ticks, clock,
                       snapshot_dir=args.link_dir / "ezsr",
                       config=_fix_config(args.config_dir or config.root),
                       venues={i.instrument_id: i.venue.value for i in instruments})
    else:
        link = StepFileLink(args.link_dir, ticks, clock, member=args.account,
                            consumer="gateway", on_record=on_record)
        link.forget_positions()  # the journal, not the link, says where to resume

    async def main() -> None:
        from gateway.process import Gateway  # noqa: PLC0415

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        gateway = Gateway(run_dir=run, link=link, instruments=instruments, setups=setups,
                          offset=venue_tz(config), journal=journal, clock=clock, risk=risk,
                          settled_ns=close_ns(calendar.previous_trading_day(day),
                                              venue_tz(config)),
                          account=args.account, requote_s=args.requote_s)
        holder.append(gateway)
        recovered = gateway.recover(url)  # an earlier run of the day, if there was one
        link.resume_after(recovered["resume"])
        if recovered["events"]:
            structlog.get_logger("gateway").warning("recovered_from_journal", **recovered)
        await gateway.run(stop)

    uvloop.run(main())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from gateway.demo import DEMO_SPEED, print_summary, run_demo  # noqa: PLC0415

    speed = DEMO_SPEED[args.link] if args.speed is None else args.speed
    if speed <= 0:
        raise CliError(f"--speed: {speed} must be above zero")
    _, _, day = _load(args)
    summary = run_demo(args.run_dir, day=day, seed=args.seed, speed=speed,
                       short=args.short, quiet=args.json, config_dir=args.config_dir,
                       link=args.link)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
    return 0 if summary["journal"]["verified"] else 1


def _up(args: argparse.Namespace) -> int:
    from gateway.launcher import up  # noqa: PLC0415

    started = up(args.run_dir, seed=args.seed, speed=args.speed, start=args.from_time,
                 day=f"{args.day:%Y-%m-%d}" if args.day else None, requote_s=args.requote_s,
                 config_dir=args.config_dir, link=args.link)
    for name, proc in started.items():
        print(f"{name:<10} pid {proc['pid']:<8} log {proc['log']}")
    print(f"up: mmgw status --run-dir {args.run_dir}; mmgw down --run-dir {args.run_dir}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from gateway.launcher import status  # noqa: PLC0415

    if not (args.run_dir / "processes.json").exists() and not (
            args.run_dir / "control.sock").exists():
        raise CliError(f"--run-dir: nothing runs in {args.run_dir} (mmgw up --run-dir "
                       f"{args.run_dir} starts it)")
    figures = status(args.run_dir)
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))
        return 0
    for name, proc in figures["processes"].items():
        print(f"{name:<10} pid {proc['pid']:<8} {'running' if proc['alive'] else 'STOPPED'}")
    if "gateway_error" in figures:
        print(f"gateway    not answering: {figures['gateway_error']}")
    for name, state in figures["links"].items():
        print(f"link       {name}: {state}")
    live = figures["live_quotes"]
    print(f"quotes     live at the gateway {live['gateway']}, at the exchange {live['exchange']}")
    print(f"quoting    {figures.get('quoting')}"
          + (f" (stopped: {figures['stopped_because']})" if figures.get("stopped_because")
             else ""))
    for scope, state in figures["kill"].items():
        print(f"kill       {scope}: {state}")
    for name, reading in figures["meters"].items():
        print(f"meter      {name}: participation {_figure(reading['continuous_participation'])}"
              f", coverage {_figure(reading['coverage_now'])} of "
              f"{_figure(reading['coverage_required'])} required"
              f", RFQs answered {_figure(reading['rfq_response_rate'])}")
    return 0


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _down(args: argparse.Namespace) -> int:
    from gateway.launcher import down  # noqa: PLC0415

    result = down(args.run_dir)
    if not result:
        print(f"nothing was running in {args.run_dir}")
    for name, outcome in result.items():
        print(f"{name:<10} {outcome}")
    return 0


def _kill(args: argparse.Namespace) -> int:
    from gateway.control import Kill, KillReset, request  # noqa: PLC0415
    from gateway.launcher import token_for  # noqa: PLC0415

    # the kill line: its own thread in the gateway, answering while the engine is stuck
    sock = args.run_dir / "kill.sock"
    if not sock.exists():
        raise CliError(f"--run-dir: no gateway kill line (kill.sock) in {args.run_dir}")
    token = args.token or token_for(args.run_dir, "risk")
    body = (KillReset(scope=args.scope, reason=args.reason) if args.reset else
            Kill(scope=args.scope, reason=args.reason,
                 state="REDUCING" if args.reducing else "HALTED"))
    response = request(sock, token, body, timeout_s=10)
    if args.json:
        print(json.dumps({"ok": response.ok, "actor": response.actor, "error": response.error}
                         | (response.result or {}), indent=2))
    elif response.ok:
        print(f"{'released' if args.reset else 'killed'} {args.scope} as {response.actor}: "
              f"{response.result}")
    else:
        sys.stderr.write(f"mmgw: refused: {response.error}\n")
    return 0 if response.ok else 3


def _risk_department(args: argparse.Namespace) -> int:
    import asyncio  # noqa: PLC0415
    import signal  # noqa: PLC0415

    import uvloop  # noqa: PLC0415

    from adapters.eztrans.files import read_reference  # noqa: PLC0415
    from adapters.refdata.loader import load_file  # noqa: PLC0415
    from adapters.sim.day import venue_tz  # noqa: PLC0415
    from gateway.control import load_tokens  # noqa: PLC0415
    from gateway.department import Department  # noqa: PLC0415
    from risk.limits import RiskConfig  # noqa: PLC0415

    config, _, day = _load(args)
    link_dir = args.link_dir or args.run_dir / "link"
    reference = link_dir / "eztrans" / f"reference_{day:%Y%m%d}.csv"
    if not reference.exists():
        raise CliError(f"--link-dir: no reference file {reference} (start the exchange first)")
    tokens = args.run_dir / "control.tokens"
    if args.token is None and not tokens.exists():
        raise CliError(f"--run-dir: no control.tokens in {args.run_dir} (mmgw up writes it)")
    token = args.token or next(
        (t for t, i in sorted(load_tokens(tokens).items(), key=lambda kv: kv[1].actor
                              != "department") if i.role == "risk"), None)
    if token is None:
        raise CliError(f"--token: no risk token in {tokens}")
    risk = load_file((args.config_dir or config.root) / "risk.toml", RiskConfig)
    department = Department(args.run_dir, risk, read_reference(reference), venue_tz(config),
                            token)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGINT, stop.set)
        await department.run(stop)

    uvloop.run(main())
    return 0


def _risk_prompt(args: argparse.Namespace) -> int:
    from gateway.control import Confirm, Dismiss  # noqa: PLC0415

    body = (Confirm if args.confirm else Dismiss)(prompt=args.prompt, reason=args.reason)
    return _answer(args, body, args.json)


def _risk_prompts(args: argparse.Namespace) -> int:
    from gateway.control import Status, request  # noqa: PLC0415
    from gateway.launcher import token_for  # noqa: PLC0415

    response = request(_control_sock(args.run_dir), token_for(args.run_dir, "risk"), Status())
    prompts = (response.result or {}).get("prompts", [])
    if args.json:
        print(json.dumps(prompts, indent=2))
        return 0
    if not prompts:
        print("no prompt waits for confirmation")
    for p in prompts:
        print(f"{p['id']:<5} {p['measure']:<12} {p['scope']:<22} {p['message']}")
    return 0


def _risk_report(args: argparse.Namespace) -> int:
    from gateway.riskreport import ReportError, write_report  # noqa: PLC0415

    try:
        paths = write_report(args.run_dir / "risk" / "department.json",
                             args.out or args.run_dir / "reports")
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    if args.json:
        print(json.dumps({k: str(v) for k, v in paths.items()}))
    else:
        for path in paths.values():
            print(path)
    return 0


def _control_sock(run_dir: Path) -> Path:
    sock = run_dir / "control.sock"
    if not sock.exists():
        raise CliError(f"--run-dir: no gateway control socket in {run_dir}")
    return sock


def _answer(args: argparse.Namespace, body: object, as_json: bool) -> int:
    from gateway.control import request  # noqa: PLC0415
    from gateway.launcher import token_for  # noqa: PLC0415

    response = request(_control_sock(args.run_dir), args.token or token_for(args.run_dir,
                                                                             "risk"), body)
    if as_json:
        print(json.dumps({"ok": response.ok, "actor": response.actor, "error": response.error}
                         | (response.result or {}), indent=2))
    elif response.ok:
        print(json.dumps(response.result))
    else:
        sys.stderr.write(f"mmgw: refused: {response.error}\n")
    return 0 if response.ok else 3


def _price(args: argparse.Namespace) -> int:
    import math  # noqa: PLC0415

    from quoting.models.black import black76, bsm, implied_vol  # noqa: PLC0415

    for name in ("spot", "strike"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise CliError(f"--{name}: {value} must be a positive number")
    if not (math.isfinite(args.years) and args.years >= 0):
        raise CliError(f"--years: {args.years} must be zero or more")
    if args.model == "black76" and args.carry:
        raise CliError("--carry: black76 prices an option on a future, which has no carry")
    is_call = bool(args.call)
    vol = args.vol
    out: dict[str, object] = {"model": args.model}
    if args.premium is not None:
        if args.years <= 0:
            raise CliError("--years: an implied volatility needs time to expiry")
        carry = args.carry if args.model == "bs" else args.rate
        forward = args.spot * math.exp((args.rate - carry) * args.years)
        found = implied_vol(args.premium, forward, args.strike, args.years,
                            math.exp(-args.rate * args.years), is_call)
        if found.reason[()]:
            raise CliError(f"--premium: {args.premium}: {found.reason[()]}")
        vol = float(found.vol[()])
        out["implied_vol"] = vol
    elif not (math.isfinite(vol) and vol >= 0):
        raise CliError(f"--vol: {vol} must be zero or more")
    if args.model == "bs":
        greeks = bsm(args.spot, args.strike, args.years, vol, args.rate, args.carry, is_call)
    else:
        greeks = black76(args.spot, args.strike, args.years, vol, args.rate, is_call)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho"):
        out[name] = float(getattr(greeks, name)[()])
    if args.json:
        sys.stdout.write(msgspec.json.encode(out).decode() + "\n")
    else:
        for key, value in out.items():
            sys.stdout.write(f"{key:>12}: {value}\n")
    return 0


def _obligations_evaluate(args: argparse.Namespace) -> int:
    from adapters.refdata.loader import RULE_PACKS, load_rule_pack  # noqa: PLC0415
    from quoting.obligations import bse_stocks, sse_etf, sse_options, zce  # noqa: PLC0415
    from quoting.obligations.fast import evaluate_bytes  # noqa: PLC0415
    from quoting.obligations.timeline import parse, restrict, split_by_month  # noqa: PLC0415

    if args.rules not in RULE_PACKS:
        raise CliError(f"--rules: {args.rules!r} is not one of {', '.join(RULE_PACKS)}")
    if args.letters < 0:
        raise CliError(f"--letters: {args.letters} must be zero or more")
    pack = load_rule_pack(args.rules, args.config_dir)
    try:
        data = args.timeline.read_bytes()
    except OSError as exc:
        raise CliError(f"--timeline: {exc}") from exc
    try:
        if args.rules != "bse-stocks" and not args.annual and args.letters == 0 \
                and args.peer_volume is None:
            result = evaluate_bytes(data, pack)  # the fast path for large timelines
            return _print_evaluation(result, args.json)
        timeline = restrict(parse(data.splitlines()), pack.venue, pack.kinds)
    except ValueError as exc:
        raise CliError(f"{args.timeline}: {exc}") from exc
    if args.rules == "bse-stocks":
        peers = None
        if args.peers is not None:
            try:
                peers = msgspec.json.decode(args.peers.read_bytes(), type=bse_stocks.Peers)
            except (OSError, msgspec.DecodeError) as exc:
                raise CliError(f"--peers: {args.peers}: {exc}") from exc
        result = bse_stocks.evaluate(timeline, pack, peers)
    elif args.rules in ("zce-futures", "zce-options"):
        result = zce.evaluate(timeline, pack)
    elif args.rules == "sse-etf":
        result = sse_etf.evaluate(timeline, pack)
    elif args.annual:
        months = {m: sse_options.evaluate(part, pack, peer_volume=args.peer_volume)
                  for m, part in split_by_month(timeline).items()}
        products = sorted({p for r in months.values() for p in r["products"]})
        result = {"rules": pack.name, "products": {}}
        for product in products:
            monthly = {m: r["products"][product]["grade"] for m, r in months.items()
                       if product in r["products"]}
            result["products"][product] = {
                "months": monthly,
                "annual_grade": sse_options.annual_grade(list(monthly.values()),
                                                         letters=args.letters)}
    else:
        result = sse_options.evaluate(timeline, pack, peer_volume=args.peer_volume,
                                      letters=args.letters)
    return _print_evaluation(result, args.json)


def _print_evaluation(result: dict, as_json: bool) -> int:
    if as_json:
        sys.stdout.write(msgspec.json.encode(result).decode() + "\n")
    else:
        for product, figures in result["products"].items():
            sys.stdout.write(f"{product}\n")
            for key, value in figures.items():
                if key not in ("days", "months", "contracts"):
                    sys.stdout.write(f"  {key}: {value}\n")
    return 0


def _report_obligations(args: argparse.Namespace) -> int:
    import re  # noqa: PLC0415

    from adapters.refdata.loader import RULE_PACKS, load_rule_pack  # noqa: PLC0415
    from gateway.reports import ReportError, reports_for_packs  # noqa: PLC0415
    from quoting.obligations.timeline import parse  # noqa: PLC0415

    if args.rules is not None and args.rules not in RULE_PACKS:
        raise CliError(f"--rules: {args.rules!r} is not one of {', '.join(RULE_PACKS)}")
    if args.month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        raise CliError(f"--month: {args.month!r} is not YYYY-MM")
    journal_url = None
    source = args.timeline
    if args.run_dir is not None:
        from adapters.refdata.loader import load_config  # noqa: PLC0415
        from adapters.sim.day import venue_tz  # noqa: PLC0415
        from gateway.export import export_timeline  # noqa: PLC0415

        if not (args.run_dir / "journal.db").exists():
            raise CliError(f"--run-dir: no journal.db in {args.run_dir}")
        journal_url = f"sqlite:///{args.run_dir / 'journal.db'}"
        source = args.out / "timeline.jsonl"
        export_timeline(journal_url, source, venue_tz(load_config(args.config_dir)))
    try:
        with source.open("rb") as fh:
            timeline = parse(fh)
    except OSError as exc:
        raise CliError(f"--timeline: {exc}") from exc
    except ValueError as exc:
        raise CliError(f"{source}: {exc}") from exc
    names = [args.rules] if args.rules else list(RULE_PACKS)
    packs = [load_rule_pack(name, args.config_dir) for name in names]
    try:
        written = reports_for_packs(timeline, packs, args.out, day=args.day, month=args.month,
                                    journal_url=journal_url)
    except ReportError as exc:
        raise CliError(str(exc)) from exc
    if not written:
        raise CliError("no rule pack governs a contract of this timeline")
    if args.json:
        sys.stdout.write(msgspec.json.encode({"files": [str(p) for p in written]}).decode()
                         + "\n")
    else:
        for path in written:
            sys.stdout.write(f"{path}\n")
    return 0


def _journal_verify(args: argparse.Namespace) -> int:
    from gateway.journal import verify  # noqa: PLC0415

    run = args.run_dir
    url = args.db or f"sqlite:///{run / 'journal.db'}"
    if args.db is None and not (run / "journal.db").exists():
        raise CliError(f"--run-dir: no journal.db in {run}")
    public_key = run / "journal.pub"
    if not public_key.exists():
        raise CliError(f"--run-dir: no journal.pub in {run} to check the checkpoints with")
    verdict = verify(url, run / "journal.checkpoints", public_key)
    if args.json:
        sys.stdout.write(msgspec.json.encode({
            "ok": verdict.ok, "records": verdict.records, "checkpoints": verdict.checkpoints,
            "problem": verdict.problem or None, "record": verdict.seq}).decode() + "\n")
    elif verdict.ok:
        sys.stdout.write(f"journal verified: {verdict.records} records, "
                         f"{verdict.checkpoints} signed checkpoints\n")
    else:
        sys.stdout.write(f"journal FAILED verification: {verdict.problem}\n")
    return 0 if verdict.ok else 1


def _journal_export(args: argparse.Namespace) -> int:
    from adapters.refdata.loader import load_config  # noqa: PLC0415
    from adapters.sim.day import venue_tz  # noqa: PLC0415
    from gateway.export import export_timeline  # noqa: PLC0415

    if args.db is None and not (args.run_dir / "journal.db").exists():
        raise CliError(f"--run-dir: no journal.db in {args.run_dir}")
    url = args.db or f"sqlite:///{args.run_dir / 'journal.db'}"
    lines = export_timeline(url, args.timeline, venue_tz(load_config(args.config_dir)))
    sys.stderr.write(f"mmgw: {lines} timeline lines in {args.timeline}\n")
    return 0


def _eod_contracts(args: argparse.Namespace) -> int:
    from adapters.eztrans.files import import_contracts, reference_row  # noqa: PLC0415

    found = import_contracts(args.reference, args.underlying)
    if not found:
        raise CliError(f"--underlying: no contract on {args.underlying!r} in {args.reference}")
    rows = [reference_row(i) for i in found]
    if args.json:
        payload = {"underlying": args.underlying, "contracts": rows}
        sys.stdout.write(msgspec.json.encode(payload).decode() + "\n")
    else:
        for row in rows:
            sys.stdout.write(f"{row['contract_code']:>12} {row['trading_code']:<20} "
                             f"{row['call_put']:<4} {row['strike']!s:>8} {row['expiry']}\n")
    return 0


def _eod_reconcile(args: argparse.Namespace) -> int:
    from adapters.eztrans.files import reconcile  # noqa: PLC0415

    try:
        ours = msgspec.json.decode(args.positions.read_bytes(), type=dict[str, int])
    except (OSError, msgspec.DecodeError) as exc:
        raise CliError(f"--positions: {args.positions}: {exc}") from exc
    differences = reconcile(ours, args.balances, args.account)
    if args.json:
        payload = {"account": args.account, "matched": not differences,
                   "differences": [{"contract": d.contract, "ours": d.ours,
                                    "exchange": d.exchange, "diff": d.diff}
                                   for d in differences]}
        sys.stdout.write(msgspec.json.encode(payload).decode() + "\n")
    else:
        for d in differences:
            sys.stdout.write(f"{d.contract}: ours {d.ours}, exchange {d.exchange}, "
                             f"difference {d.diff:+d}\n")
        sys.stdout.write(f"{len(differences)} difference(s)\n")
    return 1 if differences else 0


def _load(args: argparse.Namespace):
    from adapters.refdata.calendars import build_calendar  # noqa: PLC0415 (slow imports)
    from adapters.refdata.loader import load_config  # noqa: PLC0415

    config = load_config(args.config_dir)
    calendar = build_calendar(config.holidays)
    day = args.day or config.sim.default_day
    if not calendar.is_trading_day(day):
        raise CliError(f"--day: {day.isoformat()} is not a trading day")
    return config, calendar, day


def _fix_config(root: Path):
    """configs/fix.toml (the defaults where a configuration directory has none)."""
    from adapters.fix.settings import FixConfig  # noqa: PLC0415
    from adapters.refdata.loader import load_file  # noqa: PLC0415

    path = root / "fix.toml"
    return load_file(path, FixConfig) if path.exists() else FixConfig()


def _sim_fix_at(args: argparse.Namespace) -> int:
    import signal  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from adapters.fix.at import acceptor  # noqa: PLC0415

    if not 0 < args.port < 65536:
        raise CliError(f"--port: {args.port} is not a TCP port")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = acceptor(args.port, args.dir)
    server.start()
    print(f"listening on {args.port}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    return 0


def _sim_serve(args: argparse.Namespace) -> int:
    import signal  # noqa: PLC0415

    from adapters.ezsr.snapshot import SNAPSHOT_FILE, SnapshotWriter  # noqa: PLC0415
    from adapters.eztrans.files import write_end_of_day, write_reference  # noqa: PLC0415
    from adapters.sim.day import idle_stretches, prepare_day, venue_tz  # noqa: PLC0415
    from adapters.stepfile.server import StepFileServer, load_anchor, serve  # noqa: PLC0415
    from core.calendar import local_ns  # noqa: PLC0415

    config, calendar, day = _load(args)
    if args.speed <= 0:
        raise CliError(f"--speed: {args.speed} must be positive")
    sim_day = prepare_day(config, calendar, day, args.seed)
    start_ns = sim_day.start_ns
    if args.from_time is not None:
        try:
            start_ns = local_ns(day, args.from_time, venue_tz(config))
        except ValueError as exc:
            raise CliError(f"--from: {args.from_time!r} is not HH:MM[:SS]") from exc
    anchor = load_anchor(args.link_dir, day.isoformat(), args.seed, args.speed, start_ns,
                         idle_stretches(sim_day.timeline, start_ns))
    snapshot = SnapshotWriter(args.link_dir / "ezsr" / SNAPSHOT_FILE, sim_day.listing)
    # the day's contracts, as the exchange publishes them for its members to import
    reference = args.link_dir / "eztrans" / f"reference_{day:%Y%m%d}.csv"
    reference.parent.mkdir(parents=True, exist_ok=True)
    write_reference(reference, sim_day.listing.instruments)
    acceptor = None
    if args.fix_port is not None:
        from adapters.fix.acceptor import FixAcceptor  # noqa: PLC0415

        acceptor = FixAcceptor(args.fix_port, args.link_dir / "fix",
                               {i.instrument_id: i.tick for i in sim_day.listing.instruments},
                               cancel_on_disconnect=args.cancel_on_disconnect,
                               config=_fix_config(args.config_dir or config.root))
    server = StepFileServer(sim_day, args.link_dir, member=args.member,
                            heartbeat_s=args.heartbeat_s,
                            cancel_on_disconnect=args.cancel_on_disconnect,
                            on_market_data=snapshot.update, fix=acceptor)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    status_path = args.link_dir / ".sim" / "status.json"

    def tick() -> None:
        if snapshot.write_if_due(args.ezsr_interval_s, sim_day.clock.now_ns()):
            # the exchange's own view, for `mmgw status`
            live: dict[str, int] = {}
            for quote in sim_day.exchange.live_quotes():
                live[quote.account] = live.get(quote.account, 0) + 1
            tmp = status_path.with_name("status.json.tmp")
            tmp.write_bytes(msgspec.json.encode({"live_quotes": live,
                                                 "sim_ns": sim_day.clock.now_ns()}))
            tmp.replace(status_path)

    if acceptor is not None:
        acceptor.start()
    try:
        serve(server, anchor, stop=lambda: bool(stopping), on_tick=tick)
    finally:
        if acceptor is not None:
            acceptor.stop()
    snapshot.write(sim_day.clock.now_ns())
    if sim_day.clock.now_ns() >= sim_day.end_ns:
        out = write_end_of_day(sim_day, args.link_dir / "eztrans", calendar)
        sys.stderr.write(f"mmgw: end-of-day files in {out}\n")
    return 0


def _sim_run(args: argparse.Namespace) -> int:
    from adapters.sim.day import run_day  # noqa: PLC0415

    config, calendar, day = _load(args)
    if args.replay is not None and not args.replay.is_file():
        raise CliError(f"--replay: no such file {str(args.replay)!r}")
    summary = run_day(config, calendar, day, args.seed, record=args.record, replay=args.replay)
    if args.json:
        sys.stdout.write(msgspec.json.encode(summary).decode() + "\n")
    else:
        _print_summary(summary)
    return 0


def _print_summary(summary: dict) -> None:
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    table = Table(title=f"Simulated day {summary['day']} (seed {summary['seed']})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key in ("instruments", "products", "events", "quotes_accepted", "trades", "traded_qty",
                "auctions", "auctions_traded", "circuit_breakers", "self_trades_prevented",
                "held_until_continuous", "sim_hours", "wall_s"):
        table.add_row(key, str(summary[key]))
    rfqs = summary["rfqs"]
    table.add_row("rfqs", f"{rfqs['requests']} ({rfqs['answered']} answered)")
    table.add_row("digest", summary["digest"])
    Console().print(table)


def main(argv: Sequence[str] | None = None) -> int:
    from adapters.ezsr.snapshot import EzsrError  # noqa: PLC0415
    from adapters.eztrans.files import EzTransError  # noqa: PLC0415
    from adapters.sim.flow import ReplayError  # noqa: PLC0415
    from adapters.stepfile.codec import StepError  # noqa: PLC0415
    from adapters.stepfile.files import LinkGapError  # noqa: PLC0415
    from adapters.stepfile.server import RecoveryError  # noqa: PLC0415
    from core.calendar import CalendarError  # noqa: PLC0415
    from core.config import ConfigError  # noqa: PLC0415
    from gateway.launcher import LaunchError  # noqa: PLC0415

    user_errors = (CliError, LaunchError, ConfigError, CalendarError, EzTransError, EzsrError,
                   StepError, ReplayError, RecoveryError, LinkGapError)

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    try:
        return int(args.handler(args))
    except user_errors as exc:
        sys.stderr.write(f"mmgw: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
