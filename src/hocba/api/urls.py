"""/api/: the OpenAPI document and version 1 of the JSON API (token authentication, see auth.py)."""

from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", views.schema, name="schema"),
    path("v1/tokens", views.tokens, name="tokens"),
    path("v1/tokens/current", views.token_current, name="token-current"),
    path("v1/assignments", views.assignments, name="assignments"),
    path("v1/classes/<int:class_id>/subjects/<str:code>/semesters/<int:semester>/scores", views.scores,
         name="scores"),
    path("v1/classes/<int:class_id>/summary", views.summary, name="summary"),
]
