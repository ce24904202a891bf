"""What the interop app keeps: where each pull stopped, what the sector last said, the conflicts it flagged,
and the outbox of exchange messages.

Inbound (CSDL ngành → school):

- ``SyncCursor``: per school (and one for the list of schools) the sector's ``server_time`` of the last
  complete pull; the next pull asks for what changed since then (with an overlap).
- ``SyncState``: per synced object the values the sector gave last time. A local value that differs from it
  was edited here since the last sync: that is how a conflicting local edit is recognised.
- ``SyncConflict``: one field where the school's value disagreed with the sector's, what was done about it,
  and who looked at it.

Outbound (school → data-integration platform):

- ``OutboxMessage``: one envelope to send (record id, event, version, time of change, the signed XML by
  reference and hash), written in the same transaction as the issue or revocation it reports.
- ``ExchangeSequence``: the last version given to each exchange record id, so that every send of a record
  carries a higher version than the one before.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SyncCursor(models.Model):
    #: "schools" for the list of schools, "school:<code>" for one school's data
    scope = models.CharField(max_length=40, unique=True)
    server_time = models.CharField("thời điểm của nền tảng", max_length=40, blank=True)
    pulled_at = models.DateTimeField("lần đồng bộ gần nhất", null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.scope} @ {self.server_time}"


class SyncState(models.Model):
    """The sector's values of one object as last applied (field → value as text)."""

    KIND_CHOICES = [("school", "Trường"), ("staff", "Cán bộ"), ("class", "Lớp"), ("student", "Học sinh"),
                    ("enrolment", "Xếp lớp"), ("assignment", "Phân công giảng dạy")]
    school_code = models.CharField(max_length=20)
    kind = models.CharField(max_length=12, choices=KIND_CHOICES)
    key = models.CharField(max_length=120)  # the sector's key: a code, "year/class", …
    object_id = models.BigIntegerField(null=True, blank=True)
    values = models.JSONField(default=dict)
    sector_updated_at = models.CharField(max_length=40, blank=True)
    synced_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["school_code", "kind", "key"], name="sync_state_unique")]


class SyncConflict(models.Model):
    """A field where the school's data disagreed with the sector's at a pull."""

    SECTOR_APPLIED, NOT_APPLIED = "sector_applied", "not_applied"
    RESOLUTION_CHOICES = [
        (SECTOR_APPLIED, "Đã lấy theo CSDL ngành"),
        (NOT_APPLIED, "Chưa áp dụng, cần nhà trường xử lý"),
    ]
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=SyncState.KIND_CHOICES)
    key = models.CharField(max_length=120)
    object_id = models.BigIntegerField(null=True, blank=True)
    object_repr = models.CharField(max_length=250)
    field = models.CharField(max_length=40)
    field_label = models.CharField(max_length=80)
    identity = models.BooleanField("thông tin định danh", default=False)
    local_value = models.CharField("giá trị tại trường", max_length=250, blank=True)
    sector_value = models.CharField("giá trị trên CSDL ngành", max_length=250, blank=True)
    synced_value = models.CharField("giá trị lần đồng bộ trước", max_length=250, blank=True)
    resolution = models.CharField(max_length=16, choices=RESOLUTION_CHOICES)
    detected_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                        related_name="+")
    note = models.CharField("ghi chú", max_length=500, blank=True)

    class Meta:
        ordering = ["-detected_at", "-id"]
        indexes = [models.Index(fields=["school", "acknowledged_at"])]
        verbose_name = "xung đột đồng bộ"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None


class ExchangeSequence(models.Model):
    record_key = models.CharField(max_length=150, unique=True)
    last_version = models.PositiveIntegerField(default=0)


