"""Obligation reports: per product (underlying), an HTML page with plots and a JSON beside it.

A daily report replays the day's timeline through the live meters every five minutes: the
spread ratio and live coverage over the day, participation so far against its threshold, the
quoted size against the minimum; then the day's indicators against their thresholds and the RFQ
answers. A monthly report plots the indicators day by day and adds the business summary a
timeline can give (obligations met, volume and net inventory from the fills); P&L and risk
indicators come from the journal.
"""

import base64
import html
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no screen

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import msgspec

from quoting.obligations import bse_stocks, sse_etf, sse_options, zce
from quoting.obligations.meters import LiveMeters
from quoting.obligations.timeline import (
    SECOND_NS,
    FillEvent,
    PhaseEvent,
    Timeline,
)
from quoting.rules import RulePack

SAMPLE_S = 300
EVALUATORS: dict[str, Callable[..., dict]] = {
    "sse-options": sse_options.evaluate, "bse-stocks": bse_stocks.evaluate,
    "sse-etf": sse_etf.evaluate, "zce-futures": zce.evaluate, "zce-options": zce.evaluate,
}


class ReportError(ValueError):
    """Nothing to report for the period asked."""


def _select(timeline: Timeline, keep: Callable[[date], bool]) -> Timeline:
    out = Timeline(dict(timeline.contracts), offset=timeline.offset)
    for event, ts, day in zip(timeline.events, timeline.times, timeline.dates, strict=True):
        if keep(day):
            out.events.append(event)
            out.times.append(ts)
            out.dates.append(day)
    return out


def _png(figure: plt.Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _samples(timeline: Timeline, pack: RulePack) -> dict[str, dict[str, list]]:
    """Per product, the meters every SAMPLE_S seconds of continuous trading."""
    meters = LiveMeters(list(timeline.contracts.values()), pack, timeline.offset)
    out: dict[str, dict[str, list]] = {}
    next_sample: int | None = None
    continuous = False

    def sample(at: int) -> None:
        for reading in meters.read(at, 0):
            series = out.setdefault(reading.product, {k: [] for k in (
                "t", "spread", "coverage", "participation", "size")})
            ratios = [c.spread_ratio for c in reading.contracts if c.spread_ratio is not None]
            sizes = [meters.engine.contracts[c.contract].size for c in reading.contracts]
            series["t"].append(at)
            series["spread"].append(sum(ratios) / len(ratios) if ratios else None)
            series["coverage"].append(reading.coverage_now)
            series["participation"].append(reading.participation)
            series["size"].append(sum(sizes) / len(sizes) if sizes else 0)

    for event, ts in zip(timeline.events, timeline.times, strict=True):
        while continuous and next_sample is not None and next_sample < ts:
            sample(next_sample)
            next_sample += SAMPLE_S * SECOND_NS
        meters.feed(event, ts)
        if isinstance(event, PhaseEvent) and event.contract is None:
            continuous = event.phase == "continuous"
            if continuous and next_sample is None:
                next_sample = ts
    return out


def _inventory(timeline: Timeline) -> dict[str, dict[str, int]]:
    """Per product: contracts traded, net position from the fills, volume."""
    out: dict[str, dict[str, int]] = {}
    for event in timeline.events:
        if isinstance(event, FillEvent):
            product = timeline.contracts[event.contract].product
            book = out.setdefault(product, {"volume": 0, "net": 0})
            book["volume"] += event.size
            book["net"] += event.size if event.side == "buy" else -event.size
    return out


def _daily_plots(series: dict[str, list], pack: RulePack, offset: Any) -> list[str]:
    times = [_dt(t, offset) for t in series["t"]]
    plots = []
    figure, axis = plt.subplots(figsize=(8, 3))
    axis.plot(times, [s if s is not None else float("nan") for s in series["spread"]],
                   "-", label="spread ratio (quoted / allowed)")
    axis.axhline(1.0, color="red", linestyle="--", label="allowed")
    axis.set_title("Spread ratio over the day")
    axis.legend()
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=offset))
    plots.append(_png(figure))
    figure, axis = plt.subplots(figsize=(8, 3))
    axis.plot(times, series["coverage"], "-", label="live coverage")
    axis.plot(times, [p if p is not None else float("nan")
                           for p in series["participation"]], "-",
              label="continuous participation so far")
    axis.axhline(pack.coverage.continuous or pack.participation.continuous, color="red",
                 linestyle="--", label="obligation")
    axis.set_ylim(0, 1.05)
    axis.set_title("Coverage and participation")
    axis.legend()
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=offset))
    plots.append(_png(figure))
    figure, axis = plt.subplots(figsize=(8, 3))
    axis.plot(times, series["size"], "-", label="mean quoted size")
    axis.axhline(pack.size.continuous, color="red", linestyle="--", label="minimum")
    axis.set_title("Quoted size")
    axis.legend()
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=offset))
    plots.append(_png(figure))
    return plots


