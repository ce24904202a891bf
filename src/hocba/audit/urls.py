"""The audit viewer's pages (included under /nhat-ky/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="audit_index"),
    path("truong/<int:school_id>/", views.school_log, name="audit_log"),
    path("truong/<int:school_id>/xuat-excel/", views.school_export, name="audit_export"),
]
