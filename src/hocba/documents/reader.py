"""``from_xml(data)``: a học bạ năm học from XML that may come from anywhere.

The input is treated as hostile: no DTD (a DOCTYPE is refused, so no entity can be declared or expanded),
no network access, no XInclude, no huge trees, a size limit; then XSD validation; only then is it mapped to
the model (which checks it once more). Signatures appended to the document (``ds:Signature``) are allowed
and ignored here: checking them is ``hocba.signing.validate``'s job. Errors are ``HocBaXmlError`` with a
Vietnamese message.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from lxml import etree

from .model import (
    COMMENT,
    SCORE,
    Address,
    AdjustedBy,
    Certificate,
    HocBaNamHoc,
    Leader,
    Levels,
    PageCorrections,
    Parent,
    Person,
    PreviousYear,
    RecordError,
    SchoolInfo,
    Student,
    StudyYear,
    SubjectResult,
)
from .xsd import NAMESPACE, HocBaXmlError, validate

MAX_BYTES = 5 * 1024 * 1024  # one year's học bạ is ~15 kB, ~100 kB signed
_Q = f"{{{NAMESPACE}}}"


def parse_untrusted(data: bytes) -> etree._Element:
    """Parses ``data`` safely and returns the root element; refuses DTDs and entity declarations."""
    if not isinstance(data, (bytes, bytearray)):
        raise HocBaXmlError("Dữ liệu XML phải là bytes (UTF-8).")
    if len(data) > MAX_BYTES:
        raise HocBaXmlError(f"Tệp XML quá lớn ({len(data)} byte; tối đa {MAX_BYTES}).")
    # A DOCTYPE is the only way to declare entities: refuse it before libxml2 reads it, and again after.
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise HocBaXmlError("Tệp XML chứa khai báo DTD/thực thể (DOCTYPE/ENTITY): không được phép vì lý do an toàn.")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False)
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as e:
        raise HocBaXmlError(f"Tệp XML không đúng cú pháp: {e}") from e
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise HocBaXmlError("Tệp XML chứa khai báo DTD: không được phép vì lý do an toàn.")
    if (docinfo.encoding or "UTF-8").upper() != "UTF-8":
        raise HocBaXmlError(f"Tệp XML phải mã hoá UTF-8 (TCVN 6909:2001), không phải {docinfo.encoding}.")
    if next(root.iter(etree.Entity), None) is not None:
        raise HocBaXmlError("Tệp XML chứa tham chiếu thực thể (entity): không được phép.")
    return root


class _Reader:
    def __init__(self, el):
        self.el = el

    def _find(self, name):
        return self.el.find(_Q + name)

    def text(self, name: str, default=None):
        child = self._find(name)
        if child is None or child.text is None:
            return default
        return unicodedata.normalize("NFC", child.text)

    def req(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise HocBaXmlError(f"Thiếu phần tử <{name}>.")
        return value

    def all(self, name: str) -> list[str]:
        return [unicodedata.normalize("NFC", c.text or "") for c in self.el.findall(_Q + name)]

    def flag(self, name: str) -> bool:
        return self.req(name) == "1"

    def date(self, name: str) -> dt.date | None:
        value = self.text(name)
        return None if value is None else dt.date.fromisoformat(value)

    def integer(self, name: str) -> int | None:
        value = self.text(name)
        return None if value is None else int(value)

    def sub(self, name: str) -> _Reader | None:
        child = self._find(name)
        return None if child is None else _Reader(child)

    def subs(self, name: str) -> list[_Reader]:
        return [_Reader(c) for c in self.el.findall(_Q + name)]


def _address(r: _Reader, prefix: str) -> Address:
    return Address(r.req(f"{prefix}_diachichitiet"), r.text(f"{prefix}_maxa"), r.text(f"{prefix}_matinh"))


def _parent(r: _Reader, suffix: str) -> Parent | None:
    name = r.text(f"hoten{suffix}")
    occupation = r.text(f"nghenghiep{suffix}", "")
    if name is None and not occupation:
        return None
    return Parent(name or "", occupation)


def to_record(root: etree._Element) -> HocBaNamHoc:
    """Maps a validated document to the model."""
    doc = _Reader(root)
    h, s, p, c = doc.sub("thongtinhocba"), doc.sub("truong"), doc.sub("hocsinh"), doc.sub("lop")
    k, a, q, e = doc.sub("tongket"), doc.sub("pheduyet"), doc.sub("quatrinhhoctap"), doc.sub("traodoi")
    link = h.sub("hocbanamtruoc")
    subjects = []
    for row in doc.sub("bangdiem").subs("monhoc"):
        subjects.append(SubjectResult(
            code=row.req("mamonhoc"), name=row.req("tenmonhoc"),
            kind=COMMENT if row.req("hinhthucdanhgia") == "nhanxet" else SCORE,
            hk1=row.text("diemhocky1"), hk2=row.text("diemhocky2"), year=row.text("diemcanam"),
            reassessed=row.text("diemkttralai"), comment=row.text("nxetmonhoc", ""),
            elective=row.flag("tuchon"),
            teachers=tuple(Person(t.req("gvbm"), t.req("soddcngvbm")) for t in row.subs("giaovienbomon"))))
    return HocBaNamHoc(
        record_id=h.req("madinhdanhhocba"), version=int(h.req("phienbanthongtinhocba")),
        status=h.req("trangthaithongtinhocba"), circular=h.req("thongtu"), digitised=h.flag("trichluc"),
        scan_sha256=h.text("sha256bangiay"), replaces=h.text("thaythehocba"),
        previous_year=None if link is None else PreviousYear(link.req("madinhdanhhocba"), link.req("sha256")),
        school_year=h.req("namhoc"), created_date=h.date("ngaytao"),
        school=SchoolInfo(
            department_code=s.req("masogd"), department_name=s.req("tensogd"), code=s.req("matruong"),
            name=s.req("tentruong"), level_code=s.req("macaphoc"), district_name=s.text("tenhuyen"),
            address=s.text("thongtintruong_diachi_diachichitiet", ""),
            commune_name=s.req("thongtintruong_diachi_tenxa"), commune_code=s.text("thongtintruong_diachi_maxa"),
            province_name=s.req("thongtintruong_diachi_tentinh"),
            province_code=s.req("thongtintruong_diachi_matinh")),
        student=Student(
            register_number=p.text("sosodangbo", ""), name=p.req("hovaten"), personal_number=p.req("sodinhdanh"),
            student_code=p.req("mahocsinh"), gender=p.req("gioitinh"), birth_date=p.date("ngaythangnamsinh"),
            birth_month=p.text("thangnamsinh"), birth_year=p.text("namsinh"),
            birthplace=_address(p, "noisinh"), hometown=_address(p, "quequan"),
            residence=_address(p, "noiohiennay"), ethnicity_code=p.req("dantoc"),
            ethnicity_name=p.req("tendantoc"), nationality_code=p.req("quoctich"),
            nationality_name=p.req("tenquoctich"), policy_group=p.text("doituongchinhsach", ""),
            disabled_not_assessed=p.flag("cokhuyettatkhongdanhgia"), father=_parent(p, "cha"),
            mother=_parent(p, "me"), guardian=_parent(p, "nguoigiamho")),
        grade=int(c.req("makhoi")), class_name=c.req("tenlop"),
        homeroom_teacher=Person(c.req("tengvcn"), c.req("soddcngvcn")),
        subjects=tuple(subjects),
        learning=Levels(k.text("hocky1"), k.text("hocky2"), k.text("canam"), k.text("kqhoctaplai")),
        adjusted_by=AdjustedBy(k.text("dieuchinhhocky1"), k.text("dieuchinhhocky2"), k.text("dieuchinhcanam"),
                               k.text("dieuchinhlai")),
        conduct=Levels(k.text("renluyenhocky1"), k.text("renluyenhocky2"), k.text("renluyencanam"),
                       k.text("renluyenlai")),
        summer_training=k.text("ndungkquarenluyen", ""), absences=k.integer("sobuoinghi"),
        outcome=k.req("ketqualenlop"), outcome_text=k.req("ndungduoclenlop"),
        completion_text=k.text("ndunghoanthanh", ""),
        certificates=tuple(Certificate(g.req("tenchungchi"), g.text("loaichungchi", "")) for g in k.subs("chungchi")),
        contests=tuple(k.all("kquathamgiacuocthi")), awards=tuple(k.all("ndungkhenthuong")),
        homeroom_comment=k.text("nxetgvcn", ""),
        corrections=tuple(PageCorrections(g.req("trang"), int(g.req("sodiemsuachua")), tuple(g.all("monsuachua")))
                          for g in k.subs("suachua")),
        leader=Leader(a.req("tengiamhieu"), a.req("soddcngiamhieu"), a.req("chucvugiamhieu"), a.flag("kythay")),
        issue_place=a.req("diadanhphathanh"), issue_date=a.date("ngaykyphathanh"),
        history=tuple(StudyYear(g.req("namhoc"), g.req("tenlop"), g.req("tentruong"), g.req("tentinh"),
                                g.date("ngaytrangthaichuyenden"), g.text("xacnhanhieutruong", ""))
                      for g in q.subs("quatrinh")),
        event=e.req("sukien"), updated_at=dt.datetime.fromisoformat(e.req("thoigiancapnhat")),
    )


def from_xml(data: bytes) -> HocBaNamHoc:
    """Parses, validates and reads a học bạ năm học (signed or not). Raises ``HocBaXmlError``."""
    root = parse_untrusted(data)
    if root.tag != _Q + "hocba":
        raise HocBaXmlError(f"Phần tử gốc phải là <hocba> trong không gian tên {NAMESPACE}.")
    validate(root)
    e = root.find(_Q + "traodoi")
    if e is not None and e.findtext(_Q + "idbanghi") != root.findtext(f"{_Q}thongtinhocba/{_Q}madinhdanhhocba"):
        raise HocBaXmlError("idbanghi phải trùng mã định danh học bạ.")
    try:
        return to_record(root)
    except RecordError as exc:
        raise HocBaXmlError(f"Dữ liệu học bạ không hợp lệ: {exc}") from exc
    except ValueError as exc:
        raise HocBaXmlError(f"Dữ liệu học bạ không hợp lệ: {exc}") from exc
