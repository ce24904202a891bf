"""The batch fast path for personal PAdES signatures (``hocba.signing.fastpades``): what it writes is a
signature every validator accepts exactly as it accepts pyHanko's own — mixed with pyHanko's signatures in
one file, checked by pyHanko's CLI, ``qpdf --check`` and ``openssl ts -verify`` — and a document it cannot
take is signed the slow way, never half-signed."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hocba.signing import fastpades, pades
from hocba.signing.samples import minimal_pdf
from hocba.signing.validate import validate_pdf

SLOTS = [
    pades.SignerSlot("GVBM_TOAN", "gvbm", "Giáo viên bộ môn Toán"),
    pades.SignerSlot("GVBM_VAN", "gvbm", "Giáo viên bộ môn Ngữ văn"),
    pades.SignerSlot("GVCN", "gvcn", "Giáo viên chủ nhiệm"),
    pades.SignerSlot("CON_DAU", pades.SEAL_ROLE, "Con dấu số của trường"),
]
PYHANKO = Path(sys.executable).with_name("pyhanko")
NAMES = ["Nguyen Van An", "Tran Thi Binh", "Le Van Cuong"]


def _documents() -> list[bytes]:
    return [pades.prepare_fields(minimal_pdf([f"Hoc ba so - {n}", f"Toan: Ca nam {8 + i},5"]), SLOTS)
            for i, n in enumerate(NAMES)]


@pytest.fixture(scope="module")
def chain(pades_settings, signer_for):
    """Three documents: maths by the fast path, literature by pyHanko, the GVCN by the fast path again,
    then the seal by pyHanko (B-LTA). Returns (after maths, final, the maths batch)."""
    docs = _documents()
    maths = fastpades.FastBatch("GVBM_TOAN", signer_for("gv.toan"), pades_settings, reason="Xác nhận điểm")
    after_maths = maths.run(docs)
    assert maths.unsupported == {}
    docs = [pades.sign_field(d, "GVBM_VAN", signer_for("gv.van"), pades_settings) for d in after_maths]
    gvcn = fastpades.FastBatch("GVCN", signer_for("gv.van"), pades_settings)
    docs = gvcn.run(docs)
    assert gvcn.unsupported == {}
    final = pades.sign_batch(docs, "CON_DAU", signer_for("condau"), pades_settings, seal=True)
    return after_maths, final


def test_each_document_gets_its_own_valid_signature(chain, trust):
    after_maths, _ = chain
    contents = [re.search(rb"/Contents <([0-9a-f]+)>", d[-40000:]).group(1) for d in after_maths]
    assert len(set(contents)) == len(NAMES), "every document has its own CMS"
    for data, name, unsigned in zip(after_maths, NAMES, _documents(), strict=True):
        assert name.encode() in data
        assert data.count(b"%%EOF") == unsigned.count(b"%%EOF") + 1, "B-LT in one revision: signature + DSS"
        report = validate_pdf(data, trust)
        assert report.valid, report.signatures[0].problems
        sig = report.signatures[0]
        assert sig.id == "GVBM_TOAN" and sig.integrity and sig.timestamp_valid
        assert sig.revocation_source == "embedded", "B-LT: the revocation data is in the file"


def test_pyhanko_cli_and_qpdf_accept_fast_and_pyhanko_signatures_mixed(chain, pki, tmp_path):
    _, final = chain
    for i, data in enumerate(final):
        path = tmp_path / f"hoc_ba_{i}.pdf"
        path.write_bytes(data)
        run = subprocess.run([str(PYHANKO), "sign", "validate", "--pretty-print", "--trust",
                              str(pki.root_cert_path), "--trust-replace", str(path)],
                             capture_output=True, text=True, check=False, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.count("The signature is judged VALID.") == len(SLOTS)
        assert "INVALID" not in run.stdout
        qpdf = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True, check=False)
        assert qpdf.returncode == 0, qpdf.stdout + qpdf.stderr


def test_a_changed_byte_breaks_the_fast_signature(chain, trust):
    after_maths, _ = chain
    data = after_maths[0]
    assert data.count(b"Ca nam 8,5") == 1
    report = validate_pdf(data.replace(b"Ca nam 8,5", b"Ca nam 9,5"), trust)
    assert not report.valid
    assert not report.signatures[0].integrity
    assert any("đã bị thay đổi sau khi ký" in p for p in report.signatures[0].problems)


def test_openssl_accepts_the_fast_paths_timestamp(chain, pki, tmp_path):
    from pyhanko.pdf_utils.reader import PdfFileReader

    after_maths, _ = chain
    sig = PdfFileReader(io.BytesIO(after_maths[1])).embedded_regular_signatures[0]
    token = next(a for a in sig.signer_info["unsigned_attrs"] if a["type"].native == "signature_time_stamp_token")
    (tmp_path / "token.der").write_bytes(token["values"][0].dump())
    (tmp_path / "signature.bin").write_bytes(sig.signer_info["signature"].native)
    run = subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", str(tmp_path / "token.der"),
                          "-data", str(tmp_path / "signature.bin"), "-CAfile", str(pki.root_cert_path),
                          "-untrusted", str(pki.cert_path("tsa"))], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "Verification: OK" in run.stdout, run.stdout + run.stderr


def test_the_dss_holds_each_certificate_and_response_once(chain):
    from pyhanko.pdf_utils.reader import PdfFileReader

    _, final = chain
    dss = PdfFileReader(io.BytesIO(final[0])).root["/DSS"]
    for key in ("/Certs", "/OCSPs"):
        blobs = [ref.get_object().data for ref in dss[key]]
        assert blobs and len(blobs) == len(set(blobs)), f"{key} repeats an entry"
    assert len(dss["/OCSPs"]) >= 2, "the OCSP responses of both teachers (gv.toan, gv.van) are embedded"


def test_what_the_fast_path_does_not_take_is_signed_by_pyhanko_or_refused(pades_settings, signer_for, trust):
    docs = _documents()[:2]
    seal = fastpades.FastBatch("CON_DAU", signer_for("condau"), pades_settings)
    assert seal.prepare(docs) == [None, None]
    assert set(seal.unsupported) == {0, 1}, "the seal (DocMDP, B-LTA) is pyHanko's"

    once = fastpades.sign_batch(docs, "GVBM_TOAN", signer_for("gv.toan"), pades_settings)
    again = fastpades.FastBatch("GVBM_TOAN", signer_for("gv.toan"), pades_settings)
    assert again.prepare(once) == [None, None]
    assert all("đã được ký" in reason for reason in again.unsupported.values())
    with pytest.raises(pades.SigningRefused, match="đã được ký"):
        fastpades.sign_batch(once[:1], "GVBM_TOAN", signer_for("gv.toan"), pades_settings)

    # a file whose cross-reference is a stream (not what we generate) goes through pyHanko unchanged
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(docs[0]), strict=False)
    writer.stream_xrefs = True
    writer.root["/Lang"] = generic.pdf_string("vi")
    writer.update_root()
    buf = io.BytesIO()
    writer.write(buf)
    xref_stream_doc = buf.getvalue()
    assert b"/XRef" in xref_stream_doc[len(docs[0]):]
    probe = fastpades.FastBatch("GVBM_TOAN", signer_for("gv.toan"), pades_settings)
    assert probe.prepare([xref_stream_doc]) == [None] and "stream" in probe.unsupported[0]
    out = fastpades.sign_batch([xref_stream_doc], "GVBM_TOAN", signer_for("gv.toan"), pades_settings)
    assert validate_pdf(out[0], trust).valid
