"""The EzSR-style snapshot file: one row per security, rewritten whole at a set interval.

    HEADER|EZSR1.0|<rows>|<time, UTC YYYYMMDD-HH:MM:SS.nnnnnnnnn>|<snapshot number>
    MD|<code>|<phase>|<limit>|<last>|<volume>|<iopv>|<indicative px>|<indicative qty>|
       <bid1 px>|<bid1 qty>|...|<bid5 px>|<bid5 qty>|<ask1 px>|<ask1 qty>|...|<ask5 qty>
    TRAILER|<rows>

Prices are decimals in yuan, an empty field where there is none. The writer replaces the file
atomically (write aside, rename), so a reader sees a whole snapshot or the previous one. The
reader turns what changed since the last snapshot it read into MarketData events, one per
security at most (a snapshot is conflation by nature).
"""

import os
import time
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from adapters.stepfile.messages import format_ns, parse_ns
from core.enums import LimitState, Phase
from core.events import MarketData
from core.listing import Listing
from core.prices import PriceError, from_ticks, to_ticks

VERSION = "EZSR1.0"
SNAPSHOT_FILE = "mktdt.txt"
DEPTH = 5
_FIXED = 9  # fields before the bid levels
_FIELDS = _FIXED + 4 * DEPTH


class EzsrError(ValueError):
    """A snapshot file that cannot be read: names the file, line, field and value."""


class SnapshotWriter:
    def __init__(self, path: Path, listing: Listing) -> None:
        self.path = path
        self._ticks = {i.instrument_id: i.tick for i in listing.instruments}
        self._rows: dict[str, MarketData] = {}
        self._text: dict[str, tuple[MarketData, str]] = {}  # each row as last formatted
        self._order = [i.instrument_id for i in listing.instruments]
        self.number = 0
        self._last_wall = 0.0
        path.parent.mkdir(parents=True, exist_ok=True)

    def update(self, md: MarketData) -> None:
        self._rows[md.instrument_id] = md

    def write_if_due(self, interval_s: float, ts_ns: int) -> bool:
        if time.monotonic() - self._last_wall < interval_s:
            return False
        self.write(ts_ns)
        return True

    def write(self, ts_ns: int) -> None:
        self._last_wall = time.monotonic()
        self.number += 1
        rows = []
        for iid in self._order:
            md = self._rows.get(iid)
            if md is None:
                continue
            cached = self._text.get(iid)
            if cached is None or cached[0] is not md:  # formatted again only when it moved
                cached = self._text[iid] = (md, self._row(md))
            rows.append(cached[1])
        text = "\n".join([f"HEADER|{VERSION}|{len(rows)}|{format_ns(ts_ns)}|{self.number}",
                          *rows, f"TRAILER|{len(rows)}", ""])
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="ascii")
        os.replace(tmp, self.path)

    def _row(self, md: MarketData) -> str:
        tick = self._ticks[md.instrument_id]

        def px(value: int | None) -> str:
            return "" if value is None else str(from_ticks(value, tick))

        fields = ["MD", md.instrument_id, md.phase.value, md.limit_state.value,
                  px(md.last_px_ticks), str(md.volume), px(md.iopv_ticks),
                  px(md.indicative_px_ticks), str(md.indicative_qty)]
        for levels in (md.bids, md.asks):
            for i in range(DEPTH):
                if i < len(levels):
                    fields += [px(levels[i][0]), str(levels[i][1])]
                else:
                    fields += ["", ""]
        return "|".join(fields)


class SnapshotReader:
    """Follows the snapshot file; `poll()` returns MarketData for what changed."""

    def __init__(self, path: Path, ticks: Mapping[str, Decimal]) -> None:
        self.path = path
        self.ticks = ticks
        self._stamp: tuple[int, int, int] | None = None
        self._last: dict[str, str] = {}  # each security's row as last read
        self.number = 0

    def poll(self, ts_init: int = 0) -> list[MarketData]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return []
        text = self.path.read_text(encoding="ascii")
        self._stamp = stamp
        return self.parse(text, ts_init)

    def parse(self, text: str, ts_init: int = 0) -> list[MarketData]:
        lines = text.splitlines()
        where = str(self.path)
        if not lines:
            raise EzsrError(f"{where}: empty snapshot")
        head = lines[0].split("|")
        if len(head) != 5 or head[0] != "HEADER" or head[1] != VERSION:
            raise EzsrError(f"{where}:1: header {lines[0]!r} is not HEADER|{VERSION}|...")
        rows, number = _int(where, 1, "rows", head[2]), _int(where, 1, "number", head[4])
        try:
            ts = parse_ns(head[3])
        except ValueError as exc:
            raise EzsrError(f"{where}:1: time = {head[3]!r}: {exc}") from exc
        if len(lines) != rows + 2 or lines[-1] != f"TRAILER|{rows}":
            raise EzsrError(f"{where}: {len(lines) - 2} rows between header and trailer, "
                            f"the header says {rows} (a truncated file?)")
        if number <= self.number:
            return []  # an older or the same snapshot
        out = []
        seen: dict[str, str] = {}
        last = self._last
        for line_no, line in enumerate(lines[1:-1], 2):
            code_end = line.find("|", 3)
            if line.startswith("MD|") and last.get(line[3:code_end]) == line:
                seen[line[3:code_end]] = line  # the row as read and checked before
                continue
            fields = tuple(line.split("|"))
            if len(fields) != _FIELDS or fields[0] != "MD":
                raise EzsrError(f"{where}:{line_no}: {len(fields)} fields, want {_FIELDS} "
                                f"starting with MD")
            seen[fields[1]] = line
            out.append(self._market_data(where, line_no, fields, ts, ts_init, number))
        self._last.update(seen)
        self.number = number
        return out

    def _market_data(self, where: str, line_no: int, f: tuple[str, ...], ts: int,
                     ts_init: int, number: int) -> MarketData:
        code = f[1]
        tick = self.ticks.get(code)
        if tick is None:
            raise EzsrError(f"{where}:{line_no}: code = {code!r}: unknown security")

        def px(index: int, name: str) -> int | None:
            if not f[index]:
                return None
            try:
                return to_ticks(f[index], tick, field=name)
            except PriceError as exc:
                raise EzsrError(f"{where}:{line_no}: {exc}") from exc

        def qty(index: int, name: str) -> int:
            return _int(where, line_no, name, f[index])

        def levels(start: int, name: str) -> tuple[tuple[int, int], ...]:
            out = []
            for i in range(DEPTH):
                price = px(start + 2 * i, f"{name}{i + 1}_px")
                if price is not None:
                    out.append((price, qty(start + 2 * i + 1, f"{name}{i + 1}_qty")))
            return tuple(out)

        try:
            phase, limit = Phase(f[2]), LimitState(f[3])
        except ValueError as exc:
            raise EzsrError(f"{where}:{line_no}: phase/limit = {f[2]!r}/{f[3]!r}: "
                            "not a phase or limit state") from exc
        return MarketData(
            ts_event=ts, ts_init=ts_init, instrument_id=code, seq=number, phase=phase,
            limit_state=limit, last_px_ticks=px(4, "last"), volume=qty(5, "volume"),
            iopv_ticks=px(6, "iopv"), indicative_px_ticks=px(7, "indicative_px"),
            indicative_qty=qty(8, "indicative_qty"), bids=levels(_FIXED, "bid"),
            asks=levels(_FIXED + 2 * DEPTH, "ask"),
        )


def _int(where: str, line_no: int, name: str, value: str) -> int:
    if not value.isdigit():
        raise EzsrError(f"{where}:{line_no}: {name} = {value!r}: not a whole number")
    return int(value)
