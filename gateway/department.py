"""`mmgw risk department`: the department risk process, apart from the gateway.

It subscribes to the gateway's event stream on the control socket (starting from the
gateway's snapshot, taken in the same turn as the subscription), feeds `risk.monitor`, and
every `interval_s`:
- revalues the book and writes `RUN_DIR/risk/department.json` (the reading, the alerts);
- appends the alerts that started or cleared to `RUN_DIR/risk/alerts.jsonl` (kept alarm
  records) and sends each to the gateway as a `RiskAlert` (journaled there; with a measure
  from `[department.measures]`, the gateway raises a prompt for risk staff to confirm);
- halts everything itself (`Kill` scope all) on a hard level (`loss_halt_yuan`);
- sends a `Heartbeat`: once the gateway has heard one, it stops quoting when they stop.
A lost gateway is waited for and subscribed to again (with a fresh snapshot). On SIGTERM the
process writes the day's department risk report before it ends.
"""

import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import msgspec
import structlog

from core.events import (
    DECODER,
    CancelOrder,
    CancelQuote,
    LinkStatus,
    MassCancel,
    NewOrder,
    Quote,
    Reject,
)
from core.instruments import Instrument
from gateway.control import (
    _ENCODER,
    _RESPONSE,
    FRAME,
    Heartbeat,
    Kill,
    Request,
    RiskAlert,
    Subscribe,
    _frame,
    _read_frame,
)
from gateway.riskreport import write_report
from risk.limits import RiskConfig
from risk.monitor import Alert, DepartmentMonitor

log = structlog.get_logger("department")
# what carries the gateway's wall clock, not the exchange's: our commands, and a link's own
# word on its state or a message its session refused
WALL_TIMED = (Quote, CancelQuote, MassCancel, NewOrder, CancelOrder, LinkStatus, Reject)


class RefusedError(RuntimeError):
    """The gateway refused the process's token or a request."""


async def _call(sock: Path, token: str, body: Any) -> dict[str, Any]:
    reader, writer = await asyncio.open_unix_connection(str(sock))
    try:
        writer.write(_frame(_ENCODER.encode(Request(token=token, body=body))))
        await writer.drain()
        response = _RESPONSE.decode(await _read_frame(reader))
    finally:
        writer.close()
    if not response.ok:
        raise RefusedError(response.error)
    return response.result or {}


