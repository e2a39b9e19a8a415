"""`mmgw`: the command line of the gateway, the simulator and the risk processes.

Every command has --help; with --json it prints one JSON object on stdout and nothing else.
Errors go to stderr with a non-zero exit code.
"""

import argparse
import sys
from collections.abc import Sequence
from datetime import date
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
    return parser


def _sim_run(args: argparse.Namespace) -> int:
    from adapters.refdata.calendars import build_calendar  # noqa: PLC0415 (slow imports)
    from adapters.refdata.loader import load_config  # noqa: PLC0415
    from adapters.sim.day import run_day  # noqa: PLC0415

    config = load_config(args.config_dir)
    calendar = build_calendar(config.holidays)
    day = args.day or config.sim.default_day
    if not calendar.is_trading_day(day):
        raise CliError(f"--day: {day.isoformat()} is not a trading day")
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
    from core.calendar import CalendarError  # noqa: PLC0415
    from core.config import ConfigError  # noqa: PLC0415

    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    try:
        return int(args.handler(args))
    except (CliError, ConfigError, CalendarError) as exc:
        sys.stderr.write(f"mmgw: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
