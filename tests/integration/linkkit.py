"""Helpers for tests that run the simulator's file-link server as a real process."""

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from adapters.refdata.calendars import build_calendar
from adapters.refdata.loader import load_config
from adapters.sim.day import prepare_day
from core.listing import Listing

MMGW = Path(sys.executable).with_name("mmgw")
DAY = date(2026, 11, 23)


def day_listing(seed: int = 7) -> Listing:
    """The simulator's listing for the day and seed the server runs (the same reference data
    the end-of-day reference file would carry)."""
    config = load_config()
    return prepare_day(config, build_calendar(config.holidays), DAY, seed).listing


def start_server(link_dir: Path, *extra: str, speed: str = "1",
                 start: str = "09:30:05") -> subprocess.Popen:
    """Start `mmgw sim serve` and wait until it has logged on (it writes Logon)."""
    proc = subprocess.Popen(
        [str(MMGW), "sim", "serve", "--link-dir", str(link_dir), "--seed", "7",
         "--speed", speed, "--from", start, "--heartbeat-s", "0.5", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    execreport = link_dir / "execreport.step"
    deadline = time.monotonic() + 60
    logons = _count_logons(execreport)
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        if _count_logons(execreport) > logons:
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("server did not log on within 60 s")


def _count_logons(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\x0135=A\x01")
    except FileNotFoundError:
        return 0


def stop_server(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.terminate()
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode()


async def wait_for(predicate: Callable[[], object], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {predicate}")


def free_port() -> int:
    """A TCP port on loopback nobody listens on now."""
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
