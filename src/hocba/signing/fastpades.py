"""Batch PAdES B-LT for our own documents: the incremental update prepared once per batch, only the digest,
the CMS and the timestamp computed per document.

``pades.BatchSession`` drives pyHanko's generic writer per document: it parses every cross-reference section,
rewrites the Info dictionary and the XMP metadata, builds the CMS through asn1crypto object trees and writes
the DSS through pyHanko's DSS model — about 50–90 ms of CPU per signature, 0.5% of what the key itself can do.
A batch signs the *same field* of many documents that *we* generated (Typst PDF + the fields of
``prepare_fields`` + earlier signatures made by this module or by pyHanko), with one signer whose
certificate, chain and revocation data are the same for every document. So here:

- per batch: the certificate precheck, the validation paths and the revocation data of the signer and of
  the TSA (pyHanko's pre-sign validation, once), the DER of the CMS parts that do not change (certificates,
  signer identifier, algorithm identifiers, the signing-certificate-v2 attribute), the signature
  dictionary's fixed text, the DSS streams;
- per document: a look-up of the few objects touched (trailer, the field, its lock, AcroForm, catalog, DSS)
  through the classic cross-reference tables without parsing the rest; the signature revision (field with
  ``/V``, signature dictionary with its ``/Reference`` to the field's lock) written as bytes; SHA-256 over
  the byte range; the signed attributes (the template with this document's digest); then, for all documents
  at once, one call to the signer's key (``sign_digests``: one confirmation on a remote service); an
  RFC 3161 timestamp over each signature value (requests kept in flight on a few connections, each answer
  checked for its nonce and imprint); the CMS assembled as DER. The DSS update (deduplicated against the
  DSS already in the file) is part of the signature's own revision, which pyHanko offers as
  ``SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE`` ("B-LT in a single revision"): one revision per
  signature instead of two, so every later validation walks half as many revisions.

The output has the objects pyHanko writes (the same signature dictionary and ``/Reference``, the DSS without
VRI as pyHanko writes it for that placement) and is checked by pyHanko and ``pyhanko sign validate`` in the tests and the bench. Anything unexpected in a
document — cross-reference streams, an encrypted file, a field already signed, a field or DSS not where
we put them — raises ``Unsupported`` and the caller signs that document through ``pades.BatchSession``.
Only personal signatures go through here; the seal (DocMDP + document timestamp, B-LTA) stays on pyHanko.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from asn1crypto import cms
from pyhanko.pdf_utils import generic
from pyhanko.sign.general import as_signing_certificate_v2

from .backends import Signer, holder_name
from .precheck import PrecheckResult, SigningRefused, precheck
from .tsa import TsaClient

CONTENTS_SLACK = 2048  # bytes kept free in /Contents beyond the measured size of the CMS
_PREV = re.compile(rb"/Prev\s+(\d+)")


class Unsupported(Exception):
    """The document is not one this fast path handles; sign it with ``pades.BatchSession``."""


# ------------------------------------------------------------------------------------------------ DER


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(body)) + body


# ------------------------------------------------------------------------------------------ PDF reading


class _Index:
    """The objects of a PDF with classic cross-reference tables, found without parsing every entry: the
    table sections are walked newest first and an entry is read by arithmetic (each is 20 bytes)."""

    def __init__(self, data: bytes, cache: dict | None = None):
        self.data = data
        self.cache = {} if cache is None else cache
        at = data.rfind(b"startxref")
        if at < 0:
            raise Unsupported("no startxref")
        self.startxref = int(data[at + 9:at + 40].split()[0])
        self.sections: list[list[tuple[int, int, int]]] = []
        self.trailer: generic.DictionaryObject | None = None
        offset, seen = self.startxref, set()
        while offset is not None:
            if offset in seen or len(seen) > 10_000:
                raise Unsupported("xref loop")
            seen.add(offset)
            if data[offset:offset + 4] != b"xref":
                raise Unsupported("cross-reference stream")
            pos, subs = offset + 4, []
            while True:
                while data[pos:pos + 1] in (b" ", b"\r", b"\n"):
                    pos += 1
                if data.startswith(b"trailer", pos):
                    break
                eol = data.index(b"\n", pos)
                start, count = (int(x) for x in data[pos:eol].split())
                subs.append((start, count, eol + 1))
                pos = eol + 1 + 20 * count
            self.sections.append(subs)
            if self.trailer is None:  # the newest trailer, parsed; the older ones only give /Prev
                self.trailer = _read_at(data, pos + 7, generic.TrailerReference(None))
                if "/Encrypt" in self.trailer or "/XRefStm" in self.trailer:
                    raise Unsupported("encrypted or hybrid file")
                prev = self.trailer.raw_get("/Prev") if "/Prev" in self.trailer else None
                offset = int(prev) if prev is not None else None
            else:
                end = data.find(b"startxref", pos)
                text = data[pos:end if end > 0 else pos + 4096]
                if b"/XRefStm" in text:
                    raise Unsupported("hybrid file")
                found = _PREV.search(text)
                offset = int(found.group(1)) if found else None

    def offset(self, num: int) -> int:
        for subs in self.sections:
            for start, count, entries in subs:
                if start <= num < start + count:
                    entry = self.data[entries + 20 * (num - start):entries + 20 * (num - start) + 20]
                    if entry[17:18] != b"n":
                        raise Unsupported(f"object {num} is free")
                    return int(entry[:10])
        raise Unsupported(f"object {num} not found")

    def raw(self, num: int) -> tuple[int, bytes]:
        """The object's bytes after ``N G obj`` up to ``endobj`` (and where they start)."""
        at = self.offset(num)
        head_end = self.data.index(b"obj", at) + 3
        if int(self.data[at:head_end].split()[0]) != num:
            raise Unsupported(f"object {num} misplaced")
        end = self.data.find(b"endobj", head_end)
        if end < 0:
            raise Unsupported(f"object {num} unterminated")
        return head_end, self.data[head_end:end]

    def get(self, ref) -> generic.PdfObject:
        """The object, parsed once per batch: documents of a batch share most of their objects byte for
        byte (same plan, same signer), so the parse is cached on the object's bytes (read-only use)."""
        num = ref.idnum if isinstance(ref, generic.IndirectObject) else int(ref)
        start, raw = self.raw(num)
        key = (num, raw)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = _read_at(self.data, start, generic.Reference(num, 0, None))
        return hit

    @property
    def size(self) -> int:
        return int(self.trailer["/Size"])


