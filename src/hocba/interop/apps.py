from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "hocba.interop"
    label = "interop"
    verbose_name = "Kết nối dữ liệu ngành"
