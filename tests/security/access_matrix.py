"""The written access matrix: for every routed URL, who gets what.

One row is one request: the expected outcome for each of the ten roles, the method, the route (its URL
pattern name), the URL kwargs built from the fixture world (``access_world.AccessWorld``) and a label. The
outcome columns follow ``ROLES``:

    ano anonymous       gbm subject teacher (GVBM of 6A, Toán)   vic vice-principal     dis district (the
    par parent of s1    gcn homeroom teacher (GVCN of 6A)        prn principal              Phòng of school A)
    stu student s1      acd academic staff                       adm school admin

All staff roles are school A's. The outcomes:

- ``200`` ``201`` ``204``: served; ``302``: accepted and redirected somewhere other than the login page
  (a form that saved or refused with a message, a finished action);
- ``L``: redirected to the login page (anonymous on a staff page; everybody after logging out);
- ``403``: refused by a permission check (the Vietnamese refusal page, or the API's JSON 403);
- ``404``: not found — an object asked for under a school it does not belong to, or a page that is not
  there for that user (a batch of somebody else, a student not in that class);
- ``405``: method not allowed (GET on a POST-only action);
- ``400`` (``422`` for the grade grid's save): accepted by the permission checks, refused for the input;
- ``401``: the API without a bearer token.

POST rows send an empty form (an empty JSON body for the API) unless the row gives a JSON body (a cell
edit): allowed roles mostly get the form's validation answer. Every request runs inside a transaction that
is rolled back, so no row changes the world the next row sees.

Row labels say whose object the row points at: ``6A`` (the class of the homeroom and subject teacher, the
parent's child), ``6B`` (another class of school A), ``B`` (school B: another Phòng too), and ``A/B obj``
(school A's URL carrying an object id of school B).

Adding a route: add at least one GET row (and a POST row if the view changes anything), run
``pytest tests/security/test_access_matrix.py``; the failure lists what every role actually got, and each
cell you copy from it must be what the design says (docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ROLES = ("anonymous", "parent", "student", "subject_teacher", "homeroom_teacher", "academic_staff",
         "vice_principal", "principal", "school_admin", "district")


@dataclass(frozen=True)
class Row:
    label: str
    route: str
    kwargs: Callable = field(repr=False)
    method: str
    expected: str  # ten outcomes in ROLES order
    api: bool = False
    query: str | Callable = ""  # a query string, or world -> query string
    body: Callable | None = field(default=None, repr=False)  # world -> JSON body (JSON endpoints)
    form: Callable | None = field(default=None, repr=False)  # world -> form fields of a POST

    def outcomes(self) -> dict[str, str]:
        cells = self.expected.split()
        assert len(cells) == len(ROLES), f"{self.label}: {len(cells)} outcomes for {len(ROLES)} roles"
        return dict(zip(ROLES, cells, strict=True))


def edit(student: str, value: str = "8.0") -> Callable:
    """A JSON body saving one cell (the mid-term score) of ``world.<student>``."""
    return lambda w: {"edits": [{"student_id": getattr(w, student).pk, "slot": "gk", "old": "",
                                 "new": value}]}


def _rows() -> list[Row]:
    rows: list[Row] = []

    def r(expected, method, route, kwargs, label, **kw):
        rows.append(Row(label, route, kwargs, method, expected, **kw))

    none = lambda w: {}
    sa = lambda w: {"school_id": w.a.pk}
    sb = lambda w: {"school_id": w.b.pk}
    col6a = lambda w: {"class_id": w.c6a.pk, "subject_code": "TO", "semester": 1}
    col6b = lambda w: {"class_id": w.c6b.pk, "subject_code": "TO", "semester": 1}
    col6c = lambda w: {"class_id": w.c6c.pk, "subject_code": "TO", "semester": 1}
    col6a_hk2 = lambda w: {"class_id": w.c6a.pk, "subject_code": "TO", "semester": 2}
    col6b_hk2 = lambda w: {"class_id": w.c6b.pk, "subject_code": "TO", "semester": 2}
    col6a_nv = lambda w: {"class_id": w.c6a.pk, "subject_code": "NV", "semester": 1}
    c6a = lambda w: {"class_id": w.c6a.pk}
    c6b = lambda w: {"class_id": w.c6b.pk}
    c6c = lambda w: {"class_id": w.c6c.pk}

    # --- accounts, home, help -------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   200 200 200 200 200 200 200 200 200", "GET", "home", none, "home")
    r("200 302 302 302 302 302 302 302 302 302", "GET", "login", none, "login")
    r("200 302 302 302 302 302 302 302 302 302", "POST", "login", none, "login")
    r("405 405 405 405 405 405 405 405 405 405", "GET", "logout", none, "logout")
    r("L   L   L   L   L   L   L   L   L   L", "POST", "logout", none, "logout")
    r("L   200 200 200 200 200 200 200 200 200", "GET", "password_change", none, "password change")
    r("L   200 200 200 200 200 200 200 200 200", "POST", "password_change", none, "password change")
    r("200 200 200 200 200 200 200 200 200 200", "GET", "help_index", none, "help")
    r("200 200 200 200 200 200 200 200 200 200", "GET", "help_page",
      lambda w: {"slug": "giao-vien"}, "help page")

    # --- school administration ------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   403 403 200 200 200 200 200 200 403", "GET", "class_detail", c6a, "class 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "class_detail", c6b, "class 6B")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "class_detail", c6c, "class 6C (B)")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "school_years", sa, "years A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "school_years", sa, "years A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "school_years", sb, "years B")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "school_year_edit",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk}, "year edit A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "school_year_edit",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk}, "year edit A")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "school_year_edit",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_b.pk}, "year edit A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "school_classes",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk}, "classes A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "school_classes",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk}, "classes A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "school_classes",
      lambda w: {"school_id": w.b.pk, "year_id": w.year_b.pk}, "classes B")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "school_classes",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_b.pk}, "classes A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "school_class_edit",
      lambda w: {"school_id": w.a.pk, "class_id": w.c6a.pk}, "class edit 6A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "school_class_edit",
      lambda w: {"school_id": w.a.pk, "class_id": w.c6a.pk}, "class edit 6A")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "school_class_edit",
      lambda w: {"school_id": w.a.pk, "class_id": w.c6c.pk}, "class edit A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "school_subject_plan",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk, "grade": 6}, "subject plan A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "school_subject_plan",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk, "grade": 6}, "subject plan A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "school_subject_plan",
      lambda w: {"school_id": w.b.pk, "year_id": w.year_b.pk, "grade": 6}, "subject plan B")
    r("L   405 405 405 405 405 405 405 405 405", "GET", "school_subject_plan_remove",
      lambda w: {"school_id": w.a.pk, "plan_id": w.plan_a.pk}, "plan remove A")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "school_subject_plan_remove",
      lambda w: {"school_id": w.a.pk, "plan_id": w.plan_a.pk}, "plan remove A")
    r("L   403 403 403 403 403 403 404 404 403", "POST", "school_subject_plan_remove",
      lambda w: {"school_id": w.a.pk, "plan_id": w.plan_b.pk}, "plan remove A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "school_assignments",
      lambda w: {"school_id": w.a.pk, "class_id": w.c6a.pk}, "assignments 6A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "school_assignments",
      lambda w: {"school_id": w.a.pk, "class_id": w.c6a.pk}, "assignments 6A")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "school_assignments",
      lambda w: {"school_id": w.a.pk, "class_id": w.c6c.pk}, "assignments A/B obj")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "school_assignment_remove",
      lambda w: {"school_id": w.a.pk, "assignment_id": w.assignment_a.pk}, "assignment remove A")
    r("L   403 403 403 403 403 403 404 404 403", "POST", "school_assignment_remove",
      lambda w: {"school_id": w.a.pk, "assignment_id": w.assignment_b.pk}, "assignment remove A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "roster_upload", sa, "roster A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "roster_upload", sa, "roster A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "roster_upload", sb, "roster B")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "roster_preview",
      lambda w: {"school_id": w.a.pk, "upload_id": w.upload_a.pk}, "roster preview A")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "roster_preview",
      lambda w: {"school_id": w.a.pk, "upload_id": w.upload_b.pk}, "roster preview A/B obj")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "roster_commit",
      lambda w: {"school_id": w.a.pk, "upload_id": w.upload_a.pk}, "roster commit A")
    r("L   403 403 403 403 403 403 404 404 403", "POST", "roster_commit",
      lambda w: {"school_id": w.a.pk, "upload_id": w.upload_b.pk}, "roster commit A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "roster_template",
      lambda w: {"school_id": w.a.pk, "kind": "students"}, "roster template A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "roster_template",
      lambda w: {"school_id": w.b.pk, "kind": "students"}, "roster template B")

    # --- grade book: one column -----------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   200 200 200 200 200 200 200 200 200", "GET", "gb_my_columns", none, "my columns")
    r("L   403 403 200 200 200 200 200 200 403", "GET", "gb_column", col6a, "column 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_column", col6b, "column 6B")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_column", col6c, "column 6C (B)")
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_column", col6a_nv, "column 6A Ngữ văn")
    r("L   403 403 200 403 403 403 403 403 403", "POST", "gb_column_save",
      col6a_hk2, "column save 6A hk2", body=edit("s1"))
    r("L   403 403 403 403 403 403 403 403 403", "POST", "gb_column_save",
      col6b_hk2, "column save 6B hk2", body=edit("s2"))
    r("L   403 403 422 403 403 403 403 403 403", "POST", "gb_column_save",
      col6a_hk2, "column save 6A hk2, 6B student", body=edit("s2"))
    r("L   403 403 403 403 403 403 403 403 403", "POST", "gb_column_save",
      col6a_nv, "column save 6A Ngữ văn", body=edit("s1", "7.0"))
    r("L   403 403 200 200 200 200 200 200 403", "GET", "gb_column_history", col6a, "column history 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_column_history", col6b, "column history 6B")
    r("L   403 403 404 404 404 404 404 404 403", "GET", "gb_column_history",
      col6a, "column history 6A, ?hs=6B student", query=lambda w: f"hs={w.s2.pk}")
    r("L   403 403 302 403 403 403 403 403 403", "POST", "gb_column_confirm", col6a, "column confirm 6A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "gb_column_confirm", col6b, "column confirm 6B")
    r("L   403 403 200 403 403 403 403 403 403", "GET", "gb_column_unlock", col6a, "column unlock 6A")
    r("L   403 403 200 403 403 403 403 403 403", "POST", "gb_column_unlock", col6a, "column unlock 6A")
    r("L   403 403 200 200 200 200 200 200 403", "GET", "gb_column_download", col6a, "column excel 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_column_download", col6b, "column excel 6B")
    r("L   403 403 200 403 403 403 403 403 403", "GET", "gb_column_upload", col6a, "column upload 6A")
    r("L   403 403 200 403 403 403 403 403 403", "POST", "gb_column_upload", col6a, "column upload 6A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "gb_column_upload", col6b, "column upload 6B")
    r("L   403 403 302 403 403 403 403 403 403", "POST", "gb_column_upload_commit",
      col6a, "column upload commit 6A")
    r("L   403 403 200 403 403 403 403 403 403", "GET", "gb_conduct_remarks", col6a, "conduct remarks 6A")
    r("L   403 403 200 403 403 403 403 403 403", "POST", "gb_conduct_remarks", col6a, "conduct remarks 6A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_conduct_remarks", col6b, "conduct remarks 6B")

    # --- grade book: the class ------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    hs1 = lambda w: {"class_id": w.c6a.pk, "semester": 1, "student_id": w.s1.pk}
    yr1 = lambda w: {"class_id": w.c6a.pk, "student_id": w.s1.pk}
    yr2_in_6a = lambda w: {"class_id": w.c6a.pk, "student_id": w.s2.pk}
    r("L   403 403 200 200 200 200 200 200 403", "GET", "gb_class", c6a, "class hub 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_class", c6b, "class hub 6B")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_class", c6c, "class hub 6C (B)")
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_homeroom_semester",
      lambda w: {"class_id": w.c6a.pk, "semester": 1}, "homeroom hk1 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_homeroom_semester",
      lambda w: {"class_id": w.c6b.pk, "semester": 1}, "homeroom hk1 6B")
    r("L   403 403 403 302 403 403 403 403 403", "POST", "gb_homeroom_semester_save",
      hs1, "homeroom hk1 save 6A")
    r("L   403 403 403 404 403 403 403 403 403", "POST", "gb_homeroom_semester_save",
      lambda w: {"class_id": w.c6a.pk, "semester": 1, "student_id": w.s2.pk}, "hk1 save 6A/6B student")
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_homeroom_year", c6a, "homeroom year 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_homeroom_year", c6b, "homeroom year 6B")
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_homeroom_student", yr1, "homeroom student 6A")
    r("L   403 403 403 302 403 403 403 403 403", "POST", "gb_homeroom_student", yr1, "homeroom student 6A")
    r("L   403 403 403 404 404 404 404 404 403", "GET", "gb_homeroom_student",
      yr2_in_6a, "homeroom student 6A/6B student")
    r("L   403 403 403 403 403 403 200 403 403", "GET", "gb_principal_decision", yr1, "principal decision 6A")
    r("L   403 403 403 403 403 403 200 403 403", "POST", "gb_principal_decision",
      yr1, "principal decision 6A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_principal_decision",
      lambda w: {"class_id": w.c6c.pk, "student_id": w.s3.pk}, "principal decision 6C (B)")
    p6a = lambda w: {"class_id": w.c6a.pk, "period": "hk1"}
    p6b = lambda w: {"class_id": w.c6b.pk, "period": "hk1"}
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_summary", p6a, "summary 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_summary", p6b, "summary 6B")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_summary",
      lambda w: {"class_id": w.c6c.pk, "period": "year"}, "summary 6C (B)")
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_summary_print", p6a, "print 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_summary_print", p6b, "print 6B")
    r("L   403 403 403 200 200 200 200 200 403", "GET", "gb_summary_xlsx", p6a, "xlsx 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_summary_xlsx", p6b, "xlsx 6B")
    r("L   405 405 405 405 405 405 405 405 405", "GET", "gb_class_confirm", p6a, "class confirm 6A")
    r("L   403 403 403 302 403 403 403 403 403", "POST", "gb_class_confirm", p6a, "class confirm 6A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "gb_class_confirm", p6b, "class confirm 6B")
    r("L   403 403 403 403 403 302 302 403 403", "POST", "gb_class_release", p6a, "class release 6A")
    r("L   403 403 403 403 403 302 302 403 403", "POST", "gb_class_release", p6b, "class release 6B")
    r("L   403 403 403 403 403 403 302 403 403", "POST", "gb_class_reopen", p6a, "class reopen 6A")
    r("L   403 403 403 403 403 403 302 403 403", "POST", "gb_class_reopen", p6b, "class reopen 6B")

    # --- grade book: the school -----------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   403 403 403 403 200 200 200 200 403", "GET", "gb_progress",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk}, "progress A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_progress",
      lambda w: {"school_id": w.b.pk, "year_id": w.year_b.pk}, "progress B")
    r("L   403 403 200 200 200 200 200 200 200", "GET", "gb_statistics",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk, "period": "hk1"}, "statistics A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_statistics",
      lambda w: {"school_id": w.b.pk, "year_id": w.year_b.pk, "period": "hk1"}, "statistics B")
    r("L   403 403 403 403 403 200 200 403 403", "GET", "gb_unlock_requests", sa, "unlock requests A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "gb_unlock_requests", sb, "unlock requests B")
    r("L   403 403 403 403 403 200 200 403 403", "GET", "gb_unlock_decide",
      lambda w: {"school_id": w.a.pk, "request_id": w.unlock_a.pk}, "unlock decide A")
    r("L   403 403 403 403 403 200 200 403 403", "POST", "gb_unlock_decide",
      lambda w: {"school_id": w.a.pk, "request_id": w.unlock_a.pk}, "unlock decide A")
    r("L   403 403 403 403 403 404 404 403 403", "GET", "gb_unlock_decide",
      lambda w: {"school_id": w.a.pk, "request_id": w.unlock_b.pk}, "unlock decide A/B obj")

    # --- digital identities ---------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   403 403 403 403 403 403 200 200 403", "GET", "identities", sa, "identities A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "identities", sb, "identities B")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "identities_refresh", sa, "identities refresh A")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "identity_register",
      lambda w: {"school_id": w.a.pk, "staff_id": w.gvcn.staff.pk}, "identity register A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "identity_register",
      lambda w: {"school_id": w.a.pk, "staff_id": w.gvcn.staff.pk}, "identity register A")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "identity_register",
      lambda w: {"school_id": w.a.pk, "staff_id": w.gvcn_6c.staff.pk}, "identity register A/B obj")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "identity_register_seal", sa, "seal register A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "identity_register_seal", sb, "seal register B")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "identity_deactivate",
      lambda w: {"school_id": w.a.pk, "identity_id": w.identity_a.pk}, "identity deactivate A")
    r("L   403 403 403 403 403 403 200 200 403", "POST", "identity_deactivate",
      lambda w: {"school_id": w.a.pk, "identity_id": w.identity_a.pk}, "identity deactivate A")
    r("L   403 403 403 403 403 403 404 404 403", "GET", "identity_deactivate",
      lambda w: {"school_id": w.a.pk, "identity_id": w.identity_b.pk}, "identity deactivate A/B obj")

    # --- the JSON API (bearer tokens; a browser session is ignored) -----------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    api = {"api": True}
    r("200 200 200 200 200 200 200 200 200 200", "GET", "api:schema", none, "schema", **api)
    r("400 400 400 400 400 400 400 400 400 400", "POST", "api:tokens", none, "tokens", **api)
    r("405 405 405 405 405 405 405 405 405 405", "GET", "api:tokens", none, "tokens", **api)
    r("401 204 204 204 204 204 204 204 204 204", "DELETE", "api:token-current", none, "token current", **api)
    r("401 200 200 200 200 200 200 200 200 200", "GET", "api:assignments", none, "assignments", **api)

    def scores(cls, semester=1, code="TO"):
        return lambda w: {"class_id": getattr(w, cls).pk, "code": code, "semester": semester}

    r("401 403 403 200 200 200 200 200 200 403", "GET", "api:scores", scores("c6a"), "scores 6A", **api)
    r("401 403 403 200 403 403 403 403 403 403", "PATCH", "api:scores",
      scores("c6a", 2), "scores 6A hk2", body=edit("s1"), **api)
    r("401 403 403 400 403 403 403 403 403 403", "PATCH", "api:scores",
      scores("c6a", 2), "scores 6A hk2, 6B student", body=edit("s2"), **api)
    r("401 403 403 403 200 200 200 200 200 403", "GET", "api:scores",
      scores("c6a", 1, "NV"), "scores 6A Ngữ văn", **api)
    r("401 403 403 403 403 200 200 200 200 403", "GET", "api:scores", scores("c6b"), "scores 6B", **api)
    r("401 403 403 403 403 403 403 403 403 403", "PATCH", "api:scores",
      scores("c6b", 2), "scores 6B hk2", body=edit("s2"), **api)
    r("401 403 403 403 403 403 403 403 403 403", "GET", "api:scores", scores("c6c"), "scores 6C (B)", **api)
    r("401 403 403 403 200 200 200 200 200 403", "GET", "api:summary",
      c6a, "api summary 6A", query="period=hk1", **api)
    r("401 403 403 403 403 200 200 200 200 403", "GET", "api:summary",
      c6b, "api summary 6B", query="period=hk1", **api)
    r("401 403 403 403 403 403 403 403 403 403", "GET", "api:summary",
      c6c, "api summary 6C (B)", query="period=hk1", **api)

    # --- học bạ số ------------------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    rec = lambda attr: lambda w: {"record_id": getattr(w, attr).record_id}
    r("L   200 200 200 200 200 200 200 200 200", "GET", "records_index", none, "records")
    r("L   405 405 405 405 405 405 405 405 405", "GET", "records_sign_mine",
      lambda w: {"kind": "gvbm"}, "sign mine gvbm")
    r("L   404 404 302 302 403 403 403 403 404", "POST", "records_sign_mine",
      lambda w: {"kind": "gvbm"}, "sign mine gvbm")
    r("L   403 403 200 200 200 200 200 200 403", "GET", "records_class", c6a, "records class 6A")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_class", c6b, "records class 6B")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_class", c6c, "records class 6C (B)")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "records_generate", c6a, "generate 6A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "records_generate", c6c, "generate 6C (B)")
    r("L   403 403 302 302 403 403 403 403 403", "POST", "records_sign_class",
      lambda w: {"class_id": w.c6a.pk, "kind": "gvcn"}, "sign class 6A gvcn")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "records_sign_class",
      lambda w: {"class_id": w.c6a.pk, "kind": "seal"}, "sign class 6A seal")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "records_sign_class",
      lambda w: {"class_id": w.c6c.pk, "kind": "seal"}, "sign class 6C (B) seal")
    r("L   404 404 404 200 200 200 200 200 404", "GET", "records_batch",
      lambda w: {"batch_id": w.batch_a.pk}, "batch A (gvcn's)")
    r("L   404 404 404 404 404 404 404 404 404", "GET", "records_batch",
      lambda w: {"batch_id": w.batch_b.pk}, "batch B")
    r("L   404 404 404 302 403 403 403 403 404", "POST", "records_batch_resume",
      lambda w: {"batch_id": w.batch_a.pk}, "batch resume A")
    r("L   404 404 404 302 403 403 403 403 404", "POST", "records_batch_rollback",
      lambda w: {"batch_id": w.batch_a.pk}, "batch rollback A")
    r("L   404 404 404 404 404 404 404 404 404", "POST", "records_batch_rollback",
      lambda w: {"batch_id": w.batch_b.pk}, "batch rollback B")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_school_year",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_a.pk}, "records year A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_school_year",
      lambda w: {"school_id": w.b.pk, "year_id": w.year_b.pk}, "records year B")
    r("L   404 404 404 404 404 404 404 404 404", "GET", "records_school_year",
      lambda w: {"school_id": w.a.pk, "year_id": w.year_b.pk}, "records year A/B obj")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_registry", sa, "registry A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_registry", sb, "registry B")
    r("L   200 200 200 200 200 200 200 200 403", "GET", "records_bundle",
      lambda w: {"student_id": w.s1.pk}, "bundle s1 (6A)")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_bundle",
      lambda w: {"student_id": w.s2.pk}, "bundle s2 (6B)")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_bundle",
      lambda w: {"student_id": w.s3.pk}, "bundle s3 (B)")
    r("L   200 200 200 200 200 200 200 200 403", "GET", "records_record", rec("record_s1"), "record s1 (6A)")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_record", rec("record_s2"), "record s2 (6B)")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_record", rec("record_s3"), "record s3 (B)")
    r("L   200 200 200 200 200 200 200 200 403", "GET", "records_download",
      lambda w: {"record_id": w.record_s1.record_id, "fmt": "pdf"}, "download s1 (6A)")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_download",
      lambda w: {"record_id": w.record_s2.record_id, "fmt": "xml"}, "download s2 (6B)")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_download",
      lambda w: {"record_id": w.record_s3.record_id, "fmt": "pdf"}, "download s3 (B)")
    r("L   200 200 200 200 200 200 200 200 403", "GET", "records_received_download",
      lambda w: {"received_id": w.received_s1.pk, "fmt": "pdf"}, "received year s1 (6A)")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "records_received_download",
      lambda w: {"received_id": w.received_s2.pk, "fmt": "xml"}, "received year s2 (6B)")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "records_received_download",
      lambda w: {"received_id": w.received_s3.pk, "fmt": "pdf"}, "received year s3 (B)")
    r("L   405 405 405 405 405 405 405 405 405", "GET", "records_revoke", rec("record_s1"), "revoke s1 (6A)")
    r("L   403 403 403 403 403 403 302 403 403", "POST", "records_revoke", rec("record_s1"), "revoke s1 (6A)")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "records_revoke", rec("record_s3"), "revoke s3 (B)")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "records_reissue",
      rec("record_s1"), "reissue s1 (6A)")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "records_reissue",
      rec("record_s3"), "reissue s3 (B)")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "records_cancel", rec("record_s1"), "cancel s1 (6A)")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "records_cancel", rec("record_s3"), "cancel s3 (B)")

    # --- số hóa học bạ giấy (digitisation of paper years) ---------------------------------------------------
    dga = lambda w: {"pk": w.digitise_a.pk}  # s1's paper year, naming gcn as its GVCN
    dgb = lambda w: {"pk": w.digitise_b.pk}  # s3's, school B
    r("L   200 200 200 200 200 200 200 200 200", "GET", "digitise_index", none, "digitise")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_create", none, "create s1 (6A)",
      form=lambda w: {"student": w.s1.pk})
    r("L   403 403 403 403 403 403 403 403 403", "POST", "digitise_create", none, "create s3 (B)",
      form=lambda w: {"student": w.s3.pk})
    r("L   403 403 403 200 200 200 200 200 403", "GET", "digitise_detail", dga, "digitisation A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "digitise_detail", dgb, "digitisation B")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_summary", dga, "summary A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "digitise_summary", dgb, "summary B")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_subjects", dga, "subjects A")
    r("L   403 403 403 404 404 404 404 404 403", "GET", "digitise_scan", dga, "scan A (none yet)")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_scan", dga, "scan A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "digitise_scan", dgb, "scan B")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_review", dga, "review A")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_submit", dga, "submit A")
    r("L   403 403 403 302 302 302 302 302 403", "POST", "digitise_sign_own", dga, "sign own A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "digitise_issue", dga, "issue A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "digitise_issue", dgb, "issue B")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "digitise_cancel", dga, "cancel A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "digitise_cancel", dgb, "cancel B")

    # --- the public verification portal ---------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("200 200 200 200 200 200 200 200 200 200", "GET", "verify:portal", none, "portal")
    r("400 400 400 400 400 400 400 400 400 400", "POST", "verify:portal", none, "portal")
    r("404 404 404 404 404 404 404 404 404 404", "GET", "verify:code",
      lambda w: {"code": w.record_s1.verification_code}, "by code")
    r("403 403 403 403 403 403 403 403 403 403", "GET", "verify:download",
      lambda w: {"code": w.record_s1.verification_code, "fmt": "pdf"}, "download by code")
    r("400 400 400 400 400 400 400 400 400 400", "POST", "verify:api-verify", none, "api verify", **api)
    r("404 404 404 404 404 404 404 404 404 404", "GET", "verify:api-status",
      lambda w: {"code": w.record_s1.verification_code}, "api status", **api)

    # --- audit viewer ---------------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   403 403 403 403 403 302 302 302 403", "GET", "audit_index", none, "audit")
    r("L   403 403 403 403 403 200 200 200 403", "GET", "audit_log", sa, "audit log A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "audit_log", sb, "audit log B")
    r("L   403 403 403 403 403 200 200 200 403", "GET", "audit_export", sa, "audit export A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "audit_export", sb, "audit export B")

    # --- interop --------------------------------------------------------------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    r("L   403 403 403 403 403 403 200 200 403", "GET", "interop_exchange", sa, "exchange A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "interop_exchange", sb, "exchange B")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "interop_resend",
      lambda w: {"school_id": w.a.pk, "message_id": w.message_a.pk}, "resend A")
    r("L   403 403 403 403 403 403 404 404 403", "POST", "interop_resend",
      lambda w: {"school_id": w.a.pk, "message_id": w.message_b.pk}, "resend A/B obj")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "interop_resend_all", sa, "resend all A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "interop_resend_all", sb, "resend all B")
    r("L   403 403 403 403 403 403 200 200 403", "GET", "interop_sync", sa, "sync A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "interop_sync", sb, "sync B")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "interop_sync_now", sa, "sync now A")
    r("L   403 403 403 403 403 403 302 302 403", "POST", "interop_acknowledge",
      lambda w: {"school_id": w.a.pk, "conflict_id": w.conflict_a.pk}, "acknowledge A")
    r("L   403 403 403 403 403 403 404 404 403", "POST", "interop_acknowledge",
      lambda w: {"school_id": w.a.pk, "conflict_id": w.conflict_b.pk}, "acknowledge A/B obj")
    # --- chuyển trường, tuyển sinh (transfer packages, admission lists) -------------------------------------
    #  ano par stu gbm gcn acd vic prn adm dis
    s1 = lambda w: {"student_id": w.s1.pk}
    s3 = lambda w: {"student_id": w.s3.pk}
    r("L   405 405 405 405 405 405 405 405 405", "GET", "interop_transfer_export", s1, "export s1 (A)")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "interop_transfer_export", s1, "export s1 (A)")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "interop_transfer_export", s3, "export s3 (B)")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "interop_transfer_receive", sa, "transfer receive A")
    r("L   403 403 403 403 400 400 400 400 403", "POST", "interop_transfer_receive", sa, "transfer receive A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "interop_transfer_receive", sb, "transfer receive B")
    r("L   403 403 403 403 200 200 200 200 403", "GET", "interop_admission", sa, "admission A")
    r("L   403 403 403 403 403 403 403 403 403", "GET", "interop_admission", sb, "admission B")
    r("L   403 403 403 403 302 302 302 302 403", "POST", "interop_admission_download", sa, "download A")
    r("L   403 403 403 403 403 403 403 403 403", "POST", "interop_admission_download", sb, "download B")
    return rows


ROWS = _rows()
