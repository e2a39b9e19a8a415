"""The control channel on a real Unix socket: tokens, roles, journaled commands, the stream."""

import asyncio
import struct

import msgspec
import pytest

from core.enums import LimitState
from core.events import DECODER, LimitStateChange
from gateway.control import (
    ControlServer,
    Kill,
    QuoteDisable,
    SetParams,
    Status,
    load_tokens,
    make_tokens,
    request,
)


@pytest.fixture
def channel(tmp_path):
    tokens = make_tokens(tmp_path / "tokens.json", {"alice": "trader", "bob": "risk",
                                                    "carol": "auditor"})
    audit: list[tuple[str, str, str]] = []
    handled = []

    async def handler(identity, body):
        if isinstance(body, SetParams) and "size" in body.values and body.values["size"] <= 0:
            raise ValueError(f"size: {body.values['size']} must be positive")
        handled.append((identity.actor, type(body).__name__))
        return {"done": type(body).__name__}

    server = ControlServer(tmp_path / "control.sock", load_tokens(tmp_path / "tokens.json"),
                           handler, lambda kind, actor, payload, outcome:
                           audit.append((kind, actor, outcome)))
    return server, tokens, audit, handled, tmp_path / "control.sock"


def run_with(server, client):
    async def main():
        await server.start()
        try:
            return await asyncio.to_thread(client)
        finally:
            await server.stop()

    return asyncio.run(main())


def test_a_command_is_answered_and_journaled_with_its_actor(channel):
    server, tokens, audit, handled, path = channel
    response = run_with(server, lambda: request(path, tokens["alice"], SetParams(
        product="510050", values={"width_ticks": 6})))
    assert response.ok and response.actor == "alice" and response.result == {
        "done": "SetParams"}
    assert handled == [("alice", "SetParams")]
    assert audit == [("command", "alice", "ok: SetParams")]


def test_unknown_tokens_and_forbidden_roles_are_refused_and_journaled(channel):
    server, tokens, audit, _, path = channel

    def client():
        return (request(path, "nope", Status()),
                request(path, tokens["carol"], QuoteDisable(product="510050")),
                request(path, tokens["bob"], Kill(scope="all", reason="test")))

    unknown, forbidden, allowed = run_with(server, client)
    assert not unknown.ok and unknown.error == "token: not recognised"
    assert not forbidden.ok and forbidden.error == "QuoteDisable: not allowed to the auditor role"
    assert allowed.ok
    assert [a[1:] for a in audit] == [
        ("unknown", "refused: Status: unknown token"),
        ("carol", "refused: QuoteDisable: not allowed to the auditor role"),
        ("bob", "ok: Kill")]


def test_a_bad_value_is_a_clear_error(channel):
    server, tokens, audit, _, path = channel
    response = run_with(server, lambda: request(path, tokens["alice"], SetParams(
        product="510050", values={"size": 0})))
    assert not response.ok and response.error == "SetParams: size: 0.0 must be positive"
    assert audit[-1] == ("command", "alice", "failed: SetParams: size: 0.0 must be positive")


def test_a_subscriber_receives_the_event_stream(channel):
    server, tokens, _, _, path = channel
    event = LimitStateChange(ts_event=1, ts_init=1, instrument_id="C1", state=LimitState.UP)

    async def main():
        await server.start()
        try:
            reader, writer = await asyncio.open_unix_connection(str(path))
            body = msgspec.msgpack.encode({"token": tokens["carol"], "body": {"type":
                                                                              "Subscribe"}})
            writer.write(struct.pack(">I", len(body)) + body)
            await writer.drain()
            size = struct.unpack(">I", await reader.readexactly(4))[0]
            await reader.readexactly(size)  # the answer
            await asyncio.sleep(0.05)
            server.publish(event)
            size = struct.unpack(">I", await reader.readexactly(4))[0]
            received = DECODER.decode(await reader.readexactly(size))
            writer.close()
            return received
        finally:
            await server.stop()

    assert asyncio.run(main()) == event
