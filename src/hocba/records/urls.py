"""Học bạ số pages (included at ``/hoc-ba-so/``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="records_index"),
    path("ky/<str:kind>/", views.sign_mine, name="records_sign_mine"),
    path("lop/<int:class_id>/", views.class_page, name="records_class"),
    path("lop/<int:class_id>/tao/", views.generate, name="records_generate"),
    path("lop/<int:class_id>/ky/<str:kind>/", views.sign_class, name="records_sign_class"),
    path("lo/<int:batch_id>/", views.batch_page, name="records_batch"),
    path("lo/<int:batch_id>/tiep-tuc/", views.batch_resume, name="records_batch_resume"),
    path("lo/<int:batch_id>/huy/", views.batch_rollback, name="records_batch_rollback"),
    path("truong/<int:school_id>/nam-hoc/<int:year_id>/", views.school_year, name="records_school_year"),
    path("truong/<int:school_id>/so-dang-ky/", views.registry, name="records_registry"),
    path("hoc-sinh/<int:student_id>/ho-so-thcs/", views.bundle, name="records_bundle"),
    path("da-nhan/<int:received_id>/tai/<str:fmt>/", views.received_download, name="records_received_download"),
    path("<uuid:record_id>/", views.record_page, name="records_record"),
    path("<uuid:record_id>/tai/<str:fmt>/", views.download, name="records_download"),
    path("<uuid:record_id>/thu-hoi/", views.revoke, name="records_revoke"),
    path("<uuid:record_id>/phien-ban-moi/", views.reissue, name="records_reissue"),
    path("<uuid:record_id>/huy/", views.cancel, name="records_cancel"),
]