def _read_at(data: bytes, pos: int, container) -> generic.PdfObject:
    while data[pos:pos + 1] in (b" ", b"\r", b"\n", b"\t", b"\f", b"\x00"):
        pos += 1
    stream = io.BytesIO(data)
    stream.seek(pos)
    return generic.read_object(stream, container)


def _raw(obj: generic.PdfObject) -> bytes:
    out = io.BytesIO()
    obj.write_to_stream(out, None)
    return out.getvalue()


def _ref(num: int) -> generic.IndirectObject:
    return generic.IndirectObject(num, 0, None)


def _text(value: str) -> bytes:
    return _raw(generic.pdf_string(value))


@dataclass
class _Doc:
    """One document on its way: what was read, the bytes written, what remains to do."""

    data: bytes
    index: _Index
    field_num: int
    field: generic.DictionaryObject
    lock: generic.DictionaryObject | None
    catalog_num: int
    catalog: generic.DictionaryObject
    acroform_num: int | None
    acroform: generic.DictionaryObject | None
    update: bytes = b""
    contents_at: int = 0
    contents_len: int = 0
    document_digest: bytes = b""
    out: bytes = b""


# -------------------------------------------------------------------------------------------- the batch


class FastBatch:
    """Signs the empty field ``field_name`` of many of our documents for one signer (personal signatures;
    not the seal). ``prepare`` → digests for the key, ``finish`` → signed PDFs; ``run`` does both.

    Documents the fast path cannot take are reported in ``unsupported`` (index → reason) by ``prepare``;
    their output in ``finish`` is ``None`` and the caller signs them with ``pades.BatchSession``."""

    def __init__(self, field_name: str, signer: Signer, settings, *, reason: str | None = None,
                 checked: PrecheckResult | None = None, now: dt.datetime | None = None):
        self.field_name = field_name
        self.signer = signer
        self.settings = settings
        self.reason = reason
        self.checked = checked or precheck(signer, settings.trust, check_revocation=settings.check_revocation)
        self.now = now or dt.datetime.now(dt.UTC)
        self._docs: list[_Doc | None] = []
        self._cache: dict = {}
        self._field_position = -1
        self.unsupported: dict[int, str] = {}
        self._tsa = TsaClient(settings.tsa_url)
        self._collect_validation_data()
        self._build_templates()

    # -- once per batch

    def _collect_validation_data(self) -> None:
        """The validation paths and revocation data of the signer and of the TSA, with pyHanko's pre-sign
        validation (fetching allowed, hard-fail): what ``BatchSession`` puts in every document's DSS."""
        from pyhanko.sign import timestamps
        from pyhanko_certvalidator import CertificateValidator
        from pyhanko_certvalidator.errors import PathBuildingError, PathValidationError

        vc = self.settings.trust.validation_context(allow_fetching=True, revocation_mode="hard-fail")

        async def collect():
            try:
                validator = CertificateValidator(self.signer.certificate, intermediate_certs=list(self.signer.chain),
                                                 validation_context=vc)
                try:
                    paths = [await validator.async_validate_usage({"non_repudiation"})]
                except (PathBuildingError, PathValidationError) as exc:
                    raise SigningRefused("Không xác thực được chứng thư số của người ký; chưa ký.",
                                         code="path") from exc
                async for ts_path in timestamps.HTTPTimeStamper(self.settings.tsa_url).validation_paths(vc):
                    paths.append(ts_path)
                return paths, list(vc.ocsps), list(vc.crls)
            finally:
                await vc.aclose()

        paths, ocsps, crls = asyncio.run(collect())
        certs, seen = [], set()
        for path in paths:
            for cert in path:
                if cert.dump() not in seen:
                    seen.add(cert.dump())
                    certs.append(cert.dump())
        self.dss_blobs = {
            "/Certs": certs,
            "/OCSPs": list(dict.fromkeys(o.dump() for o in ocsps)),
            "/CRLs": list(dict.fromkeys(c.dump() for c in crls)),
        }

    def _build_templates(self) -> None:
        cert = self.signer.certificate
        chain = [c for c in self.signer.chain if c.subject != c.issuer]
        self._certs_der = b"".join(c.dump() for c in [cert, *chain])
        ess = as_signing_certificate_v2(cert)
        marker = b"\x5a" * 32
        attrs = cms.CMSAttributes([
            cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [marker]}),
            cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
        ]).dump()
        at = attrs.index(marker)
        self._attrs_head, self._attrs_tail = attrs[:at], attrs[at + 32:]
        self._sid = cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(
            {"issuer": cert.issuer, "serial_number": cert.serial_number})}).dump()
        self._digest_alg = cms.DigestAlgorithm({"algorithm": "sha256"}).dump()
        self._sig_alg = cms.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}).dump()
        self._sig_size = cert.public_key.bit_size // 8
        # /Contents room: the CMS without its timestamp, plus a timestamp as large as the TSA's, plus slack
        sample_token = self._tsa.stamp_all([hashlib.sha256(b"hocba size probe").digest()])[0]
        probe = self._cms(b"\0" * 32, b"\0" * self._sig_size, sample_token)
        self._contents_bytes = len(probe) + CONTENTS_SLACK
        name = holder_name(cert)
        moment = self.now.astimezone(dt.UTC).strftime("D:%Y%m%d%H%M%SZ")
        parts = [b"/Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached",
                 b"/M " + _text(moment), b"/Name " + _text(name)]
        if self.reason:
            parts.append(b"/Reason " + _text(self.reason))
        if getattr(self.settings, "location", None):
            parts.append(b"/Location " + _text(self.settings.location))
        self._sig_fixed = b"\n".join(parts)
        self._dss_streams = {key: [(hashlib.sha256(b).digest(),
                                    b"<< /Length %d >>\nstream\n" % len(b) + b + b"\nendstream")
                                   for b in blobs] for key, blobs in self.dss_blobs.items()}

    def _cms(self, message_digest: bytes, signature: bytes, token: bytes) -> bytes:
        signed_attrs = self._attrs_head + message_digest + self._attrs_tail
        unsigned = _tlv(0x30, _tlv(0x06, bytes.fromhex("2a864886f70d010910020e")) + _tlv(0x31, token))
        signer_info = _tlv(0x30, b"".join([
            _tlv(0x02, b"\x01"), self._sid, self._digest_alg,
            b"\xa0" + signed_attrs[1:],  # [0] IMPLICIT SET OF Attribute
            self._sig_alg, _tlv(0x04, signature), _tlv(0xA1, unsigned)]))
        signed_data = _tlv(0x30, b"".join([
            _tlv(0x02, b"\x01"), _tlv(0x31, self._digest_alg),
            _tlv(0x30, _tlv(0x06, bytes.fromhex("2a864886f70d010701"))),
            _tlv(0xA0, self._certs_der), _tlv(0x31, signer_info)]))
        return _tlv(0x30, _tlv(0x06, bytes.fromhex("2a864886f70d010702")) + _tlv(0xA0, signed_data))

    # -- per document

    def _read(self, data: bytes) -> _Doc:
        index = _Index(data, self._cache)
        root_ref = index.trailer.raw_get("/Root")
        catalog = index.get(root_ref)
        acroform_ref = catalog.raw_get("/AcroForm") if "/AcroForm" in catalog else None
        if not isinstance(acroform_ref, generic.IndirectObject):
            raise Unsupported("AcroForm is not an indirect object")
        acroform = index.get(acroform_ref)
        refs = list(acroform.raw_get("/Fields"))
        # the field sits at the same place in every document of a batch: look there first
        order = sorted(range(len(refs)), key=lambda i: i != self._field_position)
        for i in order:
            ref = refs[i]
            if not isinstance(ref, generic.IndirectObject):
                continue
            field = index.get(ref)
            if field.get("/T") == self.field_name:
                self._field_position = i
                break
        else:
            raise SigningRefused(f"Tài liệu không có ô chữ ký {self.field_name}.", code="no_field")
        if field.get("/FT") != "/Sig" or "/Kids" in field:
            raise Unsupported("not a merged signature field/widget")
        if "/V" in field:
            raise SigningRefused(f"Ô chữ ký {self.field_name} đã được ký.", code="already_signed")
        lock = None
        if "/Lock" in field:
            lock_ref = field.raw_get("/Lock")
            lock = index.get(lock_ref) if isinstance(lock_ref, generic.IndirectObject) else lock_ref
            if lock.get("/Action") == "/All" or "/P" in lock:
                # the seal's lock: everything (older files) or everything but the document timestamp's field,
                # with DocMDP (/P) — a certification signature followed by a document timestamp: pyHanko's
                raise Unsupported("the seal's lock (DocMDP, B-LTA): pyHanko signs it")
        if "/DSS" in catalog and not isinstance(catalog.raw_get("/DSS"), generic.IndirectObject):
            raise Unsupported("direct DSS")
        return _Doc(data, index, ref.idnum, field, lock, root_ref.idnum, catalog, acroform_ref.idnum, acroform)

    def _signature_revision(self, doc: _Doc) -> None:
        size = doc.index.size
        sig_num = size
        field = generic.DictionaryObject(doc.field)
        field["/V"] = _ref(sig_num)
        reference = b""
        if doc.lock is not None:
            params = generic.DictionaryObject({k: v for k, v in doc.lock.items() if k != "/Type"})
            params["/Type"] = generic.NameObject("/TransformParams")
            params["/V"] = generic.NameObject("/1.2")
            reference = (b"\n/Reference [ << /Type /SigRef /TransformMethod /FieldMDP /Data %d 0 R /TransformParams "
                         % doc.catalog_num + _raw(params) + b" >> ]")
        hex_len = 2 * self._contents_bytes
        sig_head = (b"<<\n" + self._sig_fixed + reference + b"\n/ByteRange [0 0000000000 0000000000 0000000000]"
                    + b"\n/Contents <")
        sig_obj = sig_head + b"0" * hex_len + b">\n>>"
        objects = {doc.field_num: _raw(field), sig_num: sig_obj}
        if doc.acroform is not None and int(doc.acroform.get("/SigFlags", 0)) != 3:
            acroform = generic.DictionaryObject(doc.acroform)
            acroform["/SigFlags"] = generic.NumberObject(3)
            objects[doc.acroform_num] = _raw(acroform)
        next_num = self._dss_objects(doc, objects, size + 1)
        base = len(doc.data) + (0 if doc.data.endswith(b"\n") else 1)
        body, offsets = _objects(objects, base)
        update = (b"" if doc.data.endswith(b"\n") else b"\n") + body
        update += _xref_and_trailer(doc, offsets, next_num, base + len(body))
        # the /Contents hex string: from '<' to '>' inclusive, as the ByteRange must exclude
        start = len(doc.data) + update.index(sig_head) + len(sig_head) - 1
        end = start + hex_len + 2
        total = len(doc.data) + len(update)
        byte_range = b"[0 %010d %010d %010d]" % (start, end, total - end)
        update = update.replace(b"[0 0000000000 0000000000 0000000000]", byte_range, 1)
        doc.update, doc.contents_at, doc.contents_len = update, start, hex_len

    def prepare(self, pdfs: Sequence[bytes]) -> list[bytes | None]:
        """Reads and lays out every document; returns the SHA-256 digest of each one's signed attributes
        (what the key signs), ``None`` for a document in ``unsupported``."""
        self._docs, self.unsupported = [], {}
        digests = []
        for i, data in enumerate(pdfs):
            try:
                doc = self._read(data)
                self._signature_revision(doc)
            except (Unsupported, SigningRefused) as exc:  # the slow path signs it or says why it cannot
                self.unsupported[i] = str(exc)
                self._docs.append(None)
                digests.append(None)
                continue
            h = hashlib.sha256(data)
            local = doc.contents_at - len(data)
            h.update(doc.update[:local])
            h.update(doc.update[local + doc.contents_len + 2:])
            doc.document_digest = h.digest()
            self._docs.append(doc)
            digests.append(hashlib.sha256(self._attrs_head + doc.document_digest + self._attrs_tail).digest())
        return digests

    def finish(self, signature_values: Sequence[bytes | None]) -> list[bytes | None]:
        """Timestamps and embeds the signature values (same order as ``prepare``'s digests)."""
        live = [(d, v) for d, v in zip(self._docs, signature_values, strict=True) if d is not None]
        if any(v is None or len(v) != self._sig_size for _, v in live):
            raise ValueError("giá trị chữ ký không hợp lệ")
        tokens = self._tsa.stamp_each([hashlib.sha256(v).digest() for _, v in live])
        for (doc, value), token in zip(live, tokens, strict=True):
            der = self._cms(doc.document_digest, value, token)
            if 2 * len(der) > doc.contents_len:
                raise SigningRefused("Chữ ký lớn hơn chỗ dành sẵn trong tệp; chưa ký.", code="contents_too_small")
            local = doc.contents_at - len(doc.data) + 1
            hexed = der.hex().encode().ljust(doc.contents_len, b"0")
            update = doc.update[:local] + hexed + doc.update[local + doc.contents_len:]
            doc.out = doc.data + update
        out = [d.out if d is not None else None for d in self._docs]
        self._docs = []
        return out

    def run(self, pdfs: Sequence[bytes]) -> list[bytes | None]:
        digests = self.prepare(pdfs)
        live = [d for d in digests if d is not None]
        values = iter(self.signer.sign_digests(live, "sha256") if live else [])
        return self.finish([next(values) if d is not None else None for d in digests])

    def _stream_digest(self, index: _Index, num: int) -> bytes:
        """SHA-256 of a DSS stream's decoded data, computed once per batch for identical stream objects."""
        _, raw = index.raw(num)
        key = ("digest", raw)
        if key not in self._cache:
            self._cache[key] = hashlib.sha256(index.get(num).data).digest()
        return self._cache[key]

    def _dss_objects(self, doc: _Doc, objects: dict[int, bytes], next_num: int) -> int:
        """Adds to ``objects`` the DSS update of this signature — the chain, OCSP responses and CRLs of the
        signer and of the TSA not already in the document's DSS — in the signature's own revision (pyHanko's
        ``SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE``: B-LT in one revision, half the revisions a
        validator walks). Returns the next free object number."""
        index, catalog = doc.index, doc.catalog
        if "/DSS" in catalog:
            dss_num = catalog.raw_get("/DSS").idnum
            dss = index.get(dss_num)
        else:
            dss_num, next_num = next_num, next_num + 1
            dss = generic.DictionaryObject()
            new_catalog = generic.DictionaryObject(catalog)
            new_catalog["/DSS"] = _ref(dss_num)
            objects[doc.catalog_num] = _raw(new_catalog)
        new_dss = generic.DictionaryObject(dss)
        for key, streams in self._dss_streams.items():
            refs = list(dss.raw_get(key)) if key in dss else []
            have = {self._stream_digest(index, ref.idnum) for ref in refs}
            for digest, body in streams:
                if digest in have:
                    continue
                objects[next_num] = body
                refs.append(_ref(next_num))
                next_num += 1
            new_dss[key] = generic.ArrayObject(refs)
        objects[dss_num] = _raw(new_dss)
        return next_num


