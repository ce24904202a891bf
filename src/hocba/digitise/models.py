"""A paper học bạ year being digitised (số hóa, trích lục): what the academic staff typed from the paper book,
the scan it was typed from (stored with its SHA-256), who reviews each subject, and the issued record.

Status: ``draft`` (being entered) → ``reviewed`` (the academic staff member submitted it: the data matches
the paper, every subject whose teacher has left was reviewed; the học bạ số was generated and awaits its
signatures) → ``issued`` (the records pipeline sealed it). ``cancelled`` gives up an entry.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

LEVEL_CHOICES = [("T", "Tốt"), ("K", "Khá"), ("Đ", "Đạt"), ("CĐ", "Chưa đạt")]
OUTCOME_CHOICES = [("promoted", "Được lên lớp / hoàn thành chương trình"),
                   ("promoted_after_summer", "Được lên lớp sau kiểm tra lại / rèn luyện hè"),
                   ("retained", "Không được lên lớp / chưa hoàn thành")]


class Digitisation(models.Model):
    DRAFT, REVIEWED, ISSUED, CANCELLED = "draft", "reviewed", "issued", "cancelled"
    STATUS_CHOICES = [(DRAFT, "Đang nhập"), (REVIEWED, "Đã rà soát, chờ ký"), (ISSUED, "Đã phát hành"),
                      (CANCELLED, "Đã huỷ")]
    SCAN_TYPES = {"pdf": "application/pdf", "jpg": "image/jpeg"}

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="digitisations")
    school_year = models.CharField("năm học", max_length=9)  # YYYY-YYYY
    grade = models.PositiveSmallIntegerField("khối")
    class_name = models.CharField("lớp", max_length=10)
    school_name = models.CharField("trường (lúc học)", max_length=250)
    province_name = models.CharField("tỉnh/thành phố (lúc học)", max_length=100)
    homeroom_name = models.CharField("GVCN ghi trên học bạ giấy", max_length=150, blank=True)
    # the GVCN if still at the school (signs the GVCN part); otherwise the principal signs for it
    homeroom_teacher = models.ForeignKey("school.Staff", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+", verbose_name="GVCN còn công tác tại trường")
    conduct_hk1 = models.CharField("rèn luyện HK I", max_length=2, choices=LEVEL_CHOICES, blank=True)
    conduct_hk2 = models.CharField("rèn luyện HK II", max_length=2, choices=LEVEL_CHOICES, blank=True)
    conduct_year = models.CharField("rèn luyện cả năm", max_length=2, choices=LEVEL_CHOICES, blank=True)
    learning_hk1 = models.CharField("học tập HK I", max_length=2, choices=LEVEL_CHOICES, blank=True)
    learning_hk2 = models.CharField("học tập HK II", max_length=2, choices=LEVEL_CHOICES, blank=True)
    learning_year = models.CharField("học tập cả năm", max_length=2, choices=LEVEL_CHOICES, blank=True)
    absences = models.PositiveSmallIntegerField("số buổi nghỉ", null=True, blank=True)
    outcome = models.CharField("kết quả cuối năm", max_length=24, choices=OUTCOME_CHOICES, blank=True)
    homeroom_comment = models.TextField("nhận xét của GVCN", blank=True)
    scan_file = models.CharField(max_length=255, blank=True)  # relative to HOCBA_DOCUMENTS_DIR
    scan_sha256 = models.CharField("SHA-256 bản quét", max_length=64, blank=True)
    scan_name = models.CharField("tên tệp quét", max_length=255, blank=True)
    scan_size = models.PositiveIntegerField(default=0)
    scan_type = models.CharField(max_length=4, blank=True)  # pdf | jpg
    status = models.CharField("trạng thái", max_length=10, choices=STATUS_CHOICES, default=DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    # the principal who signs and answers for what teachers who have left cannot sign
    answerable = models.ForeignKey("school.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name="người chịu trách nhiệm thay giáo viên đã chuyển")
    record = models.OneToOneField("records.HocBaRecord", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="digitisation")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["student", "school_year"], condition=~Q(status="cancelled"),
                                               name="digitise_one_per_student_year")]
        verbose_name = "số hóa học bạ giấy"

    def __str__(self) -> str:
        return f"Số hóa học bạ {self.school_year} – {self.student_id}"

    @property
    def editable(self) -> bool:
        return self.status == self.DRAFT


class DigitisedSubject(models.Model):
    """One subject row as on the paper book, and who reviews it: the teacher named on the paper if they still
    work at the school (``teacher``: they sign their row), otherwise the academic staff member marks it
    reviewed (``reviewed_by``) and the principal signs for it."""

    digitisation = models.ForeignKey(Digitisation, on_delete=models.CASCADE, related_name="subjects")
    subject = models.ForeignKey("school.Subject", on_delete=models.PROTECT, related_name="+")
    hk1 = models.CharField("HK I", max_length=4, blank=True)
    hk2 = models.CharField("HK II", max_length=4, blank=True)
    year = models.CharField("cả năm", max_length=4, blank=True)
    comment = models.CharField("nhận xét", max_length=500, blank=True)
    teacher_name = models.CharField("giáo viên ghi trên học bạ giấy", max_length=150, blank=True)
    teacher = models.ForeignKey("school.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                verbose_name="giáo viên còn công tác tại trường")
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["subject__order", "subject__code"]
        constraints = [models.UniqueConstraint(fields=["digitisation", "subject"], name="digitise_subject_unique")]

    @property
    def departed(self) -> bool:
        return self.teacher_id is None
