"""QuickFIX session settings from values, not hand-edited files: each process writes the
configuration it runs with (into its own directory, so the run keeps it) and QuickFIX reads
it back. The FIX 4.4 data dictionary is the one the quickfix wheel installs."""

import sys
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import quickfix as fix


class FixConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """configs/fix.toml: the sessions both ends of the FIX link run."""

    exchange_comp_id: str = "SIM"
    member_comp_id: str = "MM01"
    drop_copy_comp_id: str = "DROP"
    heartbeat_s: Annotated[int, msgspec.Meta(ge=1, le=60)] = 1
    reconnect_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    reconnect_max_s: Annotated[float, msgspec.Meta(gt=0)] = 30.0
    store: Literal["file", "memory"] = "file"
    mass_quote_venues: list[str] = []
    """venues whose FIX sessions take MassQuote (35=i): the quotes of one loop turn go out
    in one message; others get one Quote (35=S) each"""

    def store_factory(self, settings: fix.SessionSettings) -> fix.MessageStoreFactory:
        return (fix.FileStoreFactory(settings) if self.store == "file"
                else fix.MemoryStoreFactory())


GIL_SWITCH_S = 0.0005
"""How long a busy Python thread keeps the GIL from QuickFIX's (Python's default: 5 ms).
QuickFIX hands every message to Python on its own thread, which must take the GIL first:
under the default, while the event loop is busy, a message waits up to 5 ms for it, and a
burst of a hundred statuses takes half a second to cross."""


def share_the_gil() -> None:
    """Let QuickFIX's threads into Python promptly (a process-wide setting: the process
    that runs a FIX session calls it)."""
    sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))


class FixSettingsError(ValueError):
    """A FIX setting that cannot be used (names the setting and the value)."""


def dictionary(version: str = "FIX44") -> Path:
    """The data dictionary the quickfix package installed (`<prefix>/share/quickfix`)."""
    for root in (Path(sys.prefix), Path(fix.__file__).resolve().parents[3]):
        path = root / "share" / "quickfix" / f"{version}.xml"
        if path.exists():
            return path
    raise FixSettingsError(f"DataDictionary: no {version}.xml under {sys.prefix}/share/quickfix "
                           f"(the quickfix package installs it)")


def write(path: Path, default: dict[str, str], sessions: list[dict[str, str]]
          ) -> fix.SessionSettings:
    """Write `[DEFAULT]` and one `[SESSION]` each to `path`; returns QuickFIX's reading of it."""
    lines = ["[DEFAULT]", *(f"{k}={v}" for k, v in default.items())]
    for session in sessions:
        lines += ["", "[SESSION]", *(f"{k}={v}" for k, v in session.items())]
    for key, value in [*default.items(), *(kv for s in sessions for kv in s.items())]:
        if "\n" in value or "=" in key:
            raise FixSettingsError(f"{key}: {value!r} is not a setting QuickFIX can read")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return fix.SessionSettings(str(path))


class Application(fix.Application):
    """QuickFIX's application callbacks, each doing nothing: a subclass overrides the ones it
    needs (the arguments keep QuickFIX's names)."""

    def onCreate(self, sessionID):
        pass

    def onLogon(self, sessionID):
        pass

    def onLogout(self, sessionID):
        pass

    def toAdmin(self, message, sessionID):
        pass

    def fromAdmin(self, message, sessionID):
        pass

    def toApp(self, message, sessionID):
        pass

    def fromApp(self, message, sessionID):
        pass
