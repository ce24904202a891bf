"""Sổ theo dõi và đánh giá học sinh: the class grade book under TT22.

A ``SubjectRow`` holds one student's assessments in one subject for one semester (the row of the grade
book page): the regular assessments (ĐĐGtx), mid-term (ĐĐGgk), end-of-term (ĐĐGck) and the subject comment.
Cell values are canonical strings: scores "8.5" (one decimal, dot), comment levels "Đ"/"CĐ", "" when empty.
Every cell change is kept in ``CellChange`` (who, when, old, new, reason); changes after a column was
confirmed are corrections and are counted on the printed page.

The workflow is rà soát → xác thực → ban hành: a subject teacher confirms their column
(``ColumnSignoff``), the GVCN confirms the class and the principal releases it (``ClassSignoff``). A
confirmed column changes only after an approved ``UnlockRequest``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

LEVEL_CHOICES = [("T", "Tốt"), ("K", "Khá"), ("Đ", "Đạt"), ("CĐ", "Chưa đạt")]
SEMESTER_CHOICES = [(1, "Học kì I"), (2, "Học kì II")]


class SubjectRow(models.Model):
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("school.SchoolYear", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("school.SchoolClass", on_delete=models.PROTECT, related_name="subject_rows")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="subject_rows")
    subject = models.ForeignKey("school.Subject", on_delete=models.PROTECT, related_name="+")
    semester = models.PositiveSmallIntegerField(choices=SEMESTER_CHOICES)
    tx = models.JSONField("ĐĐGtx", default=list)  # ["8.5", "", "7.0", ...]
    gk = models.CharField("ĐĐGgk", max_length=4, blank=True)
    ck = models.CharField("ĐĐGck", max_length=4, blank=True)
    absent = models.JSONField("vắng kiểm tra, chờ kiểm tra bù", default=list)  # ["gk"], ["ck"], ["tx2"]
    makeups = models.JSONField("kiểm tra bù", default=dict)  # {"gk": {"by": "gv01", "at": "...iso"}}
    comment = models.TextField("nhận xét", blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["student", "year", "subject", "semester"],
                                               name="subject_row_unique")]
        indexes = [models.Index(fields=["school_class", "subject", "semester"])]

    def cell(self, slot: str) -> str:
        if slot.startswith("tx"):
            i = int(slot[2:]) - 1
            return self.tx[i] if 0 <= i < len(self.tx) else ""
        if slot in ("gk", "ck", "comment"):
            return getattr(self, slot)
        raise KeyError(slot)


class CellChange(models.Model):
    row = models.ForeignKey(SubjectRow, on_delete=models.CASCADE, related_name="changes")
    slot = models.CharField(max_length=10)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.CharField("lí do", max_length=500, blank=True)
    is_correction = models.BooleanField("sửa sau khi đã xác nhận", default=False)
    is_makeup = models.BooleanField("kiểm tra bù", default=False)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]


class ColumnSignoff(models.Model):
    """A subject teacher's confirmation of their column (class × subject × semester)."""

    OPEN, CONFIRMED, UNLOCKED = "open", "confirmed", "unlocked"
    STATE_CHOICES = [(OPEN, "Đang nhập"), (CONFIRMED, "Đã xác nhận"), (UNLOCKED, "Được mở khoá để sửa")]
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("school.SchoolClass", on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey("school.Subject", on_delete=models.PROTECT, related_name="+")
    semester = models.PositiveSmallIntegerField(choices=SEMESTER_CHOICES)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=OPEN)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)  # of the confirmed data
    # The confirmation as a digital signature (issue 9; hocba.identities.signoff): a detached CMS over the
    # canonical JSON that ``snapshot_sha256`` hashes, kept with that JSON so it can be re-checked later.
    signature = models.BinaryField("chữ ký số (CMS)", null=True, blank=True, editable=False)
    signed_snapshot = models.TextField("dữ liệu đã ký (JSON chuẩn hoá)", blank=True, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signing_identity = models.ForeignKey("identities.SigningIdentity", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school_class", "subject", "semester"],
                                               name="column_signoff_unique")]


class UnlockRequest(models.Model):
    PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
    STATE_CHOICES = [(PENDING, "Chờ duyệt"), (APPROVED, "Đã duyệt"), (REJECTED, "Từ chối")]
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    column = models.ForeignKey(ColumnSignoff, on_delete=models.PROTECT, related_name="unlock_requests")
    reason = models.CharField("lí do", max_length=500)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)


