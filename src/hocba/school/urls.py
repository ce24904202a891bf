from django.urls import path

from . import views

urlpatterns = [
    path("lop/<int:class_id>/", views.class_detail, name="class_detail"),
    path("truong/<int:school_id>/nam-hoc/", views.years, name="school_years"),
    path("truong/<int:school_id>/nam-hoc/<int:year_id>/sua/", views.year_edit, name="school_year_edit"),
    path("truong/<int:school_id>/nam-hoc/<int:year_id>/lop/", views.classes, name="school_classes"),
    path("truong/<int:school_id>/lop/<int:class_id>/sua/", views.class_edit, name="school_class_edit"),
    path("truong/<int:school_id>/nam-hoc/<int:year_id>/ke-hoach/khoi-<int:grade>/", views.subject_plan,
         name="school_subject_plan"),
    path("truong/<int:school_id>/ke-hoach/<int:plan_id>/xoa/", views.subject_plan_remove,
         name="school_subject_plan_remove"),
    path("truong/<int:school_id>/lop/<int:class_id>/phan-cong/", views.assignments, name="school_assignments"),
    path("truong/<int:school_id>/phan-cong/<int:assignment_id>/xoa/", views.assignment_remove,
         name="school_assignment_remove"),
]