class OutboxMessage(models.Model):
    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATE_CHOICES = [(PENDING, "Chờ gửi"), (SENDING, "Đang gửi"), (SENT, "Đã gửi"), (FAILED, "Gửi lỗi")]
    NEW, UPDATE, CANCEL = "NEW", "UPDATE", "CANCEL"
    EVENT_CHOICES = [(NEW, "Thêm mới"), (UPDATE, "Cập nhật (phiên bản thay thế)"), (CANCEL, "Huỷ (thu hồi)")]

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    record_key = models.CharField("mã bản ghi trao đổi (idbanghi)", max_length=150)
    document_id = models.CharField("mã định danh học bạ gửi kèm", max_length=36)
    event = models.CharField("sự kiện", max_length=6, choices=EVENT_CHOICES)
    version = models.PositiveIntegerField("phiên bản gửi")
    changed_at = models.DateTimeField("thời điểm thay đổi")
    status = models.CharField("trạng thái học bạ", max_length=1, default="1")  # 1 in force, 2 revoked
    payload_file = models.CharField(max_length=255)
    payload_sha256 = models.CharField(max_length=64)
    state = models.CharField("tình trạng gửi", max_length=8, choices=STATE_CHOICES, default=PENDING)
    attempts = models.PositiveIntegerField("số lần gửi", default=0)
    next_attempt_at = models.DateTimeField("gửi lần tới lúc")
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField("lỗi gần nhất", blank=True)
    receiver_result = models.CharField(max_length=12, blank=True)  # applied, duplicate, ignored
    receiver_version = models.PositiveIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["record_key", "version"], name="outbox_version_unique")]
        indexes = [models.Index(fields=["state", "next_attempt_at"]), models.Index(fields=["school", "state"])]
        verbose_name = "bản tin trao đổi"

    def __str__(self) -> str:
        return f"{self.event} {self.record_key} v{self.version}"


# --- transfers between schools (chuyển trường) ------------------------------------------------------------

class TransferImport(models.Model):
    """One transfer package received by a school: who imported it, from which school, its SHA-256 and the
    manifest as it came. Its years are ``ReceivedRecord`` rows; a refused package leaves no row at all."""

    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="transfer_imports")
    package_sha256 = models.CharField("SHA-256 gói chuyển trường", max_length=64)
    source_school_code = models.CharField("mã trường chuyển đi", max_length=20)
    source_school_name = models.CharField("trường chuyển đi", max_length=250)
    manifest = models.JSONField()
    imported_at = models.DateTimeField("nhận lúc")
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-imported_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["school", "package_sha256"], name="transfer_package_once")]
        verbose_name = "gói chuyển trường đã nhận"


class ReceivedRecord(models.Model):
    """A học bạ năm học received from another school (in this deployment or another one), kept byte for
    byte as it was issued there: never re-signed, never changed. The chain continues from it: the next year
    this school issues links to the last received year (``hocba.records.build.previous_years``)."""

    transfer = models.ForeignKey(TransferImport, on_delete=models.PROTECT, related_name="records")
    school = models.ForeignKey("school.School", on_delete=models.PROTECT, related_name="+")  # the receiving school
    student = models.ForeignKey("school.Student", on_delete=models.PROTECT, related_name="received_records")
    record_id = models.CharField("mã định danh học bạ", max_length=36)
    version = models.PositiveIntegerField("phiên bản")
    school_year = models.CharField("năm học", max_length=9)
    grade = models.PositiveSmallIntegerField("khối")
    source_school_code = models.CharField("mã trường cấp", max_length=20)
    source_school_name = models.CharField("trường cấp", max_length=250)
    previous_year_record_id = models.CharField(max_length=36, blank=True)
    previous_year_sha256 = models.CharField(max_length=64, blank=True)
    pdf_file = models.CharField(max_length=255, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    xml_file = models.CharField(max_length=255)
    xml_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["school_year", "version"]
        constraints = [models.UniqueConstraint(fields=["school", "record_id"], name="received_record_once")]
        indexes = [models.Index(fields=["student", "school_year"])]
        verbose_name = "học bạ nhận từ trường khác"

    def __str__(self) -> str:
        return f"Học bạ {self.school_year} (lớp {self.grade}) nhận từ {self.source_school_name}"
