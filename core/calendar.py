"""Trading days and session times, as pure values.

`TradingCalendar` knows which weekdays are exchange holidays for the years it covers; asked
about a year it does not cover it raises CalendarError rather than guess (unknown state stops
quoting). The shell builds it from exchange-calendars, chinese-calendar and configs/.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from core.clock import NS_PER_S
from core.config import Schedule
from core.enums import Phase


class CalendarError(LookupError):
    """A date outside the years the calendar has holiday data for."""


@dataclass(frozen=True, slots=True)
class TradingCalendar:
    holidays: frozenset[date]
    years: frozenset[int]

    def _check(self, day: date) -> None:
        if day.year not in self.years:
            covered = f"{min(self.years)}-{max(self.years)}" if self.years else "none"
            raise CalendarError(
                f"no holiday data for {day.isoformat()} (year {day.year}; covered: {covered});"
                " add the year to configs/calendar/holidays.toml"
            )

    def is_trading_day(self, day: date) -> bool:
        self._check(day)
        return day.weekday() < 5 and day not in self.holidays

    def next_trading_day(self, day: date) -> date:
        """The first trading day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def previous_trading_day(self, day: date) -> date:
        """The last trading day strictly before `day`."""
        day -= timedelta(days=1)
        while not self.is_trading_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        return day if self.is_trading_day(day) else self.next_trading_day(day)

    def on_or_before(self, day: date) -> date:
        return day if self.is_trading_day(day) else self.previous_trading_day(day)

    def nth_trading_day(self, year: int, month: int, n: int) -> date:
        """The n-th trading day (1-based) of a month."""
        day = date(year, month, 1)
        count = 0
        while day.month == month:
            if self.is_trading_day(day):
                count += 1
                if count == n:
                    return day
            day += timedelta(days=1)
        raise CalendarError(f"{year}-{month:02d} has fewer than {n} trading days")

    def trading_days(self, start: date, end: date) -> list[date]:
        """Trading days in [start, end]."""
        out = []
        day = start
        while day <= end:
            if self.is_trading_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out

    def has_night_before(self, day: date) -> bool:
        """Whether `day`'s night session runs on the previous trading day's evening: not
        after a holiday break (only an ordinary weekend may lie between the two)."""
        prev = self.previous_trading_day(day)
        between = [prev + timedelta(days=i) for i in range(1, (day - prev).days)]
        return all(d.weekday() >= 5 for d in between)


def parse_offset(utc_offset: str) -> timezone:
    sign = -1 if utc_offset.startswith("-") else 1
    hours, minutes = int(utc_offset[1:3]), int(utc_offset[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def local_ns(day: date, at: str, tz: timezone) -> int:
    """Nanoseconds since the epoch of local time `at` (HH:MM[:SS]) on `day`."""
    moment = datetime.combine(day, time.fromisoformat(at), tzinfo=tz)
    return int(moment.timestamp()) * NS_PER_S


def session_times(
    schedule: Schedule, day: date, calendar: TradingCalendar, tz: timezone
) -> list[tuple[int, Phase]]:
    """The phase changes of trading day `day` as (epoch ns, phase), in time order.

    Evening entries fall on the previous trading day's evening, and are left out when a holiday
    lies between (no night session before a holiday).
    """
    if not calendar.is_trading_day(day):
        raise CalendarError(f"{day.isoformat()} is not a trading day")
    out: list[tuple[int, Phase]] = []
    has_evening = any(e.evening for e in schedule.entries)
    evening_ran = has_evening and calendar.has_night_before(day)
    for entry in schedule.entries:
        if entry.evening:
            if evening_ran:
                eve = calendar.previous_trading_day(day)
                out.append((local_ns(eve, entry.at, tz), entry.phase))
        elif not (entry.without_evening and evening_ran):
            out.append((local_ns(day, entry.at, tz), entry.phase))
    out.sort(key=lambda item: item[0])
    return out


def merge_years(sources: Iterable[tuple[int, Iterable[date]]]) -> TradingCalendar:
    """A calendar from (year, closed weekdays) pairs; a later pair for a year is ignored."""
    holidays: set[date] = set()
    years: set[int] = set()
    for year, closed in sources:
        if year in years:
            continue
        years.add(year)
        holidays.update(d for d in closed if d.year == year)
    return TradingCalendar(frozenset(holidays), frozenset(years))
