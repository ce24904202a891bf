"""The học bạ signed for real (demo PKI served on loopback): each XAdES signature covers exactly its signer's
elements of the generated XML, the seal the whole document; the rendered PDF takes PAdES signatures in the
fields prepared for them and keeps its XML twin."""

from __future__ import annotations

import socket
import threading

import pytest
from lxml import etree

from hocba.documents import (
    IssuedYear,
    embedded_xml,
    from_xml,
    prepare_signature_fields,
    to_xml,
    verify_chain,
    xml_references,
)
from hocba.documents.sample import sample_years

#: who signs which part of the sample record in these tests (demo PKI people)
SIGNERS = {"gv-TO-079085001101": "gv.toan", "gvcn": "gv.van", "hieutruong": "hieutruong", "condau": "condau"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    from hocba.pki import DEMO_PEOPLE, DEMO_SCHOOL, init, make_server

    var_dir = tmp_path_factory.mktemp("pki")
    demo = init(var_dir, list(DEMO_PEOPLE), DEMO_SCHOOL, port=_free_port())
    server = make_server(var_dir, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield demo
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def trust(pki):
    from hocba.signing.trust import TrustConfig

    return TrustConfig.from_files([pki.root_cert_path])


@pytest.fixture(scope="module")
def signer(pki):
    from hocba.signing.backends import Pkcs12Signer

    cache = {}

    def get(username):
        if username not in cache:
            cache[username] = Pkcs12Signer.load(pki.pkcs12_path(username), pki.pkcs12_password)
        return cache[username]

    return get


@pytest.fixture(scope="module")
def years():
    return sample_years()


@pytest.fixture(scope="module")
def signed_xml(years, pki, trust, signer):
    """Grade 9 of the sample chain, signed by a subject teacher, the GVCN, the principal and the seal."""
    from hocba.signing import xades

    record, doc = years[3]
    settings = xades.XadesSettings(tsa_url=pki.tsa_url, trust=trust)
    refs = xml_references(record)
    for field, user in SIGNERS.items():
        doc = xades.sign_xml(doc, signer(user), settings, signature_id=f"sig-{field}",
                             references=None if refs[field] is None else list(refs[field]))
    return doc


def test_signatures_reference_the_ids_of_the_signing_plan_and_all_validate(signed_xml, years, trust):
    from hocba.signing.validate import validate_xml

    root = etree.fromstring(signed_xml)
    ns = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    teacher = root.xpath("//ds:Signature[@Id='sig-gv-TO-079085001101']", namespaces=ns)[0]
    uris = {r.get("URI") for r in teacher.xpath("ds:SignedInfo/ds:Reference", namespaces=ns)}
    assert "#mon-TO" in uris and not {"#mon-NV", "#gvcn", "#hieutruong"} & uris
    report = validate_xml(signed_xml, trust)
    assert report.valid, report.render_text()
    assert from_xml(signed_xml) == years[3][0]  # the reader ignores the signatures it carries


def test_a_changed_score_in_another_subject_leaves_the_maths_teacher_valid_but_breaks_the_rest(signed_xml, trust):
    from hocba.signing.validate import validate_xml

    tampered = signed_xml.replace(b"<diemhocky1>8.0</diemhocky1>", b"<diemhocky1>9.0</diemhocky1>", 1)  # NV
    assert tampered != signed_xml
    verdicts = {s.id: s.valid for s in validate_xml(tampered, trust).signatures}
    assert verdicts["sig-gv-TO-079085001101"] is True
    assert verdicts["sig-gvcn"] is False and verdicts["sig-hieutruong"] is False and verdicts["sig-condau"] is False


def test_the_chain_holds_with_a_signed_year_and_names_the_issued_bytes(signed_xml, years):
    # grade 9 signed above links to the grade-8 XML of sample_years: same bytes, so the chain holds
    items = [IssuedYear(xml) for _, xml in years[:3]] + [IssuedYear(signed_xml)]
    assert verify_chain(items).ok
    # a link names the bytes that were issued: any later change to grade 8, even a comment, breaks it
    items[2] = IssuedYear(years[2][1].replace(b"</hocba>", b"<!-- -->\n</hocba>"))
    assert not verify_chain(items).ok


def test_the_pdf_takes_signatures_in_its_prepared_fields_and_keeps_its_twin(pdf, record, pki, trust, signer):
    from hocba.signing import pades
    from hocba.signing.validate import validate_pdf

    settings = pades.PadesSettings(tsa_url=pki.tsa_url, trust=trust)
    doc = prepare_signature_fields(pdf, record)
    doc = pades.sign_field(doc, "gv-TO-079085001101", signer("gv.toan"), settings)
    doc = pades.sign_field(doc, "gvcn", signer("gv.van"), settings)
    state = pades.signature_fields(doc)
    assert state["gv-TO-079085001101"] and state["gvcn"] and not state["hieutruong"]
    report = validate_pdf(doc, trust)
    assert [s.valid for s in report.signatures] == [True, True], report.render_text()
    assert embedded_xml(doc) == to_xml(record)
    with pytest.raises(Exception, match="con dấu|Chưa đủ"):
        pades.sign_field(doc, "condau", signer("condau"), settings, seal=True)
