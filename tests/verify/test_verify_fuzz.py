"""Fuzzing the upload endpoints (API and page) with hypothesis: random bytes, and signed PDFs and XML with bytes
flipped, cut off, inserted or spliced. Whatever arrives, the answer is never a server error (status < 500)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from tests.verify import hostile

pytestmark = pytest.mark.django_db

EXAMPLES = 200


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "splice", "overwrite"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "splice":
            other = draw(st.sampled_from(seeds))
            start = draw(st.integers(0, max(0, len(other) - 1)))
            data[at:] = other[start:start + draw(st.integers(1, 4096))]
        elif kind == "overwrite":
            token = draw(st.sampled_from([b"0", b"R", b"<<", b">>", b"[", b"obj", b"endobj", b"stream", b"xref",
                                          b"/Length 99999999", b"<!DOCTYPE a>", b"&x;", b"\x00" * 8]))
            data[at:at + len(token)] = token
    return bytes(data)


@pytest.fixture
def seeds(documents):
    from hocba.signing.samples import minimal_pdf

    return [documents.valid.pdf, documents.valid.xml, documents.generic_pdf, minimal_pdf(), hostile.broken_xref(),
            b'<?xml version="1.0" encoding="UTF-8"?><hocba xmlns="urn:hocba:hocbaso:thcs:1.0" Id="hocba"/>']


@pytest.mark.filterwarnings("ignore")
def test_no_upload_gets_a_server_error(registry, seeds, settings):
    settings.HOCBA_VERIFY_TIMEOUT = 10
    client = Client()
    prefixes = st.sampled_from([b"", b"%PDF-1.7\n", b"<?xml version='1.0'?>", b"<", b"\xef\xbb\xbf<"])
    files = st.one_of(mutated(seeds), st.builds(lambda p, b: p + b, prefixes, st.binary(max_size=2048)))
    names = st.sampled_from(["hocba.pdf", "hocba.xml", "x", "../../etc/passwd", "tệp học bạ.PDF", ""])

    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=files, name=names, url=st.sampled_from(["/api/v1/verify", "/xac-thuc/"]))
    def post(data, name, url):
        response = client.post(url, {"file": SimpleUploadedFile(name or "f", data)})
        assert response.status_code < 500, (url, name, data[:80])
        if url.startswith("/api/") and response.status_code == 200:
            assert response.json()["verdict"] in ("valid", "invalid", "revoked", "unknown")

    post()