def _dt(ts_ns: int, offset: Any):
    from datetime import datetime  # noqa: PLC0415

    return datetime.fromtimestamp(ts_ns / SECOND_NS, offset)


def _indicator_plot(figures: dict, pack: RulePack) -> str | None:
    pairs = [(key, figures.get(key), limit) for key, limit in (
        ("opening_participation", pack.participation.opening_auction),
        ("circuit_breaker_participation", pack.participation.circuit_breaker_auction),
        ("closing_participation", pack.participation.closing_auction),
        ("continuous_participation", pack.participation.continuous),
        ("weighted_participation", float(pack.evaluation.grading.participation_excellent)),
        ("rfq_response_rate", pack.rfq.rate),
    ) if isinstance(figures.get(key), float | int)]
    if not pairs:
        return None
    figure, axis = plt.subplots(figsize=(8, 3))
    names = [p[0].replace("_", " ") for p in pairs]
    axis.bar(names, [p[1] for p in pairs], label="achieved")
    axis.scatter(names, [p[2] for p in pairs], color="red", marker="_", s=800,
                 label="threshold", zorder=3)
    axis.set_ylim(0, 1.05)
    axis.set_title("Indicators against their thresholds")
    axis.tick_params(axis="x", rotation=20)
    axis.legend()
    return _png(figure)


def _monthly_plot(days: dict[str, dict]) -> str:
    figure, axis = plt.subplots(figsize=(8, 3))
    keys = sorted(days)
    for name in ("continuous_participation", "coverage", "spread_ratio"):
        values = [days[k].get(name) for k in keys]
        if any(isinstance(v, float | int) for v in values):
            axis.plot(keys, [v if isinstance(v, float | int) else float("nan")
                             for v in values], "o-", label=name.replace("_", " "))
    axis.set_title("Day by day")
    axis.tick_params(axis="x", rotation=30)
    axis.legend()
    return _png(figure)


def _page(title: str, figures: dict, plots: list[str], extra: dict) -> str:
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in figures.items() if k not in ("days", "months", "contracts"))
    more = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in extra.items())
    images = "".join(f'<p><img alt="plot" src="data:image/png;base64,{p}"></p>' for p in plots)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            "</title><style>body{font-family:sans-serif;margin:2em}th{text-align:left;"
            "padding-right:2em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table>{rows}{more}</table>{images}</body></html>")


def marks_and_pnl(url: str) -> dict[str, dict[str, float]]:
    """Per product, from a journal: volume, net inventory, cash from the quote fills and the
    P&L marked at the last market-data mid (or last price) the journal holds."""
    import msgspec  # noqa: PLC0415
    import sqlalchemy as sa  # noqa: PLC0415

    from core.events import DECODER, ExecutionReport, MarketData  # noqa: PLC0415
    from core.instruments import Instrument  # noqa: PLC0415
    from gateway.export import EVENT, INSTRUMENT  # noqa: PLC0415
    from gateway.journal import RECORDS, engine_for  # noqa: PLC0415

    engine = engine_for(url)
    books: dict[str, dict[str, float]] = {}
    position: dict[str, int] = {}
    cash: dict[str, float] = {}
    mark: dict[str, float] = {}
    instruments: dict[str, Instrument] = {}
    with engine.connect() as connection:
        rows = connection.execute(sa.select(RECORDS.c.kind, RECORDS.c.payload).where(
            RECORDS.c.kind.in_([INSTRUMENT, EVENT])).order_by(RECORDS.c.seq))
        for kind, payload in rows:
            if kind == INSTRUMENT:
                inst = msgspec.msgpack.decode(payload, type=Instrument)
                instruments[inst.instrument_id] = inst
                continue
            event = DECODER.decode(payload)
            if isinstance(event, MarketData) and event.instrument_id in instruments:
                tick = float(instruments[event.instrument_id].tick)
                if event.bids and event.asks:
                    mark[event.instrument_id] = (event.bids[0][0] + event.asks[0][0]) / 2 * tick
                elif event.last_px_ticks is not None:
                    mark[event.instrument_id] = event.last_px_ticks * tick
            elif (isinstance(event, ExecutionReport) and event.is_quote and event.last_qty
                  and event.instrument_id in instruments):
                inst = instruments[event.instrument_id]
                signed = event.last_qty if event.side.value == "buy" else -event.last_qty
                position[inst.instrument_id] = position.get(inst.instrument_id, 0) + signed
                cash[inst.instrument_id] = cash.get(inst.instrument_id, 0.0) - (
                    signed * event.last_px_ticks * float(inst.tick) * inst.multiplier)
                book = books.setdefault(inst.product, {"volume": 0, "net": 0, "cash": 0.0,
                                                       "pnl": 0.0})
                book["volume"] += event.last_qty
    engine.dispose()
    for iid, qty in position.items():
        inst = instruments[iid]
        book = books[inst.product]
        book["net"] += qty
        book["cash"] += cash[iid]
        book["pnl"] += cash[iid] + qty * mark.get(iid, 0.0) * inst.multiplier
    return books


