"""The ports the shell plugs adapters into."""

from collections.abc import Callable
from enum import StrEnum
from typing import Protocol

from core.events import Command, Event


class LinkState(StrEnum):
    DOWN = "down"
    CONNECTING = "connecting"
    UP = "up"
    FAILED = "failed"


EventSink = Callable[[Event], None]


class ExchangeLink(Protocol):
    """One connection to an exchange (FIX, the EzSTEP-style file link, or the simulator).

    The link translates; it decides nothing. `submit` never blocks: it queues the command for
    the wire and returns. Every event from the exchange reaches `sink` on the owner's thread.
    A link that loses its exchange reports `LinkState.DOWN` or `FAILED` with a reason.
    """

    name: str

    @property
    def state(self) -> LinkState: ...

    async def start(self, sink: EventSink) -> None:
        """Connect (or resume) and begin delivering events to `sink`."""
        ...

    async def stop(self) -> None:
        """Flush what was submitted and disconnect."""
        ...

    def submit(self, command: Command) -> None:
        """Queue `command` for the exchange."""
        ...

    def submit_urgent(self, command: Command) -> None:
        """Send `command` now, from any thread (a kill's cancels while the loop is stuck)."""
        ...

    def flush(self) -> None:
        """Send now what was submitted (else it goes at the end of the loop turn): the
        gateway calls it after each product's requote, so a product's quotes do not wait
        for the other products' pricing."""
        ...


class JournalSink(Protocol):
    """Where every event and command is appended for audit."""

    def append(self, kind: str, actor: str, payload: bytes) -> None: ...
