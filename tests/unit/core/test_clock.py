from core.clock import SimClock


def test_sim_clock_runs_timers_in_time_order_at_their_own_time():
    clock = SimClock(100)
    seen = []
    clock.call_at(300, lambda: seen.append(("b", clock.now_ns())))
    clock.call_at(200, lambda: seen.append(("a", clock.now_ns())))
    clock.call_at(300, lambda: seen.append(("c", clock.now_ns())))
    clock.advance_to(250)
    assert seen == [("a", 200)] and clock.now_ns() == 250
    assert clock.run_next() is True
    assert seen == [("a", 200), ("b", 300), ("c", 300)]
    assert clock.run_next() is False


def test_cancelled_timer_never_fires_and_past_timers_fire_now():
    clock = SimClock(100)
    seen = []
    handle = clock.call_at(150, lambda: seen.append("cancelled"))
    handle.cancel()
    clock.call_at(50, lambda: seen.append(clock.now_ns()))
    assert clock.next_deadline_ns() == 100
    clock.run_due()
    assert seen == [100]


def test_time_never_goes_back():
    clock = SimClock(100)
    try:
        clock.advance_to(99)
    except ValueError as exc:
        assert "cannot go back" in str(exc)
    else:
        raise AssertionError("advance_to went back in time")