class Department:
    def __init__(self, run_dir: Path, config: RiskConfig, instruments: list[Instrument],
                 offset: Any, token: str) -> None:
        self.run_dir = run_dir
        self.config = config
        self.token = token
        self.sock = run_dir / "control.sock"
        self.out = run_dir / "risk"
        self.out.mkdir(parents=True, exist_ok=True)
        self.monitor = DepartmentMonitor(config, instruments, offset)
        self.now_ns = 0
        self.connected = False
        self.events = 0
        self.reading: dict[str, Any] = {}
        self.sent_alerts = 0

    async def run(self, stop: asyncio.Event) -> None:
        ticker = asyncio.ensure_future(self._tick(stop))
        backoff = 0.1
        try:
            while not stop.is_set():
                follow = asyncio.ensure_future(self._follow(stop))
                stopping = asyncio.ensure_future(stop.wait())
                await asyncio.wait([follow, stopping], return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if not follow.done():  # stopping while the stream is quiet
                    follow.cancel()
                    break
                try:
                    follow.result()
                    backoff = 0.1
                except RefusedError:
                    raise
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    if self.connected:
                        log.warning("gateway_lost", error=str(exc))
                    self.connected = False
                    await _sleep(stop, backoff)
                    backoff = min(backoff * 2, 2.0)
        finally:
            ticker.cancel()
            self.evaluate()
            if (self.out / "department.json").exists():
                paths = write_report(self.out / "department.json", self.run_dir / "reports")
                log.info("daily_report_written", html=str(paths["html"]))

    async def _follow(self, stop: asyncio.Event) -> None:
        reader, writer = await asyncio.open_unix_connection(str(self.sock))
        try:
            writer.write(_frame(_ENCODER.encode(Request(token=self.token, body=Subscribe()))))
            await writer.drain()
            response = _RESPONSE.decode(await _read_frame(reader))
            if not response.ok:
                raise RefusedError(f"the gateway refused the subscription: {response.error}")
            snap = (response.result or {}).get("snapshot", {})
            self.monitor = DepartmentMonitor(self.config, self.monitor.instruments,
                                             self.monitor.offset)
            self.monitor.seed(snap.get("positions", {}), snap.get("cash", {}),
                              snap.get("books", {}))
            self.now_ns = max(self.now_ns, int(snap.get("now_ns", 0)))
            self.connected = True
            log.info("subscribed", positions=len(snap.get("positions", {})))
            while not stop.is_set():
                head = await reader.readexactly(FRAME.size)
                (size,) = FRAME.unpack(head)
                event = DECODER.decode(await reader.readexactly(size))
                self.events += 1
                self.monitor.on_event(event)  # type: ignore[arg-type]
                if not isinstance(event, WALL_TIMED):
                    # exchange events carry the exchange's time
                    self.now_ns = max(self.now_ns, event.ts_event)
        finally:
            writer.close()

    def evaluate(self) -> tuple[list[Alert], list[str]]:
        if not self.now_ns:
            return [], []
        reading, started, cleared = self.monitor.evaluate(self.now_ns)
        self.reading = reading | {"connected": self.connected, "events": self.events,
                                  "written_wall_ns": time.time_ns()}
        path = self.out / "department.json"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(msgspec.json.encode(self.reading))
        tmp.replace(path)
        if started or cleared:
            with (self.out / "alerts.jsonl").open("a", encoding="utf-8") as fh:
                for alert in started:
                    fh.write(json.dumps({"ts_ns": self.now_ns, "event": "started",
                                         "key": alert.key, "message": alert.message,
                                         "value": alert.value, "limit": alert.limit}) + "\n")
                for key in cleared:
                    fh.write(json.dumps({"ts_ns": self.now_ns, "event": "cleared",
                                         "key": key}) + "\n")
        return started, cleared

    async def _tick(self, stop: asyncio.Event) -> None:
        interval = self.config.department.interval_s
        while not stop.is_set():
            await _sleep(stop, interval)
            try:
                started, cleared = self.evaluate()
                if self.connected:
                    await self._tell(started, cleared)
            except (OSError, asyncio.IncompleteReadError) as exc:
                log.warning("gateway_not_answering", error=str(exc))
            except RefusedError as exc:
                log.error("gateway_refused", error=str(exc))

    async def _tell(self, started: list[Alert], cleared: list[str]) -> None:
        measures = self.config.department.measures
        for alert in started:
            log.warning("risk_alert", key=alert.key, message=alert.message)
            if alert.halt:
                await _call(self.sock, self.token, Kill(scope="all", reason=alert.message))
            # "kind:scope" (e.g. delta:underlying) before the kind alone
            scope_kind = alert.scope.partition(":")[0]
            measure = measures.get(f"{alert.kind}:{scope_kind}", measures.get(alert.kind))
            await _call(self.sock, self.token, RiskAlert(
                key=alert.key, kind=alert.kind, scope=alert.scope, value=float(alert.value),
                limit=float(alert.limit), message=alert.message, products=list(alert.products),
                measure=None if measure is None else measure.action,
                factor=2.0 if measure is None else measure.factor))
            self.sent_alerts += 1
        for key in cleared:
            kind, _, scope = key.partition(":")
            await _call(self.sock, self.token, RiskAlert(
                key=key, kind=kind, scope=scope, value=0.0, limit=0.0, message="cleared",
                cleared=True))
        total = self.reading.get("greeks", {}).get("total", {})
        await _call(self.sock, self.token, Heartbeat(summary={
            "ts_ns": self.now_ns, "pnl": self.reading.get("pnl", {}).get("total"),
            "delta_yuan": total.get("delta_yuan"), "vega_yuan": total.get("vega_yuan"),
            "alerts": len(self.monitor.active),
            "maintenance_ratio": self.reading.get("margin", {}).get("maintenance_ratio")}))


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
