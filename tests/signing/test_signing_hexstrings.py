"""``hocba.signing.hexstrings``: the fast hex-string reader gives pyHanko's result, pyHanko's error and leaves the
stream where pyHanko leaves it, on every input — signature values, odd lengths, whitespace, comments, stray
characters, a missing ``>``."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from hocba.signing import hexstrings

_ALPHABET = b"0123456789abcdefABCDEF \n\r\t\f\x00%>xZ("


def _run(fn, data: bytes):
    stream = io.BytesIO(data)
    try:
        value = fn(stream)
        outcome = ("ok", type(value).__name__, bytes(value.original_bytes) if hasattr(value, "original_bytes")
                   else str(value))
    except Exception as e:  # noqa: BLE001 - the exact error type is what is compared
        outcome = ("error", type(e).__name__)
    return outcome, stream.tell()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(list(_ALPHABET)), max_size=80).map(bytes), st.booleans())
def test_same_result_error_and_position_as_pyhanko(body, closed):
    data = b"<" + body + (b">" if closed else b"") + b" /Next 1"
    assert _run(hexstrings.read_hex_string_from_stream, data) == _run(hexstrings._original, data)


def test_a_signature_value_sized_string_across_read_chunks():
    value = bytes(range(256)) * 40  # 10 KB: 20,480 digits, more than one read chunk with the line breaks
    digits = value.hex().encode()
    body = b"\n".join(digits[i:i + 64] for i in range(0, len(digits), 64)) + b"000"  # odd: padded with 0
    data = b"<" + body + b">endobj"
    fast, slow = _run(hexstrings.read_hex_string_from_stream, data), _run(hexstrings._original, data)
    assert fast == slow and fast[1] == len(data) - len(b"endobj")
    stream = io.BytesIO(data)
    assert hexstrings.read_hex_string_from_stream(stream).original_bytes == value + b"\x00\x00"
