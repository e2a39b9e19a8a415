"""Where the simulated exchange's events go: member sessions, public subscribers and drop
copies, in order, after the command that caused them; and the digest of everything logged."""

import hashlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.events import ENCODER, Command, Event, ExecutionReport

Sink = Callable[[Event], None]


@dataclass(slots=True)
class Session:
    session_id: str
    sink: Sink | None
    public: bool
    cancel_on_disconnect: bool
    connected: bool = True



class Dispatcher:
    """Queues events and hands them out once the exchange has finished a command, so a sink
    that answers at once never re-enters a match in progress."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.drop_copies: list[tuple[frozenset[str] | None, Sink]] = []
        # (session id | None for every public session | index of a drop copy, event)
        self._outbox: deque[tuple[str | int | None, Event]] = deque()
        self._delivering = False
        self._digest = hashlib.sha256()
        self.logged = 0

    @property
    def digest(self) -> str:
        return self._digest.hexdigest()

    def log(self, message: Command | Event) -> None:
        """Feed a command received or an event emitted into the log's digest."""
        self._digest.update(ENCODER.encode(message))
        self.logged += 1

    def emit(self, session_id: str | None, event: Event) -> None:
        """Log `event` and queue it for one session, or for every public one (None)."""
        self.log(event)
        self._outbox.append((session_id, event))

    def copy_fill(self, account: str, report: ExecutionReport) -> None:
        """Queue a fill for every drop copy that follows `account`."""
        for index, (accounts, _) in enumerate(self.drop_copies):
            if accounts is None or account in accounts:
                self._outbox.append((index, report))

    def deliver(self) -> None:
        if self._delivering:
            return
        self._delivering = True
        try:
            while self._outbox:
                target, event = self._outbox.popleft()
                if isinstance(target, int):
                    self.drop_copies[target][1](event)
                elif target is None:
                    for session in self.sessions.values():
                        if session.public and session.connected and session.sink is not None:
                            session.sink(event)
                else:
                    session = self.sessions.get(target)
                    if session is not None and session.connected and session.sink is not None:
                        session.sink(event)
        finally:
            self._delivering = False
