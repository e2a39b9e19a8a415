"""`mmgw up`, `mmgw status`, `mmgw down`: the simulator, the gateway and the department risk
process as separate processes on loopback, with their state in a run directory.

    RUN_DIR/processes.json   what was started (pid, command, log)
    RUN_DIR/control.tokens   one token per person and role (0600)
    RUN_DIR/link/            the file link, the EzSR snapshot, the EzTrans files
    RUN_DIR/logs/            each process's log (JSON lines)
    RUN_DIR/journal.*        the audit journal, its checkpoints and key
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gateway.control import Status, load_tokens, make_tokens, request

PEOPLE = {"trader": "trader", "risk": "risk", "ops": "ops", "auditor": "auditor",
          "department": "risk"}  # the department risk process acts with a risk token


def desk_products(config_dir: Path | None) -> list[str]:
    """The products configs/desk.toml quotes: the desk's trader runs them all."""
    from adapters.refdata.loader import load_config, load_file  # noqa: PLC0415
    from gateway.desk import DeskConfig  # noqa: PLC0415

    root = config_dir or load_config(None).root
    return sorted(load_file(root / "desk.toml", DeskConfig).products)


class LaunchError(RuntimeError):
    """A process that would not start, or a run directory in the wrong state."""


def _mmgw() -> str:
    return str(Path(sys.executable).with_name("mmgw"))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie of ours is not alive
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def up(run: Path, *, seed: int = 7, speed: float = 1.0, start: str | None = None,
       day: str | None = None, requote_s: float = 1.0, timeout_s: float = 120.0,
       config_dir: Path | None = None, ezsr_interval_s: float = 1.0,
       link: str = "stepfile") -> dict:
    """Start the simulator, the gateway and the department risk process; wait until the
    gateway answers."""
    processes = run / "processes.json"
    if processes.exists():
        started = json.loads(processes.read_text())
        running = {name for name, p in started.items() if alive(p["pid"])}
        if "simulator" in running and "gateway" not in running and "gateway" in started:
            return restart_gateway(run, started, timeout_s)
        if running:
            raise LaunchError(f"{run} is already up (mmgw down --run-dir {run} first)")
    run.mkdir(parents=True, exist_ok=True)
    (run / "logs").mkdir(exist_ok=True)
    if not (run / "control.tokens").exists():
        make_tokens(run / "control.tokens", PEOPLE, {"trader": desk_products(config_dir)})
    link_dir = run / "link"
    common = ["--day", day] if day else []
    mmgw = [_mmgw(), *(["--config-dir", str(config_dir)] if config_dir else [])]
    sim = [*mmgw, "sim", "serve", "--link-dir", str(link_dir), "--seed", str(seed),
           "--speed", str(speed), "--ezsr-interval-s", str(ezsr_interval_s), *common,
           *(["--from", start] if start else [])]
    gateway = [*mmgw, "gateway", "run", "--run-dir", str(run), "--link-dir", str(link_dir),
               "--requote-s", str(requote_s), *common]
    if link == "fix":  # the simulator's FIX acceptor on a free loopback port
        port = str(_free_port())
        sim += ["--fix-port", port]
        gateway += ["--link", "fix", "--fix-port", port]
    started: dict[str, Any] = {}
    started["simulator"] = _spawn(sim, run / "logs" / "simulator.log")
    processes.write_text(json.dumps(started))
    deadline = time.monotonic() + timeout_s
    while not list(link_dir.glob("eztrans/reference_*.csv")):
        _check_alive(started, run, deadline)
    started["gateway"] = _spawn(gateway, run / "logs" / "gateway.log")
    processes.write_text(json.dumps(started))
    while not (run / "control.sock").exists():
        _check_alive(started, run, deadline)
    department = [*mmgw, "risk", "department", "--run-dir", str(run), "--link-dir", str(link_dir),
                  *common]
    started["department"] = _spawn(department, run / "logs" / "department.log")
    processes.write_text(json.dumps(started))
    while not (run / "risk" / "department.json").exists():
        _check_alive(started, run, deadline)
    return started


def restart_gateway(run: Path, started: dict[str, Any], timeout_s: float = 120.0) -> dict:
    """The gateway stopped (or was killed) while the exchange runs on: start it again with
    the same command; it recovers the day from its journal and the link."""
    gateway = started["gateway"]
    (run / "control.sock").unlink(missing_ok=True)  # the dead process's socket
    started["gateway"] = _spawn(gateway["command"], Path(gateway["log"]))
    department = started.get("department")
    if department is not None and not alive(department["pid"]):
        started["department"] = _spawn(department["command"], Path(department["log"]))
    (run / "processes.json").write_text(json.dumps(started))
    deadline = time.monotonic() + timeout_s
    while not (run / "control.sock").exists():
        _check_alive(started, run, deadline)
    return started


def _free_port() -> int:
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(command: list[str], log: Path) -> dict[str, Any]:
    with log.open("ab") as fh:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=fh,
                                start_new_session=True)
    return {"pid": proc.pid, "command": command, "log": str(log)}


def _check_alive(started: dict[str, Any], run: Path, deadline: float) -> None:
    for name, proc in started.items():
        if not alive(proc["pid"]):
            tail = Path(proc["log"]).read_text(errors="replace")[-1500:]
            down(run)  # nothing half-started is left behind
            raise LaunchError(f"the {name} stopped while starting; its log ends:\n{tail}")
    if time.monotonic() > deadline:
        down(run)
        raise LaunchError("the processes did not come up in time")
    time.sleep(0.1)


def token_for(run: Path, role: str) -> str:
    for token, identity in load_tokens(run / "control.tokens").items():
        if identity.role == role:
            return token
    raise LaunchError(f"no {role} token in {run / 'control.tokens'}")


def status(run: Path) -> dict[str, Any]:
    """Processes, links, live quotes (the gateway's and the exchange's), kills, meters."""
    processes = run / "processes.json"
    started = json.loads(processes.read_text()) if processes.exists() else {}
    out: dict[str, Any] = {
        "processes": {name: {"pid": p["pid"], "alive": alive(p["pid"])}
                      for name, p in started.items()},
        "links": {}, "live_quotes": {"gateway": None, "exchange": None}, "kill": {},
        "meters": {},
    }
    sock = run / "control.sock"
    if sock.exists():
        try:
            response = request(sock, token_for(run, "ops"), Status(), timeout_s=5)
        except OSError as exc:
            out["gateway_error"] = str(exc)
        else:
            figures = dict(response.result or {})
            live = figures.pop("live_quotes", {})
            out.update(figures)
            out["live_quotes"]["gateway"] = live.get("gateway")
    exchange = run / "link" / ".sim" / "status.json"
    if exchange.exists():
        live = json.loads(exchange.read_text()).get("live_quotes", {})
        out["live_quotes"]["exchange"] = live.get("MM01", 0)
    return out


def down(run: Path, timeout_s: float = 30.0) -> dict[str, str]:
    """Stop the department risk process, the gateway, then the simulator; SIGKILL what does
    not stop in time."""
    processes = run / "processes.json"
    if not processes.exists():
        return {}
    started = json.loads(processes.read_text())
    result = {}
    for name in ("department", "gateway", "simulator"):
        proc = started.get(name)
        if proc is None or not alive(proc["pid"]):
            result[name] = "not running"
            continue
        os.kill(proc["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while alive(proc["pid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if alive(proc["pid"]):
            os.kill(proc["pid"], signal.SIGKILL)
            result[name] = "killed"
        else:
            result[name] = "stopped"
    processes.unlink()
    return result
