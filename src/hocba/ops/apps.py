from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "hocba.ops"
    verbose_name = "Vận hành"
