"""The học bạ PDF: Typst template + the record's data → PDF/A-3b with the XML twin attached.

``Renderer`` keeps one ``typst.Compiler`` (template parsed, fonts loaded once) and renders a batch with it;
a document takes a few milliseconds. Use one ``Renderer`` per process (or per worker thread: it serialises
its own calls with a lock).

    renderer = Renderer()                           # fonts from Debian's fonts-dejavu-core/-extra
    pdf = renderer.render(record, verification_url=verification_url(base, code, secret))
    pdf = prepare_signature_fields(pdf, record)     # every signer's empty field, before the first signature

Every page carries the QR code and the verification code (leading to ``{base_url}/xac-thuc/{code}?k=…``),
the record id and "Trang x/y". Previews (``draft=True``) carry a "BẢN NHÁP" watermark.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import json
import threading
import unicodedata
import urllib.parse
from collections.abc import Iterable, Sequence
from pathlib import Path

from . import formatting as fmt
from .model import PROMOTED, PROMOTED_AFTER_SUMMER, RETAINED, HocBaNamHoc, Parent
from .writer import to_xml

TEMPLATE = Path(__file__).resolve().parent / "templates" / "hocba-thcs.typ"
#: Debian's fonts-dejavu-core (DejaVu Serif, Bold) and fonts-dejavu-extra (Italic, Bold Italic).
DEFAULT_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu",)
DEFAULT_FONT = "DejaVu Serif"
PDF_STANDARD = "a-3b"
XML_ATTACHMENT = "hocba.xml"

#: Labels whose wording changed with the 2025 administrative reform: configurable (hocba-form.md).
DEFAULT_LABELS = {
    "commune": "Xã/Phường/Đặc khu",
    "province": "Tỉnh/Thành phố",
}

_FIXED_LABELS = {
    "name": "Họ và tên", "class": "Lớp", "school_year": "Năm học", "gender": "Giới tính",
    "birth_date": "Ngày sinh", "birthplace": "Nơi sinh", "ethnicity": "Dân tộc",
    "policy": "Đối tượng (con liệt sĩ, con thương binh…)", "residence": "Chỗ ở hiện tại",
    "father": "Họ và tên cha", "mother": "Họ và tên mẹ", "guardian": "Họ và tên người giám hộ",
    "occupation": "Nghề nghiệp", "school_name": "Tên trường",
    "principal_confirmation": "Xác nhận của Hiệu trưởng",
    "subject": "Môn học/Hoạt động giáo dục", "hk1": "Học kì I", "hk2": "Học kì II", "year_result": "Cả năm",
    "reassessed": "Điểm hoặc mức đánh giá lại (nếu có)",
    "subject_comment": ("Nhận xét sự tiến bộ, ưu điểm nổi bật, hạn chế chủ yếu (nếu có) và chữ ký của giáo viên "
                        "môn học"),
    "period": "Học kì", "conduct": "Kết quả rèn luyện", "learning": "Kết quả học tập",
    "absences": "Tổng số buổi nghỉ học cả năm học",
    "after_summer": "Kết quả đánh giá lại sau kì nghỉ hè (nếu có)",
    "summer_conduct": "Rèn luyện", "summer_learning": "Học tập",
}

_GUIDE = (
    ("1. Quy định chung", (
        ("Học bạ số có giá trị pháp lý như học bạ giấy; học bạ năm học được lập dưới hai định dạng PDF và XML "
        "có giá trị như nhau, được ký số bởi giáo viên môn học, giáo viên chủ nhiệm, Hiệu trưởng (hoặc Phó "
        "Hiệu trưởng ký thay) và con dấu số của nhà trường."),
        ("Mỗi trang có mã xác thực và mã QR để tra cứu bản điện tử gốc; bản in chỉ có giá trị khi được nhà "
        "trường hoặc cơ quan quản lý xác nhận, hoặc là bản sao y từ bản điện tử."),
        ("Không tẩy xoá trên học bạ số: mọi sửa chữa được lập thành phiên bản mới thay thế phiên bản cũ; "
        "số điểm được sửa chữa trong trang được ghi ở dòng \"Trong trang này có … điểm được sửa chữa\"."),
    )),
    ("2. Giáo viên môn học", (
        ("Ghi kết quả học kì I, học kì II, cả năm, điểm hoặc mức đánh giá lại (nếu có) và nhận xét của môn "
        "học mình phụ trách; ký số vào dòng của môn học đó. Môn học có nhiều giáo viên cùng dạy thì mỗi "
        "giáo viên đều ký."),
    )),
    ("3. Giáo viên chủ nhiệm", (
        ("Ghi thông tin học sinh, kết quả rèn luyện, kết quả học tập, số buổi nghỉ học, kết quả đánh giá lại "
        "sau kì nghỉ hè, việc lên lớp hoặc hoàn thành chương trình, chứng chỉ, kết quả các cuộc thi, khen "
        "thưởng và nhận xét; kiểm tra, xác nhận trang kết quả các môn học và ký số."),
    )),
    ("4. Hiệu trưởng", (
        ("Kiểm tra, phê duyệt học bạ năm học, ký số và đóng dấu số; xác nhận quá trình học tập của học sinh "
        "tại trường."),
    )),
)


class RenderError(RuntimeError):
    """The PDF could not be made (template or font problem). Message in Vietnamese."""


def verification_url(base_url: str, code: str, secret: str) -> str:
    """``{base_url}/xac-thuc/{code}?k={secret}`` — the page the QR code and the printed code lead to."""
    return (f"{base_url.rstrip('/')}/xac-thuc/{urllib.parse.quote(code, safe='')}"
            f"?k={urllib.parse.quote(secret, safe='')}")


def verification_code_from_url(url: str) -> str:
    path = urllib.parse.urlsplit(url).path.rstrip("/")
    return urllib.parse.unquote(path.rsplit("/", 1)[-1])


@functools.lru_cache(maxsize=512)
def qr_svg(payload: str) -> str:
    """The QR code of ``payload`` as a standalone SVG document (segno, error correction M)."""
    import segno

    buf = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buf, kind="svg", xmldecl=False, svgns=True, border=2,
                                                     scale=4, svgclass=None, lineclass=None)
    return buf.getvalue().decode("ascii")


def _parent(p: Parent | None) -> dict:
    return {"name": p.name if p else "", "occupation": p.occupation if p else ""}


def _joined(items: Iterable[str]) -> str:
    items = [i for i in items if i]
    return "; ".join(items) if items else "Không"


def template_data(record: HocBaNamHoc, *, draft: bool = False, verification_url: str | None = None,
                  labels: dict[str, str] | None = None, font: str = DEFAULT_FONT) -> dict:
    """Everything the template prints, already formatted (the template only lays it out)."""
    st = record.student
    if st.birth_date is not None:
        birth = fmt.date(st.birth_date)
    elif st.birth_month is not None:
        birth = f"{st.birth_month[5:7]}/{st.birth_month[:4]}"
    else:
        birth = st.birth_year or ""
    leader = record.leader
    corrections = record.corrections_on("monhoc")
    outcome_lines = [
        ("Được lên lớp:", PROMOTED),
        ("Được lên lớp sau khi kiểm tra lại môn học hoặc rèn luyện thêm trong kì nghỉ hè:", PROMOTED_AFTER_SUMMER),
        ("Không được lên lớp:", RETAINED),
    ]
    notes = []
    for period, label in (("hk1", "Học kì I"), ("hk2", "Học kì II"), ("year", "Cả năm"),
                          ("summer", "Sau kì nghỉ hè")):
        code = getattr(record.adjusted_by, period)
        if code:
            notes.append(f"{label}: kết quả học tập được điều chỉnh theo khoản 3 Điều 9 Thông tư 22 "
                         f"(môn {record.subject(code).name}).")
    return {
        "title": ("BẢN NHÁP – " if draft else "")
        + f"Học bạ trung học cơ sở – {st.name} – lớp {record.class_name} – năm học {record.school_year}",
        "font": font,
        "draft": draft,
        "record_id": record.record_id,
        "xml_name": XML_ATTACHMENT,
        "verification": None if not verification_url else {
            "url": verification_url, "code": verification_code_from_url(verification_url)},
        "labels": {**_FIXED_LABELS, **DEFAULT_LABELS, **(labels or {})},
        "guide": [{"title": t, "items": list(items)} for t, items in _GUIDE],
        "school": {"name": record.school.name, "name_upper": _school_heading(record.school.name),
                   "commune": record.school.commune_name, "province": record.school.province_name},
        "digitised": record.digitised,
        "scan_sha256": record.scan_sha256,
        "student": {
            "name": st.name, "gender": fmt.gender(st.gender), "birth_date": birth,
            "birthplace": st.birthplace.detail, "ethnicity": st.ethnicity_name,
            "policy": st.policy_group or "Không", "residence": st.residence.detail,
            "register_number": st.register_number,
            "father": _parent(st.father), "mother": _parent(st.mother), "guardian": _parent(st.guardian),
        },
        "school_year": record.school_year, "class_name": record.class_name,
        "homeroom_teacher": record.homeroom_teacher.name,
        "leader": {"name": leader.name, "heading": list(leader.heading),
                   "confirm_heading": list(leader.heading) if leader.on_behalf else []},
        "place_date": fmt.place_date(record.issue_place, record.issue_date),
        "history": [{"school_year": h.school_year, "class_name": h.class_name, "school_name": h.school_name,
                     "principal": h.principal_name} for h in record.history],
        "subjects": [{
            "code": s.code, "name": s.name, "hk1": fmt.score(s.hk1), "hk2": fmt.score(s.hk2),
            "year": fmt.score(s.year), "reassessed": fmt.score(s.reassessed), "comment": s.comment,
            "teachers": ", ".join(t.name for t in s.teachers)} for s in record.subjects],
        "corrections": {"count": f"{corrections.count:02d}",
                        "subjects": ", ".join(corrections.subjects) if corrections.subjects else "Không"},
        "summary": {
            "rows": [{"label": label, "conduct": fmt.level(getattr(record.conduct, p)),
                      "learning": fmt.level(getattr(record.learning, p))}
                     for p, label in (("hk1", "Học kì I"), ("hk2", "Học kì II"), ("year", "Cả năm"))],
            "absences": "" if record.absences is None else str(record.absences),
            "summer_conduct": fmt.level(record.conduct.summer),
            "summer_learning": fmt.level(record.learning.summer),
            "notes": notes,
        },
        "outcome": {
            "lines": [{"label": label, "value": "Có" if record.outcome == code else "Không"}
                      for label, code in outcome_lines],
            "completion": record.completion_text if record.grade == 9 else None,
        },
        "summer_training": record.summer_training,
        "certificates": _joined(f"{c.name} ({c.kind})" if c.kind else c.name for c in record.certificates),
        "contests": _joined(record.contests),
        "awards": _joined(record.awards),
        "homeroom_comment": record.homeroom_comment,
    }


def _school_heading(name: str) -> str:
    """"TRƯỜNG THCS …" on the cover, whether or not the stored name starts with "Trường"."""
    upper = name.upper()
    return upper if upper.startswith("TRƯỜNG") else f"TRƯỜNG {upper}"


def _nfc_json(data: dict) -> str:
    return unicodedata.normalize("NFC", json.dumps(data, ensure_ascii=False))


class Renderer:
    """Renders học bạ PDFs with one Typst compiler (template and fonts loaded once)."""

    def __init__(self, font_dirs: Sequence[str | Path] = DEFAULT_FONT_DIRS, *, font: str = DEFAULT_FONT,
                 labels: dict[str, str] | None = None, template: str | Path = TEMPLATE,
                 pdf_standard: str | None = PDF_STANDARD):
        import typst

        dirs = [str(Path(d)) for d in font_dirs]
        missing = [d for d in dirs if not Path(d).is_dir()]
        if missing:
            raise RenderError("Không tìm thấy thư mục phông chữ " + ", ".join(missing)
                              + " (cài gói Debian fonts-dejavu-core, fonts-dejavu-extra: scripts/install.sh).")
        self.font = font
        self.labels = labels
        self.pdf_standard = pdf_standard
        self._lock = threading.Lock()
        template = Path(template)
        self._compiler = typst.Compiler(str(template), root=str(template.parent), font_paths=dirs,
                                        ignore_system_fonts=True)
        families = set(typst.Fonts(include_system_fonts=False, include_embedded_fonts=False,
                                   font_paths=dirs).families())
        if font not in families:
            raise RenderError(f"Thiếu phông chữ {font!r} trong {', '.join(dirs)}.")

    def render(self, record: HocBaNamHoc, *, draft: bool = False, verification_url: str | None = None,
               xml: bytes | None = None) -> bytes:
        """The PDF of ``record``. ``verification_url`` (see ``verification_url()``) is printed with its QR
        code on every page; ``xml`` is the XML twin to attach (default ``to_xml(record)``)."""
        import typst

        data = template_data(record, draft=draft, verification_url=verification_url, labels=self.labels,
                             font=self.font)
        inputs = {"data": _nfc_json(data), "xml": (xml if xml is not None else to_xml(record)).decode("utf-8")}
        if verification_url:
            inputs["qr"] = qr_svg(verification_url)
        stamp = record.updated_at.astimezone(dt.UTC)
        standards = [self.pdf_standard] if self.pdf_standard else []
        with self._lock:
            try:
                return self._compiler.compile(sys_inputs=inputs, pdf_standards=standards, timestamp=stamp)
            except typst.TypstError as e:
                raise RenderError(f"Không tạo được PDF học bạ: {e.message}") from e

    def render_many(self, records: Iterable[HocBaNamHoc], **kwargs) -> list[bytes]:
        return [self.render(r, **kwargs) for r in records]


class RendererPool:
    """Renders a batch on several threads, each with its own ``Renderer`` (one compiler per thread, reused
    for every document that thread renders). typst-py releases the GIL while compiling, so a pool of one
    renderer per core multiplies throughput; use it for class- or school-wide batches."""

    def __init__(self, size: int | None = None, **renderer_options):
        import os

        self.size = size or max(1, min(4, os.cpu_count() or 1))
        self._options = renderer_options
        self._idle: list[Renderer] = []
        self._lock = threading.Lock()

    def _take(self) -> Renderer:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return Renderer(**self._options)

    def _give(self, renderer: Renderer) -> None:
        with self._lock:
            self._idle.append(renderer)

    def _render_one(self, record: HocBaNamHoc, url: str | None, draft: bool) -> bytes:
        renderer = self._take()
        try:
            return renderer.render(record, draft=draft, verification_url=url)
        finally:
            self._give(renderer)

    def render_many(self, records: Sequence[HocBaNamHoc], *, verification_urls: Sequence[str | None] | None = None,
                    draft: bool = False) -> list[bytes]:
        """PDFs of ``records`` in the same order (``verification_urls[i]`` for ``records[i]``)."""
        from concurrent.futures import ThreadPoolExecutor

        urls = list(verification_urls) if verification_urls is not None else [None] * len(records)
        if len(urls) != len(records):
            raise ValueError("verification_urls must match records")
        with ThreadPoolExecutor(max_workers=self.size) as pool:
            return list(pool.map(lambda pair: self._render_one(pair[0], pair[1], draft), zip(records, urls, strict=True)))


_default: Renderer | None = None
_default_lock = threading.Lock()


def default_renderer() -> Renderer:
    """A process-wide ``Renderer`` with the default fonts (created on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Renderer()
        return _default


def render(record: HocBaNamHoc, *, draft: bool = False, verification_url: str | None = None) -> bytes:
    """``default_renderer().render(...)``."""
    return default_renderer().render(record, draft=draft, verification_url=verification_url)


def prepare_signature_fields(pdf: bytes, record: HocBaNamHoc) -> bytes:
    """Adds every signer's empty signature field (``signers.signing_plan``: subject teachers
    ``gv-<subject>-<personal number>``, ``gvcn``, ``hieutruong``, ``condau`` last) through
    ``hocba.signing.pades.prepare_fields``, so the PDF has all its fields before the first signature."""
    from hocba.signing.pades import prepare_fields

    from .signers import pdf_slots

    return prepare_fields(pdf, pdf_slots(record))


def embedded_xml(pdf: bytes, name: str = XML_ATTACHMENT) -> bytes | None:
    """The XML twin attached to a học bạ PDF (``None`` if absent). Works on signed files too, and on any
    shape of the ``/EmbeddedFiles`` name tree (a flat ``/Names`` array or ``/Kids`` nodes, as other PDF tools
    write it)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    names = reader.root.get("/Names")
    if names is None or "/EmbeddedFiles" not in names:
        return None
    for key, spec in _name_tree_entries(names["/EmbeddedFiles"]):
        if key == name or str(spec.get("/UF", spec.get("/F", ""))) == name:
            return spec["/EF"]["/F"].data
    return None


def _name_tree_entries(root, max_depth: int = 32):
    """(key, value) of every leaf of a PDF name tree (ISO 32000-1 §7.9.6), values dereferenced. ``/Kids``
    entries are indirect references, so each is resolved before it is read; a node seen twice (a cycle in a
    hostile file) is skipped and the depth is bounded."""
    from pyhanko.pdf_utils import generic

    seen: set = set()
    pending = [(root, 0)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, generic.IndirectObject):
            if node.reference in seen:
                continue
            seen.add(node.reference)
            node = node.get_object()
        if not isinstance(node, generic.DictionaryObject) or depth > max_depth:
            continue
        entries = node.get("/Names")
        if isinstance(entries, generic.ArrayObject):
            for i in range(0, len(entries) - 1, 2):
                value = entries[i + 1]  # ArrayObject.__getitem__ dereferences
                if isinstance(value, generic.DictionaryObject):
                    yield str(entries[i]), value
        kids = node.get("/Kids")
        if isinstance(kids, generic.ArrayObject):
            # raw entries (IndirectObject) so that cycles are recognised by reference; reversed: document order
            pending.extend((kids.raw_get(i), depth + 1) for i in reversed(range(len(kids))))


def twin_matches(pdf: bytes, xml: bytes) -> bool:
    """True when the XML attached to ``pdf`` says the same as ``xml`` (a signed or unsigned XML of the same
    record): both are read with ``from_xml`` and compared as records."""
    from .reader import from_xml

    attached = embedded_xml(pdf)
    return attached is not None and from_xml(attached) == from_xml(xml)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
