"""The public verification portal in a real browser, without logging in: a valid học bạ, a tampered one, a revoked
one, one signed by a CA outside the trust anchors and a non-PDF renamed to .pdf each show the right verdict and
reason; the printed QR code leads to the summary and the authentic copy; a typed code shows only the status
and the school."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect
from tests.verify.verify_support import documents_fixture, registry_fixture, second_pki_fixture  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(page, live_server, registry, settings, tmp_path):
    from django.core.cache import cache

    settings.HOCBA_VERIFY_RATE_LIMIT = 0
    cache.clear()

    def check(data: bytes, name: str) -> tuple[str, str]:
        path = tmp_path / name
        path.write_bytes(data)
        page.goto(f"{live_server.url}/xac-thuc/")
        page.get_by_label("Chọn hoặc thả tệp PDF/XML vào đây").set_input_files(str(path))
        page.get_by_role("button", name="Kiểm tra tệp").click()
        page.wait_for_load_state("domcontentloaded")
        return page.locator("#verdict").inner_text(), page.locator("#verdict-reason").inner_text()

    return check


def test_each_kind_of_document_gets_its_verdict_and_reason(page, portal, documents):
    verdict, reason = portal(documents.valid.pdf, "hocba-hop-le.pdf")
    assert verdict == "Hợp lệ" and "đang có hiệu lực" in reason
    expect(page.locator("[data-check=unchanged].check-ok")).to_be_visible()
    assert page.locator("[data-check=registry]").inner_text().count("Có hiệu lực") == 1
    expect(page.get_by_text("Liên kết học bạ năm trước")).to_be_visible()
    page.get_by_text("Chữ ký condau").click()
    expect(page.get_by_role("row", name="Tổ chức cấp chứng thư số HOCBA Demo Issuing CA").first).to_be_visible()

    verdict, reason = portal(documents.tampered_pdf, "hocba-da-sua.pdf")
    assert verdict == "Không hợp lệ" and "thay đổi sau khi ký" in reason
    expect(page.locator("[data-check=unchanged].check-fail")).to_be_visible()

    verdict, reason = portal(documents.revoked.pdf, "hocba-thu-hoi.pdf")
    assert verdict == "Đã bị thu hồi" and "Đã bị thu hồi ngày" in reason
    assert page.locator("#registry-status").inner_text().startswith("Đã bị thu hồi")

    verdict, reason = portal(documents.old.pdf, "hocba-cu.pdf")
    assert verdict == "Đã bị thu hồi" and documents.new.code in reason
    page.get_by_role("link", name=f"Tra cứu phiên bản 2 (mã {documents.new.code})").click()
    assert page.locator("#verdict").inner_text() == "Hợp lệ"

    verdict, reason = portal(documents.untrusted.pdf, "hocba-ca-la.pdf")
    assert verdict == "Không xác định được" and "không do tổ chức cung cấp dịch vụ chứng thực được tin cậy" in reason
    expect(page.locator("[data-check=chain].check-fail")).to_be_visible()

    verdict, reason = portal(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "anh-chup.pdf")
    assert verdict == "Không xác định được" and reason.startswith("Không đọc được tệp")


def test_the_xml_can_be_dropped_onto_the_page(page, live_server, portal, documents):
    page.goto(f"{live_server.url}/xac-thuc/")
    payload = base64.b64encode(documents.valid.xml).decode()
    page.evaluate("""([payload]) => {
        const bytes = Uint8Array.from(atob(payload), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], "hocba.xml", {type: "application/xml"}));
        document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer,
                                                                              bubbles: true, cancelable: true}));
    }""", [payload])
    page.wait_for_url(f"{live_server.url}/xac-thuc/")
    page.locator("#verdict").wait_for()
    assert page.locator("#verdict").inner_text() == "Hợp lệ"


def test_the_printed_qr_code_leads_to_the_summary_and_the_authentic_copy(page, live_server, portal, documents):
    page.goto(live_server.url + documents.valid.url())
    assert page.locator("#verdict").inner_text() == "Hợp lệ"
    expect(page.get_by_role("heading", name="Thông tin học bạ")).to_be_visible()
    expect(page.get_by_text("Đặng Thị Ngọc Ánh")).to_be_visible()
    expect(page.get_by_text("079******234")).to_be_visible()
    assert "079310001234" not in page.content()
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải bản PDF").click()
    assert info.value.path().read_bytes() == documents.valid.pdf


def test_a_typed_code_shows_only_the_status_and_the_school(page, live_server, portal, documents):
    page.goto(f"{live_server.url}/xac-thuc/")
    page.get_by_label("Mã tra cứu").fill(documents.revoked.code.lower().replace("-", " "))
    page.get_by_role("button", name="Tra cứu").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url == f"{live_server.url}/xac-thuc/{documents.revoked.code}"
    assert page.locator("#verdict").inner_text() == "Đã bị thu hồi"
    expect(page.get_by_text("Trường THCS Thử Nghiệm").first).to_be_visible()
    assert page.get_by_text("Đặng Thị Ngọc Ánh").count() == 0 and page.get_by_text("Tải bản PDF").count() == 0
