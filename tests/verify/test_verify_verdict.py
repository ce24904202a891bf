"""The order of the verdicts (no Django, no files): a changed document is invalid whatever the registry says; the
registry decides only about documents whose signatures hold; an untrusted chain is undetermined."""

from __future__ import annotations

import pytest

from hocba.verify import verdict as v


def sig(id="condau", **changes) -> dict:
    base = {"id": id, "kind": "signature", "valid": True, "verdict": "Hợp lệ", "signer": "Trường THCS Thử Nghiệm",
            "signer_id": "CCCD:079085000103", "organisation": "Trường THCS Thử Nghiệm", "title": None,
            "issuer": "HOCBA Demo Issuing CA", "signing_time": "2025-07-25T02:30:00+00:00",
            "timestamp": "2025-07-25T02:30:01+00:00", "timestamp_valid": True, "integrity": True, "trusted": True,
            "cert_valid_at_signing": True, "revocation": "good", "revocation_text": "", "revocation_source": "embedded",
            "revoked_at": None, "cert_not_before": "2025-01-01T00:00:00+00:00",
            "cert_not_after": "2028-01-01T00:00:00+00:00", "level": "PAdES B-LT", "covers": "toàn bộ tài liệu",
            "problems": [], "warnings": []}
    return {**base, **changes}


def result(*sigs, problems=(), document=True) -> dict:
    doc = {"record_id": "4a3050b5-bd5a-4e24-86ad-740750b83fcc", "grade": 9, "previous_year": None,
           "student": {"name": "A", "personal_number": "079310001234", "birth_date": None}} if document else None
    return {"readable": True, "kind": "pdf", "reason": "", "detail": "", "document": doc, "document_note": "",
            "report": {"kind": "pdf", "valid": all(s["valid"] for s in sigs) and not problems, "signatures": list(sigs),
                       "trust_anchors": ["HOCBA Demo Root CA"], "problems": list(problems), "warnings": []}}


IN_FORCE = v.Registry(True, v.IN_FORCE, "Có hiệu lực.", registered_file=True)
REVOKED = v.Registry(True, v.REVOKED_STATUS, "Đã bị thu hồi ngày 01/08/2025.")
NOT_ISSUED = v.Registry(True, v.NOT_ISSUED, "Chưa phát hành.")

CHANGED = sig(valid=False, integrity=False, problems=["Nội dung tài liệu đã bị thay đổi sau khi ký."])
UNTRUSTED = sig(valid=False, trusted=False, issuer="CA lạ", problems=["Chứng thư số không dẫn tới gốc tin cậy."])
CERT_REVOKED = sig(valid=False, trusted=False, revocation="revoked", revoked_at="2025-07-01T00:00:00+00:00",
                   problems=["Chứng thư số đã bị thu hồi trước thời điểm ký (01/07/2025)."])


def judge(res, registry=None):
    return v.judge_file(res, registry, sha256="0" * 64, size=100)


@pytest.mark.parametrize(("res", "registry", "expected"), [
    (result(sig(), sig("gvcn")), IN_FORCE, v.VALID),
    (result(sig()), None, v.VALID),  # another issuer's document: by signatures only
    (result(sig()), REVOKED, v.REVOKED),
    (result(CHANGED), REVOKED, v.INVALID),  # a changed document is not "the revoked document"
    (result(sig(), CHANGED), IN_FORCE, v.INVALID),
    (result(sig(), problems=["Tài liệu có thay đổi không được ký."]), IN_FORCE, v.INVALID),
    (result(CERT_REVOKED), IN_FORCE, v.INVALID),
    (result(sig(valid=False, timestamp_valid=False, problems=["Dấu thời gian không hợp lệ."])), IN_FORCE, v.INVALID),
    (result(sig(valid=False, cert_valid_at_signing=False, problems=["Ngoài thời hạn."])), IN_FORCE, v.INVALID),
    (result(UNTRUSTED), REVOKED, v.UNKNOWN),  # not ours to judge: the registry is not consulted
    (result(), IN_FORCE, v.UNKNOWN),  # unsigned
    (result(sig()), NOT_ISSUED, v.UNKNOWN),
    (result(sig()), v.Registry(True, v.IN_FORCE, "Có hiệu lực.", registered_file=False), v.UNKNOWN),
])
def test_the_verdict(res, registry, expected):
    assert judge(res, registry).verdict == expected


def test_an_unreadable_file_is_undetermined_with_the_reason_first():
    report = judge({"readable": False, "kind": None, "reason": "Không đọc được tệp: nội dung không phải PDF hay XML.",
                    "detail": "", "report": None, "document": None})
    assert report.verdict == v.UNKNOWN and report.verdict_text == "Không xác định được"
    assert report.reason.startswith("Không đọc được tệp") and [c.key for c in report.checks] == ["readable"]


def test_revocation_that_could_not_be_checked_is_a_question_mark_not_a_failure():
    report = judge(result(sig(revocation="unknown", revocation_source=None)), IN_FORCE)
    revocation = next(c for c in report.checks if c.key == "revocation")
    assert revocation.ok is None and report.verdict == v.VALID


def test_a_signature_without_timestamp_is_reported():
    report = judge(result(sig(timestamp=None, timestamp_valid=None)), IN_FORCE)
    assert next(c for c in report.checks if c.key == "timestamps").ok is None


def test_personal_numbers_are_masked_but_an_organisations_tax_code_is_not():
    assert v.mask_id("CCCD:079085000103") == "CCCD:079******103"
    assert v.mask_id("079085000103") == "079******103"
    assert v.mask_id("MST:79760401") == "MST:79760401"
    report = judge(result(sig()), IN_FORCE)
    assert report.signatures[0]["signer_id"] == "CCCD:079******103"
    assert report.hoc_ba["student"]["personal_number"] == "079******234"
    assert "079085000103" not in str(report.to_dict())


def test_each_signature_shows_every_field_of_tt15_appendix_2():
    labels = [label for label, _, _ in v.signature_rows(sig())]
    for wanted in ("Kết quả", "Người ký", "Tổ chức", "Tổ chức cấp chứng thư số", "Thời điểm ký (người ký khai)",
                   "Dấu thời gian", "Toàn vẹn dữ liệu", "Chứng thư số còn hiệu lực tại thời điểm ký",
                   "Tình trạng thu hồi tại thời điểm ký", "Thời hạn chứng thư số"):
        assert wanted in labels
    assert {label: value for label, value, _ in v.signature_rows(sig())}["Dấu thời gian"] == \
        "25/07/2025 09:30:01 (hợp lệ)"


def test_a_code_alone_answers_the_registry_only():
    report = v.judge_code(REVOKED)
    assert report.verdict == v.REVOKED and report.signatures == () and not report.details
    assert set(report.to_dict()["registry"]) == {"known", "status", "status_text", "school", "verification_code",
                                                 "replaced_by"}
    assert v.judge_code(v.Registry(False, v.NOT_FOUND, "Không tìm thấy.")).verdict == v.UNKNOWN
