from django.urls import path

from . import views

urlpatterns = [
    path("truong/<int:school_id>/chung-thu-so/", views.overview, name="identities"),
    path("truong/<int:school_id>/chung-thu-so/kiem-tra-thu-hoi/", views.refresh, name="identities_refresh"),
    path("truong/<int:school_id>/chung-thu-so/can-bo/<int:staff_id>/dang-ky/", views.register,
         name="identity_register"),
    path("truong/<int:school_id>/chung-thu-so/con-dau/dang-ky/", views.register, name="identity_register_seal"),
    path("truong/<int:school_id>/chung-thu-so/<int:identity_id>/ngung/", views.deactivate,
         name="identity_deactivate"),
]
