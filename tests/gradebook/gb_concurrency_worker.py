"""A separate process of test_gb_concurrency.py: its own Django and its own database connection.

    python gb_concurrency_worker.py setup  DATABASE_URL STUDENTS        -> JSON of the world's ids
    python gb_concurrency_worker.py write  DATABASE_URL SPEC_JSON       -> JSON list of outcomes
    python gb_concurrency_worker.py dump   DATABASE_URL CLASS_ID        -> JSON of rows and cell history

``write`` waits for the file ``SPEC["go"]`` (after creating ``SPEC["ready"]``) so that all writers start
together, then saves cells through ``hocba.gradebook.actions.save_cells`` exactly as the web and the API do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path


def _django(url: str) -> None:
    os.environ["HOCBA_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hocba.web.settings")
    import django

    django.setup()


def setup(students: int) -> dict:
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from hocba.school.actions import create_school_year
    from hocba.school.models import (
        Department,
        Enrolment,
        Membership,
        School,
        SchoolClass,
        Staff,
        Student,
        Subject,
        TeachingAssignment,
    )

    call_command("migrate", verbosity=0)
    department = Department.objects.create(code="79", name="Sở GDĐT")
    school = School.objects.create(department=department, code="79000001", name="Trường THCS Đồng Thời",
                                   commune_name="Phường 1", province_name="TP HCM", province_code="79")
    admin = User.objects.create_user("quantri", password="x")
    Membership.objects.create(user=admin, role="school_admin", school=school)
    year = create_school_year(admin, school, "2024-2025", dt.date(2024, 9, 5), dt.date(2025, 5, 31), is_current=True)
    teacher = User.objects.create_user("gvbm", password="x")
    Membership.objects.create(user=teacher, role="teacher", school=school)
    staff = Staff.objects.create(school=school, user=teacher, staff_code="GV01", personal_number="079085000001",
                                 full_name="Trần Thị Mai", gender="2")
    cls = SchoolClass.objects.create(school=school, year=year, grade=6, name="6A1")
    toan = Subject.objects.get(code="TO")
    ids = []
    for i in range(students):
        student = Student.objects.create(
            school=school, personal_number=f"079213{i:06d}", student_code=f"HS{i:04d}",
            full_name=f"Nguyễn Văn Em {i}", gender="1", birth_date=dt.date(2013, 1, 1), birthplace="x",
            hometown="x", residence="x")
        Enrolment.objects.create(school=school, student=student, year=year, school_class=cls)
        ids.append(student.pk)
    TeachingAssignment.objects.create(school=school, school_class=cls, subject=toan, semester=1, teacher=staff)
    return {"class_id": cls.pk, "subject_id": toan.pk, "teacher_id": teacher.pk, "student_ids": ids}


def write(spec: dict) -> list[dict]:
    from django.contrib.auth.models import User
    from django.db import OperationalError, close_old_connections

    from hocba.gradebook.actions import CellEdit, StaleEdit, save_cells
    from hocba.gradebook.models import SubjectRow
    from hocba.school.models import SchoolClass, Subject

    teacher = User.objects.get(pk=spec["teacher_id"])
    cls = SchoolClass.objects.select_related("school").get(pk=spec["class_id"])
    subject = Subject.objects.get(pk=spec["subject_id"])
    student, slot = spec["student_id"], spec["slot"]
    Path(spec["ready"]).touch()
    while not Path(spec["go"]).exists():
        time.sleep(0.005)
    outcomes = []
    last = ""
    for i in range(spec["writes"]):
        if spec["mode"] == "shared":
            # Read what is stored now, as a page would show it, then save over it.
            row = SubjectRow.objects.filter(student_id=student, subject=subject, semester=1).first()
            old = row.cell(slot) if row is not None else ""
            new = f"{spec['name']}-{i}"
        else:
            old = last
            new = spec["values"][i % len(spec["values"])]
        try:
            save_cells(teacher, cls, subject, 1, [CellEdit(student, slot, old, new)])
        except StaleEdit as exc:
            outcomes.append({"outcome": "stale", "old": old, "new": new, "current": exc.conflicts[0].current})
        except OperationalError as exc:  # e.g. "database is locked": reported, and the test fails on it
            outcomes.append({"outcome": "error", "old": old, "new": new, "error": str(exc)})
            close_old_connections()
        else:
            outcomes.append({"outcome": "ok", "old": old, "new": new})
            last = new
    return outcomes


def dump(class_id: int) -> dict:
    from hocba.gradebook.models import CellChange, SubjectRow

    rows = {r.student_id: {"tx": r.tx, "gk": r.gk, "ck": r.ck, "comment": r.comment, "version": r.version}
            for r in SubjectRow.objects.filter(school_class_id=class_id)}
    history = [{"student": c.row.student_id, "slot": c.slot, "old": c.old_value, "new": c.new_value}
               for c in CellChange.objects.filter(row__school_class_id=class_id).select_related("row").order_by("id")]
    return {"rows": {str(k): v for k, v in rows.items()}, "history": history}


def main(argv: list[str]) -> None:
    command, url, arg = argv
    _django(url)
    if command == "setup":
        out = setup(int(arg))
    elif command == "write":
        out = write(json.loads(arg))
    else:
        out = dump(int(arg))
    sys.stdout.write(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
