"""``hocba.signing.shared_certs``: within one document the signatures' certificates are parsed once per encoding
(the same certificate value handed to every signature that carries it), outside it nothing is shared, and a
document is judged exactly as with pyHanko's own copies."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import generic_cms

from hocba.documents.sample import sample_record
from hocba.signing import shared_certs
from hocba.signing.validate import validate_pdf
from hocba.verify.samples import SHORT_PLAN, sign_hoc_ba


@pytest.fixture(scope="module")
def sealed(pki) -> bytes:
    return sign_hoc_ba(pki, sample_record(), only=SHORT_PLAN).pdf


def _signed_data(pdf: bytes):
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [sig.signed_data for sig in reader.embedded_signatures]


def test_within_one_document_a_certificate_is_one_parsed_value(sealed):
    shared_certs.install()
    signed = _signed_data(sealed)
    with shared_certs.one_document():
        infos = [generic_cms.extract_certificate_info(sd) for sd in signed]
    seen: dict[bytes, list[int]] = {}
    for info in infos:
        for cert in (info.signer_cert, *info.other_certs):
            seen.setdefault(cert.dump(), []).append(id(cert))
    assert any(len(ids) > 1 for ids in seen.values()), "several signatures carry the same certificate"
    assert all(len(set(ids)) == 1 for ids in seen.values()), "and get one parsed value of it"
    # the same certificates, in the same places, as pyHanko's own function finds
    for sd, info in zip(signed, infos, strict=True):
        own = shared_certs._original(sd)
        assert info.signer_cert.dump() == own.signer_cert.dump()
        assert [c.dump() for c in info.other_certs] == [c.dump() for c in own.other_certs]
        assert info.attribute_certs == own.attribute_certs


def test_outside_a_document_nothing_is_shared(sealed):
    shared_certs.install()
    signed = _signed_data(sealed)
    first, second = (generic_cms.extract_certificate_info(sd) for sd in signed[:2])
    shared_ders = {c.dump() for c in first.other_certs} & {c.dump() for c in second.other_certs}
    assert shared_ders, "the two signatures carry a common certificate"
    assert not {id(c) for c in first.other_certs} & {id(c) for c in second.other_certs}


def test_a_document_is_judged_the_same_with_and_without_sharing(sealed, trust, monkeypatch):
    shared = validate_pdf(sealed, trust)
    assert generic_cms.extract_certificate_info is shared_certs.extract_certificate_info
    monkeypatch.setattr(generic_cms, "extract_certificate_info", shared_certs._original)
    monkeypatch.setattr(shared_certs, "install", lambda: None)
    own = validate_pdf(sealed, trust)
    assert shared.valid and shared.signatures == own.signatures
    assert (shared.problems, shared.warnings) == (own.problems, own.warnings)
