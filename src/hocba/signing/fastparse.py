"""Faster readers for pyHanko's PDF tokens, each giving pyHanko's own result, error and stream position.

pyHanko's parser reads most tokens one byte at a time: a name, a number's neighbours and every keyword through
``misc._read_until_class`` (a generator yielding single bytes, joined), literal strings through a loop that
writes each byte to a buffer, names again byte by byte to expand ``#`` escapes, indirect references digit by
digit. Every process that validates an 18-signature học bạ reads every version of its ~550 objects (a tagged
PDF: ~370 structure elements, fonts, fields): ~70 ms, paid by each worker process that shares out the
signatures; the token readers took about a fifth off that (~73 → ~57 ms, median of 7 reads), the object
reader (below) another seventh (~58 → ~50 ms, best of 3).

Each reader below takes the common case with one slice or one pass over the stream's buffer and a regular
expression, and hands anything else back to pyHanko's function *from the same position*:

- ``read_hex_string_from_stream``: digits and whitespace up to the closing ``>`` (a signature's ``/Contents``:
  ~20,000 digits, read by pyHanko one Python call per digit — ~150 ms for the 18 signatures), unhexlified at
  once; a comment, a stray character or no closing ``>`` go to pyHanko.
- ``read_until_class``: the bytes before the first byte of a class, consuming that byte (pyHanko's
  ``read_until_delimiter`` then steps back over it); with a ``maxchars`` limit, pyHanko's own.
- ``read_string_literal_bytes``: a literal string with balanced parentheses and the escapes pyHanko knows; an
  escaped line break, an octal escape pyHanko would refuse or no closing parenthesis go to pyHanko.
- ``decode_name``: a name of printable ASCII with no ``#`` escape and no delimiter (the bytes are the name).
- ``read_indirect_reference``: ``<digits> <digits> R`` with whitespace pyHanko accepts between the parts and a
  positive object number.
- ``read_object``: a whole object — dictionaries, arrays, names, numbers, references, booleans, null, literal and
  hex strings (the two readers above), nested — parsed in one pass, with pyHanko's rules token by token (what
  starts which kind of object, which bytes end a name or a number, when digits are a reference, the container
  reference set on every value, ``pdf_string`` for strings, the first of two equal keys…). A stream, a comment,
  a duplicate key or any byte pyHanko would refuse makes it give the whole object to pyHanko's function from the
  same position (whose nested values come back here).

The ones that work on the buffer (``_on_buffer``) take pyHanko's way for a stream that is not a ``BytesIO``.
``install()`` puts them in place of pyHanko's (idempotent, process-wide: the results are pyHanko's, so signing
and every other reader in the process are unaffected). Tests compare each with pyHanko's on generated inputs:
value, exception type and where the stream is left.
"""

from __future__ import annotations

import binascii
import io
import re

from pyhanko.pdf_utils import generic, misc

_CHUNK = 256

