"""XAdES signing and validation of the học bạ XML (signxml + an RFC 3161 signature timestamp).

Each signature is an enveloped ``ds:Signature`` appended to the document root, in signing order:

- a personal signature references exactly the elements its signer answers for (``#Id`` of a subject row,
  the GVCN's year block, the principal's approval...);
- the school seal references the whole document (``URI=""``) and therefore also covers every earlier
  signature, timestamps included.

Each carries XAdES-BES signed properties (SigningTime, SigningCertificateV2), the certificate chain in
``KeyInfo``, and as unsigned properties an RFC 3161 ``SignatureTimeStamp`` over the canonicalised
``SignatureValue`` and the OCSP response obtained by the precheck (``RevocationValues``).

Untrusted input is parsed without DTDs, entities or network access.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import cms
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from lxml import etree

from .backends import Signer
from .precheck import PrecheckResult, SigningRefused, precheck
from .report import DocumentReport, SignatureReport
from .trust import TrustConfig, run_released

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
# Inclusive C14N 1.0 for SignedInfo and references: signxml digests the XAdES SignedProperties/KeyInfo
# references without a Transforms element, for which XML-DSig verifiers (xmlsec1 included) apply inclusive
# C14N 1.0; signing with the same algorithm keeps both sides in agreement in namespaced documents.
C14N_10 = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
NS = {"ds": DS, "xades": XADES}


class XmlRejected(ValueError):
    """The XML is not acceptable input (DTD, entities, malformed). Message in Vietnamese."""


def parse_untrusted(data: bytes) -> etree._ElementTree:
    """Parses XML from outside: no DTD, no entity expansion, no network, no huge trees."""
    import defusedxml.ElementTree as dET
    from defusedxml import DefusedXmlException

    try:
        dET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as e:
        raise XmlRejected(f"XML chứa DTD hoặc thực thể (entity) không được phép: {e}") from e
    except dET.ParseError as e:
        raise XmlRejected(f"XML không đúng cú pháp: {e}") from e
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_blank_text=False)
    try:
        return etree.ElementTree(etree.fromstring(data, parser))
    except etree.XMLSyntaxError as e:
        raise XmlRejected(f"XML không đúng cú pháp: {e}") from e


@dataclass(frozen=True)
class XadesSettings:
    tsa_url: str
    trust: TrustConfig
    check_revocation: bool = True
    id_attribute: str = "Id"


def _crypto(cert: asn1_x509.Certificate):
    from cryptography import x509 as cx509

    return cx509.load_der_x509_certificate(cert.dump())


def _c14n(element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=True, with_comments=False)


def sign_xml(xml: bytes, signer: Signer, settings: XadesSettings, *, signature_id: str,
             references: Sequence[str] | None = None, checked: PrecheckResult | None = None) -> bytes:
    """Appends one XAdES signature. ``references``: the element Ids the signer answers for; ``None`` signs
    the whole document (the school seal, last)."""
    out = XadesBatch(signer, settings, checked=checked).sign_all([(xml, signature_id, references)])[0]
    if isinstance(out, Exception):
        raise out
    return out


class _RecordingKey:
    """Looks like a ``cryptography`` RSA private key to signxml: gives it a placeholder signature value and
    keeps the digest. The real values come later, all of a batch from one call to the signer's key (one
    confirmation on a remote signing service)."""

    def __init__(self, signer: Signer):
        self.key_size = signer.certificate.public_key.bit_size
        self.digest: bytes | None = None

    def sign(self, data: bytes, padding=None, algorithm=None) -> bytes:
        self.digest = hashlib.new(getattr(algorithm, "name", "sha256"), data).digest()
        return b"\0" * (self.key_size // 8)


class XadesBatch:
    """Signs many XML documents for one signer: the precheck and the CA revocation data once, the key once
    for all signature values, the timestamps kept in flight together. ``sign_all`` returns, per document,
    the signed XML or the exception that refused it (the others are signed all the same)."""

    def __init__(self, signer: Signer, settings: XadesSettings, *, checked: PrecheckResult | None = None):
        self.signer = signer
        self.settings = settings
        self.checked = checked or precheck(signer, settings.trust, check_revocation=settings.check_revocation)
        self.ca_crls = _ca_crls(signer) if settings.check_revocation else []

    def _prepare(self, xml: bytes, signature_id: str, references: Sequence[str] | None):
        from signxml import SignatureReference
        from signxml.xades import XAdESSigner

        settings = self.settings
        tree = parse_untrusted(xml)
        root = tree.getroot()
        if root.xpath("//ds:Signature[@Id=$i]", namespaces=NS, i=signature_id):
            raise SigningRefused(f"Tài liệu đã có chữ ký {signature_id}.", code="already_signed")
        if references is not None:
            for ref in references:
                if len(root.xpath(f"//*[@{settings.id_attribute}=$i]", i=ref)) != 1:
                    raise SigningRefused(f"Không tìm thấy đúng một phần tử có Id {ref!r} để ký.",
                                         code="no_element")

        class _Signer(XAdESSigner):
            def _build_xades_ds_object(self, sig_root, signing_settings):
                sig_root.set("Id", signature_id)
                return super()._build_xades_ds_object(sig_root, signing_settings)

        xs = _Signer(signature_algorithm="rsa-sha256", digest_algorithm="sha256", c14n_algorithm=C14N_10)
        chain = [self.signer.certificate, *[c for c in self.signer.chain if c.subject != c.issuer]]
        refs = None if references is None else [SignatureReference(URI=f"#{r}") for r in references]
        key = _RecordingKey(self.signer)
        signed = xs.sign(root, key=key, cert=[_crypto(c) for c in chain], reference_uri=refs,
                         always_add_key_value=False, id_attribute=settings.id_attribute)
        sig = signed.xpath("ds:Signature[@Id=$i]", namespaces=NS, i=signature_id)[0]
        return signed, sig, key.digest

    def sign_all(self, jobs: Sequence[tuple[bytes, str, Sequence[str] | None]]) -> list[bytes | Exception]:
        """``jobs``: (xml, signature Id, references) per document."""
        from .tsa import TsaClient

        out: list[bytes | Exception] = []
        prepared = []
        for i, (xml, signature_id, references) in enumerate(jobs):
            try:
                prepared.append((i, *self._prepare(xml, signature_id, references)))
                out.append(b"")
            except (SigningRefused, XmlRejected) as exc:
                out.append(exc)
        if not prepared:
            return out
        values = self.signer.sign_digests([digest for *_, digest in prepared], "sha256")
        sig_values = []
        for (_, _, sig, _), value in zip(prepared, values, strict=True):
            node = sig.find("ds:SignatureValue", NS)
            node.text = base64.b64encode(value).decode()
            sig_values.append(hashlib.sha256(_c14n(node)).digest())
        tokens = TsaClient(self.settings.tsa_url).stamp_each(sig_values)
        for (i, signed, sig, _), token in zip(prepared, tokens, strict=True):
            _add_unsigned_properties(sig, cms.ContentInfo.load(token), self.checked, self.ca_crls)
            out[i] = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
        return out


def _ca_crls(signer: Signer) -> list[bytes]:
    """CRLs covering the issuing CAs of the chain (the leaf's status comes from the precheck's OCSP)."""
    from .precheck import check_revocation_online

    out = []
    chain = list(signer.chain)
    for ca in chain:
        issuer = next((c for c in chain if c.subject == ca.issuer), None)
        if issuer is None or ca.subject == ca.issuer:
            continue
        try:
            evidence = check_revocation_online(ca, issuer).evidence
        except OSError:
            continue
        if evidence:
            out.append(evidence)
    return out


def _add_unsigned_properties(sig, token: cms.ContentInfo, checked: PrecheckResult, ca_crls: list[bytes]) -> None:
    qp = sig.find("ds:Object/xades:QualifyingProperties", NS)
    up = etree.SubElement(qp, f"{{{XADES}}}UnsignedProperties")
    usp = etree.SubElement(up, f"{{{XADES}}}UnsignedSignatureProperties")
    ts = etree.SubElement(usp, f"{{{XADES}}}SignatureTimeStamp", Id=f"{sig.get('Id')}-TS")
    etree.SubElement(ts, f"{{{DS}}}CanonicalizationMethod", Algorithm=EXC_C14N)
    etree.SubElement(ts, f"{{{XADES}}}EncapsulatedTimeStamp").text = base64.b64encode(token.dump()).decode()
    evidence = checked.revocation.evidence if checked.revocation else None
    ocsps = [evidence] if evidence and checked.revocation.source == "ocsp" else []
    crls = ([evidence] if evidence and checked.revocation.source == "crl" else []) + list(ca_crls)
    if ocsps or crls:
        rv = etree.SubElement(usp, f"{{{XADES}}}RevocationValues")
        if crls:
            cv = etree.SubElement(rv, f"{{{XADES}}}CRLValues")
            for crl in crls:
                etree.SubElement(cv, f"{{{XADES}}}EncapsulatedCRLValue").text = base64.b64encode(crl).decode()
        if ocsps:
            ov = etree.SubElement(rv, f"{{{XADES}}}OCSPValues")
            for o in ocsps:
                etree.SubElement(ov, f"{{{XADES}}}EncapsulatedOCSPValue").text = base64.b64encode(o).decode()


# ---------------------------------------------------------------------------------------------- validation


def _broken(sig_id: str, message: str, cert=None) -> SignatureReport:
    from .validate import cert_subject_fields

    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    info = cert_subject_fields(cert) if cert is not None else {
        "signer": "—", "signer_id": None, "organisation": None, "title": None, "issuer": "—",
        "cert_not_before": epoch, "cert_not_after": epoch}
    return SignatureReport(id=sig_id, kind="signature", valid=False, **info, signing_time=None, timestamp=None,
                           timestamp_valid=None, integrity=False, trusted=False, cert_valid_at_signing=False,
                           revocation="not_checked", revocation_source=None, revoked_at=None, level=None,
                           covers="—", problems=(message,))


class _Shared:
    """What the signatures of one document share: a certificate registry and a trust manager, so that each
    signature's validation contexts do not re-hash every certificate name again."""

    def __init__(self, trust: TrustConfig):
        from pyhanko_certvalidator.registry import CertificateRegistry, SimpleTrustManager

        self.registry = CertificateRegistry.build(list(trust.intermediates))
        self.trust_manager = SimpleTrustManager.build(trust_roots=list(trust.anchors))

    def context(self, certs, **kwargs):
        from pyhanko_certvalidator import ValidationContext

        self.registry.register_multiple(certs)
        return ValidationContext(certificate_registry=self.registry, trust_manager=self.trust_manager, **kwargs)


