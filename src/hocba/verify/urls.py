"""The portal's pages and its two API endpoints (included at the site root by ``hocba.web.urls``)."""

from django.urls import path

from . import api, views

app_name = "verify"

urlpatterns = [
    path("xac-thuc/", views.portal, name="portal"),
    path("xac-thuc/<str:code>", views.by_code, name="code"),
    path("xac-thuc/<str:code>/tai-ve/<str:fmt>", views.download, name="download"),
    path("api/v1/verify", api.verify, name="api-verify"),
    path("api/v1/records/<str:code>/status", api.status, name="api-status"),
]
