"""TWS socket framing: a 4-byte big-endian length, then ASCII fields each terminated by NUL.

The same framing is used in both directions, so tests can reuse `FrameBuffer` as a raw client.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable

HANDSHAKE_PREFIX = b"API\0"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024  # a sane ceiling: a corrupt length must not make us buffer gigabytes

_LENGTH = struct.Struct("!I")
_VERSION_RANGE = re.compile(r"^v(\d+)(?:\.\.(\d+))?(?:\s.*)?$")

Field = str | int | float | bool


class FramingError(ValueError):
    """The peer sent bytes that are not a TWS message (bad prefix, absurd length, bad version string)."""


def encode_field(value: Field) -> str:
    # bool before int: IB encodes booleans as 0/1, and bool is an int subclass
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def encode_message(fields: Iterable[Field]) -> bytes:
    payload = "".join(encode_field(f) + "\0" for f in fields).encode("ascii", errors="replace")
    return _LENGTH.pack(len(payload)) + payload


def decode_payload(payload: bytes) -> list[str]:
    """Split a message body into fields; the trailing NUL leaves one empty tail that is dropped."""
    parts = payload.split(b"\0")
    if parts and parts[-1] == b"":
        parts.pop()
    return [p.decode("latin-1") for p in parts]


def parse_length(header: bytes) -> int:
    (length,) = _LENGTH.unpack(header)
    if length > MAX_MESSAGE_BYTES:
        raise FramingError(f"message length {length} exceeds {MAX_MESSAGE_BYTES} bytes")
    return length


def parse_version_range(text: str) -> tuple[int, int]:
    """Parse the client's `v100..187` (optionally `v100..187 +opts`, or a single `v100`)."""
    match = _VERSION_RANGE.match(text.strip())
    if not match:
        raise FramingError(f"client version string {text!r} is not of the form v<min>..<max>")
    low = int(match.group(1))
    high = int(match.group(2) or low)
    if low > high:
        raise FramingError(f"client version range {text!r} is empty")
    return low, high


class FrameBuffer:
    """Incremental reader: feed raw bytes as they arrive, get complete messages (as field lists) out."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[list[str]]:
        self._buffer.extend(data)
        messages: list[list[str]] = []
        while len(self._buffer) >= _LENGTH.size:
            length = parse_length(bytes(self._buffer[: _LENGTH.size]))
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                break
            messages.append(decode_payload(bytes(self._buffer[_LENGTH.size : end])))
            del self._buffer[:end]
        return messages

    @property
    def pending_bytes(self) -> int:
        return len(self._buffer)
