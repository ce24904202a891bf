from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "hocba.identities"
    verbose_name = "Chứng thư số"