def _validate_one(root, sig, later: list, trust: TrustConfig, id_attribute: str,
                  shared: _Shared | None = None) -> SignatureReport:
    from signxml import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
    from signxml.xades import XAdESVerifier

    from .validate import cert_subject_fields

    shared = shared or _Shared(trust)
    sig_id = sig.get("Id") or "(không có Id)"
    certs = [asn1_x509.Certificate.load(base64.b64decode("".join(e.text.split())))
             for e in sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)]
    if not certs:
        return _broken(sig_id, "Chữ ký không kèm chứng thư số của người ký.")
    leaf = certs[0]
    refs = [r.get("URI") for r in sig.findall("ds:SignedInfo/ds:Reference", NS)]

    # the document as it was when this signature was made: later signatures removed
    doc = etree.fromstring(etree.tostring(root))
    for later_sig in later:
        for node in doc.xpath("//ds:Signature[@Id=$i]", namespaces=NS, i=later_sig.get("Id")):
            node.getparent().remove(node)

    class _Verifier(XAdESVerifier):
        def _get_signature(self, r):
            if r.tag == f"{{{DS}}}Signature":
                return r
            found = r.xpath("//ds:Signature[@Id=$i]", namespaces=NS, i=sig_id)
            if not found:
                raise InvalidInput("signature not found")
            return found[0]

    problems: list[str] = []
    warnings: list[str] = []
    integrity = True
    try:
        from signxml.xades import XAdESSignatureConfiguration

        config = XAdESSignatureConfiguration(expect_references=len(refs), location=".//")
        _Verifier().verify(doc, x509_cert=_crypto(leaf), expect_config=config, id_attribute=id_attribute)
    except InvalidDigest as e:
        integrity = False
        problems.append(f"Nội dung đã bị thay đổi sau khi ký (giá trị băm không khớp: {e}).")
    except (InvalidSignature, InvalidCertificate) as e:
        integrity = False
        problems.append(f"Chữ ký không khớp với khoá công khai trong chứng thư số ({e}).")
    except InvalidInput as e:
        integrity = False
        problems.append(f"Chữ ký không đúng cấu trúc XAdES hoặc thiếu phần tử được ký ({e}).")

    signing_time = None
    st = sig.find(".//xades:SignedSignatureProperties/xades:SigningTime", NS)
    if st is not None and st.text:
        try:
            signing_time = dt.datetime.fromisoformat(st.text)
        except ValueError:
            warnings.append("Thời điểm ký khai báo không đúng định dạng.")

    embedded_ocsps = [asn1_ocsp.OCSPResponse.load(base64.b64decode("".join(e.text.split())))
                      for e in sig.findall(".//xades:RevocationValues/xades:OCSPValues/xades:EncapsulatedOCSPValue",
                                           NS) if e.text]
    embedded_crls = [base64.b64decode("".join(e.text.split()))
                     for e in sig.findall(".//xades:RevocationValues/xades:CRLValues/xades:EncapsulatedCRLValue", NS)
                     if e.text]

    # RFC 3161 signature timestamp over the canonicalised SignatureValue: the TSA's chain with the revocation
    # values embedded in the signature (soft-fail, never the network: the portal must not make outgoing
    # requests per uploaded file)
    timestamp, ts_valid = None, None
    ets = sig.find(".//xades:UnsignedSignatureProperties/xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp", NS)
    vc_ts = shared.context(certs, ocsps=embedded_ocsps, crls=embedded_crls, allow_fetching=False,
                           revocation_mode="soft-fail")
    if ets is not None and ets.text:
        from pyhanko.sign.validation.generic_cms import validate_tst_signed_data

        try:
            token = cms.ContentInfo.load(base64.b64decode("".join(ets.text.split())))
            sig_value = sig.find("ds:SignatureValue", NS)
            c14n_value = _c14n(sig_value)
            status = run_released(validate_tst_signed_data(
                token["content"], vc_ts, lambda algo: hashlib.new(algo, c14n_value).digest()), vc_ts)
            timestamp = status["timestamp"]
            ts_valid = bool(status["intact"] and status["valid"] and status.get("trust_problem_indic") is None
                            and status.get("validation_path") is not None)
        except Exception as e:  # noqa: BLE001 - any failure of the token means it does not count
            ts_valid = False
            problems.append(f"Dấu thời gian của chữ ký không hợp lệ ({e}).")
        if ts_valid is False and not any("Dấu thời gian" in p for p in problems):
            problems.append("Dấu thời gian của chữ ký không hợp lệ.")
    else:
        warnings.append("Chữ ký không có dấu thời gian; thời điểm ký chỉ do người ký tự khai.")

    # certificate chain and revocation at the signing time
    moment = timestamp if ts_valid else (signing_time or dt.datetime.now(dt.UTC))
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError, RevokedError

    def run(vc):
        validator = CertificateValidator(leaf, intermediate_certs=certs[1:], validation_context=vc)
        return run_released(validator.async_validate_usage({"non_repudiation"}), vc)

    base = {"trust_roots": list(trust.anchors), "other_certs": list(trust.intermediates) + certs[1:]}
    trusted, revocation, source, revoked_at = False, "unknown", None, None
    # contexts built when tried: embedded revocation values first (shared registry: no network), then online
    # if allowed, then without revocation data
    attempts = [("embedded", lambda: shared.context(certs[1:], ocsps=embedded_ocsps, crls=embedded_crls,
                                                    allow_fetching=False, revocation_mode="hard-fail",
                                                    moment=moment))]
    if trust.allow_fetching:
        attempts.append(("online", lambda: ValidationContext(**base, allow_fetching=True,
                                                             revocation_mode="hard-fail")))
    attempts.append((None, lambda: ValidationContext(**base, allow_fetching=False, revocation_mode="soft-fail",
                                                     moment=moment)))
    last_error = None
    for src, make_vc in attempts:
        try:
            run(make_vc())
            trusted, source = True, src
            revocation = "good" if src else "unknown"
            break
        except RevokedError as e:
            revoked_at = getattr(e, "revocation_dt", None) or getattr(getattr(e, "revocation_details", None),
                                                                      "revocation_date", None)
            if src == "online" and revoked_at is not None and revoked_at > moment:
                trusted, source, revocation = True, src, "revoked_after"
                break
            revocation, source, last_error = "revoked", src, e
            break
        except (PathBuildingError, PathValidationError) as e:
            last_error = e
            continue
    if revocation == "revoked":
        problems.append("Chứng thư số đã bị thu hồi trước thời điểm ký"
                        + (f" ({revoked_at:%d/%m/%Y})." if revoked_at else "."))
    elif not trusted:
        problems.append("Chứng thư số không dẫn tới chứng thư số gốc tin cậy đã cấu hình, hoặc không hợp lệ tại "
                        f"thời điểm ký ({last_error}).")
    elif source is None:
        warnings.append("Không kiểm tra được tình trạng thu hồi của chứng thư số (không có dữ liệu nhúng, không "
                        "tra cứu trực tuyến được).")

    info = cert_subject_fields(leaf)
    cert_valid = info["cert_not_before"] <= moment <= info["cert_not_after"]
    if not cert_valid:
        problems.append("Thời điểm ký nằm ngoài thời hạn hiệu lực của chứng thư số.")
    whole = "" in refs
    own_ids = {f"#{e.get('Id')}" for e in sig.iter() if e.get("Id")}
    covers = ("toàn bộ tài liệu" if whole or f"#{root.get(id_attribute)}" in refs else "các phần tử " + ", ".join(
        r for r in refs if r and r not in own_ids))
    level = "XAdES-T" if ts_valid else "XAdES-BES"
    if ts_valid and embedded_ocsps:
        level = "XAdES-LT"
    valid = integrity and trusted and cert_valid and revocation in ("good", "unknown", "revoked_after") \
        and ts_valid is not False
    return SignatureReport(
        id=sig_id, kind="signature", valid=valid, **info, signing_time=signing_time, timestamp=timestamp,
        timestamp_valid=ts_valid, integrity=integrity, trusted=trusted, cert_valid_at_signing=cert_valid,
        revocation=revocation, revocation_source=source, revoked_at=revoked_at, level=level, covers=covers,
        problems=tuple(problems), warnings=tuple(warnings))


def validate_xml(data: bytes, trust: TrustConfig, *, id_attribute: str = "Id") -> DocumentReport:
    """Validates every ``ds:Signature`` of the document, each against the document as it was signed."""
    anchors = tuple(trust.anchor_names())
    try:
        root = parse_untrusted(data).getroot()
    except XmlRejected as e:
        return DocumentReport("xml", (), anchors, problems=(str(e),))
    sigs = root.xpath("//ds:Signature", namespaces=NS)
    shared = _Shared(trust)
    reports = [_validate_one(root, s, sigs[i + 1:], trust, id_attribute, shared) for i, s in enumerate(sigs)]
    return DocumentReport("xml", tuple(reports), anchors)
