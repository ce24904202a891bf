from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "hocba.audit"
    verbose_name = "Nhật ký"
