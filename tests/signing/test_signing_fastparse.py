"""``hocba.signing.fastparse``: each fast token reader gives pyHanko's value, pyHanko's error and leaves the
stream where pyHanko leaves it, on generated inputs (escapes, nesting, comments, whitespace runs, truncated
input, chunk boundaries; signature values, odd lengths, stray characters, a missing ``>``); so does the whole
object reader, on generated nested objects (every kind of value, odd separators, streams, duplicate keys,
broken ends) — and a whole học bạ-like file parses to the same objects with and without them."""

from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic, misc

from hocba.signing import fastparse


class _Handler:
    """The container reference pyHanko hands to the indirect-reference reader."""

    def get_pdf_handler(self):
        return None


def _run(fn, data: bytes):
    """(value or error type, where the stream is left) of ``fn(stream over data)``."""
    stream = io.BytesIO(data)
    try:
        value = fn(stream)
        kind = type(value).__name__
        if isinstance(value, generic.IndirectObject):
            value = ("ref", value.idnum, value.generation)
        elif hasattr(value, "original_bytes"):  # a string object: its bytes, whatever its decoded form
            value = bytes(value.original_bytes)
        outcome = ("ok", kind, value)
    except Exception as e:  # noqa: BLE001 - the exact error type is what is compared
        outcome = ("error", type(e).__name__)
    return outcome, stream.tell()


@contextlib.contextmanager
def _pyhankos_own_readers():
    """pyHanko's own readers in place of every fast one, for the duration (then whatever was there before)."""
    saved = (generic.read_object, generic.read_hex_string_from_stream, misc._read_until_class,
             generic._read_string_literal_bytes, generic._decode_name, generic.IndirectObject.read_from_stream)
    try:
        generic.read_object = fastparse._original_read_object
        generic.read_hex_string_from_stream = fastparse._original_read_hex_string
        misc._read_until_class = fastparse._original_read_until_class
        generic._read_string_literal_bytes = fastparse._original_read_string_literal_bytes
        generic._decode_name = fastparse._original_decode_name
        generic.IndirectObject.read_from_stream = staticmethod(fastparse._original_read_indirect)
        yield
    finally:
        (generic.read_object, generic.read_hex_string_from_stream, misc._read_until_class,
         generic._read_string_literal_bytes, generic._decode_name) = saved[:5]
        generic.IndirectObject.read_from_stream = staticmethod(saved[5])


def _bytes_from(alphabet: bytes, max_size: int):
    return st.lists(st.sampled_from(list(alphabet)), max_size=max_size).map(bytes)


_TOKENS = b"aZ09/#()<>[]{}% \n\r\t\f\x00\x0b\\R.-+\xc3\xa9"


@settings(max_examples=400, deadline=None)
@given(_bytes_from(_TOKENS, 40), st.sampled_from([misc.PDF_WHITESPACE + misc.PDF_DELIMITERS, misc.PDF_WHITESPACE]))
def test_read_until_class_is_pyhankos(data, class_chars):
    assert (_run(lambda s: fastparse.read_until_class(class_chars, s), data)
            == _run(lambda s: fastparse._original_read_until_class(class_chars, s), data))


def test_read_until_class_across_chunks_and_at_the_end():
    for data in (b"x" * 700 + b" tail", b"y" * 512, b"", b" ", b"z" * 255 + b"/"):
        for class_chars in (misc.PDF_WHITESPACE + misc.PDF_DELIMITERS, misc.PDF_WHITESPACE):
            assert (_run(lambda s, c=class_chars: fastparse.read_until_class(c, s), data)
                    == _run(lambda s, c=class_chars: fastparse._original_read_until_class(c, s), data))


@settings(max_examples=400, deadline=None)
@given(_bytes_from(b"ab (()\\\\nrtbfq0125789\n\r)", 40))
def test_read_string_literal_bytes_is_pyhankos(body):
    data = b"(" + body + b" /Next 1"
    assert (_run(fastparse.read_string_literal_bytes, data)
            == _run(fastparse._original_read_string_literal_bytes, data))


