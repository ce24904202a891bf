"""Hostile and malformed inputs for the portal's tests: PDFs built object by object (with a correct
cross-reference table unless asked otherwise) and XML that parsers must refuse."""

from __future__ import annotations

import zlib


def pdf(objects: list[bytes], *, trailer_extra: bytes = b"", broken_xref: bool = False) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog), cross-reference table and trailer included."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{(off + 7) if broken_xref else off:010d} 00000 n \n".encode() for off in offsets)
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R ".encode() + trailer_extra
            + f">>\nstartxref\n{xref}\n%%EOF\n".encode())
    return bytes(out)


PAGES = b"<< /Type /Pages /Kids [] /Count 0 >>"


def embedded_files_cycle() -> bytes:
    """The attachments' name tree points back at itself (/Kids [3 0 R 3 0 R]): a naive walk never ends."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>", PAGES,
                b"<< /Kids [3 0 R 3 0 R] >>"])


def deep_nesting(depth: int = 100_000) -> bytes:
    """An array nested ``depth`` levels deep in the catalog."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R /Deep " + b"[" * depth + b"]" * depth + b" >>", PAGES])


def deflate_bomb(megabytes: int = 2048) -> bytes:
    """An attached file whose Flate stream inflates to ``megabytes`` MB of zeros (a few MB on disk)."""
    z = zlib.compressobj(9)
    chunk = b"\0" * (1024 * 1024)
    data = b"".join(z.compress(chunk) for _ in range(megabytes)) + z.flush()
    stream = b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length " + str(len(data)).encode() + b" >>\nstream\n" \
        + data + b"\nendstream"
    return pdf([b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>", PAGES,
                b"<< /Names [(hocba.xml) 4 0 R] >>",
                b"<< /Type /Filespec /F (hocba.xml) /UF (hocba.xml) /EF << /F 5 0 R >> >>", stream])


def huge_length() -> bytes:
    """A stream that claims to be a terabyte long."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", PAGES,
                b"<< /Length 1099511627776 >>\nstream\nabc\nendstream"])


def broken_xref() -> bytes:
    """Every cross-reference offset points 7 bytes past its object."""
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", PAGES], broken_xref=True)


def prev_loop() -> bytes:
    """The trailer's /Prev points at its own cross-reference section."""
    body = pdf([b"<< /Type /Catalog /Pages 2 0 R >>", PAGES])
    xref = int(body.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    return pdf([b"<< /Type /Catalog /Pages 2 0 R >>", PAGES], trailer_extra=f"/Prev {xref} ".encode())


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>')
XXE = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
DEEP_XML = b"<a>" * 50_000 + b"</a>" * 50_000

ALL_PDFS = {"embedded_files_cycle": embedded_files_cycle, "deep_nesting": deep_nesting, "huge_length": huge_length,
            "broken_xref": broken_xref, "prev_loop": prev_loop}


def many_objects(count: int = 600_000) -> bytes:
    """``count`` tiny objects chained into one array: cheap to write, slow to read (~20 bytes each)."""
    body = [b"<< /Type /Catalog /Pages 2 0 R /All 3 0 R >>", PAGES,
            b"[" + b" ".join(f"{i} 0 R".encode() for i in range(4, count + 4)) + b"]"]
    body += [b"<< /N %d >>" % i for i in range(count)]
    return pdf(body)
