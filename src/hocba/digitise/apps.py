from django.apps import AppConfig


class DigitiseConfig(AppConfig):
    name = "hocba.digitise"
    verbose_name = "Số hóa học bạ giấy"
    default_auto_field = "django.db.models.BigAutoField"
