"""The interop pages of a school: the exchange outbox and the sync with the sector database."""

from django.urls import path

from . import views, views_transfer

urlpatterns = [
    path("truong/<int:school_id>/trao-doi/", views.exchange, name="interop_exchange"),
    path("truong/<int:school_id>/trao-doi/<int:message_id>/gui-lai/", views.resend, name="interop_resend"),
    path("truong/<int:school_id>/trao-doi/gui-lai-tat-ca/", views.resend_all, name="interop_resend_all"),
    path("truong/<int:school_id>/dong-bo/", views.sync, name="interop_sync"),
    path("truong/<int:school_id>/dong-bo/chay/", views.sync_now, name="interop_sync_now"),
    path("truong/<int:school_id>/dong-bo/xung-dot/<int:conflict_id>/da-xem/", views.acknowledge,
         name="interop_acknowledge"),
    path("hoc-sinh/<int:student_id>/chuyen-truong/", views_transfer.export, name="interop_transfer_export"),
    path("truong/<int:school_id>/chuyen-truong/", views_transfer.receive, name="interop_transfer_receive"),
    path("truong/<int:school_id>/tuyen-sinh/", views_transfer.admission, name="interop_admission"),
    path("truong/<int:school_id>/tuyen-sinh/tai/", views_transfer.admission_download,
         name="interop_admission_download"),
]
