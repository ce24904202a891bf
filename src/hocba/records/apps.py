from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "hocba.records"
    verbose_name = "Học bạ số"
    default_auto_field = "django.db.models.BigAutoField"