@pytest.mark.parametrize("data", [b"(\\777) x", b"(\\400) x", b"(\\377) x", b"(\\8) x", b"(\\18) x",
                                  b"(\\0123) x", b"(a\\\nb) x", b"(a\\\r\nb) x", b"(\\q) x", b"(\\", b"(\\1",
                                  b"(a(b)c) x", b"(\\(\\)\\\\) x"])
def test_octal_and_other_escapes_read_as_pyhanko_reads_them(data):
    assert (_run(fastparse.read_string_literal_bytes, data)
            == _run(fastparse._original_read_string_literal_bytes, data))


def test_a_long_plain_literal_string_reads_as_pyhanko_reads_it():
    data = b"(" + b"v" * 600 + b") tail"
    fast = _run(fastparse.read_string_literal_bytes, data)
    assert fast == _run(fastparse._original_read_string_literal_bytes, data)
    assert fast[1] == len(data) - len(b" tail")


@settings(max_examples=400, deadline=None)
@given(_bytes_from(b"Az09#_.-()/%\x7f\xc3\xa9\x20\x00", 20))
def test_decode_name_is_pyhankos(name):
    fast = _run(lambda s: fastparse.decode_name(s.read()), name)
    slow = _run(lambda s: fastparse._original_decode_name(s.read()), name)
    assert fast == slow


_HEX_ALPHABET = b"0123456789abcdefABCDEF \n\r\t\f\x00%>xZ("


@settings(max_examples=400, deadline=None)
@given(_bytes_from(_HEX_ALPHABET, 80), st.booleans())
def test_read_hex_string_is_pyhankos(body, closed):
    data = b"<" + body + (b">" if closed else b"") + b" /Next 1"
    assert (_run(fastparse.read_hex_string_from_stream, data)
            == _run(fastparse._original_read_hex_string, data))


def test_a_signature_value_sized_hex_string_across_read_chunks():
    value = bytes(range(256)) * 40  # 10 KB: 20,480 digits, more than one read chunk with the line breaks
    digits = value.hex().encode()
    body = b"\n".join(digits[i:i + 64] for i in range(0, len(digits), 64)) + b"000"  # odd: padded with 0
    data = b"<" + body + b">endobj"
    fast = _run(fastparse.read_hex_string_from_stream, data)
    assert fast == _run(fastparse._original_read_hex_string, data) and fast[1] == len(data) - len(b"endobj")
    assert fast[0] == ("ok", "ByteStringObject", value + b"\x00\x00")


_WS = st.lists(st.sampled_from(list(b" \n\r\t\x0b\f\x00")), max_size=3).map(bytes)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    _bytes_from(b"0123 \n\r\t\x0b\f\x00R%x_", 16),
    # shaped like a reference: number, whitespace, number, whitespace, R, with odd whitespace and numbers
    st.tuples(_WS, st.integers(0, 10**6), _WS, st.integers(0, 99), _WS, st.sampled_from([b"R", b"%c\nR", b"r"]))
      .map(lambda t: t[0] + str(t[1]).encode() + t[2] + str(t[3]).encode() + t[4] + t[5])),
    st.sampled_from([b"", b" ", b"/", b">>", b"R", b"0 R"]))
def test_read_indirect_reference_is_pyhankos(body, after):
    data = body + after
    handler = _Handler()
    assert (_run(lambda s: fastparse.read_indirect_reference(s, handler), data)
            == _run(lambda s: fastparse._original_read_indirect(s, handler), data))


def test_the_usual_references_are_read_by_the_fast_path():
    handler = _Handler()
    for data, expected in ((b"12 0 R/Type", (12, 0)), (b" 7  3\nR ", (7, 3)), (b"5 0 \x00R]", (5, 0))):
        stream = io.BytesIO(data)
        value = fastparse.read_indirect_reference(stream, handler)
        assert (value.idnum, value.generation) == expected
        assert stream.tell() == data.index(b"R") + 1


