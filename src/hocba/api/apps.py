from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "hocba.api"
    label = "api"
    verbose_name = "Giao diện lập trình (API)"
