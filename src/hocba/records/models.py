"""Học bạ số: one row per version of a student's học bạ năm học, its signatures, the signing batches and the
registry of everything issued or given out.

- ``HocBaRecord`` is one version (its own UUID, ``record_id``) with an immutable snapshot of the data it was
  made from; its PDF and XML live as files under ``HOCBA_DOCUMENTS_DIR`` (content-addressed: a new state is a
  new file, never an overwrite) and the row names the current ones with their SHA-256.
- ``SignatureStep`` is one expected signature of a version (``hocba.documents.signing_plan``): the same
  signer signs their PDF field and their XAdES signature in the XML.
- ``SigningBatch`` / ``SigningBatchItem`` persist a batch before anything is signed (the inputs' hashes), so
  that a crash is resumed or rolled back and never leaves a half-signed document marked issued.
- ``RegistryEntry`` is the sổ đăng ký: every issue, revocation, replacement and every copy or extract given
  out (who, when, for whom or what purpose, the SHA-256 of the file).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class HocBaRecord(models.Model):
    DRAFT, SIGNING, ISSUED, REVOKED, SUPERSEDED, CANCELLED = (
        "draft", "signing", "issued", "revoked", "superseded", "cancelled")
    STATUS_CHOICES = [
        (DRAFT, "Chờ ký"),
        (SIGNING, "Đang ký"),
        (ISSUED, "Đã phát hành"),
        (REVOKED, "Đã thu hồi"),
        (SUPERSEDED, "Đã thu hồi, có bản thay thế"),
        (CANCELLED, "Đã huỷ (chưa phát hành)"),
    ]
    #: a student has at most one version of a year in these states at a time
    OPEN_STATUSES = (DRAFT, SIGNING, ISSUED)

    record_id = models.UUIDField("mã định danh học bạ", unique=True, editable=False)
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    year = models.ForeignKey("school.SchoolYear", on_delete=models.PROTECT, related_name="+")
    school_class = models.ForeignKey("school.SchoolClass", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="hoc_ba_records")
    version = models.PositiveIntegerField("phiên bản", default=1)
    status = models.CharField("trạng thái", max_length=12, choices=STATUS_CHOICES, default=DRAFT)
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replacement", verbose_name="thay thế học bạ")
    replaced_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="được thay thế bởi")
    # the chain: the student's previous issued year (perhaps at another school, so by id and hash)
    previous_year_record_id = models.CharField("mã học bạ năm trước", max_length=36, blank=True)
    previous_year_sha256 = models.CharField("SHA-256 học bạ năm trước", max_length=64, blank=True)
    # printed on every page; the secret only in the QR code, stored hashed
    verification_code = models.CharField("mã tra cứu", max_length=14, unique=True)
    qr_secret_sha256 = models.CharField(max_length=64)
    leader = models.ForeignKey("school.Staff", on_delete=models.PROTECT, related_name="+",
                               verbose_name="người ký duyệt")
    snapshot = models.JSONField("dữ liệu tại thời điểm tạo")  # {"record": …, "source": …}; never changed
    source_sha256 = models.CharField("SHA-256 dữ liệu nguồn", max_length=64)
    data_xml_sha256 = models.CharField("SHA-256 XML chưa ký", max_length=64)
    pdf_file = models.CharField(max_length=255)
    pdf_sha256 = models.CharField(max_length=64)
    xml_file = models.CharField(max_length=255)
    xml_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField("tạo lúc")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField("phát hành lúc", null=True, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    revoked_at = models.DateTimeField("thu hồi lúc", null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    revoke_reason = models.CharField("lí do thu hồi", max_length=500, blank=True)

    class Meta:
        ordering = ["year", "school_class", "student__sort_key", "version"]
        constraints = [
            models.UniqueConstraint(fields=["student", "year", "version"], name="hocba_version_unique"),
            models.UniqueConstraint(fields=["student", "year"], condition=Q(status__in=("draft", "signing", "issued")),
                                    name="hocba_one_open_version"),
        ]
        indexes = [models.Index(fields=["school_class", "status"]), models.Index(fields=["school", "status"])]
        verbose_name = "học bạ số"

    def __str__(self) -> str:
        return f"Học bạ {self.year_id} – {self.student_id} – phiên bản {self.version}"

    @property
    def is_final(self) -> bool:
        """Issued once (in force, revoked or superseded): its files never change any more."""
        return self.issued_at is not None


class SignatureStep(models.Model):
    """One signature of a version: a subject teacher's row, the GVCN, the approving leader, or the seal."""

    GVBM, GVCN, LEADER, SEAL = "gvbm", "gvcn", "leader", "seal"
    KIND_CHOICES = [(GVBM, "Giáo viên bộ môn"), (GVCN, "Giáo viên chủ nhiệm"), (LEADER, "Hiệu trưởng duyệt"),
                    (SEAL, "Con dấu số của trường")]
    KIND_ORDER = (GVBM, GVCN, LEADER, SEAL)
    PENDING, SIGNED = "pending", "signed"
    STATE_CHOICES = [(PENDING, "Chưa ký"), (SIGNED, "Đã ký")]

    record = models.ForeignKey(HocBaRecord, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    role = models.CharField(max_length=10)  # signing_plan role: gvbm, gvcn, ht, pht, con_dau
    field_name = models.CharField(max_length=40)  # PDF field; the XML signature is sig-<field_name>
    xml_references = models.JSONField(null=True, blank=True)  # element Ids the XAdES signature covers; null: all
    label = models.CharField(max_length=250)
    subject_code = models.CharField(max_length=10, blank=True)
    signer = models.ForeignKey("school.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=8, choices=STATE_CHOICES, default=PENDING)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    batch = models.ForeignKey("SigningBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["record", "order"]
        constraints = [models.UniqueConstraint(fields=["record", "field_name"], name="hocba_step_unique")]
        indexes = [models.Index(fields=["signer", "state"]), models.Index(fields=["kind", "state"])]

    @property
    def signature_id(self) -> str:
        return f"sig-{self.field_name}"


class SigningBatch(models.Model):
    """One signer's batch: one kind of step over many records, persisted before anything is signed."""

    PREPARED, RUNNING, FINISHED, FAILED, ROLLED_BACK = "prepared", "running", "finished", "failed", "rolled_back"
    STATE_CHOICES = [(PREPARED, "Đã chuẩn bị"), (RUNNING, "Đang ký"), (FINISHED, "Hoàn tất"),
                     (FAILED, "Lỗi"), (ROLLED_BACK, "Đã huỷ")]

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=SignatureStep.KIND_CHOICES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signer = models.ForeignKey("school.Staff", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=12, choices=STATE_CHOICES, default=PREPARED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # last chunk committed; stale → resumable
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def percent(self) -> int:
        return 100 if not self.total else (100 * (self.done + self.failed)) // self.total

    @property
    def is_open(self) -> bool:
        return self.state in (self.PREPARED, self.RUNNING)


class SigningBatchItem(models.Model):
    PENDING, DONE, FAILED = "pending", "done", "failed"
    STATE_CHOICES = [(PENDING, "Chờ ký"), (DONE, "Đã ký"), (FAILED, "Lỗi")]

    batch = models.ForeignKey(SigningBatch, on_delete=models.CASCADE, related_name="items")
    step = models.ForeignKey(SignatureStep, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(HocBaRecord, on_delete=models.CASCADE, related_name="+")
    input_pdf_sha256 = models.CharField(max_length=64)
    input_xml_sha256 = models.CharField(max_length=64)
    output_pdf_sha256 = models.CharField(max_length=64, blank=True)
    output_xml_sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=8, choices=STATE_CHOICES, default=PENDING)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["batch", "state"])]


class RegistryEntry(models.Model):
    """Sổ đăng ký học bạ số: an event in the life of a version, or a copy of it given out."""

    GENERATED, ISSUED, REVOKED, SUPERSEDED, CANCELLED = "generated", "issued", "revoked", "superseded", "cancelled"
    EXPORTED, COPY, EXTRACT, VIEWED = "exported", "copy", "extract", "viewed"
    EVENT_CHOICES = [
        (GENERATED, "Tạo phiên bản"),
        (ISSUED, "Phát hành"),
        (REVOKED, "Thu hồi"),
        (SUPERSEDED, "Được thay thế"),
        (CANCELLED, "Huỷ bản chưa phát hành"),
        (EXPORTED, "Xuất tệp"),
        (COPY, "Cấp bản sao điện tử"),
        (EXTRACT, "Trích xuất hồ sơ nhiều năm"),
        (VIEWED, "Xem"),
    ]
    #: events that give a file out of the system
    COPY_EVENTS = (EXPORTED, COPY, EXTRACT)

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    record = models.ForeignKey(HocBaRecord, on_delete=models.PROTECT, related_name="registry")
    event = models.CharField(max_length=12, choices=EVENT_CHOICES)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    at = models.DateTimeField(db_index=True)
    recipient = models.CharField("cấp cho", max_length=250, blank=True)
    purpose = models.CharField("mục đích", max_length=500, blank=True)
    file_format = models.CharField(max_length=4, blank=True)  # pdf, xml, zip
    file_sha256 = models.CharField(max_length=64, blank=True)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["school", "event", "at"])]
        verbose_name = "mục sổ đăng ký học bạ"
