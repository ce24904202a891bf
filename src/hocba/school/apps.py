from django.apps import AppConfig


class SchoolConfig(AppConfig):
    name = "hocba.school"
    verbose_name = "Trường học"