class ClassSignoff(models.Model):
    """The class book of one period: GVCN confirms (xác thực), the principal releases (ban hành)."""

    OPEN, CONFIRMED, RELEASED = "open", "confirmed", "released"
    STATE_CHOICES = [(OPEN, "Đang rà soát"), (CONFIRMED, "GVCN đã xác thực"), (RELEASED, "Đã ban hành")]
    PERIOD_CHOICES = [("hk1", "Học kì I"), ("hk2", "Học kì II"), ("year", "Cả năm")]
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("school.SchoolClass", on_delete=models.PROTECT, related_name="+")
    period = models.CharField(max_length=4, choices=PERIOD_CHOICES)
    state = models.CharField(max_length=10, choices=STATE_CHOICES, default=OPEN)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    snapshot_sha256 = models.CharField(max_length=64, blank=True)
    # The confirmation as a digital signature (issue 9; hocba.identities.signoff): a detached CMS over the
    # canonical JSON that ``snapshot_sha256`` hashes, kept with that JSON so it can be re-checked later.
    signature = models.BinaryField("chữ ký số (CMS)", null=True, blank=True, editable=False)
    signed_snapshot = models.TextField("dữ liệu đã ký (JSON chuẩn hoá)", blank=True, editable=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signing_identity = models.ForeignKey("identities.SigningIdentity", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school_class", "period"], name="class_signoff_unique")]


class StudentSemester(models.Model):
    """What the GVCN records per student and semester: conduct (Điều 8) and absences."""

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("school.SchoolYear", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("school.SchoolClass", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="+")
    semester = models.PositiveSmallIntegerField(choices=SEMESTER_CHOICES)
    conduct = models.CharField("kết quả rèn luyện", max_length=2, choices=LEVEL_CHOICES, blank=True)
    absences_excused = models.PositiveSmallIntegerField("nghỉ có phép", default=0)
    absences_unexcused = models.PositiveSmallIntegerField("nghỉ không phép", default=0)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["student", "year", "semester"],
                                               name="student_semester_unique")]
        indexes = [models.Index(fields=["school_class", "semester"])]


class ConductRemark(models.Model):
    """A subject teacher's remark on a student's conduct, shown to the GVCN beside the conduct cell."""

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("school.SchoolYear", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="+")
    semester = models.PositiveSmallIntegerField(choices=SEMESTER_CHOICES)
    subject = models.ForeignKey("school.Subject", on_delete=models.PROTECT, related_name="+")
    author = models.ForeignKey("school.Staff", on_delete=models.PROTECT, related_name="+")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField()


class StudentYear(models.Model):
    """The year's closing record of a student: GVCN comment, summer steps, special decisions."""

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("school.SchoolYear", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("school.SchoolClass", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="+")
    gvcn_comment = models.TextField("nhận xét của GVCN", blank=True)
    summer_conduct = models.CharField("rèn luyện sau rèn luyện hè", max_length=2, choices=LEVEL_CHOICES,
                                      blank=True)
    summer_retest = models.JSONField("kết quả đánh giá lại", default=dict)  # {"TO": "5.5", "GDTC": "Đ"}
    # Điều 11: for a student with disabilities the principal decides promotion; recorded with its reason.
    principal_decision = models.CharField(max_length=20, blank=True,
                                          choices=[("promoted", "Được lên lớp"), ("retained", "Ở lại lớp")])
    principal_decision_reason = models.CharField(max_length=500, blank=True)
    certificates = models.TextField("chứng chỉ", blank=True)
    contests = models.TextField("thành tích, giải thưởng", blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["student", "year"], name="student_year_unique")]


class Deadline(models.Model):
    """Deadlines of the seed plan: grade 9 earlier than grades 6–8."""

    KIND_CHOICES = [("review", "Rà soát dữ liệu"), ("release", "Ban hành sổ theo dõi"),
                    ("sign", "Ký số và phát hành học bạ")]
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("school.SchoolYear", on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField(max_length=10, choices=KIND_CHOICES)
    grades = models.CharField(max_length=10)  # "6,7,8" or "9"
    due = models.DateField()

    class Meta:
        ordering = ["due"]
