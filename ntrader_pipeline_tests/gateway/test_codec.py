from __future__ import annotations

import pytest
from ibapi import comm

from ntrader_pipeline.gateway.codec import (
    FrameBuffer,
    FramingError,
    decode_payload,
    encode_message,
    parse_version_range,
)


def test_encoding_matches_ibapi_framing() -> None:
    msg_id, *rest = fields = [17, "SPY", 1.5, True, ""]
    # ibapi 10.45: the message id apart, as text below server version 201 (MIN_SERVER_VER_PROTOBUF)
    assert encode_message(fields) == comm.make_msg(msg_id, False, "".join(comm.make_field(f) for f in rest))
    _size, payload, rest = comm.read_msg(encode_message(fields))
    assert rest == b"" and decode_payload(payload) == ["17", "SPY", "1.5", "1", ""]


def test_frame_buffer_reassembles_messages_fed_byte_by_byte() -> None:
    stream = encode_message(["9", "1", "1"]) + encode_message([]) + encode_message(["15", "1", "DU1"])
    buffer = FrameBuffer()
    messages = [m for byte in stream for m in buffer.feed(bytes([byte]))]
    assert messages == [["9", "1", "1"], [], ["15", "1", "DU1"]]
    assert buffer.pending_bytes == 0


def test_frame_buffer_rejects_absurd_lengths() -> None:
    with pytest.raises(FramingError):
        FrameBuffer().feed(b"\xff\xff\xff\xff")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("v100..187", (100, 187)), ("v100..187 +PACEAPI", (100, 187)), ("v176", (176, 176))],
)
def test_client_version_strings(text: str, expected: tuple[int, int]) -> None:
    assert parse_version_range(text) == expected


@pytest.mark.parametrize("text", ["100..187", "v187..100", "", "vx"])
def test_bad_client_version_strings(text: str) -> None:
    with pytest.raises(FramingError):
        parse_version_range(text)
