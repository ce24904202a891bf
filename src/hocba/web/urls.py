from django.urls import include, path

from . import auth, views

urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", auth.login_view, name="login"),
    path("dang-xuat/", auth.logout_view, name="logout"),
    path("doi-mat-khau/", auth.password_change_view, name="password_change"),
    path("huong-dan/", views.help_index, name="help_index"),
    path("huong-dan/<slug:slug>/", views.help_page, name="help_page"),
    path("", include("hocba.school.urls")),
    path("truong/<int:school_id>/nhap-du-lieu/", include("hocba.school.urls_roster")),
    path("", include("hocba.gradebook.urls")),
    path("", include("hocba.identities.urls")),
    path("api/", include("hocba.api.urls")),
    path("hoc-ba-so/so-hoa/", include("hocba.digitise.urls")),
    path("hoc-ba-so/", include("hocba.records.urls")),
    path("", include("hocba.verify.urls")),
    path("nhat-ky/", include("hocba.audit.urls")),
    path("", include("hocba.interop.urls")),
]

handler403 = "hocba.web.views.permission_denied"
handler404 = "hocba.web.views.page_not_found"
handler500 = "hocba.web.views.server_error"
