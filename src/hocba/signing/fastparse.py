"""Faster readers for pyHanko's PDF tokens, each giving pyHanko's own result, error and stream position.

pyHanko's parser reads most tokens one byte at a time: a name, a number's neighbours and every keyword through
``misc._read_until_class`` (a generator yielding single bytes, joined), literal strings through a loop that
writes each byte to a buffer, names again byte by byte to expand ``#`` escapes, indirect references digit by
digit. Every process that validates an 18-signature học bạ reads every version of its ~550 objects (a tagged
PDF: ~370 structure elements, fonts, fields): ~70 ms, paid by each worker process that shares out the
signatures; these readers take about a fifth off that (~73 → ~57 ms, median of 7 reads).

Each reader below takes the common case with one slice and a regular expression and hands anything else
back to pyHanko's function *from the same position*:

- ``read_hex_string_from_stream``: digits and whitespace up to the closing ``>`` (a signature's ``/Contents``:
  ~20,000 digits, read by pyHanko one Python call per digit — ~150 ms for the 18 signatures), unhexlified at
  once; a comment, a stray character or no closing ``>`` go to pyHanko.

- ``read_until_class``: the bytes before the first byte of a class, consuming that byte (pyHanko's
  ``read_until_delimiter`` then steps back over it); with a ``maxchars`` limit, pyHanko's own.
- ``read_string_literal_bytes``: a literal string with no escape and no nested parenthesis, i.e. whose first
  ``(``, ``)`` or ``\\`` after the opening parenthesis is the closing ``)``.
- ``decode_name``: a name of printable ASCII with no ``#`` escape and no delimiter (the bytes are the name).
- ``read_indirect_reference``: ``<digits> <digits> R`` with whitespace pyHanko accepts between the parts and a
  positive object number.

``install()`` puts them in place of pyHanko's (idempotent, process-wide: the results are pyHanko's, so signing
and every other reader in the process are unaffected). Tests compare each with pyHanko's on generated inputs:
value, exception type and where the stream is left.
"""

from __future__ import annotations

import binascii
import re

from pyhanko.pdf_utils import generic, misc

_CHUNK = 256

_original_read_until_class = misc._read_until_class
_original_read_string_literal_bytes = generic._read_string_literal_bytes
_original_decode_name = generic._decode_name
_original_read_indirect = generic.IndirectObject.read_from_stream
_original_read_hex_string = generic.read_hex_string_from_stream

_class_patterns: dict[bytes, re.Pattern] = {}


def read_until_class(class_chars: bytes, stream, maxchars=None):
    """``misc._read_until_class``: ``(bytes before the first byte in class_chars, reached the end)``; the byte
    found is consumed."""
    if maxchars is not None or not class_chars:
        return _original_read_until_class(class_chars, stream, maxchars)
    pattern = _class_patterns.get(class_chars)
    if pattern is None:
        pattern = _class_patterns[class_chars] = re.compile(b"[" + re.escape(class_chars) + b"]")
    parts = []
    while True:
        start = stream.tell()
        chunk = stream.read(_CHUNK)
        found = pattern.search(chunk)
        if found is not None:
            stream.seek(start + found.start() + 1)
            parts.append(chunk[:found.start()])
            return b"".join(parts), False
        parts.append(chunk)
        if len(chunk) < _CHUNK:  # the end of the stream, where pyHanko's read(1) would have stopped too
            return b"".join(parts), True


_LITERAL_SPECIAL = re.compile(rb"[()\\]")


def read_string_literal_bytes(stream) -> bytes:
    """``generic._read_string_literal_bytes``: the bytes of ``( … )`` (the first byte is skipped unread, as
    pyHanko does)."""
    start = stream.tell()
    chunk = stream.read(_CHUNK)
    special = _LITERAL_SPECIAL.search(chunk, 1)
    if special is not None and chunk[special.start()] == 0x29:  # ")": no escape, no nesting before it
        stream.seek(start + special.end())
        return chunk[1:special.start()]
    stream.seek(start)
    return _original_read_string_literal_bytes(stream)


#: printable ASCII but for the delimiters ( ) < > [ ] { } / % and the escape character #
_PLAIN_NAME = re.compile(rb"[!-~]*")
_NOT_PLAIN_IN_NAME = re.compile(rb"[()<>\[\]{}/%#]")


def decode_name(name_bytes: bytes):
    """``generic._decode_name``: the ``NameObject`` of the bytes after ``/``."""
    if _PLAIN_NAME.fullmatch(name_bytes) and _NOT_PLAIN_IN_NAME.search(name_bytes) is None:
        return generic.NameObject("/" + name_bytes.decode("ascii"))
    return _original_decode_name(name_bytes)


# pyHanko: leading ``bytes.isspace`` whitespace, the object number, whitespace, the generation, one whitespace
# byte, then PDF whitespace (comments excluded here) up to "R"
_INDIRECT = re.compile(rb"[ \t\n\r\x0b\f]*([0-9]+)[ \t\n\r\x0b\f]+([0-9]+)[ \t\n\r\x0b\f][ \t\n\r\f\x00]*R")


def read_indirect_reference(stream, container_ref):
    """``generic.IndirectObject.read_from_stream``."""
    start = stream.tell()
    chunk = stream.read(_CHUNK)
    match = _INDIRECT.match(chunk)
    if match is not None:
        idnum, generation = int(match.group(1)), int(match.group(2))
        if idnum > 0:
            stream.seek(start + match.end())
            return generic.IndirectObject(idnum, generation, container_ref.get_pdf_handler())
    stream.seek(start)
    return _original_read_indirect(stream, container_ref)


_HEX_PLAIN = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*")
_HEX_WHITESPACE = b" \n\r\t\f\x00"
_HEX_CHUNK = 1 << 16


def read_hex_string_from_stream(stream):
    """``generic.read_hex_string_from_stream``: the string object of ``< … >``."""
    start = stream.tell()
    stream.read(1)  # the opening "<"
    parts = []
    while True:
        chunk = stream.read(_HEX_CHUNK)
        end = chunk.find(b">")
        if end >= 0:
            parts.append(chunk[:end])
            stream.seek(start + 1 + sum(len(p) for p in parts) + 1)
            break
        if len(chunk) < _HEX_CHUNK:  # no closing ">": pyHanko's error
            stream.seek(start)
            return _original_read_hex_string(stream)
        parts.append(chunk)
    body = b"".join(parts)
    if not _HEX_PLAIN.fullmatch(body):  # a comment or a character that is not a digit: pyHanko decides
        stream.seek(start)
        return _original_read_hex_string(stream)
    digits = body.translate(None, _HEX_WHITESPACE)
    return generic.pdf_string(binascii.unhexlify(digits + b"0" if len(digits) % 2 else digits))


def install() -> None:
    generic.read_hex_string_from_stream = read_hex_string_from_stream
    misc._read_until_class = read_until_class
    generic._read_string_literal_bytes = read_string_literal_bytes
    generic._decode_name = decode_name
    generic.IndirectObject.read_from_stream = staticmethod(read_indirect_reference)
