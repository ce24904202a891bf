"""The học bạ inside a PDF is found whatever shape its attachments' name tree has: PDF tools other than ours
(and ours, for long lists) split the ``/EmbeddedFiles`` name tree into ``/Kids`` nodes, and a hostile file can
make the tree loop. Built object by object (``hostile.pdf``): no signing, milliseconds per test."""

from __future__ import annotations

import zlib

import pytest
from tests.verify import hostile

from hocba.documents import embedded_xml, to_xml
from hocba.documents.sample import sample_record
from hocba.verify import engine


@pytest.fixture(scope="module")
def xml() -> bytes:
    return to_xml(sample_record())


def _with_kids(xml: bytes) -> bytes:
    """Catalog → name tree root with two /Kids leaves (an unrelated attachment first, the học bạ second)."""
    data = zlib.compress(xml)
    other = zlib.compress(b"not the record")
    return hostile.pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 3 0 R >> >>", hostile.PAGES,
        b"<< /Kids [4 0 R 5 0 R] >>",
        b"<< /Limits [(a.txt) (a.txt)] /Names [(a.txt) 6 0 R] >>",
        b"<< /Limits [(hocba.xml) (hocba.xml)] /Names [(hocba.xml) 7 0 R] >>",
        b"<< /Type /Filespec /F (a.txt) /UF (a.txt) /EF << /F 8 0 R >> >>",
        b"<< /Type /Filespec /F (hocba.xml) /UF (hocba.xml) /EF << /F 9 0 R >> >>",
        b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n" % len(other) + other
        + b"\nendstream",
        b"<< /Type /EmbeddedFile /Filter /FlateDecode /Length %d >>\nstream\n" % len(data) + data + b"\nendstream",
    ])


def test_the_hoc_ba_is_found_in_a_name_tree_split_into_kids(xml):
    """A PDF whose attachments sit in /Kids leaves still yields its học bạ XML, byte for byte."""
    assert embedded_xml(_with_kids(xml)) == xml


def test_the_portal_reads_the_hoc_ba_of_such_a_pdf(xml, session_pki):
    """The portal shows what the record says (student, school year) for such a PDF, not "no học bạ attached"."""
    from hocba.signing.trust import TrustConfig

    trust = TrustConfig.from_files([session_pki.root_cert_path], allow_fetching=False)
    result = engine.analyse(_with_kids(xml), trust)
    assert result["readable"] and result["document_note"] == ""
    assert result["document"]["record_id"] == sample_record().record_id


def test_a_name_tree_that_loops_ends_with_no_attachment():
    """Kids pointing back at their parent: the walk ends (each node read once) and finds nothing."""
    assert embedded_xml(hostile.embedded_files_cycle()) is None
