"""XAdES: each personal signature references exactly its signer's elements, the seal the whole document;
xmlsec1 accepts every signature, OpenSSL the timestamps; tampering is reported in Vietnamese."""

from __future__ import annotations

import base64
import subprocess

import pytest
from lxml import etree

from hocba.signing import xades
from hocba.signing.cli import main as signing_main
from hocba.signing.validate import validate_file

XML = """<?xml version="1.0" encoding="UTF-8"?>
<HocBa xmlns="urn:hocba:test:1" Id="hoc-ba">
  <HocSinh Id="hoc-sinh"><HoTen>Nguyễn Văn An</HoTen><SoDinhDanh>079210000001</SoDinhDanh></HocSinh>
  <MonHoc Id="mon-toan"><Ten>Toán</Ten><HK1>8,5</HK1><HK2>9,0</HK2><CaNam>8,8</CaNam></MonHoc>
  <MonHoc Id="mon-van"><Ten>Ngữ văn</Ten><HK1>7,0</HK1><HK2>8,0</HK2><CaNam>7,7</CaNam></MonHoc>
  <KetQuaNam Id="ket-qua-nam"><HocTap>Khá</HocTap><RenLuyen>Tốt</RenLuyen><LenLop>true</LenLop></KetQuaNam>
  <PheDuyet Id="phe-duyet"><NoiCap>Thành phố Hồ Chí Minh</NoiCap></PheDuyet>
</HocBa>
""".encode()

PLAN = [("sig-gvbm-toan", "gv.toan", ["mon-toan"]), ("sig-gvcn", "gv.van", ["mon-van", "ket-qua-nam"]),
        ("sig-hieu-truong", "hieutruong", ["hoc-sinh", "mon-toan", "mon-van", "ket-qua-nam", "phe-duyet"]),
        ("sig-con-dau", "condau", None)]


@pytest.fixture(scope="session")
def xades_settings(pki, trust):
    return xades.XadesSettings(tsa_url=pki.tsa_url, trust=trust)


@pytest.fixture(scope="session")
def signed_xml(xades_settings, signer_for) -> bytes:
    doc = XML
    for sig_id, user, refs in PLAN:
        doc = xades.sign_xml(doc, signer_for(user), xades_settings, signature_id=sig_id, references=refs)
    return doc


def _xmlsec_verify(path, sig_id, pki):
    id_attrs = []
    for name in ("HocBa", "HocSinh", "MonHoc", "KetQuaNam", "PheDuyet"):
        id_attrs += ["--id-attr:Id", f"urn:hocba:test:1:{name}"]
    id_attrs += ["--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
                 "--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:KeyInfo",
                 "--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:Signature"]
    return subprocess.run(["xmlsec1", "--verify", "--trusted-pem", str(pki.root_cert_path), "--untrusted-pem",
                           str(pki.cert_path("interm")), *id_attrs, "--node-id", sig_id, str(path)],
                          capture_output=True, text=True, check=False, timeout=60)


def test_each_signature_references_exactly_its_signers_elements(signed_xml):
    root = etree.fromstring(signed_xml)
    for sig_id, _, refs in PLAN:
        sig = root.xpath("//ds:Signature[@Id=$i]", namespaces=xades.NS, i=sig_id)[0]
        own = {f"#{e.get('Id')}" for e in sig.iter() if e.get("Id")}
        uris = [r.get("URI") for r in sig.findall("ds:SignedInfo/ds:Reference", xades.NS)]
        content = [u for u in uris if u not in own]
        assert content == ([f"#{r}" for r in refs] if refs else ["#hoc-ba"])
        assert sig.find(".//xades:SigningTime", xades.NS) is not None
        assert sig.find(".//xades:SigningCertificateV2", xades.NS) is not None
        assert sig.find(".//xades:SignatureTimeStamp/xades:EncapsulatedTimeStamp", xades.NS) is not None


def test_xmlsec1_accepts_every_signature(signed_xml, pki, tmp_path):
    path = tmp_path / "hoc_ba.xml"
    path.write_bytes(signed_xml)
    for sig_id, _, _ in PLAN:
        run = _xmlsec_verify(path, sig_id, pki)
        assert run.returncode == 0 and "OK" in run.stderr + run.stdout, (sig_id, run.stderr)


