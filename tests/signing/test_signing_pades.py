"""PAdES: four signers in the order the law asks (two teachers, the principal, the school seal last), checked
by an independent validator (pyHanko's CLI) and by ours; tampering is reported in Vietnamese."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hocba.signing import pades
from hocba.signing.cli import main as signing_main
from hocba.signing.precheck import SigningRefused
from hocba.signing.samples import minimal_pdf
from hocba.signing.validate import validate_pdf

SLOTS = [
    pades.SignerSlot("GVBM_TOAN", "gvbm", "Giáo viên bộ môn Toán"),
    pades.SignerSlot("GVCN", "gvcn", "Giáo viên chủ nhiệm"),
    pades.SignerSlot("HIEU_TRUONG", "ht", "Hiệu trưởng"),
    pades.SignerSlot("CON_DAU", pades.SEAL_ROLE, "Con dấu số của trường"),
]
SIGNERS = {"GVBM_TOAN": "gv.toan", "GVCN": "gv.van", "HIEU_TRUONG": "hieutruong", "CON_DAU": "condau"}
PYHANKO = Path(sys.executable).with_name("pyhanko")


def _document(name: str = "Nguyen Van An") -> bytes:
    return minimal_pdf([f"Hoc ba so - {name}", "Toan: HK I 8,5  HK II 9,0  Ca nam 8,8"])


@pytest.fixture(scope="session")
def four_signed(pades_settings, signer_for) -> bytes:
    pdf = pades.prepare_fields(_document(), SLOTS)
    for slot in SLOTS:
        pdf = pades.sign_field(pdf, slot.field_name, signer_for(SIGNERS[slot.field_name]), pades_settings,
                               seal=slot.role == pades.SEAL_ROLE)
    return pdf


def test_every_signature_field_exists_before_the_first_signature(pades_settings, signer_for):
    pdf = pades.prepare_fields(_document(), SLOTS)
    # with the seal's field, the one its PAdES-LTA document timestamp will fill
    assert pades.signature_fields(pdf) == {**{s.field_name: False for s in SLOTS}, pades.TIMESTAMP_FIELD: False}
    once = pades.sign_field(pdf, "GVBM_TOAN", signer_for("gv.toan"), pades_settings)
    assert pades.signature_fields(once) == {"GVBM_TOAN": True, "GVCN": False, "HIEU_TRUONG": False,
                                            "CON_DAU": False, pades.TIMESTAMP_FIELD: False}


def test_pyhanko_cli_judges_all_four_signatures_valid(four_signed, pki, tmp_path):
    path = tmp_path / "hoc_ba.pdf"
    path.write_bytes(four_signed)
    run = subprocess.run([str(PYHANKO), "sign", "validate", "--pretty-print", "--trust", str(pki.root_cert_path),
                          "--trust-replace", str(path)], capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    fields = re.findall(r"^Field \d+: (\S+)$", run.stdout, flags=re.MULTILINE)
    assert fields == [s.field_name for s in SLOTS]
    assert run.stdout.count("The signature is judged VALID.") == 4
    assert "INVALID" not in run.stdout


def test_our_report_says_valid_with_what_tt15_asks(four_signed, trust):
    report = validate_pdf(four_signed, trust)
    assert report.valid, report.render_text()
    assert report.verdict.startswith("Tài liệu hợp lệ")
    by_id = {s.id: s for s in report.signatures}
    teacher = by_id["GVBM_TOAN"]
    assert teacher.signer == "Phạm Minh Tuấn"
    assert teacher.signer_id == "CCCD:079085000103"
    assert teacher.organisation == "Trường THCS Thử Nghiệm"
    assert teacher.issuer == "HOCBA Demo Issuing CA"
    assert teacher.integrity and teacher.trusted and teacher.cert_valid_at_signing
    assert teacher.timestamp is not None and teacher.timestamp_valid
    assert teacher.revocation == "good" and teacher.revocation_source == "embedded"
    assert teacher.cert_not_before < teacher.timestamp < teacher.cert_not_after
    assert by_id["CON_DAU"].level == "PAdES B-LTA"
    assert [s.kind for s in report.signatures].count("document_timestamp") == 1
    assert report.trust_anchors and "HOCBA Demo Root CA" in report.trust_anchors[0]
    data = report.to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False))["valid"] is True


def test_the_seal_must_sign_last(pades_settings, signer_for):
    pdf = pades.prepare_fields(_document(), SLOTS)
    with pytest.raises(SigningRefused, match="con dấu số phải ký sau cùng") as err:
        pades.sign_field(pdf, "CON_DAU", signer_for("condau"), pades_settings, seal=True)
    assert err.value.code == "seal_not_last"


def test_one_changed_byte_in_the_content_is_reported_in_vietnamese(four_signed, trust):
    assert four_signed.count(b"Ca nam 8,8") == 1
    tampered = four_signed.replace(b"Ca nam 8,8", b"Ca nam 9,8")
    report = validate_pdf(tampered, trust)
    assert not report.valid
    assert report.verdict.startswith("Tài liệu KHÔNG hợp lệ")
    for sig in report.signatures:
        assert not sig.valid
        assert not sig.integrity
        assert any("đã bị thay đổi sau khi ký" in p for p in sig.problems), sig.problems


def test_a_signature_moved_to_another_document_is_invalid(pades_settings, signer_for, trust):
    slot = [pades.SignerSlot("GVCN", "gvcn", "GVCN")]
    first = pades.sign_field(pades.prepare_fields(_document("Nguyen Van An"), slot), "GVCN",
                             signer_for("gv.van"), pades_settings)
    second = pades.sign_field(pades.prepare_fields(_document("Tran Thi Binh"), slot), "GVCN",
                              signer_for("gv.van"), pades_settings)
    contents = re.compile(rb"/Contents <([0-9a-fA-F]+)>")
    stolen = contents.search(first).group(1)
    target = contents.search(second)
    # The two /Contents placeholders are sized per document and may differ by a few bytes; the CMS blob is
    # DER (self-delimiting) followed by zero padding, so fit the stolen one into the target's slot.
    size = len(target.group(1))
    if len(stolen) > size:
        assert set(stolen[size:]) <= {ord("0")}, "stolen signature does not fit the target's placeholder"
    stolen = stolen[:size].ljust(size, b"0")
    moved = second[:target.start(1)] + stolen + second[target.end(1):]
    report = validate_pdf(moved, trust)
    assert not report.valid
    sig = report.signatures[0]
    assert not sig.integrity
    assert any("đã bị thay đổi sau khi ký" in p for p in sig.problems)


def test_openssl_accepts_the_signature_timestamp(four_signed, pki, tmp_path):
    import io

    from asn1crypto import cms
    from pyhanko.pdf_utils.reader import PdfFileReader

    sig = PdfFileReader(io.BytesIO(four_signed)).embedded_regular_signatures[0]
    token = next(a for a in sig.signer_info["unsigned_attrs"] if a["type"].native == "signature_time_stamp_token")
    (tmp_path / "token.der").write_bytes(token["values"][0].dump())
    (tmp_path / "signature.bin").write_bytes(sig.signer_info["signature"].native)
    assert isinstance(token["values"][0], cms.ContentInfo)
    run = subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", str(tmp_path / "token.der"),
                          "-data", str(tmp_path / "signature.bin"), "-CAfile", str(pki.root_cert_path),
                          "-untrusted", str(pki.cert_path("tsa"))], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "Verification: OK" in run.stdout, run.stdout + run.stderr


def test_cli_signs_with_a_demo_users_key_and_verify_exits_by_verdict(pki, tmp_path, capsys):
    src, out = tmp_path / "in.pdf", tmp_path / "out.pdf"
    src.write_bytes(_document())
    var_dir = str(pki.root.parent)
    assert signing_main(["--var-dir", var_dir, "sign", "pdf", "--as", "gv.toan", "--field", "GVBM_TOAN",
                         str(src), str(out)]) == 0
    assert signing_main(["--var-dir", var_dir, "verify", str(out), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert printed["valid"] and printed["signatures"][0]["signer"] == "Phạm Minh Tuấn"
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(out.read_bytes().replace(b"Ca nam 8,8", b"Ca nam 9,9"))
    assert signing_main(["--var-dir", var_dir, "verify", str(bad)]) == 1
    assert "KHÔNG hợp lệ" in capsys.readouterr().out
