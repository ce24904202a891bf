"""The PDF: a sound, PDF/A-3b file in the Ministry's layout, every label of the form, fonts embedded with
Unicode maps, extractable NFC text, QR and verification code on every page, the XML twin attached, a draft
watermark only on drafts, and every signer's field ready before the first signature."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata

import pytest

from hocba.documents import embedded_xml, from_xml, prepare_signature_fields, to_xml, twin_matches
from hocba.documents.sample import PHO_HIEU_TRUONG, sample_record

from .conftest import CODE, SECRET

needs = pytest.mark.skipif(not all(shutil.which(t) for t in ("qpdf", "pdffonts", "pdftotext", "pdfinfo")),
                           reason="qpdf / poppler-utils not installed")

#: The labels of the Ministry's Học bạ THCS form (docs/domain/hocba-form.md), page by page.
FORM_LABELS = {
    "cover": ["TRƯỜNG THCS", "Xã/Phường/Đặc khu", "Tỉnh/Thành phố", "HỌC BẠ", "TRUNG HỌC CƠ SỞ",
              "Họ và tên học sinh", "Số sổ đăng bộ PCGD:", "/THCS"],
    "guide": ["HƯỚNG DẪN SỬ DỤNG HỌC BẠ", "Giáo viên môn học", "Giáo viên chủ nhiệm", "Hiệu trưởng"],
    "student": ["Họ và tên:", "Giới tính:", "Ngày sinh:", "Nơi sinh:", "Dân tộc:", "Đối tượng", "Chỗ ở hiện tại:",
                "Họ và tên cha:", "Nghề nghiệp:", "Họ và tên mẹ:", "Họ và tên người giám hộ:", "HIỆU TRƯỞNG",
                "QUÁ TRÌNH HỌC TẬP", "Năm học", "Lớp", "Tên trường", "Xác nhận của Hiệu trưởng"],
    "subjects": ["Họ và tên:", "Lớp:", "Năm học:", "Môn học/Hoạt động giáo dục", "Toán", "Ngữ văn", "Ngoại ngữ 1",
                 "Giáo dục công dân", "Lịch sử và Địa lí", "Khoa học tự nhiên", "Công nghệ", "Tin học",
                 "Giáo dục thể chất", "Nghệ thuật", "Nội dung giáo dục của địa phương",
                 "Hoạt động trải nghiệm, hướng nghiệp", "Học kì I", "Học kì II", "Cả năm",
                 "Điểm hoặc mức đánh giá lại (nếu có)",
                 "Nhận xét sự tiến bộ, ưu điểm nổi bật, hạn chế chủ yếu (nếu có) và chữ ký của giáo viên môn học",
                 "Trong trang này có", "điểm được sửa chữa, trong đó môn:", "Xác nhận của giáo viên chủ nhiệm",
                 "Xác nhận của Hiệu trưởng"],
    "summary": ["Họ và tên:", "Lớp:", "Năm học:", "Học kì I", "Học kì II", "Cả năm", "Kết quả rèn luyện",
                "Kết quả học tập", "Tổng số buổi nghỉ học cả năm học", "Được lên lớp:",
                "Được lên lớp sau khi kiểm tra lại môn học hoặc rèn luyện thêm trong kì nghỉ hè:",
                "Không được lên lớp:", "Hoàn thành/Chưa hoàn thành chương trình trung học cơ sở",
                "Chứng chỉ (nếu có)", "Kết quả tham gia các cuộc thi (nếu có)", "Khen thưởng (nếu có)",
                "NHẬN XÉT CỦA GIÁO VIÊN CHỦ NHIỆM", "PHÊ DUYỆT CỦA HIỆU TRƯỞNG", "HIỆU TRƯỞNG"],
}
PAGE_OF = {"cover": 1, "guide": 2, "student": 3, "subjects": 4, "summary": 5}


def _text(path, *args, page=None) -> str:
    cmd = ["pdftotext", *args, "-enc", "UTF-8"]
    if page is not None:
        cmd += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*cmd, str(path), "-"], capture_output=True, check=True).stdout.decode("utf-8")


def _flat(text: str) -> str:
    return " ".join(text.split())


@needs
def test_qpdf_finds_no_error(pdf_path):
    done = subprocess.run(["qpdf", "--check", str(pdf_path)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No syntax or stream encoding errors" in done.stdout


@needs
def test_every_font_is_embedded_with_a_unicode_map(pdf_path):
    out = subprocess.run(["pdffonts", str(pdf_path)], capture_output=True, text=True, check=True).stdout
    rows = out.splitlines()[2:]
    assert rows, out
    for row in rows:
        emb, _sub, uni = row.split()[-5:-2]
        assert (emb, uni) == ("yes", "yes"), row


@needs
def test_the_pdf_is_pdf_a_3b_with_five_pages(pdf_path):
    meta = subprocess.run(["pdfinfo", "-meta", str(pdf_path)], check=False, capture_output=True,
                          text=True).stdout
    assert re.search(r"pdfaid:part(>|=\")3", meta) and re.search(r"pdfaid:conformance(>|=\")B", meta), meta
    info = subprocess.run(["pdfinfo", str(pdf_path)], check=False, capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+5", info)


@needs
@pytest.mark.parametrize("part", list(FORM_LABELS))
def test_each_label_of_the_ministrys_form_is_printed_on_its_page(pdf_path, part):
    """Labels are looked for in ``pdftotext -layout``; a label that wraps inside a narrow table header cell
    cannot be contiguous in a layout dump, so it may instead be found in pdftotext's reading order."""
    page = PAGE_OF[part]
    layout = _flat(_text(pdf_path, "-layout", page=page))
    reading = _flat(_text(pdf_path, page=page))
    missing = [label for label in FORM_LABELS[part] if label not in layout and label not in reading]
    assert not missing, missing


