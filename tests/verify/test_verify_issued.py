"""End to end with the records app: a học bạ generated from a released grade book and signed through the real
workflow (every subject teacher, the GVCN, the principal, the seal) verifies as valid from its PDF, its XML
and its code; revoked by the principal, the same files verify as revoked."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from tests.records import conftest as records_world

pytestmark = pytest.mark.django_db


@pytest.fixture(name="world")
def world_fixture(school, year, principal, school_admin, make_user, give_identity, pki_settings, settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_RECORDS_VALIDATION = "sample"
    settings.HOCBA_PUBLIC_URL = "https://hocba.example.vn"
    return records_world.RecordsWorld(school, year, principal, school_admin, make_user, give_identity, pki_settings)


def verify(data: bytes, name: str) -> dict:
    response = Client().post("/api/v1/verify", {"file": SimpleUploadedFile(name, data)})
    assert response.status_code == 200
    return response.json()


def test_an_issued_hoc_ba_verifies_then_reads_revoked_once_revoked(world):
    from hocba.records import actions, storage
    from hocba.records.models import HocBaRecord

    cls = world.make_class(students=1)
    world.release(cls)
    world.issue(cls)
    record = HocBaRecord.objects.get()
    assert record.status == HocBaRecord.ISSUED
    pdf = storage.read(record.pdf_file, record.pdf_sha256)
    xml = storage.read(record.xml_file, record.xml_sha256)

    fields = list(record.steps.order_by("batch_id", "order").values_list("field_name", flat=True))
    for data, name, ids in ((pdf, "hocba.pdf", fields), (xml, "hocba.xml", [f"sig-{f}" for f in fields])):
        body = verify(data, name)
        assert body["verdict"] == "valid", (body["reason"], body["checks"])
        assert body["hoc_ba"]["record_id"] == str(record.record_id)
        assert next(c for c in body["checks"] if c["key"] == "issued_file")["ok"] is True
        assert [s["id"] for s in body["signatures"] if s["kind"] == "signature"] == ids
    status = Client().get(f"/api/v1/records/{record.verification_code}/status").json()
    assert status["verdict"] == "valid" and status["registry"]["school"]["code"] == record.school.code

    actions.revoke(world.principal, record, "Sai điểm môn Toán, cấp lại sau phúc khảo")
    body = verify(pdf, "hocba.pdf")
    assert body["verdict"] == "revoked" and "Đã bị thu hồi ngày" in body["reason"]
    assert Client().get(f"/api/v1/records/{record.verification_code}/status").json()["verdict"] == "revoked"
