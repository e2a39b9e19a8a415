"""Build the trading calendar from three sources, in order of trust: exchange-calendars' XSHG
table where it reaches, chinese-calendar's statutory holidays after it, and the holiday list
in configs/calendar/holidays.toml for the years neither covers (2027 on)."""

import warnings
from datetime import date, timedelta
from functools import lru_cache

import structlog

from core.calendar import TradingCalendar, merge_years
from core.config import HolidaysConfig

log = structlog.get_logger("calendar")

FIRST_YEAR = 2020


def _weekdays(year: int) -> list[date]:
    day, end = date(year, 1, 1), date(year, 12, 31)
    out = []
    while day <= end:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


@lru_cache(maxsize=1)
def _xshg_years() -> dict[int, frozenset[date]]:
    """Closed weekdays per whole year that XSHG's session table covers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import exchange_calendars as xcals  # noqa: PLC0415 (pandas import: seconds, so lazy)

        cal = xcals.get_calendar("XSHG", start=f"{FIRST_YEAR}-01-01")
        sessions = {ts.date() for ts in cal.sessions}
        last = cal.last_session.date()
    out = {}
    for year in range(FIRST_YEAR, last.year + 1):
        if date(year, 12, 31) > last and last < date(year, 12, 24):
            break  # the table stops inside this year: not a whole year
        out[year] = frozenset(d for d in _weekdays(year) if d not in sessions)
    return out


def _chinese_calendar_year(year: int) -> frozenset[date] | None:
    import chinese_calendar  # noqa: PLC0415

    try:
        return frozenset(d for d in _weekdays(year) if chinese_calendar.is_holiday(d))
    except NotImplementedError:
        return None


def build_calendar(holidays: HolidaysConfig, last_year: int = 2030) -> TradingCalendar:
    """The calendar for FIRST_YEAR..last_year; a year no source covers is left out, so asking
    about it raises CalendarError instead of guessing."""
    xshg = _xshg_years()
    configured = {y.year: y for y in holidays.years}
    sources: list[tuple[int, frozenset[date]]] = []
    for year in range(FIRST_YEAR, last_year + 1):
        if year in xshg:
            sources.append((year, xshg[year]))
            continue
        closed = _chinese_calendar_year(year)
        if closed is not None:
            sources.append((year, closed))
            continue
        if year in configured:
            entry = configured[year]
            if entry.status == "provisional":
                log.warning("provisional_holidays", year=year, source=entry.source)
            sources.append((year, frozenset(entry.closed)))
    return merge_years(sources)