def obligations_report(timeline: Timeline, pack: RulePack, out_dir: Path, *,
                       day: date | None = None, month: str | None = None,
                       journal_url: str | None = None,
                       products: set[str] | None = None) -> list[Path]:
    """Write the report of a day or a month for every product of the timeline (or those of
    `products`); returns the files written (an HTML and a JSON per product)."""
    if (day is None) == (month is None):
        raise ReportError("give a day or a month")
    if day is not None:
        period = _select(timeline, lambda d: d == day)
        label = day.isoformat()
    else:
        period = _select(timeline, lambda d: f"{d:%Y-%m}" == month)
        label = str(month)
    if not period.events:
        raise ReportError(f"the timeline has no events in {label}")
    result = EVALUATORS[pack.name](period, pack)
    samples = _samples(period, pack) if day is not None else {}
    inventory = _inventory(period)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for product, figures in result["products"].items():
        if products is not None and product not in products:
            continue
        plots = []
        if day is not None and product in samples:
            plots += _daily_plots(samples[product], pack, period.offset)
        indicator = _indicator_plot(figures, pack)
        if indicator:
            plots.append(indicator)
        extra: dict[str, object] = {}
        if month is not None:
            if figures.get("days"):
                plots.append(_monthly_plot(figures["days"]))
            extra = {"traded volume": inventory.get(product, {}).get("volume", 0),
                     "net inventory from fills": inventory.get(product, {}).get("net", 0)}
            if journal_url is not None:
                book = marks_and_pnl(journal_url).get(product, {})
                extra |= {"P&L marked at the last mid (yuan)": round(book.get("pnl", 0.0), 2),
                          "cash from fills (yuan)": round(book.get("cash", 0.0), 2),
                          "risk indicators": "in the risk processes' reports"}
            else:
                extra["P&L"] = "needs the journal (--run-dir)"
        title = f"{pack.name} obligations, {product}, {label}"
        html_path = out_dir / f"obligations-{pack.name}-{product}-{label}.html"
        json_path = out_dir / f"obligations-{pack.name}-{product}-{label}.json"
        html_path.write_text(_page(title, figures, plots, extra), encoding="utf-8")
        json_path.write_bytes(msgspec.json.encode({"rules": pack.name, "product": product,
                                                   "period": label, "figures": figures,
                                                   "summary": extra}))
        written += [html_path, json_path]
    return written


def reports_for_packs(timeline: Timeline, packs: list[RulePack], out_dir: Path, *,
                      day: date | None = None, month: str | None = None,
                      journal_url: str | None = None,
                      products: set[str] | None = None) -> list[Path]:
    """The reports of every pack that governs a contract of the timeline (a pack that governs
    none is left out), for every product or those of `products`."""
    from quoting.obligations.timeline import restrict  # noqa: PLC0415

    written: list[Path] = []
    for pack in packs:
        governed = restrict(timeline, pack.venue, pack.kinds)
        if governed.contracts:
            try:
                written += obligations_report(governed, pack, out_dir, day=day, month=month,
                                              journal_url=journal_url, products=products)
            except ReportError as exc:
                raise ReportError(f"{pack.name}: {exc}") from exc
    return written