def _objects(objects: dict[int, bytes], base: int) -> tuple[bytes, dict[int, int]]:
    out, offsets = io.BytesIO(), {}
    for num in sorted(objects):
        offsets[num] = base + out.tell()
        out.write(b"%d 0 obj\n" % num + objects[num] + b"\nendobj\n")
    return out.getvalue(), offsets


def _xref_and_trailer(doc: _Doc, offsets: dict[int, int], size: int, xref_at: int) -> bytes:
    lines = [b"xref\n0 1\n0000000000 65535 f \n"]
    nums = sorted(offsets)
    run: list[int] = []
    for num in nums + [None]:
        if run and (num is None or num != run[-1] + 1):
            lines.append(b"%d %d\n" % (run[0], len(run)))
            lines.extend(b"%010d 00000 n \n" % offsets[n] for n in run)
            run = []
        if num is not None:
            run.append(num)
    trailer = generic.DictionaryObject({
        "/Size": generic.NumberObject(size), "/Root": doc.index.trailer.raw_get("/Root"),
        "/Prev": generic.NumberObject(doc.index.startxref)})
    if "/Info" in doc.index.trailer:
        trailer["/Info"] = doc.index.trailer.raw_get("/Info")
    ids = doc.index.trailer.get("/ID")
    first = ids[0] if ids else generic.ByteStringObject(os.urandom(16))
    trailer["/ID"] = generic.ArrayObject([first, generic.ByteStringObject(os.urandom(16))])
    return b"".join(lines) + b"trailer\n" + _raw(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % xref_at


def sign_batch(pdfs: Sequence[bytes], field_name: str, signer: Signer, settings, *, reason: str | None = None,
               checked: PrecheckResult | None = None) -> list[bytes]:
    """Signs ``field_name`` in every document; documents the fast path does not take go through
    ``pades.BatchSession`` (same result, slower)."""
    from . import pades

    batch = FastBatch(field_name, signer, settings, reason=reason, checked=checked)
    out = batch.run(pdfs)
    rest = [i for i, o in enumerate(out) if o is None]
    if rest:
        slow = pades.BatchSession(field_name, signer, settings, reason=reason, checked=batch.checked)
        for i, signed in zip(rest, slow.run([pdfs[i] for i in rest]), strict=True):
            out[i] = signed
    return out  # type: ignore[return-value]