def test_a_document_parses_to_the_same_objects_with_and_without(tmp_path):
    """A real PDF (rendered and tagged as the học bạ is, with strings, names with escapes and arrays of
    references) read object by object both ways."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.pdf_utils.writer import PdfFileWriter

    w = PdfFileWriter()
    w.root["/Lang"] = generic.pdf_string("vi-VN")
    w.root["/Odd#Name"] = generic.NameObject("/A#20B")
    w.root["/Note"] = generic.pdf_string("(nested) and \\ escaped")
    kids = generic.ArrayObject(w.add_object(generic.DictionaryObject({generic.NameObject("/T"): generic.pdf_string(
        f"Ô {i}")})) for i in range(50))
    w.root["/Things"] = w.add_object(kids)
    out = io.BytesIO()
    w.write(out)
    data = out.getvalue()

    def objects():
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        return {(ref.idnum, ref.generation): repr(reader.get_object(ref))
                for ref in reader.xrefs.explicit_refs_in_revision(0)}

    with _pyhankos_own_readers():
        slow = objects()
    fastparse.install()
    assert generic._decode_name is fastparse.decode_name and generic.read_object is fastparse.read_object
    fast = objects()
    assert fast == slow and len(fast) > 50


# -- read_object: whole objects


class _StrictlessHandler:
    strict = False

    def get_object(self, ref):  # an indirect /Length: not what these tests are about
        raise AssertionError("no indirect lengths here")


class _Container:
    """A container reference, as the reader passes it to read_object (its handler: the reader)."""

    def __init__(self):
        self.handler = _StrictlessHandler()

    def get_pdf_handler(self):
        return self.handler


def _shape(obj, container):
    """Everything of a parsed value that pyHanko's callers can see: types, values, strings' bytes and text,
    references' numbers and handler, and the container reference of every value read by read_object."""
    ref = getattr(obj, "container_ref", "unset")
    own = ("container", ref is container) if ref != "unset" else ("container", "unset")
    if isinstance(obj, generic.StreamObject):
        return ("stream", own, obj.encoded_data, _shape(generic.DictionaryObject(obj), container))
    if isinstance(obj, generic.DictionaryObject):
        return ("dict", own, [(type(k).__name__, str(k), getattr(k, "container_ref", "unset"), _shape(v, container))
                              for k, v in obj.items()])
    if isinstance(obj, generic.ArrayObject):
        return ("array", own, [_shape(v, container) for v in obj])
    if isinstance(obj, generic.IndirectObject):
        return ("ref", own, obj.idnum, obj.generation, obj.get_pdf_handler() is container.handler)
    if isinstance(obj, generic.TextStringObject):
        return ("text", own, str(obj), bytes(obj.original_bytes), str(obj.autodetected_encoding))
    if isinstance(obj, (generic.NullObject, generic.BooleanObject)):
        return (type(obj).__name__, own, bool(obj))
    return (type(obj).__name__, own, repr(obj))


def _read_both(data: bytes):
    """(outcome, position) of fastparse.read_object, and of pyHanko's read_object with pyHanko's own readers."""
    fastparse.install()
    container = _Container()
    stream = io.BytesIO(data)
    try:
        fast = ("ok", _shape(fastparse.read_object(stream, container), container))
    except Exception as e:  # noqa: BLE001 - the exact error type is what is compared
        fast = ("error", type(e).__name__)
    fast_at = stream.tell()
    with _pyhankos_own_readers():
        stream = io.BytesIO(data)
        try:
            slow = ("ok", _shape(fastparse._original_read_object(stream, container), container))
        except Exception as e:  # noqa: BLE001
            slow = ("error", type(e).__name__)
        slow_at = stream.tell()
    return (fast, fast_at), (slow, slow_at)