def test_openssl_accepts_the_xades_signature_timestamp(signed_xml, pki, tmp_path):
    root = etree.fromstring(signed_xml)
    sig = root.xpath("//ds:Signature[@Id='sig-gvcn']", namespaces=xades.NS)[0]
    token = sig.find(".//xades:EncapsulatedTimeStamp", xades.NS).text
    (tmp_path / "token.der").write_bytes(base64.b64decode(token))
    (tmp_path / "value.c14n").write_bytes(xades._c14n(sig.find("ds:SignatureValue", xades.NS)))
    run = subprocess.run(["openssl", "ts", "-verify", "-token_in", "-in", str(tmp_path / "token.der"),
                          "-data", str(tmp_path / "value.c14n"), "-CAfile", str(pki.root_cert_path),
                          "-untrusted", str(pki.cert_path("tsa"))], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and "Verification: OK" in run.stdout, run.stdout + run.stderr


def test_our_report_says_valid_for_all_four(signed_xml, trust):
    report = validate_file(signed_xml, trust)
    assert report.kind == "xml" and report.valid, report.render_text()
    by_id = {s.id: s for s in report.signatures}
    assert by_id["sig-gvbm-toan"].signer == "Phạm Minh Tuấn"
    assert by_id["sig-gvbm-toan"].covers == "các phần tử #mon-toan"
    assert by_id["sig-con-dau"].covers == "toàn bộ tài liệu"
    for sig in report.signatures:
        assert sig.timestamp_valid and sig.level == "XAdES-LT"
        assert sig.revocation == "good" and sig.revocation_source == "embedded"


def test_one_changed_score_breaks_the_teacher_and_the_seal_but_not_the_others(signed_xml, trust):
    assert signed_xml.count(b"<CaNam>8,8</CaNam>") == 1
    tampered = signed_xml.replace(b"<CaNam>8,8</CaNam>", b"<CaNam>9,8</CaNam>")
    report = validate_file(tampered, trust)
    assert not report.valid
    by_id = {s.id: s for s in report.signatures}
    for broken in ("sig-gvbm-toan", "sig-hieu-truong", "sig-con-dau"):
        assert not by_id[broken].valid and not by_id[broken].integrity
        assert any("đã bị thay đổi sau khi ký" in p for p in by_id[broken].problems)
    assert by_id["sig-gvcn"].valid  # the GVCN never answered for the maths score


def test_a_signature_moved_to_another_document_is_invalid(signed_xml, xades_settings, signer_for, trust):
    other = XML.replace("Nguyễn Văn An".encode(), "Trần Thị Bình".encode()).replace(
        b"<CaNam>7,7</CaNam>", b"<CaNam>9,1</CaNam>")
    source = etree.fromstring(signed_xml)
    target = etree.fromstring(other)
    moved = source.xpath("//ds:Signature[@Id='sig-gvcn']", namespaces=xades.NS)[0]
    target.append(moved)
    report = validate_file(etree.tostring(target), trust)
    assert not report.valid
    sig = report.signatures[0]
    assert not sig.integrity and any("đã bị thay đổi sau khi ký" in p for p in sig.problems)


def test_entities_and_dtds_are_refused(trust):
    evil = b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>'
    report = validate_file(evil, trust)
    assert not report.valid and "không được phép" in report.verdict


def test_cli_signs_xml_and_verify_exits_zero(pki, tmp_path):
    src, out = tmp_path / "in.xml", tmp_path / "out.xml"
    src.write_bytes(XML)
    var_dir = str(pki.root.parent)
    assert signing_main(["--var-dir", var_dir, "sign", "xml", "--as", "gv.toan", "--field", "sig-toan",
                         "--refs", "mon-toan", str(src), str(out)]) == 0
    assert signing_main(["--var-dir", var_dir, "verify", str(out)]) == 0


def test_a_batch_signs_each_document_once_with_one_call_to_the_key(xades_settings, signer_for, pki, tmp_path, trust):
    """``XadesBatch``: one ``sign_digests`` call for the whole batch (one confirmation on a remote service);
    each document gets its own valid signature; a document that cannot be signed is reported and the
    others are signed all the same."""
    teacher = signer_for("gv.toan")
    calls = []

    class Counting:
        certificate, chain = teacher.certificate, teacher.chain

        def sign_digests(self, digests, algorithm="sha256"):
            calls.append(len(digests))
            return teacher.sign_digests(digests, algorithm)

    docs = [XML.replace(b"8,5", f"{i},5".encode()) for i in (6, 7)]
    already = xades.sign_xml(XML, teacher, xades_settings, signature_id="sig-gvbm-toan", references=["mon-toan"])
    out = xades.XadesBatch(Counting(), xades_settings).sign_all(
        [(docs[0], "sig-gvbm-toan", ["mon-toan"]), (already, "sig-gvbm-toan", ["mon-toan"]),
         (docs[1], "sig-gvbm-toan", ["mon-toan"])])
    assert calls == [2]
    assert isinstance(out[1], xades.SigningRefused) and "đã có chữ ký" in str(out[1])
    for i in (0, 2):
        assert validate_file(out[i], trust).valid
        path = tmp_path / f"doc{i}.xml"
        path.write_bytes(out[i])
        run = _xmlsec_verify(path, "sig-gvbm-toan", pki)
        assert run.returncode == 0 and "OK" in run.stderr + run.stdout, run.stderr
