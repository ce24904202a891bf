"""The public portal and its API against real signed documents and the registry: the verdict and its reason for
each case, what a code alone shows and what the QR secret adds, masking, the log of lookups, the limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.verify.verify_support import SIGNER_NUMBER, STUDENT_NUMBER

from hocba.verify.models import VerificationLog

pytestmark = pytest.mark.django_db

SPEC = yaml.safe_load((Path(__file__).parents[2] / "src/hocba/api/openapi.yaml").read_text(encoding="utf-8"))


def upload(client, data: bytes, name: str = "hocba.pdf", url: str = "/xac-thuc/"):
    return client.post(url, {"file": SimpleUploadedFile(name, data)})


def api_verify(data: bytes, name: str = "hocba.pdf") -> dict:
    response = upload(Client(), data, name, "/api/v1/verify")
    assert response.status_code == 200, response.content[:500]
    return response.json()


def verdict_of(response) -> str:
    html = response.content.decode()
    return re.search(r'<h1 id="verdict" class="verdict-text">([^<]+)</h1>', html).group(1)


def reason_of(response) -> str:
    html = response.content.decode()
    return re.search(r'<p class="verdict-reason" id="verdict-reason">([^<]*)</p>', html).group(1)


def check(body: dict, key: str) -> dict:
    return next(c for c in body["checks"] if c["key"] == key)


def assert_matches(name: str, instance) -> None:
    from openapi_schema_validator import OAS30Validator

    OAS30Validator({"components": SPEC["components"], "$ref": f"#/components/schemas/{name}"}).validate(instance)


# --- files --------------------------------------------------------------------------------------------------

def test_a_valid_issued_pdf_is_valid_with_every_check_ticked(registry, documents):
    response = upload(Client(), documents.valid.pdf)
    assert response.status_code == 200 and verdict_of(response) == "Hợp lệ"
    body = api_verify(documents.valid.pdf)
    assert_matches("Verification", body)
    assert body["verdict"] == "valid" and body["verdict_text"] == "Hợp lệ"
    for key in ("readable", "signed", "unchanged", "signatures", "chain", "revocation", "timestamps", "registry",
                "issued_file", "previous_year"):
        assert check(body, key)["ok"] is True, check(body, key)
    assert "Có hiệu lực" in check(body, "registry")["text"]
    assert "2023-2024" in check(body, "previous_year")["text"]
    # every field of TT15/2025 Phụ lục II, per signature
    seal = next(s for s in body["signatures"] if s["id"] == "condau")
    assert seal["valid"] and seal["integrity"] and seal["trusted"] and seal["cert_valid_at_signing"]
    assert seal["issuer"] == "HOCBA Demo Issuing CA" and seal["organisation"] == "Trường THCS Thử Nghiệm"
    assert seal["timestamp"] and seal["timestamp_valid"] and seal["revocation"] == "good"
    assert seal["revocation_source"] == "embedded" and seal["cert_not_before"] and seal["cert_not_after"]
    assert {s["kind"] for s in body["signatures"]} == {"signature", "document_timestamp"}
    assert body["registry"]["school"]["name"] == "Trường THCS Thử Nghiệm"


def test_the_signed_xml_is_checked_the_same_way(registry, documents):
    body = api_verify(documents.valid.xml, "hocba.xml")
    assert body["verdict"] == "valid" and body["file"]["kind"] == "xml"
    assert [s["id"] for s in body["signatures"]] == ["sig-gvcn", "sig-hieutruong", "sig-condau"]
    assert check(body, "issued_file")["ok"] is True


def test_a_tampered_pdf_is_invalid_and_says_it_was_changed(registry, documents):
    response = upload(Client(), documents.tampered_pdf)
    assert verdict_of(response) == "Không hợp lệ"
    assert "thay đổi sau khi ký" in reason_of(response)
    body = api_verify(documents.tampered_pdf)
    assert body["verdict"] == "invalid" and check(body, "unchanged")["ok"] is False
    assert all(not s["integrity"] for s in body["signatures"] if s["kind"] == "signature")


def test_a_tampered_xml_is_invalid_naming_the_broken_signatures(registry, documents):
    body = api_verify(documents.tampered_xml, "hocba.xml")
    assert body["verdict"] == "invalid" and check(body, "unchanged")["ok"] is False
    assert "sig-gvcn" in check(body, "signatures")["text"]


def test_a_revoked_version_reads_revoked_with_the_date(registry, documents):
    response = upload(Client(), documents.revoked.pdf)
    assert verdict_of(response) == "Đã bị thu hồi"
    assert "Đã bị thu hồi ngày" in reason_of(response)
    body = api_verify(documents.revoked.pdf)
    assert body["verdict"] == "revoked" and check(body, "registry")["ok"] is False
    assert check(body, "signatures")["ok"] is True  # lawfully signed; only the registry knows it no longer counts
    assert body["registry"]["revoke_reason"] == "Cấp nhầm cho học sinh khác lớp"


def test_a_superseded_version_names_the_code_of_the_one_replacing_it(registry, documents):
    body = api_verify(documents.old.pdf)
    assert body["verdict"] == "revoked"
    assert documents.new.code in body["reason"] and "phiên bản 2" in body["reason"]
    assert body["registry"]["replaced_by"] == {"verification_code": documents.new.code, "version": 2}
    assert api_verify(documents.new.pdf)["verdict"] == "valid"


def test_a_document_signed_by_an_untrusted_ca_is_undetermined(registry, documents):
    response = upload(Client(), documents.untrusted.pdf)
    assert verdict_of(response) == "Không xác định được"
    assert "không do tổ chức cung cấp dịch vụ chứng thực được tin cậy" in reason_of(response)
    body = api_verify(documents.untrusted.pdf)
    assert body["verdict"] == "unknown" and check(body, "chain")["ok"] is False
    assert check(body, "unchanged")["ok"] is True and "Không dẫn tới gốc tin cậy" in check(body, "chain")["text"]
    assert all(s["integrity"] and not s["trusted"] for s in body["signatures"])


def test_a_non_pdf_renamed_to_pdf_cannot_be_read(registry):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    response = upload(Client(), png, "hocba.pdf")
    assert response.status_code == 200 and verdict_of(response) == "Không xác định được"
    assert reason_of(response).startswith("Không đọc được tệp")
    body = api_verify(png, "hocba.pdf")
    assert body["verdict"] == "unknown" and check(body, "readable")["ok"] is False
    assert body["file"]["kind"] is None


def test_a_pdf_named_xml_is_read_as_a_pdf(registry, documents):
    assert api_verify(documents.valid.pdf, "hocba.xml")["file"]["kind"] == "pdf"


def test_any_document_signed_under_the_anchors_is_judged_by_its_signatures(registry, documents):
    body = api_verify(documents.unregistered.pdf)
    assert body["verdict"] == "valid" and body["registry"]["known"] is False
    assert check(body, "registry")["ok"] is None and "không xác định" in check(body, "registry")["text"]
    generic = api_verify(documents.generic_pdf)
    assert generic["verdict"] == "valid" and generic["hoc_ba"] is None
    assert [s["id"] for s in generic["signatures"]] == ["ky-1"]


def test_an_unsigned_pdf_is_undetermined(registry):
    from hocba.signing.samples import minimal_pdf

    body = api_verify(minimal_pdf())
    assert body["verdict"] == "unknown" and "không có chữ ký" in body["reason"]


def test_hostile_xml_is_refused_without_parsing_its_entities(registry):
    from tests.verify import hostile

    for data in (hostile.BILLION_LAUGHS, hostile.XXE):
        body = api_verify(data, "a.xml")
        assert body["verdict"] == "unknown" and "DTD" in body["reason"]


# --- codes and the QR link ----------------------------------------------------------------------------------

def test_a_code_alone_shows_only_the_status_and_the_school(registry, documents):
    client = Client()
    response = client.get(f"/xac-thuc/{documents.valid.code}")
    html = response.content.decode()
    assert response.status_code == 200 and verdict_of(response) == "Hợp lệ"
    assert "Trường THCS Thử Nghiệm" in html and "Có hiệu lực" in html
    assert "Đặng Thị Ngọc Ánh" not in html and "Tải bản PDF" not in html and "Thông tin học bạ" not in html
    body = client.get(f"/api/v1/records/{documents.valid.code}/status").json()
    assert_matches("Verification", body)
    assert body["hoc_ba"] is None and body["signatures"] == [] and body["downloads"] is None
    assert set(body["registry"]) == {"known", "status", "status_text", "school", "verification_code", "replaced_by"}


def test_a_code_typed_loosely_is_normalised(registry, documents):
    loose = documents.valid.code.replace("-", " ").lower()
    response = Client().get("/xac-thuc/", {"ma": loose})
    assert response.status_code == 302 and response["Location"] == f"/xac-thuc/{documents.valid.code}"
    assert Client().get("/xac-thuc/", {"ma": "abc"}).status_code == 400


def test_an_unknown_code_is_not_found(registry):
    response = Client().get("/xac-thuc/ZZZZ-ZZZZ-ZZZZ")
    assert response.status_code == 404 and verdict_of(response) == "Không xác định được"
    api = Client().get("/api/v1/records/ZZZZ-ZZZZ-ZZZZ/status")
    assert api.status_code == 404 and api.json()["error"] == "not_found"


def test_the_code_of_a_revoked_version_hides_the_reason_but_the_qr_shows_it(registry, documents):
    plain = Client().get(f"/xac-thuc/{documents.revoked.code}").content.decode()
    assert "Đã bị thu hồi" in plain and "Cấp nhầm" not in plain
    qr = Client().get(documents.revoked.url()).content.decode()
    assert "Cấp nhầm cho học sinh khác lớp" in qr


def test_the_qr_link_shows_the_summary_and_hands_out_the_authentic_copy(registry, documents):
    client = Client()
    response = client.get(documents.valid.url())
    html = response.content.decode()
    assert verdict_of(response) == "Hợp lệ" and response["Cache-Control"] == "no-store"
    assert "Đặng Thị Ngọc Ánh" in html and "Thông tin học bạ" in html and "Tải bản PDF" in html
    assert "079******234" in html
    pdf = client.get(f"/xac-thuc/{documents.valid.code}/tai-ve/pdf", {"k": documents.valid.secret})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]) == documents.valid.pdf
    xml = client.get(f"/xac-thuc/{documents.valid.code}/tai-ve/xml", {"k": documents.valid.secret})
    assert xml.content == documents.valid.xml
    body = client.get(f"/api/v1/records/{documents.valid.code}/status", {"k": documents.valid.secret}).json()
    assert_matches("Verification", body)
    assert body["source"] == "qr" and body["hoc_ba"]["student"]["personal_number"] == "079******234"
    assert body["downloads"]["pdf"].endswith(f"/xac-thuc/{documents.valid.code}/tai-ve/pdf?k={documents.valid.secret}")


def test_a_wrong_secret_gives_the_code_view_and_no_copy(registry, documents):
    response = Client().get(f"/xac-thuc/{documents.valid.code}", {"k": "sai-khoa"})
    html = response.content.decode()
    assert response.status_code == 200 and "Đặng Thị Ngọc Ánh" not in html and "Khoá bí mật" in html
    refused = Client().get(f"/xac-thuc/{documents.valid.code}/tai-ve/pdf", {"k": "sai-khoa"})
    assert refused.status_code == 403 and refused["Content-Type"].startswith("text/html")


# --- privacy and the log ----------------------------------------------------------------------------------------

def test_personal_numbers_are_masked_everywhere(registry, documents):
    client = Client()
    answers = [upload(client, documents.valid.pdf).content, client.get(documents.valid.url()).content,
               client.post("/api/v1/verify", {"file": SimpleUploadedFile("a.xml", documents.valid.xml)}).content,
               client.get(f"/api/v1/records/{documents.valid.code}/status", {"k": documents.valid.secret}).content]
    for content in answers:
        text = content.decode()
        assert STUDENT_NUMBER not in text and SIGNER_NUMBER not in text
    assert "079******104" in answers[0].decode()  # the GVCN's signer, masked


def test_every_lookup_is_logged_with_a_hashed_address(registry, documents):
    client = Client(REMOTE_ADDR="203.0.113.7")
    upload(client, documents.revoked.pdf)
    client.get(f"/xac-thuc/{documents.valid.code}")
    client.get(documents.valid.url())
    client.get(f"/xac-thuc/{documents.valid.code}/tai-ve/xml", {"k": documents.valid.secret})
    client.get("/xac-thuc/ZZZZ-ZZZZ-ZZZZ")
    upload(client, b"not a pdf", "x.pdf", "/api/v1/verify")
    logs = list(VerificationLog.objects.order_by("id"))
    assert [(g.channel, g.method, g.verdict) for g in logs] == [
        ("page", "file", "revoked"), ("page", "code", "valid"), ("page", "qr", "valid"),
        ("page", "download", "valid"), ("page", "code", "unknown"), ("api", "file", "unknown")]
    assert logs[0].record == registry.records["revoked"] and logs[0].school == registry.school
    assert logs[0].file_sha256 and logs[0].file_kind == "pdf" and logs[0].document_record_id
    assert logs[3].file_kind == "xml" and logs[3].record == registry.records["valid"]
    assert all(g.ip_hash and "203.0.113.7" not in g.ip_hash and len(g.ip_hash) == 64 for g in logs)
    assert len({g.ip_hash for g in logs}) == 1


# --- limits -------------------------------------------------------------------------------------------------------

def test_too_many_lookups_from_one_address_get_a_429_in_vietnamese(registry, documents, settings):
    settings.HOCBA_VERIFY_RATE_LIMIT = 3
    client = Client(REMOTE_ADDR="198.51.100.1")
    answers = [client.get(f"/xac-thuc/{documents.valid.code}").status_code for _ in range(3)]
    refused = client.get(f"/xac-thuc/{documents.valid.code}")
    assert answers == [200, 200, 200] and refused.status_code == 429
    assert "quá nhiều lần" in refused.content.decode() and int(refused["Retry-After"]) > 0
    api = client.post("/api/v1/verify", {"file": SimpleUploadedFile("a.pdf", b"%PDF-")})
    assert api.status_code == 429 and api.json()["error"] == "rate_limited"
    assert Client(REMOTE_ADDR="198.51.100.2").get(f"/xac-thuc/{documents.valid.code}").status_code == 200


def test_files_over_the_size_limit_are_refused(registry, documents, settings):
    settings.HOCBA_VERIFY_MAX_BYTES = 1000
    page = upload(Client(), documents.valid.pdf)
    assert page.status_code == 413 and "Tệp quá lớn" in page.content.decode()
    api = upload(Client(), documents.valid.pdf, url="/api/v1/verify")
    assert api.status_code == 413 and api.json()["error"] == "too_large"
    assert not VerificationLog.objects.exists()


def test_a_missing_file_or_broken_multipart_is_a_400(registry):
    assert Client().post("/xac-thuc/", {}).status_code == 400
    missing = Client().post("/api/v1/verify", {})
    assert missing.status_code == 400 and missing.json()["errors"][0]["field"] == "file"
    broken = Client().generic("POST", "/api/v1/verify", b"--x\r\nContent-Disposition: form-data; name=\"file\"",
                              content_type="multipart/form-data; boundary=x")
    assert broken.status_code == 400
    assert Client().put("/api/v1/verify").status_code == 405


def test_a_report_is_reused_for_the_same_bytes(registry, documents):
    from hocba.verify import service

    trust = service.trust_spec()
    first = service.analyse(documents.valid.xml, trust)
    again = service.analyse(documents.valid.xml, trust)
    assert "cached" not in first and again["cached"] is True and again["report"] == first["report"]


def test_the_openapi_document_describes_the_portal_endpoints():
    from openapi_spec_validator import validate

    validate(SPEC)
    assert set(SPEC["paths"]["/api/v1/verify"]) == {"post"}
    assert set(SPEC["paths"]["/api/v1/records/{code}/status"]) - {"parameters"} == {"get"}


# --- finding the portal -------------------------------------------------------------------------------------

def test_a_visitor_who_is_not_logged_in_finds_the_portal_in_the_header():
    """A parent or an admissions officer lands on the login or help page: the header links to /xac-thuc/."""
    from django.urls import reverse

    for url in (reverse("login"), reverse("help_index"), "/xac-thuc/"):
        html = Client().get(url).content.decode()
        header = html.split('<header class="topbar">', 1)[1].split("</header>", 1)[0]
        assert re.search(r'<a href="/xac-thuc/">Xác thực học bạ số</a>', header), url
