"""``to_xml(record)``: the học bạ năm học as XML (UTF-8, NFC text, canonical order, XSD-validated).

The same record always gives the same bytes: elements are written in the schema's order, subjects in the
form's order, optional elements omitted when empty, scores with a dot and one decimal. The document ends
with its data; XAdES signatures are appended later (``hocba.signing.xades.sign_xml``) and reference the
``Id`` attributes written here (see ``signers.xml_references``).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal

from lxml import etree

from .model import COMMENT, HocBaNamHoc, Mark, Parent
from .xsd import NAMESPACE, SCHEMA_VERSION, validate

_Q = f"{{{NAMESPACE}}}"

# Ids of the parts a signer answers for (see signers.py).
ID_ROOT = "hocba"
ID_HEADER = "thongtinhocba"
ID_SCHOOL = "truong"
ID_STUDENT = "hocsinh"
ID_CLASS = "lop"
ID_SUBJECTS = "bangdiem"
ID_HOMEROOM = "gvcn"
ID_PRINCIPAL = "hieutruong"
ID_HISTORY = "quatrinhhoctap"


def subject_id(code: str) -> str:
    """The Id of a subject row: ``mon-TO``."""
    return f"mon-{code}"


def format_mark(mark: Mark | None) -> str | None:
    if mark is None:
        return None
    if isinstance(mark, Decimal):
        return f"{mark.quantize(Decimal('0.1'))}"
    return mark


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format_mark(value)
    return unicodedata.normalize("NFC", str(value))


class _Builder:
    def __init__(self, parent):
        self.parent = parent

    def add(self, name: str, value=None, *, required: bool = False, **attrs):
        """Appends ``<name>value</name>``; an optional empty value ("" or None) is left out."""
        text = _text(value)
        if not required and (text is None or text == ""):
            return None
        el = etree.SubElement(self.parent, _Q + name, {k: v for k, v in attrs.items()})
        if text is not None:
            el.text = text
        return el

    def group(self, name: str, **attrs) -> _Builder:
        return _Builder(etree.SubElement(self.parent, _Q + name, attrs))


def _parent(b: _Builder, prefix: str, parent: Parent | None) -> None:
    if parent is None:
        return
    b.add(f"hoten{prefix}", parent.name)
    b.add(f"nghenghiep{prefix}", parent.occupation)


def build(record: HocBaNamHoc) -> etree._Element:
    """The XML tree of ``record`` (not yet validated)."""
    root = etree.Element(_Q + "hocba", {"Id": ID_ROOT, "phienbanluocdo": SCHEMA_VERSION}, nsmap={None: NAMESPACE})
    doc = _Builder(root)

    h = doc.group("thongtinhocba", Id=ID_HEADER)
    h.add("madinhdanhhocba", record.record_id)
    h.add("phienbanthongtinhocba", record.version)
    h.add("trangthaithongtinhocba", record.status)
    h.add("thongtu", record.circular)
    h.add("trichluc", record.digitised, required=True)
    h.add("sha256bangiay", record.scan_sha256)
    h.add("thaythehocba", record.replaces)
    if record.previous_year is not None:
        link = h.group("hocbanamtruoc")
        link.add("madinhdanhhocba", record.previous_year.record_id)
        link.add("sha256", record.previous_year.sha256)
    h.add("namhoc", record.school_year)
    h.add("ngaytao", record.created_date)

    s = record.school
    t = doc.group("truong", Id=ID_SCHOOL)
    t.add("masogd", s.department_code)
    t.add("tensogd", s.department_name)
    t.add("matruong", s.code)
    t.add("tentruong", s.name)
    t.add("macaphoc", s.level_code)
    t.add("tenhuyen", s.district_name)
    t.add("thongtintruong_diachi_diachichitiet", s.address)
    t.add("thongtintruong_diachi_tenxa", s.commune_name)
    t.add("thongtintruong_diachi_maxa", s.commune_code)
    t.add("thongtintruong_diachi_tentinh", s.province_name)
    t.add("thongtintruong_diachi_matinh", s.province_code)

    st = record.student
    p = doc.group("hocsinh", Id=ID_STUDENT)
    p.add("sosodangbo", st.register_number)
    p.add("hovaten", st.name)
    p.add("sodinhdanh", st.personal_number)
    p.add("mahocsinh", st.student_code)
    p.add("gioitinh", st.gender)
    p.add("ngaythangnamsinh", st.birth_date)
    p.add("thangnamsinh", st.birth_month)
    p.add("namsinh", st.birth_year)
    for prefix, address in (("noisinh", st.birthplace), ("quequan", st.hometown), ("noiohiennay", st.residence)):
        p.add(f"{prefix}_diachichitiet", address.detail)
        p.add(f"{prefix}_maxa", address.commune_code)
        p.add(f"{prefix}_matinh", address.province_code)
    p.add("dantoc", st.ethnicity_code)
    p.add("tendantoc", st.ethnicity_name)
    p.add("quoctich", st.nationality_code)
    p.add("tenquoctich", st.nationality_name)
    p.add("doituongchinhsach", st.policy_group)
    p.add("cokhuyettatkhongdanhgia", st.disabled_not_assessed, required=True)
    _parent(p, "cha", st.father)
    _parent(p, "me", st.mother)
    _parent(p, "nguoigiamho", st.guardian)

    c = doc.group("lop", Id=ID_CLASS)
    c.add("makhoi", record.grade)
    c.add("tenlop", record.class_name)
    c.add("tengvcn", record.homeroom_teacher.name)
    c.add("soddcngvcn", record.homeroom_teacher.personal_number)

    table = doc.group("bangdiem", Id=ID_SUBJECTS)
    for subject in record.subjects:
        row = table.group("monhoc", Id=subject_id(subject.code))
        row.add("mamonhoc", subject.code)
        row.add("tenmonhoc", subject.name)
        row.add("hinhthucdanhgia", "nhanxet" if subject.kind == COMMENT else "diem")
        row.add("tuchon", subject.elective, required=True)
        row.add("diemhocky1", format_mark(subject.hk1))
        row.add("diemhocky2", format_mark(subject.hk2))
        row.add("diemcanam", format_mark(subject.year))
        row.add("diemkttralai", format_mark(subject.reassessed))
        row.add("nxetmonhoc", subject.comment)
        for teacher in subject.teachers:
            g = row.group("giaovienbomon")
            g.add("gvbm", teacher.name)
            g.add("soddcngvbm", teacher.personal_number)

    k = doc.group("tongket", Id=ID_HOMEROOM)
    k.add("hocky1", record.learning.hk1)
    k.add("hocky2", record.learning.hk2)
    k.add("canam", record.learning.year)
    k.add("kqhoctaplai", record.learning.summer)
    k.add("dieuchinhhocky1", record.adjusted_by.hk1)
    k.add("dieuchinhhocky2", record.adjusted_by.hk2)
    k.add("dieuchinhcanam", record.adjusted_by.year)
    k.add("dieuchinhlai", record.adjusted_by.summer)
    k.add("renluyenhocky1", record.conduct.hk1)
    k.add("renluyenhocky2", record.conduct.hk2)
    k.add("renluyencanam", record.conduct.year)
    k.add("renluyenlai", record.conduct.summer)
    k.add("ndungkquarenluyen", record.summer_training)
    k.add("sobuoinghi", record.absences)
    k.add("ketqualenlop", record.outcome)
    k.add("duoclenlop", record.promoted, required=True)
    k.add("ndungduoclenlop", record.outcome_text)
    k.add("ndunghoanthanh", record.completion_text)
    for cert in record.certificates:
        g = k.group("chungchi")
        g.add("tenchungchi", cert.name)
        g.add("loaichungchi", cert.kind)
    for contest in record.contests:
        k.add("kquathamgiacuocthi", contest)
    for award in record.awards:
        k.add("ndungkhenthuong", award)
    k.add("nxetgvcn", record.homeroom_comment, required=True)
    for corr in record.corrections:
        g = k.group("suachua")
        g.add("trang", corr.page)
        g.add("sodiemsuachua", corr.count, required=True)
        for name in corr.subjects:
            g.add("monsuachua", name)

    a = doc.group("pheduyet", Id=ID_PRINCIPAL)
    a.add("tengiamhieu", record.leader.name)
    a.add("soddcngiamhieu", record.leader.personal_number)
    a.add("chucvugiamhieu", record.leader.title)
    a.add("kythay", record.leader.on_behalf, required=True)
    a.add("diadanhphathanh", record.issue_place)
    a.add("ngaykyphathanh", record.issue_date)

    q = doc.group("quatrinhhoctap", Id=ID_HISTORY)
    for year in record.history:
        g = q.group("quatrinh")
        g.add("namhoc", year.school_year)
        g.add("tenlop", year.class_name)
        g.add("tentruong", year.school_name)
        g.add("tentinh", year.province_name)
        g.add("ngaytrangthaichuyenden", year.transfer_in_date)
        g.add("xacnhanhieutruong", year.principal_name)

    e = doc.group("traodoi")
    e.add("idbanghi", record.record_id)
    e.add("sukien", record.event)
    e.add("phienban", record.version)
    e.add("thoigiancapnhat", record.updated_at)
    e.add("ngaycapnhat", record.updated_at)
    return root


def to_xml(record: HocBaNamHoc, *, validate_schema: bool = True) -> bytes:
    """UTF-8 XML of ``record`` with an XML declaration, validated against the XSD (``HocBaXmlError``)."""
    root = build(record)
    if validate_schema:
        validate(root)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