_SEPARATORS = st.sampled_from([b" ", b"\n", b"\r\n", b"\t", b"\x00", b"\f", b"", b"  ", b"\x0b", b"%c\n"])
_NAMES = st.sampled_from([b"/Type", b"/K", b"/A#20B", b"/", b"/\xc3\xa9", b"/P#", b"/Pg", b"/T", b"/a.b", b"/1"])
_NUMBERS = st.sampled_from([b"0", b"12", b"-3", b"+4", b"0.5", b"-.25", b"1,5", b"1.2.3", b"+-", b"007", b"3."])
_REFS = st.sampled_from([b"12 0 R", b"12 0 R ", b"1 0 R", b"0 0 R", b"12  0\nR", b"12 0 Rx", b"123456789 0 R",
                         b"12 0\x0bR", b"12 0", b"12 5 R"])
_STRINGS = st.sampled_from([b"(plain)", b"()", b"(a (nested) b)", b"(esc \\( \\) \\\\ \\n \\r \\t \\b \\f)",
                            b"(\\101\\7\\0123)", b"(\\376\\377\\000G\\000i)", b"(\\8)", b"(\\78)", b"(\\777)",
                            b"(line \\\ncont)", b"(\\q)", b"(unterminated", b"(\\", b"(gv\\055HDTN)",
                            b"(\xfe\xff\x00A)", b"(\\/\\%\\<\\>\\[\\]\\#\\_\\&\\$\\ )"])
_HEX = st.sampled_from([b"<48656C6C6F>", b"<4 8 6>", b"<FEFF0041>", b"<>", b"<4G>", b"<41", b"<41%c\n42>"])
_ATOMS = st.sampled_from([b"true", b"false", b"null", b"truex", b"fals", b"nul", b"stream", b")", b"]", b">", b"{"])


def _objects():
    leaf = _NAMES | _NUMBERS | _REFS | _STRINGS | _HEX | _ATOMS
    return st.recursive(leaf, lambda inner: st.one_of(
        st.builds(lambda items, seps: b"[" + b"".join(s + i for s, i in zip(seps, items, strict=False)) + b"]",
                  st.lists(inner, max_size=5), st.lists(_SEPARATORS, min_size=5, max_size=5)),
        st.builds(lambda pairs, sep, end: b"<<" + b"".join(sep + k + sep + v for k, v in pairs) + sep + end,
                  st.lists(st.tuples(_NAMES, inner), max_size=5), _SEPARATORS,
                  st.sampled_from([b">>", b">>", b">x", b">>\nstream\nabc\nendstream", b">> %c\nx", b">>s"]))),
        max_leaves=12)


@settings(max_examples=600, deadline=None)
@given(_objects(), _SEPARATORS, st.sampled_from([b"", b" endobj", b"\nendobj\n", b" 5 0 R", b"/Next"]))
def test_read_object_is_pyhankos(body, before, after):
    data = body + after
    fast, slow = _read_both(data)
    assert fast == slow, data
    if before:  # whitespace (or a comment) where an object should start: pyHanko's error, from pyHanko
        assert _read_both(before + body)[0] == _read_both(before + body)[1]


def test_the_usual_objects_are_read_by_the_fast_path(monkeypatch):
    """A structure element, a signature field with its lock and an array of every kind of value, as the học bạ
    has them: read by the fast path, to the end, without handing anything to pyHanko's reader."""
    calls = []
    monkeypatch.setattr(fastparse, "_original_read_object", lambda *a, **k: calls.append(a) or 0 / 0)
    for data in ((b"<< /Type /StructElem /S /TD /P 12 0 R /K [ 3 << /Type /MCR /MCID 4 /Pg 5 0 R >> ] /Pg 5 0 R "
                  b"/Alt (\\376\\377\\000\\342) /ID <0A1B> >>"),
                 (b"<</FT/Sig/T(gvcn)/Rect[0 0 10.5 -3]/F 132/V 40 0 R/Lock<</Type/SigFieldLock/Action/Include"
                  b"/Fields[(gv\\055NT\\055079087001113)]>>>>"),
                 b"[ /Name true false null (a(b)c) <4142> -1.5 +7 ]"):
        stream = io.BytesIO(data)
        assert fastparse.read_object(stream, _Container()) is not None
        assert stream.tell() == len(data)
    assert calls == []
