"""Roster import, included under ``truong/<int:school_id>/nhap-du-lieu/``."""

from django.urls import path

from . import views_roster

urlpatterns = [
    path("", views_roster.roster_upload, name="roster_upload"),
    path("<int:upload_id>/", views_roster.roster_preview, name="roster_preview"),
    path("<int:upload_id>/nhap/", views_roster.roster_commit, name="roster_commit"),
    path("mau/<slug:kind>/", views_roster.roster_template, name="roster_template"),
]