_original_read_until_class = misc._read_until_class
_original_read_string_literal_bytes = generic._read_string_literal_bytes
_original_decode_name = generic._decode_name
_original_read_indirect = generic.IndirectObject.read_from_stream
_original_read_hex_string = generic.read_hex_string_from_stream
_original_read_object = generic.read_object

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
    pyHanko does), by ``_literal_at``."""
    return _on_buffer(stream, _literal_at, _original_read_string_literal_bytes)


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


def read_hex_string_from_stream(stream):
    """``generic.read_hex_string_from_stream``: the string object of ``< … >``, by ``_hex_at``."""
    return _on_buffer(stream, _hex_at, _original_read_hex_string)


class _Refused(Exception):
    """What ``read_object``'s fast path does not take: the object goes to pyHanko's function."""


_WS = b" \n\r\t\f\x00"  # misc.PDF_WHITESPACE
_SKIP_WS = re.compile(rb"[ \n\r\t\f\x00]*")
_NAME_RUN = re.compile(rb"[^ \n\r\t\f\x00()<>\[\]{}/%]*")  # read_until_delimiter
_NUMBER_RUN = re.compile(rb"[+,\-.0-9]*")  # NumberObject.NumberPattern is [^+-.0-9]: "+-." is a range with ","
_HEX_BODY = re.compile(rb"[0-9A-Fa-f \n\r\t\f\x00]*>")
_SLASH, _LT, _GT, _LBRACKET, _RBRACKET, _LPAREN, _PERCENT = b"/<>[(%"[0], 0x3C, 0x3E, 0x5B, 0x5D, 0x28, 0x25
_DIGITS = b"0123456789"


def _on_buffer(stream, fast, original, *args):
    """``fast(buffer, position, *args)`` → (value, end) on the stream's own buffer (no copy), leaving the stream
    at ``end``; when it refuses (or the stream is not a ``BytesIO``), ``original(stream, *args)`` from the same
    position."""
    if type(stream) is not io.BytesIO:
        return original(stream, *args)
    start = stream.tell()
    buf = stream.getbuffer()
    try:
        value, end = fast(buf, start, *args)
    except (_Refused, IndexError, RecursionError):
        value = end = None
    finally:
        buf.release()
    if end is None:
        stream.seek(start)
        return original(stream, *args)
    stream.seek(end)
    return value


def _hex_at(buf, pos: int):
    """``< … >`` at ``pos``: hex digits and PDF whitespace up to the first ``>`` (a signature's ``/Contents``:
    ~20,000 digits, read by pyHanko one Python call per digit), unhexlified at once, an odd count padded with
    ``0``; a comment, any other byte or no closing ``>``: refused."""
    body = _HEX_BODY.match(buf, pos + 1)
    if body is None:
        raise _Refused
    digits = bytes(buf[pos + 1:body.end() - 1]).translate(None, _WS)
    return generic.pdf_string(binascii.unhexlify(digits + b"0" if len(digits) % 2 else digits)), body.end()


def _literal_at(buf, pos: int):
    """``generic._read_string_literal_bytes`` at ``pos``: balanced parentheses, the escapes pyHanko knows (a
    character standing for itself, n r t b f, one to three octal digits); an escaped line break, a digit 8 or 9 in
    an octal escape, a value over 255, an unknown escape or the end of the buffer: refused."""
    parts = []
    depth = 1
    i = pos + 1
    while True:
        special = _LITERAL_SPECIAL.search(buf, i)
        if special is None:
            raise _Refused
        j = special.start()
        if j > i:
            parts.append(bytes(buf[i:j]))
        c = buf[j]
        if c == 0x28:
            depth += 1
            parts.append(b"(")
            i = j + 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return b"".join(parts), j + 1
            parts.append(b")")
            i = j + 1
        else:  # a backslash
            escaped = buf[j + 1] if j + 1 < len(buf) else None
            simple = _SIMPLE_ESCAPES.get(escaped)
            if simple is not None:
                parts.append(simple)
                i = j + 2
            elif escaped is not None and 0x30 <= escaped <= 0x37:
                end = j + 2
                while end < j + 4 and end < len(buf) and 0x30 <= buf[end] <= 0x39:
                    end += 1
                if end == len(buf):  # pyHanko would look past the end
                    raise _Refused
                digits = bytes(buf[j + 1:end])
                if b"8" in digits or b"9" in digits:
                    raise _Refused
                value = int(digits, 8)
                if value > 255:
                    raise _Refused
                parts.append(bytes((value,)))
                i = end
            else:
                raise _Refused


class _Scanner:
    __slots__ = ("buf", "container_ref", "handler")

    def __init__(self, buf, container_ref):
        self.buf = buf
        self.container_ref = container_ref
        self.handler = None

    def skip(self, pos: int) -> int:
        """read_non_whitespace's skipping (a comment: refused); the position of the next byte, which must exist."""
        pos = _SKIP_WS.match(self.buf, pos).end()
        if pos >= len(self.buf) or self.buf[pos] == _PERCENT:
            raise _Refused
        return pos

    def value(self, pos: int):
        """``generic.read_object`` at ``pos`` (outside content streams): (object, position after it)."""
        buf = self.buf
        if pos >= len(buf):
            raise _Refused
        c = buf[pos]
        if c == _SLASH:
            result, pos = self.name(pos)
        elif c == _LT:
            if buf[pos + 1:pos + 2] == b"<":
                result, pos = self.dictionary(pos)
            else:
                result, pos = _hex_at(buf, pos)
        elif c == _LBRACKET:
            items = generic.ArrayObject()
            pos += 1
            while True:
                pos = self.skip(pos)
                if buf[pos] == _RBRACKET:
                    pos += 1
                    break
                item, pos = self.value(pos)
                items.append(item)
            result = items
        elif c == 0x74 or c == 0x66:  # t, f: BooleanObject.read_from_stream
            if bytes(buf[pos:pos + 4]) == b"true":
                result, pos = generic.BooleanObject(True), pos + 4
            elif bytes(buf[pos:pos + 5]) == b"false":
                result, pos = generic.BooleanObject(False), pos + 5
            else:
                raise _Refused
        elif c == _LPAREN:
            raw, pos = _literal_at(buf, pos)
            result = generic.pdf_string(raw)
        elif c == 0x6E:  # n
            if bytes(buf[pos:pos + 4]) != b"null":
                raise _Refused
            result, pos = generic.NullObject(), pos + 4
        elif c in _DIGITS:
            reference = _INDIRECT_PATTERN.match(buf, pos, pos + 20)  # read_object's decision, on 20 bytes
            if reference is not None:
                result, pos = self.reference(pos)
            else:
                result, pos = self.number(pos)
        elif c in b"+-.":
            result, pos = self.number(pos)
        else:  # a comment, or a byte pyHanko refuses
            raise _Refused
        result.container_ref = self.container_ref
        return result, pos

    def name(self, pos: int):
        """NameObject.read_from_stream: "/" and the bytes up to a delimiter or whitespace, decoded by pyHanko."""
        end = _NAME_RUN.match(self.buf, pos + 1).end()
        try:
            return generic._decode_name(bytes(self.buf[pos + 1:end])), end
        except Exception as e:  # pyHanko's own error: raised by pyHanko's function after the refusal
            raise _Refused from e

    def number(self, pos: int):
        end = _NUMBER_RUN.match(self.buf, pos).end()
        text = bytes(self.buf[pos:end]).decode("ascii")
        try:
            return (generic.FloatObject(text) if "." in text else generic.NumberObject(text)), end
        except Exception as e:  # pyHanko's own error: raised by pyHanko's function after the refusal
            raise _Refused from e

    def reference(self, pos: int):
        match = _INDIRECT.match(self.buf, pos)
        if match is None or int(match.group(1)) <= 0:
            raise _Refused
        if self.handler is None:
            self.handler = self.container_ref.get_pdf_handler()
        return generic.IndirectObject(int(match.group(1)), int(match.group(2)), self.handler), match.end()

    def dictionary(self, pos: int):
        buf = self.buf
        data: dict = {}
        pos += 2
        while True:
            pos = self.skip(pos)
            if buf[pos] == _GT:
                if buf[pos + 1:pos + 2] != b">":
                    raise _Refused
                pos += 2
                break
            if buf[pos] != _SLASH:
                raise _Refused
            key, pos = self.name(pos)
            pos = self.skip(pos)
            value, pos = self.value(pos)
            if key in data:  # pyHanko keeps the first and warns (strict: refuses)
                raise _Refused
            data[key] = value
        # _maybe_read_stream_payload: "stream" after the dictionary makes it a stream object
        after = _SKIP_WS.match(buf, pos).end()
        if buf[after:after + 1] in (b"%", b"s"):
            raise _Refused
        return generic.DictionaryObject(data), pos


_INDIRECT_PATTERN = generic.INDIRECT_PATTERN
_SIMPLE_ESCAPES = {**{c: bytes((c,)) for c in b"() /%<>[]#_&$\\"},
                   ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}


def _scan(buf, pos: int, container_ref):
    return _Scanner(buf, container_ref).value(pos)


def read_object(stream, container_ref, as_metadata_stream=False,
                in_content_stream=generic.ContentOpReading.NO):
    """``generic.read_object``."""
    if as_metadata_stream or in_content_stream:
        return _original_read_object(stream, container_ref, as_metadata_stream, in_content_stream)
    return _on_buffer(stream, _scan, _original_read_object, container_ref)


def install() -> None:
    generic.read_object = read_object
    generic.read_hex_string_from_stream = read_hex_string_from_stream
    misc._read_until_class = read_until_class
    generic._read_string_literal_bytes = read_string_literal_bytes
    generic._decode_name = decode_name
    generic.IndirectObject.read_from_stream = staticmethod(read_indirect_reference)
