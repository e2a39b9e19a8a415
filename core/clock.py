"""One clock, injected: a real clock and a simulated one behind the same protocol.

Timers run in time order (ties in the order they were set). Neither clock starts a thread or
an event loop: the shell asks `next_deadline_ns()` and calls `run_due()`; the simulated clock
jumps straight to its next timer.
"""

import heapq
import time
from collections.abc import Callable
from typing import Protocol

NS_PER_S = 1_000_000_000


class TimerHandle:
    """A timer set on a clock; `cancel()` makes it never fire."""

    __slots__ = ("callback", "cancelled", "ts_ns")

    def __init__(self, ts_ns: int, callback: Callable[[], None]) -> None:
        self.ts_ns = ts_ns
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Clock(Protocol):
    def now_ns(self) -> int:
        """The current time in nanoseconds since the epoch."""
        ...

    def call_at(self, ts_ns: int, callback: Callable[[], None]) -> TimerHandle:
        """Run `callback` once the clock reaches `ts_ns` (at once if it already has)."""
        ...

    def next_deadline_ns(self) -> int | None:
        """The time of the earliest live timer, or None."""
        ...

    def run_due(self) -> int:
        """Run every timer whose time has come; return how many ran."""
        ...


class _TimerQueue:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, TimerHandle]] = []
        self._seq = 0

    def push(self, ts_ns: int, callback: Callable[[], None]) -> TimerHandle:
        handle = TimerHandle(ts_ns, callback)
        self._seq += 1
        heapq.heappush(self._heap, (ts_ns, self._seq, handle))
        return handle

    def peek(self) -> int | None:
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now_ns: int) -> TimerHandle | None:
        ts = self.peek()
        if ts is None or ts > now_ns:
            return None
        return heapq.heappop(self._heap)[2]


class RealClock:
    """Wall-clock time; the shell's loop sleeps until `next_deadline_ns()` and calls `run_due`."""

    def __init__(self) -> None:
        self._timers = _TimerQueue()

    def now_ns(self) -> int:
        return time.time_ns()

    def call_at(self, ts_ns: int, callback: Callable[[], None]) -> TimerHandle:
        return self._timers.push(ts_ns, callback)

    def next_deadline_ns(self) -> int | None:
        return self._timers.peek()

    def run_due(self) -> int:
        ran = 0
        while (handle := self._timers.pop_due(self.now_ns())) is not None:
            handle.callback()
            ran += 1
        return ran


class SimClock:
    """Simulated time that moves only when told: a whole trading day replays in seconds."""

    def __init__(self, start_ns: int) -> None:
        self._now = start_ns
        self._timers = _TimerQueue()

    def now_ns(self) -> int:
        return self._now

    def call_at(self, ts_ns: int, callback: Callable[[], None]) -> TimerHandle:
        return self._timers.push(max(ts_ns, self._now), callback)

    def call_later(self, delay_ns: int, callback: Callable[[], None]) -> TimerHandle:
        return self.call_at(self._now + delay_ns, callback)

    def next_deadline_ns(self) -> int | None:
        return self._timers.peek()

    def run_due(self) -> int:
        ran = 0
        while (handle := self._timers.pop_due(self._now)) is not None:
            handle.callback()
            ran += 1
        return ran

    def advance_to(self, ts_ns: int) -> int:
        """Move time forward to `ts_ns`, running each timer due on the way at its own time."""
        if ts_ns < self._now:
            raise ValueError(f"time cannot go back: {ts_ns} < now {self._now}")
        ran = 0
        while (ts := self._timers.peek()) is not None and ts <= ts_ns:
            self._now = ts
            ran += self.run_due()
        self._now = ts_ns
        return ran

    def run_next(self) -> bool:
        """Jump to the next timer and run everything due then; False when no timer is left."""
        ts = self._timers.peek()
        if ts is None:
            return False
        self._now = max(ts, self._now)
        self.run_due()
        return True
