"""Sổ theo dõi và đánh giá học sinh: the grade book's pages (included at the site root)."""

from django.urls import path, register_converter

from . import views, views_class, views_school


class PeriodConverter:
    regex = "hk1|hk2|ca-nam"

    def to_python(self, value: str) -> str:
        return "year" if value == "ca-nam" else value

    def to_url(self, value: str) -> str:
        return "ca-nam" if value == "year" else value


register_converter(PeriodConverter, "period")

_column = "lop/<int:class_id>/mon/<str:subject_code>/hk<int:semester>/"

urlpatterns = [
    path("so-diem/", views_school.my_columns, name="gb_my_columns"),
    # one column: the grid, its save endpoint, history, confirmation, unlock request, Excel round trip
    path(_column, views.column_grid, name="gb_column"),
    path(_column + "luu/", views.column_save, name="gb_column_save"),
    path(_column + "lich-su/", views.column_history, name="gb_column_history"),
    path(_column + "xac-nhan/", views.column_confirm, name="gb_column_confirm"),
    path(_column + "mo-khoa/", views.column_unlock_request, name="gb_column_unlock"),
    path(_column + "excel/", views.column_download, name="gb_column_download"),
    path(_column + "excel/tai-len/", views.column_upload, name="gb_column_upload"),
    path(_column + "excel/nhap/", views.column_upload_commit, name="gb_column_upload_commit"),
    path(_column + "gop-y-ren-luyen/", views_class.conduct_remarks, name="gb_conduct_remarks"),
    # the class: hub, homeroom pages, summary, print, export, sign-off
    path("lop/<int:class_id>/so-theo-doi/", views_class.class_hub, name="gb_class"),
    path("lop/<int:class_id>/chu-nhiem/hk<int:semester>/", views_class.homeroom_semester,
         name="gb_homeroom_semester"),
    path("lop/<int:class_id>/chu-nhiem/hk<int:semester>/hoc-sinh/<int:student_id>/",
         views_class.homeroom_semester_save, name="gb_homeroom_semester_save"),
    path("lop/<int:class_id>/chu-nhiem/ca-nam/", views_class.homeroom_year, name="gb_homeroom_year"),
    path("lop/<int:class_id>/chu-nhiem/ca-nam/hoc-sinh/<int:student_id>/", views_class.homeroom_student,
         name="gb_homeroom_student"),
    path("lop/<int:class_id>/hoc-sinh/<int:student_id>/quyet-dinh/", views_class.principal_decision,
         name="gb_principal_decision"),
    path("lop/<int:class_id>/tong-hop/<period:period>/", views_class.class_summary, name="gb_summary"),
    path("lop/<int:class_id>/tong-hop/<period:period>/in/", views_class.class_summary_print,
         name="gb_summary_print"),
    path("lop/<int:class_id>/tong-hop/<period:period>/xlsx/", views_class.class_summary_xlsx,
         name="gb_summary_xlsx"),
    path("lop/<int:class_id>/tong-hop/<period:period>/xac-thuc/", views_class.class_confirm,
         name="gb_class_confirm"),
    path("lop/<int:class_id>/tong-hop/<period:period>/ban-hanh/", views_class.class_release,
         name="gb_class_release"),
    path("lop/<int:class_id>/tong-hop/<period:period>/mo-lai/", views_class.class_reopen,
         name="gb_class_reopen"),
    # the school: progress, statistics, unlock requests
    path("truong/<int:school_id>/nam-hoc/<int:year_id>/tien-do/", views_school.progress_board,
         name="gb_progress"),
    path("truong/<int:school_id>/nam-hoc/<int:year_id>/thong-ke/<period:period>/", views_school.statistics,
         name="gb_statistics"),
    path("truong/<int:school_id>/mo-khoa/", views_school.unlock_requests, name="gb_unlock_requests"),
    path("truong/<int:school_id>/mo-khoa/<int:request_id>/", views_school.unlock_decide,
         name="gb_unlock_decide"),
]
