"""Số hóa học bạ giấy pages (included at ``/hoc-ba-so/so-hoa/``)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="digitise_index"),
    path("tao/", views.create, name="digitise_create"),
    path("<int:pk>/", views.detail, name="digitise_detail"),
    path("<int:pk>/tong-ket/", views.summary, name="digitise_summary"),
    path("<int:pk>/mon-hoc/", views.subjects, name="digitise_subjects"),
    path("<int:pk>/ban-quet/", views.scan, name="digitise_scan"),
    path("<int:pk>/ra-soat/", views.review, name="digitise_review"),
    path("<int:pk>/gui/", views.submit, name="digitise_submit"),
    path("<int:pk>/ky/", views.sign_own, name="digitise_sign_own"),
    path("<int:pk>/phat-hanh/", views.sign_and_issue, name="digitise_issue"),
    path("<int:pk>/huy/", views.cancel, name="digitise_cancel"),
]
