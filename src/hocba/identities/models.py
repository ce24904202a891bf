"""A signing identity: one certificate, whose it is (a staff member, or the school for its seal), and where
its private key lives. Keys, PINs and passwords are never stored here: a server-held PKCS#12 lives under
``$HOCBA_VAR_DIR/pki/p12/``, a token's PIN and a remote account's secret come from the environment."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from hocba.school.models import School, Staff


class SigningIdentity(models.Model):
    class Kind(models.TextChoices):
        PERSONAL = "personal", "Chữ ký số cá nhân"
        SEAL = "seal", "Con dấu số của trường"

    class Backend(models.TextChoices):
        SERVER_PKCS12 = "server_pkcs12", "Khoá lưu trên máy chủ (PKCS#12)"
        PKCS11 = "pkcs11", "Thiết bị ký số (token PKCS#11)"
        CSC = "csc", "Ký số từ xa (CSC)"

    class Status(models.TextChoices):
        ACTIVE = "active", "Đang dùng"
        REVOKED = "revoked", "Đã thu hồi"
        REPLACED = "replaced", "Đã thay thế"

    school = models.ForeignKey(School, on_delete=models.PROTECT, related_name="signing_identities")
    staff = models.ForeignKey(Staff, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="signing_identities")
    kind = models.CharField("loại", max_length=10, choices=Kind.choices)
    backend = models.CharField("nơi giữ khoá", max_length=20, choices=Backend.choices)
    certificate = models.BinaryField("chứng thư số (DER)")
    chain_pem = models.TextField("chứng thư số CA cấp (PEM)", blank=True)
    subject_cn = models.CharField("tên người được cấp (CN)", max_length=250)
    subject_serial_number = models.CharField("số định danh trong chứng thư (serialNumber)", max_length=64,
                                             blank=True)
    issuer = models.CharField("tổ chức cấp", max_length=500)
    serial = models.CharField("số hiệu chứng thư", max_length=100)  # hexadecimal
    fingerprint = models.CharField("dấu vân tay SHA-256", max_length=64, db_index=True)
    not_before = models.DateTimeField("hiệu lực từ")
    not_after = models.DateTimeField("hiệu lực đến")
    status = models.CharField("trạng thái", max_length=10, choices=Status.choices, default=Status.ACTIVE)
    #: ``server_pkcs12``: {"path": "p12/<user>.p12"} (relative to $HOCBA_VAR_DIR/pki; password from the demo
    #: manifest or the env var named by "password_env"); ``pkcs11``: {"module", "token_label", "key_label",
    #: "pin_env"}; ``csc``: {"service_url", "credential_id", "auth_env"}.
    params = models.JSONField("thông số nơi giữ khoá", default=dict, blank=True)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    registered_at = models.DateTimeField("ngày đăng ký")
    deactivated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="+")
    deactivated_at = models.DateTimeField("ngày ngừng dùng", null=True, blank=True)
    deactivation_reason = models.CharField("lý do ngừng dùng", max_length=250, blank=True)
    # Last online revocation check (OCSP/CRL), cached for the identity pages.
    revocation_status = models.CharField("tình trạng thu hồi", max_length=12, blank=True)  # good|revoked|unknown|error
    revocation_detail = models.CharField(max_length=500, blank=True)
    revocation_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["school", "kind", "-registered_at"]
        verbose_name = "chứng thư số"
        constraints = [
            models.UniqueConstraint(fields=["staff"], condition=models.Q(status="active", kind="personal"),
                                    name="identity_one_active_per_staff"),
            models.UniqueConstraint(fields=["school"], condition=models.Q(status="active", kind="seal"),
                                    name="identity_one_active_seal"),
            models.CheckConstraint(condition=(models.Q(kind="seal", staff__isnull=True)
                                              | models.Q(kind="personal", staff__isnull=False)),
                                   name="identity_kind_matches_staff"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_cn} ({self.get_kind_display()}, {self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
