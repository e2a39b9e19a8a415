"""The simulator's FIX acceptor in acceptance-test mode (`mmgw sim fix-at --port N`): the
acceptor QuickFIX's own acceptance tests (`../shared/conformance/quickfix-at/`) expect.

Session ISLD -> TW44, FIX 4.4 with the standard data dictionary, ResetOnLogon, in-memory
store. The application echoes every NewOrderSingle unchanged (except a PossResend=Y order
whose ClOrdID it has seen since the last logon: no answer), echoes SecurityDefinition, and
refuses any other application message as an unsupported message type (QuickFIX answers a
BusinessMessageReject). Everything else is the QuickFIX session layer: the same engine the
simulator's trading acceptor runs on. Every callback catches what it raises, but for the
exceptions QuickFIX itself turns into protocol answers.
"""

import threading
from pathlib import Path

import quickfix as fix
import structlog

from adapters.fix.settings import Application, dictionary, write

log = structlog.get_logger("fix.at")

SENDER, TARGET = "ISLD", "TW44"
POSS_RESEND = 97
CL_ORD_ID = 11


class AcceptanceApplication(Application):
    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, str]] = set()  # (ClOrdID, session) since the last logon
        self._lock = threading.Lock()

    def onCreate(self, sessionID: fix.SessionID) -> None:
        session = fix.Session.lookupSession(sessionID)
        if session is not None:
            session.reset()

    def onLogon(self, sessionID: fix.SessionID) -> None:
        log.info("logon", session=sessionID.toString())

    def onLogout(self, sessionID: fix.SessionID) -> None:
        with self._lock:
            self._seen.clear()

    def fromApp(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        msg_type = message.getHeader().getField(fix.MsgType().getField())
        if msg_type == fix.MsgType_NewOrderSingle:
            self._order(message, sessionID)
        elif msg_type == fix.MsgType_SecurityDefinition:
            fix.Session.sendToTarget(fix.Message(message), sessionID)
        else:
            raise fix.UnsupportedMessageType()

    def _order(self, message: fix.Message, sessionID: fix.SessionID) -> None:
        header = message.getHeader()
        resent = header.isSetField(POSS_RESEND) and header.getField(POSS_RESEND) == "Y"
        key = (message.getField(CL_ORD_ID), sessionID.toString())
        with self._lock:
            if resent and key in self._seen:
                return
            self._seen.add(key)
        fix.Session.sendToTarget(fix.Message(message), sessionID)


class AcceptanceAcceptor:
    """The acceptor and its application together (QuickFIX holds only a pointer to the
    application: it must live as long as the acceptor)."""

    def __init__(self, server: fix.SocketAcceptor, application: AcceptanceApplication) -> None:
        self.server = server
        self.application = application

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()


def acceptor(port: int, directory: Path) -> AcceptanceAcceptor:
    """A QuickFIX acceptor for the acceptance tests on `port`, its settings and logs in
    `directory`."""
    settings = write(directory / "fix-at.cfg", {
        "ConnectionType": "acceptor",
        "SocketAcceptPort": str(port),
        "SocketReuseAddress": "Y",
        "StartTime": "00:00:00",
        "EndTime": "00:00:00",
        "ResetOnLogon": "Y",
        "UseDataDictionary": "Y",
        "DataDictionary": str(dictionary("FIX44")),
        "FileLogPath": str(directory / "log"),
    }, [{"BeginString": "FIX.4.4", "SenderCompID": SENDER, "TargetCompID": TARGET}])
    application = AcceptanceApplication()
    server = fix.SocketAcceptor(application, fix.MemoryStoreFactory(), settings,
                                fix.FileLogFactory(settings))
    return AcceptanceAcceptor(server, application)
