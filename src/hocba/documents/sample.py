"""A realistic, fictional học bạ for tests, benchmarks and demonstrations.

``sample_record()`` is a grade-9 year with all twelve compulsory subjects and:

- a Điều 9.3 adjustment in học kì I: every score subject is at the "Tốt" level, but Giáo dục thể chất is
  Chưa đạt, which alone would drop the level from T to Đ; it is raised to K "because of GDTC";
- a summer re-assessment (Điều 14): the year learning level is CĐ (two comment subjects CĐ, Ngoại ngữ 1
  below 5,0), so NN1, GDTC and Nghệ thuật are re-assessed in summer (6,0; Đ; Đ) and the learning level
  becomes K: the student completes the THCS programme after the summer;
- integrated subjects with two teachers each, a teacher of two subjects, a certificate, a contest, an award,
  a corrections count and the four-year study history.

The figures agree with ``hocba.rules`` (tests/documents/test_doc_sample.py checks them against the engine).
``sample_years()`` makes the student's four linked years (grades 6–9) with their XML.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from .model import (
    PROMOTED,
    PROMOTED_AFTER_SUMMER,
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
    SchoolInfo,
    Student,
    StudyYear,
    SubjectResult,
)

SCHOOL = SchoolInfo(
    department_code="79", department_name="Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh",
    code="79760401", name="Trường THCS Thử Nghiệm", commune_name="Phường Sài Gòn", commune_code="26734",
    province_name="Thành phố Hồ Chí Minh", province_code="79", address="12 đường Lê Lợi",
)

STUDENT = Student(
    name="Đặng Thị Ngọc Ánh", personal_number="079310001234", student_code="7976040120210042", gender="2",
    birth_date=dt.date(2010, 3, 17),
    birthplace=Address("Bệnh viện Từ Dũ, Thành phố Hồ Chí Minh", province_code="79"),
    hometown=Address("Xã Nghĩa Hưng, tỉnh Ninh Bình", province_code="37"),
    residence=Address("45/7 đường Nguyễn Trãi, Phường Sài Gòn, Thành phố Hồ Chí Minh", commune_code="26734",
                      province_code="79"),
    ethnicity_code="01", ethnicity_name="Kinh", nationality_code="VN", nationality_name="Việt Nam",
    policy_group="", father=Parent("Đặng Văn Hưởng", "Kỹ sư xây dựng"),
    mother=Parent("Lê Thị Thuỷ", "Giáo viên tiểu học"), guardian=None, register_number="142",
)

# Teachers (fictional; personal numbers are well-formed but invented).
T_TOAN = Person("Phạm Quốc Việt", "079085001101")
T_VAN = Person("Nguyễn Thị Hồng Nhung", "079187001102")
T_ANH = Person("Trần Thị Mỹ Duyên", "079190001103")
T_GDCD = Person("Võ Minh Triết", "079082001104")
T_SU = Person("Lý Thị Ngân", "079188001105")
T_DIA = Person("Hồ Văn Khải", "079083001106")
T_LY = Person("Bùi Đức Thắng", "079084001107")
T_SINH = Person("Huỳnh Thị Yến", "079189001108")
T_CN = Person("Đỗ Văn Lộc", "079081001109")
T_TIN = Person("Ngô Thị Phương Thảo", "079191001110")
T_TD = Person("Lâm Văn Dũng", "079086001111")
T_NHAC = Person("Châu Thị Ngọc Trâm", "079192001112")
T_MT = Person("Tạ Quang Huy", "079087001113")
T_HDTN = T_VAN  # the GVCN also leads Hoạt động trải nghiệm, hướng nghiệp and GDĐP
GVCN = T_VAN
HIEU_TRUONG = Leader("Trương Thị Kim Oanh", "079175000901", "Hiệu trưởng")
PHO_HIEU_TRUONG = Leader("Mai Xuân Trường", "079078000902", "Phó hiệu trưởng", on_behalf=True)

_NAMESPACE = uuid.UUID("6f1c2b1e-3a52-4c1f-9d0e-5b0f7f2a9c11")


def record_id(key: str) -> str:
    """A stable UUID for a sample record (uuid5, lowercase, 36 characters)."""
    return str(uuid.uuid5(_NAMESPACE, key))


def _subjects_grade9() -> tuple[SubjectResult, ...]:
    s = SubjectResult
    return (
        s("TO", "Toán", "score", "8,2", "7,6", "7,8", (T_TOAN,),
          comment="Tư duy tốt, trình bày lời giải chặt chẽ; cần cẩn thận hơn khi tính toán."),
        s("NV", "Ngữ văn", "score", "8,0", "7,8", "7,9", (T_VAN,),
          comment="Viết văn mạch lạc, có cảm xúc; cần đọc thêm sách ngoài chương trình."),
        s("NN1", "Ngoại ngữ 1", "score", "6,6", "3,5", "4,5", (T_ANH,), reassessed="6,0",
          comment="Học kì II sa sút, chưa nắm vững ngữ pháp; đạt yêu cầu khi kiểm tra lại trong hè."),
        s("GDCD", "Giáo dục công dân", "score", "8,5", "8,8", "8,7", (T_GDCD,),
          comment="Hiểu bài, liên hệ thực tế tốt."),
        s("LSDL", "Lịch sử và Địa lí", "score", "8,1", "7,4", "7,6", (T_SU, T_DIA),
          comment="Nắm chắc kiến thức lịch sử; kĩ năng đọc bản đồ cần rèn thêm."),
        s("KHTN", "Khoa học tự nhiên", "score", "7,4", "7,0", "7,1", (T_LY, T_SINH),
          comment="Tích cực thực hành thí nghiệm."),
        s("CN", "Công nghệ", "score", "8,0", "8,3", "8,2", (T_CN,), comment="Khéo tay, sáng tạo."),
        s("TH", "Tin học", "score", "8,6", "9,0", "8,9", (T_TIN,), comment="Lập trình tốt."),
        s("GDTC", "Giáo dục thể chất", "comment", "CĐ", "CĐ", "CĐ", (T_TD,), reassessed="Đ",
          comment="Chưa đạt nội dung chạy bền; đạt khi kiểm tra lại trong hè."),
        s("NT", "Nghệ thuật", "comment", "Đ", "CĐ", "CĐ", (T_NHAC, T_MT), reassessed="Đ",
          comment="Mĩ thuật tốt; Âm nhạc học kì II chưa đạt, đạt khi kiểm tra lại."),
        s("GDDP", "Nội dung giáo dục của địa phương", "comment", "Đ", "Đ", "Đ", (T_VAN,),
          comment="Tìm hiểu tốt về di tích lịch sử của Thành phố."),
        s("HDTN", "Hoạt động trải nghiệm, hướng nghiệp", "comment", "Đ", "Đ", "Đ", (T_HDTN,),
          comment="Tham gia đầy đủ, có định hướng nghề nghiệp rõ ràng."),
    )


def history(up_to_grade: int = 9) -> tuple[StudyYear, ...]:
    rows = []
    for grade in range(6, up_to_grade + 1):
        start = 2015 + grade
        rows.append(StudyYear(f"{start}-{start + 1}", f"{grade}A3", SCHOOL.name, SCHOOL.province_name,
                              principal_name=HIEU_TRUONG.name))
    return tuple(rows)


def sample_record(**changes) -> HocBaNamHoc:
    """The grade-9 year 2024-2025 of the sample student (see the module docstring)."""
    record = HocBaNamHoc(
        record_id=record_id("2024-2025"), version=1, school_year="2024-2025", school=SCHOOL, student=STUDENT,
        grade=9, class_name="9A3", homeroom_teacher=GVCN, leader=HIEU_TRUONG,
        issue_place="Thành phố Hồ Chí Minh", issue_date=dt.date(2025, 7, 25), created_date=dt.date(2025, 5, 20),
        subjects=_subjects_grade9(),
        conduct=Levels("T", "K", "K"),
        learning=Levels("K", "CĐ", "CĐ", summer="K"),
        adjusted_by=AdjustedBy(hk1="GDTC"),
        outcome=PROMOTED_AFTER_SUMMER, absences=8,
        homeroom_comment=("Em ngoan, lễ phép, có ý thức tự học; học kì II cần cố gắng hơn ở môn Ngoại ngữ 1 và "
                          "Giáo dục thể chất. Đã kiểm tra lại đạt yêu cầu trong kì nghỉ hè."),
        certificates=(Certificate("Chứng chỉ Tin học cơ bản", "Ứng dụng công nghệ thông tin cơ bản"),),
        contests=("Giải Ba cuộc thi Viết thư quốc tế UPU cấp Thành phố",),
        awards=("Giấy khen tham gia tích cực phong trào văn nghệ của Trường",),
        corrections=(PageCorrections("monhoc", 1, ("Khoa học tự nhiên",)),),
        history=history(9),
        previous_year=PreviousYear(record_id("2023-2024"), "0" * 64),
        updated_at=dt.datetime(2025, 7, 25, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),
    )
    return record.replace(**changes) if changes else record


def _plain_year(grade: int) -> HocBaNamHoc:
    """An earlier, uneventful year (grades 6–8): promoted, learning K, conduct T."""
    start = 2015 + grade
    subjects = []
    for s in _subjects_grade9():
        if s.kind == "score":
            subjects.append(SubjectResult(s.code, s.name, s.kind, "7,5", "7,8", "7,7", s.teachers))
        else:
            subjects.append(SubjectResult(s.code, s.name, s.kind, "Đ", "Đ", "Đ", s.teachers))
    return HocBaNamHoc(
        record_id=record_id(f"{start}-{start + 1}"), version=1, school_year=f"{start}-{start + 1}",
        school=SCHOOL, student=STUDENT, grade=grade, class_name=f"{grade}A3", homeroom_teacher=GVCN,
        leader=HIEU_TRUONG, issue_place="Thành phố Hồ Chí Minh", issue_date=dt.date(start + 1, 5, 30),
        created_date=dt.date(start + 1, 5, 25), subjects=tuple(subjects), conduct=Levels("T", "T", "T"),
        learning=Levels("K", "K", "K"), outcome=PROMOTED, absences=2,
        homeroom_comment="Em chăm ngoan, học tập đều các môn.", history=history(grade),
    )


def sample_years() -> list[tuple[HocBaNamHoc, bytes]]:
    """The sample student's four years, grade 6 to 9, each linked to the previous one by id and the SHA-256
    of its XML; returns ``[(record, xml), ...]`` (XML unsigned: tests sign it when they need to)."""
    from .writer import to_xml

    out: list[tuple[HocBaNamHoc, bytes]] = []
    previous: PreviousYear | None = None
    for grade in (6, 7, 8, 9):
        base = sample_record() if grade == 9 else _plain_year(grade)
        record = base.replace(previous_year=previous)
        xml = to_xml(record)
        out.append((record, xml))
        previous = PreviousYear(record.record_id, hashlib.sha256(xml).hexdigest())
    return out