@needs
def test_the_one_line_labels_are_found_in_the_layout_text(pdf_path):
    layout = _text(pdf_path, "-layout")
    for label in ("HỌC BẠ TRUNG HỌC CƠ SỞ", "QUÁ TRÌNH HỌC TẬP", "NHẬN XÉT CỦA GIÁO VIÊN CHỦ NHIỆM",
                  "PHÊ DUYỆT CỦA HIỆU TRƯỞNG", "Xác nhận của giáo viên chủ nhiệm", "Khen thưởng (nếu có)",
                  "Được lên lớp sau khi kiểm tra lại môn học hoặc rèn luyện thêm trong kì nghỉ hè:"):
        assert label in layout, label


@needs
def test_text_is_extractable_nfc_with_vietnamese_numbers_and_dates(pdf_path, record):
    text = _text(pdf_path, "-layout")
    assert unicodedata.is_normalized("NFC", text)
    assert "Đặng Thị Ngọc Ánh" in text and "ĐẶNG THỊ NGỌC ÁNH" in text
    assert re.search(r"Ngoại ngữ 1\s+6,6\s+3,5\s+4,5\s+6,0", text)  # the summer re-assessment column
    assert "17/03/2010" in text
    assert "Thành phố Hồ Chí Minh, ngày 25 tháng 7 năm 2025" in text
    assert "8.2" not in text and "8,2" in text
    assert "Trong trang này có 01 điểm được sửa chữa, trong đó môn: Khoa học tự nhiên" in text
    assert "kết quả học tập được điều chỉnh theo khoản 3 Điều 9" in text  # the Điều 9.3 adjustment


@needs
def test_every_page_has_the_verification_code_record_id_and_page_number(pdf_path, record, url):
    for page in range(1, 6):
        text = _flat(_text(pdf_path, "-layout", page=page))
        assert f"Mã xác thực: {CODE}" in text
        assert record.record_id in text
        assert f"Trang {page}/5" in text
        assert url.split("?")[0] in text


