"""Signed học bạ documents for tests, benches and demonstrations (no Django): a record rendered, its fields
prepared and every part of the signing plan signed in order, PDF (PAdES B-LT, the seal B-LTA) and XML
(XAdES with timestamp and revocation values), against a demo PKI that is being served."""

from __future__ import annotations

from dataclasses import dataclass

from hocba.documents import HocBaNamHoc, prepare_signature_fields, signing_plan, to_xml
from hocba.pki import DemoPki


@dataclass(frozen=True)
class SignedHocBa:
    record: HocBaNamHoc
    pdf: bytes
    xml: bytes


def default_signer_of(pki: DemoPki):
    """Who signs which part: a PKI person with the part's personal number, else a stand-in (the maths
    teacher for subject rows, the literature teacher for the GVCN, the principal, the school seal)."""
    by_number = {p.personal_number: p.username for p in pki.people}
    stand_in = {"gvbm": "gv.toan", "gvcn": "gv.van", "ht": "hieutruong", "pht": "hieutruong",
                "con_dau": pki.school.seal_username}

    def signer_of(part) -> str:
        if part.person is not None and part.person.personal_number in by_number:
            return by_number[part.person.personal_number]
        return stand_in[part.role]

    return signer_of


#: the parts a short document keeps (tests): the GVCN, the principal and the seal, without the subject rows
SHORT_PLAN = ("gvcn", "hieutruong", "condau")


def sign_hoc_ba(pki: DemoPki, record: HocBaNamHoc, *, verification_url: str | None = None, renderer=None,
                trust=None, signer_of=None, only: tuple[str, ...] | None = None) -> SignedHocBa:
    """Renders ``record`` and signs both files with every part of ``signing_plan(record)`` (or only the
    parts whose field names are in ``only``: the PDF then gets only those fields)."""
    from hocba.documents import Renderer, pdf_slots
    from hocba.signing import fastpades, pades, xades
    from hocba.signing.backends import Pkcs12Signer
    from hocba.signing.trust import TrustConfig

    trust = trust or TrustConfig.from_files([pki.root_cert_path], [pki.cert_path("interm")])
    signer_of = signer_of or default_signer_of(pki)
    keys: dict[str, Pkcs12Signer] = {}

    def key(username: str) -> Pkcs12Signer:
        if username not in keys:
            keys[username] = Pkcs12Signer.load(pki.pkcs12_path(username), pki.pkcs12_password)
        return keys[username]

    plan = [p for p in signing_plan(record) if only is None or p.field_name in only]
    doc_xml = to_xml(record)
    signed_xml = doc_xml
    settings = xades.XadesSettings(tsa_url=pki.tsa_url, trust=trust)
    for part in plan:
        signed_xml = xades.sign_xml(signed_xml, key(signer_of(part)), settings, signature_id=part.signature_id,
                                    references=None if part.references is None else list(part.references))
    renderer = renderer or Renderer()
    unsigned = renderer.render(record, verification_url=verification_url, xml=doc_xml)
    if only is None:
        signed_pdf = prepare_signature_fields(unsigned, record)
    else:
        signed_pdf = pades.prepare_fields(unsigned, [s for s in pdf_slots(record) if s.field_name in only])
    settings = pades.PadesSettings(tsa_url=pki.tsa_url, trust=trust)
    for part in plan:
        # as the records workflow signs: personal signatures through the batch fast path (one revision each),
        # the seal through pyHanko (DocMDP, document timestamp)
        if part.role == "con_dau":
            signed_pdf = pades.sign_field(signed_pdf, part.field_name, key(signer_of(part)), settings, seal=True)
        else:
            signed_pdf = fastpades.sign_batch([signed_pdf], part.field_name, key(signer_of(part)), settings)[0]
    return SignedHocBa(record, signed_pdf, signed_xml)
