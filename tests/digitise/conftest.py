"""Digitisation fixtures: the records world (tests/records/conftest.py: a school whose principal, GVCN and two
subject teachers hold keys of the session PKI, and the school's seal), an academic staff member, one grade-9
student of the current year, and helpers that enter a paper grade-7 year through the actions."""

from __future__ import annotations

import pytest
from tests.records.conftest import RecordsWorld

PDF_SCAN = b"%PDF-1.4\n% scan of the paper book, pages 3-4\n" + bytes(range(256)) + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def _digitise_settings(settings, tmp_path):
    settings.HOCBA_DOCUMENTS_DIR = str(tmp_path / "documents")
    settings.HOCBA_RECORDS_INLINE = True
    settings.HOCBA_RECORDS_VALIDATION = "sample"
    settings.HOCBA_PUBLIC_URL = "https://hocba.example.vn"


class DigitiseWorld(RecordsWorld):
    def __init__(self, *args):
        super().__init__(*args)
        self.hocvu = self.make_user("hocvu", "academic_staff", self.school, staff=False)
        cls = self.make_class("9A1", students=1)
        self.student = self.students(cls)[0]

    def entry(self, *, transfer: bool = False):
        """A draft for 2022-2023 (grade 7) with its summary typed; no subject results yet."""
        from hocba.digitise import actions

        d = actions.create(self.hocvu, self.student, school_year="2022-2023", grade=7, class_name="7A2",
                           school_name="Trường THCS Nguyễn Du" if transfer else "",
                           province_name="Tỉnh Nam Định" if transfer else "")
        actions.update_summary(self.hocvu, d, {
            "conduct_hk1": "K", "conduct_hk2": "T", "conduct_year": "T", "learning_hk1": "K", "learning_hk2": "K",
            "learning_year": "K", "absences": "3", "outcome": "promoted", "homeroom_name": "Trần Thị Lan",
            "homeroom_comment": "Chăm ngoan, tiến bộ rõ trong học kì II."})
        return d

    def rows(self, d):
        return {r.subject.code: r for r in d.subjects.select_related("subject")}

    def fill(self, d, *, toan_teacher=None, codes=("TO", "NV", "GDTC")):
        """Results for the subjects ``codes`` (the others left empty: not taken; fewer signatures keep the
        tests cheap): Toán taught by ``toan_teacher`` (a user still at the school) if given, the others by
        teachers who have left; then the departed subjects marked reviewed."""
        from hocba.digitise import actions
        from hocba.school.models import Staff

        values = {}
        for code, r in self.rows(d).items():
            if code not in codes:
                continue
            mark = ("Đ" if r.subject.kind == "comment" else "7.5")
            values[r.pk] = {"hk1": mark, "hk2": mark, "year": mark, "teacher_name": f"GV cũ môn {code}",
                            "teacher": ""}
        if toan_teacher is not None:
            values[self.rows(d)["TO"].pk]["teacher"] = str(Staff.objects.get(user=toan_teacher).pk)
        actions.update_subjects(self.hocvu, d, values)
        actions.mark_reviewed(self.hocvu, d, [r.pk for r in d.subjects.filter(teacher__isnull=True)])
        return d


@pytest.fixture
def dw(school, year, principal, school_admin, make_user, give_identity, pki_settings):
    return DigitiseWorld(school, year, principal, school_admin, make_user, give_identity, pki_settings)
