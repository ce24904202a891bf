from django.apps import AppConfig


class VerifyConfig(AppConfig):
    name = "hocba.verify"
    label = "verify"
    verbose_name = "Cổng xác thực học bạ số"
