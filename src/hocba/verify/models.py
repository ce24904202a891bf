"""The registry of lookups: one row per verification asked of the portal or the API.

The records app's registry (``records.RegistryEntry``) logs what the school does with a học bạ (issue,
revoke, copies given out by staff); its actions need an authorised actor, and the public has none. So every
public lookup — a code typed, a QR link opened, a file checked, an authentic copy downloaded — is logged here
instead, linked to the version it concerned when that version is ours. The address is kept only as a keyed
hash (HMAC with the deployment's secret key): enough to see that one address asked a thousand codes, not
who asked.
"""

from __future__ import annotations

from django.db import models


class VerificationLog(models.Model):
    PAGE, API = "page", "api"
    CHANNEL_CHOICES = [(PAGE, "Trang xác thực"), (API, "API")]
    CODE, QR, FILE, DOWNLOAD = "code", "qr", "file", "download"
    METHOD_CHOICES = [(CODE, "Nhập mã tra cứu"), (QR, "Mở từ mã QR"), (FILE, "Kiểm tra tệp"),
                      (DOWNLOAD, "Tải bản gốc")]
    VALID, INVALID, REVOKED, UNKNOWN = "valid", "invalid", "revoked", "unknown"
    VERDICT_CHOICES = [(VALID, "Hợp lệ"), (INVALID, "Không hợp lệ"), (REVOKED, "Đã bị thu hồi"),
                       (UNKNOWN, "Không xác định được")]

    at = models.DateTimeField("lúc", db_index=True)
    channel = models.CharField("kênh", max_length=4, choices=CHANNEL_CHOICES)
    method = models.CharField("cách tra cứu", max_length=8, choices=METHOD_CHOICES)
    code = models.CharField("mã tra cứu", max_length=14, blank=True)  # as normalised, when one was asked
    file_sha256 = models.CharField("SHA-256 tệp", max_length=64, blank=True)
    file_kind = models.CharField("loại tệp", max_length=4, blank=True)  # pdf | xml | "" (unreadable)
    file_size = models.PositiveIntegerField("kích thước", null=True, blank=True)
    document_record_id = models.CharField("mã học bạ trong tệp", max_length=36, blank=True)
    record = models.ForeignKey("records.HocBaRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name="học bạ của hệ thống")
    school = models.ForeignKey("school.School", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    ip_hash = models.CharField("địa chỉ (băm)", max_length=64)
    verdict = models.CharField("kết luận", max_length=8, choices=VERDICT_CHOICES)
    reason = models.CharField("lí do", max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField("thời gian xử lý (ms)", default=0)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["record", "at"]), models.Index(fields=["school", "at"]),
                   models.Index(fields=["ip_hash", "at"])]
        verbose_name = "lượt xác thực học bạ"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.method} {self.code or self.file_sha256[:12]} → {self.verdict}"
