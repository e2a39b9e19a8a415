"""The STEP wire format: tag=value fields separated by SOH, as SSE's STEP (a FIX dialect) has it.

    8=FIXT.1.1 | 9=<body length> | 35=<MsgType> | 1128=9 | 49=.. | 56=.. | 34=.. | 52=.. |
    <body fields> | 10=<checksum>

BodyLength counts the bytes after the `9=...` field up to and including the SOH before `10=`;
CheckSum is the sum of every byte before `10=` modulo 256, three digits. Text is GBK (SSE's
encoding), so free-text fields such as Text (58) may carry Chinese. `decode` checks all of it
and raises StepError naming the tag and value at fault.
"""

from dataclasses import dataclass, field

SOH = b"\x01"
BEGIN_STRING = "FIXT.1.1"
APPL_VER_ID = "9"
ENCODING = "gbk"
_HEADER_ORDER = (8, 9, 35)


class StepError(ValueError):
    """A message that is not valid STEP: names the tag, the value and what is wrong."""

    def __init__(self, tag: int | str, value: str, problem: str) -> None:
        self.tag, self.value, self.problem = tag, value, problem
        super().__init__(f"tag {tag} = {value!r}: {problem}")


@dataclass(frozen=True, slots=True)
class StepMessage:
    """A decoded message: its type, its header fields and its body fields in wire order
    (repeating groups stay in order, so a group is read by walking `body`)."""

    msg_type: str
    sender: str
    target: str
    seq: int
    sending_time: str
    body: tuple[tuple[int, str], ...]
    poss_dup: bool = False
    first: dict[int, str] = field(default_factory=dict, compare=False, repr=False)
    """the first value of each body tag (filled by `decode`), for O(1) look-ups"""

    def get(self, tag: int, default: str | None = None) -> str | None:
        """The first value of `tag` in the body, or `default`."""
        if self.first:
            return self.first.get(tag, default)
        for t, v in self.body:
            if t == tag:
                return v
        return default

    def require(self, tag: int) -> str:
        """The first value of `tag`; a missing tag is a StepError."""
        value = self.get(tag)
        if value is None:
            raise StepError(tag, "", f"required in MsgType {self.msg_type}")
        return value

    def all(self, tag: int) -> list[str]:
        return [v for t, v in self.body if t == tag]


def checksum(data: bytes) -> int:
    return sum(data) % 256


def encode(msg_type: str, body: list[tuple[int, str]] | tuple[tuple[int, str], ...], *,
           sender: str, target: str, seq: int, sending_time: str,
           poss_dup: bool = False) -> bytes:
    """One STEP message as bytes (GBK); a value with SOH or a tag out of range is refused."""
    parts = [f"35={msg_type}\x011128={APPL_VER_ID}\x0149={sender}\x0156={target}"
             f"\x0134={seq}\x0152={sending_time}"]
    if poss_dup:
        parts.append("43=Y")
    for tag, value in body:
        if not value or "\x01" in value:
            raise StepError(tag, value, "empty value" if not value else "value contains SOH")
        parts.append(f"{tag}={value}")
    for tag, value in ((35, msg_type), (49, sender), (56, target), (52, sending_time)):
        if not value or "\x01" in value:
            raise StepError(tag, value, "empty value" if not value else "value contains SOH")
    payload = "\x01".join(parts).encode(ENCODING) + SOH
    whole = b"8=FIXT.1.1\x019=%d\x01%b" % (len(payload), payload)
    return whole + b"10=%03d\x01" % checksum(whole)


def decode(data: bytes) -> StepMessage:
    """Parse and check one message: field order of the header, BodyLength, CheckSum, tags."""
    if not data.endswith(SOH):
        raise StepError(10, data[-8:].decode(ENCODING, "replace"), "message does not end in SOH")
    trailer_at = data.rfind(SOH + b"10=", 0, len(data) - 1)
    if trailer_at < 0:
        raise StepError(10, "", "CheckSum missing")
    trailer = data[trailer_at + 4:-1]
    if len(trailer) != 3 or not trailer.isdigit():
        raise StepError(10, trailer.decode(ENCODING, "replace"), "CheckSum is not three digits")
    expected = checksum(data[:trailer_at + 1])
    if int(trailer) != expected:
        raise StepError(10, trailer.decode(), f"CheckSum mismatch, computed {expected:03d}")
    try:
        text = data[:trailer_at].decode(ENCODING)
    except UnicodeDecodeError as exc:
        raise StepError("text", "", f"not GBK at byte {exc.start}") from exc
    fields: list[tuple[int, str]] = []
    for raw in text.split("\x01"):
        tag_text, sep, value = raw.partition("=")
        if not sep or not tag_text.isdigit() or tag_text.startswith("0"):
            raise StepError(tag_text or "?", value, "malformed field (want tag=value)")
        if not value:
            raise StepError(int(tag_text), value, "tag without a value")
        fields.append((int(tag_text), value))
    for position, tag in enumerate(_HEADER_ORDER):
        if len(fields) <= position or fields[position][0] != tag:
            got = fields[position][0] if len(fields) > position else "nothing"
            raise StepError(tag, "", f"must be field {position + 1} of the header, got {got}")
    if fields[0][1] != BEGIN_STRING:
        raise StepError(8, fields[0][1], f"BeginString must be {BEGIN_STRING}")
    body_start = data.index(SOH, data.index(SOH) + 1) + 1
    length = trailer_at + 1 - body_start
    if fields[1][1] != str(length):
        raise StepError(9, fields[1][1], f"BodyLength mismatch, counted {length}")
    header: dict[int, str] = {}
    body: list[tuple[int, str]] = []
    for tag, value in fields[3:]:
        if tag in (1128, 49, 56, 34, 52, 43) and tag not in header and not body:
            header[tag] = value
        else:
            body.append((tag, value))
    for tag in (49, 56, 34, 52):
        if tag not in header:
            raise StepError(tag, "", "required header field missing")
    if not header[34].isdigit():
        raise StepError(34, header[34], "MsgSeqNum is not a positive integer")
    if header.get(1128, APPL_VER_ID) != APPL_VER_ID:
        raise StepError(1128, header[1128], f"ApplVerID must be {APPL_VER_ID}")
    first: dict[int, str] = {}
    for tag, value in body:
        first.setdefault(tag, value)
    return StepMessage(
        msg_type=fields[2][1], sender=header[49], target=header[56], seq=int(header[34]),
        sending_time=header[52], body=tuple(body), poss_dup=header.get(43) == "Y",
        first=first,
    )