@needs
def test_the_qr_code_on_each_page_leads_to_the_verification_page(pdf_path, url, tmp_path):
    if shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None:
        from hocba.documents.render import qr_svg, template_data

        # without a decoder, at least the payload the PDF was built with is the verification URL
        assert template_data(sample_record(), verification_url=url)["verification"]["url"] == url
        assert qr_svg(url).startswith("<svg")
        pytest.skip("zbarimg (zbar-tools) not installed: checked the QR payload only")
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf_path), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) == 5
    for png in pages:
        done = subprocess.run(["zbarimg", "-q", "--raw", str(png)], check=False, capture_output=True, text=True)
        assert done.stdout.strip() == url, (png.name, done.stdout, done.stderr)
    assert url.endswith(f"/xac-thuc/{CODE}?k={SECRET}")


@needs
def test_draft_watermark_only_on_drafts(renderer, record, pdf_path, tmp_path):
    draft = tmp_path / "draft.pdf"
    draft.write_bytes(renderer.render(record, draft=True))
    # the watermark is set diagonally: pdftotext -raw gives its letters in order, one run per page
    assert "".join(_text(draft, "-raw").split()).count("BẢNNHÁP") == 5
    assert "chưa có mã xác thực" in _text(draft)
    assert "BẢNNHÁP" not in "".join(_text(pdf_path, "-raw").split())
    titles = [subprocess.run(["pdfinfo", str(p)], check=False, capture_output=True, text=True).stdout
              for p in (draft, pdf_path)]
    assert "Title:           BẢN NHÁP – Học bạ" in titles[0] and "BẢN NHÁP" not in titles[1]


def test_the_xml_twin_is_attached_and_says_the_same(pdf, record):
    attached = embedded_xml(pdf)
    assert attached == to_xml(record)
    assert from_xml(attached) == record
    assert twin_matches(pdf, to_xml(record))
    assert not twin_matches(pdf, to_xml(sample_record(absences=9)))


@needs
def test_vice_principal_approval_reads_kt_hieu_truong(renderer, tmp_path):
    path = tmp_path / "pht.pdf"
    path.write_bytes(renderer.render(sample_record(leader=PHO_HIEU_TRUONG)))
    text = _text(path, "-layout", page=5)
    assert re.search(r"KT\. HIỆU TRƯỞNG\s+PHÓ HIỆU TRƯỞNG", text)
    assert "Mai Xuân Trường" in text


@needs
def test_one_compiler_renders_a_batch_each_document_with_its_own_data(renderer, tmp_path):
    names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Cường"]
    base = sample_record()
    pdfs = renderer.render_many([base.replace(student=base.student.__class__(
        **{**base.student.__dict__, "name": n})) for n in names])
    for name, data in zip(names, pdfs, strict=True):
        path = tmp_path / "x.pdf"
        path.write_bytes(data)
        text = _text(path, "-layout", page=3)
        assert name in text and all(other not in text for other in names if other != name)


def test_every_signature_field_exists_before_the_first_signature(pdf, record):
    from hocba.signing.pades import signature_fields

    prepared = prepare_signature_fields(pdf, record)
    fields = signature_fields(prepared)
    assert list(fields)[-4:] == ["gvcn", "hieutruong", "condau", "dauthoigian"]  # the document timestamp last
    assert len([f for f in fields if f.startswith("gv-")]) == sum(len(s.teachers) for s in record.subjects)
    assert not any(fields.values())
    assert embedded_xml(prepared) == to_xml(record)  # the incremental update keeps the twin


@needs
def test_prepared_pdf_passes_qpdf(pdf, record, tmp_path):
    path = tmp_path / "fields.pdf"
    path.write_bytes(prepare_signature_fields(pdf, record))
    done = subprocess.run(["qpdf", "--check", str(path)], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_cover_reads_truong_thcs_even_when_the_stored_name_omits_it():
    from dataclasses import replace

    from hocba.documents.render import template_data

    record = sample_record()
    short = record.replace(school=replace(record.school, name="THCS Nguyễn Du"))
    assert template_data(short)["school"]["name_upper"] == "TRƯỜNG THCS NGUYỄN DU"
    assert template_data(record)["school"]["name_upper"] == "TRƯỜNG THCS THỬ NGHIỆM"
