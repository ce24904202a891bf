"""PAdES signing of the học bạ PDF with pyHanko.

The order the law asks for — personal signatures first, the school seal last — is built into the file:

1. ``prepare_fields`` creates every signature field before the first signature, one per ``SignerSlot``.
   Each field carries a lock dictionary (``/Lock``) that, once that field is signed, freezes every form
   field except the signature fields still to come; the seal's lock freezes everything and sets DocMDP
   "no changes" (only validation data and document timestamps may follow). So each later signature is an
   allowed change for every earlier one, and a signature added anywhere else breaks them. When the last
   slot is the seal, the empty field of its document timestamp (``TIMESTAMP_FIELD``) comes after it, left
   open by every lock.
2. ``sign_field`` fills one field: precheck of the certificate, CMS with a signature timestamp (RFC 3161)
   and the revocation data of the chain embedded in the DSS (PAdES B-LT). With ``seal=True`` (the last
   field) a document timestamp follows, making the file B-LTA.
3. ``sign_batch`` signs the same field of many documents for one signer: the certificate precheck, the path
   validation and the revocation data are obtained once per batch, the signer's key signs all digests in one
   call (one confirmation on a remote signing service), and each document only gets its digest, its CMS and
   its timestamp.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields as pdf_fields
from pyhanko.sign import signers, timestamps
from pyhanko.sign.fields import FieldMDPAction, FieldMDPSpec, MDPPerm, SigFieldSpec, SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfTBSDocument

from .backends import Signer, holder_name, pyhanko_signer
from .precheck import PrecheckResult, SigningRefused, precheck
from .trust import TrustConfig

SEAL_ROLE = "con_dau"

#: The field of the PAdES-LTA document timestamp that follows the seal. Created, empty and invisible, with the
#: signers' fields (before the first signature) instead of by pyHanko after the seal: then no revision after
#: the first signature touches a page (the new field's widget would be added to the first page's /Annots),
#: and validating each signature no longer needs the paths to that page through the whole structure tree
#: of the tagged PDF (``usages``). Every lock leaves it open (pyHanko refuses to fill a locked field, even with
#: a document timestamp), the seal's included. It is not a signer's field: the seal does not wait for it.
TIMESTAMP_FIELD = "dauthoigian"
TIMESTAMP_LABEL = "Dấu thời gian tài liệu (PAdES-LTA)"


def append_timestamp_field(writer) -> None:
    """Adds the empty ``TIMESTAMP_FIELD`` (after the seal's field) to a document being prepared."""
    pdf_fields.append_signature_field(writer, SigFieldSpec(sig_field_name=TIMESTAMP_FIELD,
                                                           readable_field_name=TIMESTAMP_LABEL))


def field_lock(seal: bool, still_open: Sequence[str] = ()) -> tuple[FieldMDPSpec, MDPPerm | None]:
    """The lock of a field and its DocMDP value: the seal's locks every field but the document timestamp's and
    allows no change (DocMDP 1); a personal field's locks every field but ``still_open`` and the document
    timestamp's. (Every lock leaves ``TIMESTAMP_FIELD`` open: pyHanko refuses to fill a locked field.)"""
    if seal:
        return FieldMDPSpec(FieldMDPAction.EXCLUDE, fields=[TIMESTAMP_FIELD]), MDPPerm.NO_CHANGES
    return FieldMDPSpec(FieldMDPAction.EXCLUDE, fields=[*still_open, TIMESTAMP_FIELD]), None


@dataclass(frozen=True)
class SignerSlot:
    """One signature expected on the document: ``field_name`` (PDF field), ``role`` (``gvbm``, ``gvcn``,
    ``ht``, ``pht``, ``con_dau``...) and a human label shown as the field's tooltip."""

    field_name: str
    role: str
    label: str


@dataclass(frozen=True)
class PadesSettings:
    """Where the services are and what to trust; one per deployment."""

    tsa_url: str
    trust: TrustConfig
    check_revocation: bool = True
    location: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def timestamper(self):
        return timestamps.HTTPTimeStamper(self.tsa_url)


def prepare_fields(pdf: bytes, slots: Sequence[SignerSlot]) -> bytes:
    """Adds one empty signature field per slot (in signing order; the seal, if any, last) with its lock."""
    names = [s.field_name for s in slots]
    if len(set(names)) != len(names) or TIMESTAMP_FIELD in names:
        raise ValueError("tên trường chữ ký bị trùng")
    if any(s.role == SEAL_ROLE for s in slots[:-1]):
        raise ValueError("con dấu số phải là chữ ký cuối cùng")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    existing = {name for name, _, _ in pdf_fields.enumerate_sig_fields(writer)}
    for i, slot in enumerate(slots):
        if slot.field_name in existing:
            raise ValueError(f"tài liệu đã có trường chữ ký {slot.field_name}")
        lock, docmdp = field_lock(slot.role == SEAL_ROLE, names[i + 1:])
        pdf_fields.append_signature_field(writer, SigFieldSpec(
            sig_field_name=slot.field_name, field_mdp_spec=lock, doc_mdp_update_value=docmdp,
            readable_field_name=slot.label))
    if slots and slots[-1].role == SEAL_ROLE and TIMESTAMP_FIELD not in existing:
        append_timestamp_field(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signature_fields(pdf: bytes) -> dict[str, bool]:
    """Field name → already signed, in document order."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return {name: value is not None for name, value, _ in pdf_fields.enumerate_sig_fields(reader)}


def _metadata(field_name: str, signer: Signer, settings: PadesSettings, vc, *, seal: bool,
              reason: str | None) -> signers.PdfSignatureMetadata:
    return signers.PdfSignatureMetadata(
        field_name=field_name, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
        embed_validation_info=True, use_pades_lta=seal, validation_context=vc,
        signer_key_usage={"non_repudiation"}, name=holder_name(signer.certificate),
        docmdp_permissions=MDPPerm.NO_CHANGES if seal else MDPPerm.FILL_FORMS,
        timestamp_field_name=TIMESTAMP_FIELD if seal else None,
        reason=reason, location=settings.location)


def _check_field(pdf: bytes, field_name: str, seal: bool) -> None:
    state = signature_fields(pdf)
    if field_name not in state:
        raise SigningRefused(f"Tài liệu không có ô chữ ký {field_name}.", code="no_field")
    if state[field_name]:
        raise SigningRefused(f"Ô chữ ký {field_name} đã được ký.", code="already_signed")
    if seal:
        missing = [n for n, signed in state.items() if not signed and n not in (field_name, TIMESTAMP_FIELD)]
        if missing:
            raise SigningRefused("Chưa đủ chữ ký cá nhân (còn thiếu: " + ", ".join(missing)
                                 + "); con dấu số phải ký sau cùng.", code="seal_not_last")


def _validation_context(settings: PadesSettings):
    return settings.trust.validation_context(allow_fetching=True, revocation_mode="hard-fail")


def sign_field(pdf: bytes, field_name: str, signer: Signer, settings: PadesSettings, *, seal: bool = False,
               reason: str | None = None, checked: PrecheckResult | None = None) -> bytes:
    """Signs the empty field ``field_name`` (B-LT; with ``seal=True`` B-LTA). Refuses with
    ``SigningRefused`` (Vietnamese) when the certificate fails the precheck or the field is wrong."""
    _check_field(pdf, field_name, seal)
    if checked is None:
        precheck(signer, settings.trust, check_revocation=settings.check_revocation)
    vc = _validation_context(settings)
    pdf_signer = signers.PdfSigner(_metadata(field_name, signer, settings, vc, seal=seal, reason=reason),
                                   signer=pyhanko_signer(signer), timestamper=settings.timestamper())
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    out = pdf_signer.sign_pdf(writer, existing_fields_only=True)
    return out.getvalue()


@dataclass
class _Prepared:
    output: io.BytesIO
    prepared_digest: object
    post_sign_instructions: object
    signed_attrs: object
    attrs_digest: bytes


class BatchSession:
    """Signs one field in many documents for one signer, doing the per-signer work once.

    ``prepare(pdfs)`` returns the digests to sign (also what a remote signing service is asked for), ``finish``
    embeds the signature values. ``run`` does both with ``signer.sign_digests``. A crash between the two
    loses nothing: the inputs are unchanged and ``prepare`` can simply be run again.
    """

    def __init__(self, field_name: str, signer: Signer, settings: PadesSettings, *, seal: bool = False,
                 reason: str | None = None, checked: PrecheckResult | None = None):
        self.field_name = field_name
        self.signer = signer
        self.settings = settings
        self.seal = seal
        self.reason = reason
        self.checked = checked or precheck(signer, settings.trust, check_revocation=settings.check_revocation)
        self.vc = _validation_context(settings)
        self.timestamper = settings.timestamper()
        self._ext_signer = signers.ExternalSigner(
            signing_cert=signer.certificate, cert_registry=pyhanko_signer(signer).cert_registry,
            signature_value=signer.certificate.public_key.bit_size // 8, embed_roots=False)
        self._meta = _metadata(field_name, signer, settings, self.vc, seal=seal, reason=reason)
        self._validation_info = None
        self._bytes_reserved = None
        self._prepared: list[_Prepared] = []

    async def _prepare_one(self, pdf: bytes) -> _Prepared:
        _check_field(pdf, self.field_name, self.seal)
        pdf_signer = signers.PdfSigner(self._meta, signer=self._ext_signer, timestamper=self.timestamper)
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
        session = pdf_signer.init_signing_session(writer, existing_fields_only=True)
        if self._validation_info is None:
            # the expensive part, once per batch: path building, OCSP/CRL fetching, size estimate
            self._validation_info = await session.perform_presign_validation(writer)
            self._bytes_reserved = await session.estimate_signature_container_size(
                validation_info=self._validation_info, tight=False)
        tbs = session.prepare_tbs_document(validation_info=self._validation_info,
                                           bytes_reserved=self._bytes_reserved)
        prepared_digest, output = tbs.digest_tbs_document()
        signed_attrs = await self._ext_signer.signed_attrs(
            prepared_digest.document_digest, "sha256", use_pades=True, timestamper=self.timestamper)
        return _Prepared(output, prepared_digest, tbs.post_sign_instructions, signed_attrs,
                         hashlib.sha256(signed_attrs.dump()).digest())

    def prepare(self, pdfs: Sequence[bytes]) -> list[bytes]:
        """Prepares every document; returns the SHA-256 digests the signer's key must sign."""
        async def run():
            try:
                return [await self._prepare_one(pdf) for pdf in pdfs]
            finally:
                await self.vc.aclose()

        self._prepared = asyncio.run(run())
        return [p.attrs_digest for p in self._prepared]

    def finish(self, signature_values: Sequence[bytes]) -> list[bytes]:
        """Embeds the signature values (same order as the digests) and the timestamps; returns the PDFs."""
        if len(signature_values) != len(self._prepared):
            raise ValueError("số chữ ký không khớp số tài liệu")

        vc = _validation_context(self.settings)

        async def run():
            results = []
            for prep, value in zip(self._prepared, signature_values):
                ext = signers.ExternalSigner(signing_cert=self.signer.certificate,
                                             cert_registry=self._ext_signer.cert_registry,
                                             signature_value=value, embed_roots=False)
                cms = await ext.async_sign_prescribed_attributes(
                    "sha256", signed_attrs=prep.signed_attrs, timestamper=self.timestamper)
                await PdfTBSDocument.async_finish_signing(
                    prep.output, prep.prepared_digest, cms, post_sign_instr=prep.post_sign_instructions,
                    validation_context=vc)
                results.append(prep.output.getvalue())
            await vc.aclose()
            return results

        try:
            return asyncio.run(run())
        finally:
            self._prepared = []

    def run(self, pdfs: Sequence[bytes]) -> list[bytes]:
        return self.finish(self.signer.sign_digests(self.prepare(pdfs), "sha256"))


def sign_batch(pdfs: Sequence[bytes], field_name: str, signer: Signer, settings: PadesSettings, *,
               seal: bool = False, reason: str | None = None) -> list[bytes]:
    """Signs ``field_name`` in every document of ``pdfs`` for one signer (see ``BatchSession``)."""
    return BatchSession(field_name, signer, settings, seal=seal, reason=reason).run(pdfs)
