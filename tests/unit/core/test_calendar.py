"""Trading days from XSHG, chinese-calendar and configs/, and the day's session times."""

from datetime import date, datetime, timedelta, timezone

import pytest

from core.calendar import CalendarError, session_times

CST = timezone(timedelta(hours=8))


def test_2026_holidays_come_from_xshg(calendar):
    assert not calendar.is_trading_day(date(2026, 10, 1))  # National Day
    assert not calendar.is_trading_day(date(2026, 2, 17))  # Spring Festival
    assert calendar.is_trading_day(date(2026, 11, 23))
    assert not calendar.is_trading_day(date(2026, 11, 21))  # a Saturday


def test_2027_works_from_the_configured_list(calendar):
    assert not calendar.is_trading_day(date(2027, 1, 1))
    assert not calendar.is_trading_day(date(2027, 10, 4))
    assert calendar.is_trading_day(date(2027, 10, 8))
    assert calendar.next_trading_day(date(2027, 9, 30)) == date(2027, 10, 8)


def test_a_year_nobody_covers_is_an_error_not_a_guess(calendar):
    with pytest.raises(CalendarError, match="2031"):
        calendar.is_trading_day(date(2031, 3, 3))


def test_sse_session_times(config, calendar):
    times = session_times(config.venues.schedules["sse_bse"], date(2026, 11, 23), calendar, CST)
    local = [(datetime.fromtimestamp(ts / 1e9, CST).strftime("%H:%M"), str(phase))
             for ts, phase in times]
    assert local == [("09:15", "opening_auction"), ("09:25", "pre_open"),
                     ("09:30", "continuous"), ("11:30", "break"), ("13:00", "continuous"),
                     ("14:57", "closing_auction"), ("15:00", "closed")]


def test_zce_night_session_runs_on_the_previous_trading_evening(config, calendar):
    times = session_times(config.venues.schedules["zce_night"], date(2026, 11, 23), calendar,
                          CST)
    first = datetime.fromtimestamp(times[0][0] / 1e9, CST)
    assert (first.date(), first.strftime("%H:%M"), str(times[0][1])) == (
        date(2026, 11, 20), "20:55", "opening_auction")
    assert "08:55" not in [datetime.fromtimestamp(t / 1e9, CST).strftime("%H:%M")
                           for t, _ in times]


def test_no_night_session_after_a_holiday_and_the_day_opens_with_an_auction(config, calendar):
    # 2026-10-08 is the first trading day after National Day: no night session on 09-30
    assert calendar.previous_trading_day(date(2026, 10, 8)) == date(2026, 9, 30)
    times = session_times(config.venues.schedules["zce_night"], date(2026, 10, 8), calendar, CST)
    first = datetime.fromtimestamp(times[0][0] / 1e9, CST)
    assert (first.date(), first.strftime("%H:%M"), str(times[0][1])) == (
        date(2026, 10, 8), "08:55", "opening_auction")
