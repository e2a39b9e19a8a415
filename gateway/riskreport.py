"""The department risk report: the department process's latest reading as a page and as
JSON, daily (the process writes it when it stops) and on demand (`mmgw risk report`)."""

import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class ReportError(RuntimeError):
    """No reading to report from."""


def write_report(reading_path: Path, out_dir: Path) -> dict[str, Path]:
    """Write `department-risk-YYYYMMDD.{html,json}` into `out_dir` from the reading the
    department process keeps at `reading_path`; returns the paths."""
    if not reading_path.exists():
        raise ReportError(f"{reading_path}: no department reading (is `mmgw risk department` "
                          f"running for this run directory?)")
    try:
        reading = json.loads(reading_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{reading_path}: line {exc.lineno}: {exc.msg}") from exc
    ts = datetime.fromtimestamp(reading["ts_ns"] / 1e9, UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"department-risk-{ts:%Y%m%d}"
    paths = {"json": out_dir / f"{stem}.json", "html": out_dir / f"{stem}.html"}
    paths["json"].write_text(json.dumps(reading, indent=1, sort_keys=True), encoding="utf-8")
    paths["html"].write_text(_page(reading, ts), encoding="utf-8")
    return paths


def _table(title: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"<h2>{html.escape(title)}</h2><p>none</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_cell(r.get(c)))}</td>"
                                    for c in columns) + "</tr>" for r in rows)
    return f"<h2>{html.escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def _keyed(values: dict[str, dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{key: name} | figures for name, figures in sorted(values.items())]


def _page(r: dict[str, Any], ts: datetime) -> str:
    greeks = r["greeks"]
    parts = [
        f"<h1>Department risk report, {ts:%Y-%m-%d %H:%M} UTC</h1>",
        _table("Alerts", [{k: a[k] for k in ("kind", "scope", "value", "limit", "message")}
                          for a in r["alerts"]]),
        _table("Book (yuan)", [greeks["total"]]),
        _table("P&L", [{"total": r["pnl"]["total"]}]
               + [{"total": None, "underlying": k, "pnl": v}
                  for k, v in sorted(r["pnl"]["underlyings"].items())]),
        _table("Margin", [r["margin"]]),
        _table("Greeks per underlying", _keyed(greeks["underlyings"], "underlying")),
        _table("Greeks per contract", _keyed(greeks["contracts"], "contract")),
        _table("Inventory", _keyed(r["inventory"], "security")),
        _table("Expiring positions", [row | {"underlying": u} for u, rows in
                                      sorted(r["expiry"].items()) for row in rows]),
        _table("Pin risk", r["pin"]),
        _table("Exercise obligations", [{k: v for k, v in r["exercise"].items()
                                         if k != "units_needed"}]),
        _table("Quotes and orders", [r["orders"]]),
        _table("BSE indicators", _keyed(r["bse"], "stock")),
    ]
    style = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>Department risk "
            f"{ts:%Y-%m-%d}</title><style>{style}</style></head><body>{''.join(parts)}"
            f"</body></html>")
