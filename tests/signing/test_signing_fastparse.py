"""``hocba.signing.fastparse``: each fast token reader gives pyHanko's value, pyHanko's error and leaves the
stream where pyHanko leaves it, on generated inputs (escapes, nesting, comments, whitespace runs, truncated
input, chunk boundaries; signature values, odd lengths, stray characters, a missing ``>``) — and a whole
học bạ-like file parses to the same objects with and without them."""

from __future__ import annotations

import io

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
@given(_bytes_from(b"ab (()\\\\nrtbf0127\n\r)", 40))
def test_read_string_literal_bytes_is_pyhankos(body):
    data = b"(" + body + b" /Next 1"
    assert (_run(fastparse.read_string_literal_bytes, data)
            == _run(fastparse._original_read_string_literal_bytes, data))


def test_a_long_plain_literal_string_goes_to_pyhanko_unchanged():
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

    saved = (misc._read_until_class, generic._read_string_literal_bytes, generic._decode_name,
             generic.IndirectObject.read_from_stream)
    try:
        misc._read_until_class = fastparse._original_read_until_class
        generic._read_string_literal_bytes = fastparse._original_read_string_literal_bytes
        generic._decode_name = fastparse._original_decode_name
        generic.IndirectObject.read_from_stream = staticmethod(fastparse._original_read_indirect)
        slow = objects()
        fastparse.install()
        assert generic._decode_name is fastparse.decode_name
        fast = objects()
    finally:
        misc._read_until_class, generic._read_string_literal_bytes, generic._decode_name = saved[:3]
        generic.IndirectObject.read_from_stream = staticmethod(saved[3])
    assert fast == slow and len(fast) > 50
