"""pyHanko's reader parses a PDF hex string one byte at a time (a Python call per digit, comments skipped at each
step). A signature's ``/Contents`` is such a string of ~20,000 digits, so reading the signatures of an
18-signature học bạ cost ~150 ms before any check began — on the portal's critical path, since the file is
read once before the signatures are shared out among workers.

``read_hex_string_from_stream`` reads the usual case — digits and whitespace up to the closing ``>`` — with one
slice and ``binascii.unhexlify``, and hands anything else (a comment, a stray character, no closing ``>``)
back to pyHanko's own function from the same position, so every result and every error is pyHanko's.
``install()`` puts it in place of pyHanko's (idempotent); tests compare the two on generated inputs.
"""

from __future__ import annotations

import binascii
import re

from pyhanko.pdf_utils import generic

_original = generic.read_hex_string_from_stream
_PLAIN = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*")
_WHITESPACE = b" \n\r\t\f\x00"
_CHUNK = 1 << 16


def read_hex_string_from_stream(stream):
    start = stream.tell()
    stream.read(1)  # the opening "<"
    parts = []
    while True:
        chunk = stream.read(_CHUNK)
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(start + 1 + sum(len(p) for p in parts) + 1)
            break
        if len(chunk) < _CHUNK:  # no closing ">": pyHanko's error
            stream.seek(start)
            return _original(stream)
        parts.append(chunk)
    body = b"".join(parts)
    if not _PLAIN.fullmatch(body):  # a comment or a character that is not a digit: pyHanko decides
        stream.seek(start)
        return _original(stream)
    digits = body.translate(None, _WHITESPACE)
    return generic.pdf_string(binascii.unhexlify(digits + b"0" if len(digits) % 2 else digits))


def install() -> None:
    generic.read_hex_string_from_stream = read_hex_string_from_stream
