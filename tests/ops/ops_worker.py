"""A separate process for the ops tests: its own Django, its own database connection, and a body that can be
killed with SIGKILL.

    python ops_worker.py COMMAND [JSON]      (the database is $HOCBA_DATABASE_URL)

    roster-setup     {"students": N, "csv": PATH}  -> a school, a year, 36 classes, an admin; the roster CSV
    roster-import    {"csv": PATH}                 -> parse the CSV and import it (one transaction)
    roster-state     {}                            -> students, enrolments, import events, audit check
    column-setup     {"students": N}               -> a class, its Toán teacher and students
    column-upload    {}                            -> download the column as .xlsx, fill every cell, upload it
    column-state     {}                            -> rows, cell changes, filled cells, audit events and check
    backup-paused    {"out": PATH}                 -> hocba backup, pausing once the database is archived
    write-loop       {"stop", "progress", "index", "writers", "seed"} -> save cells until the stop file exists
    consistency      {}                            -> the grade book's invariants and audit/data agreement

Test hooks, set by the tests in this process only (no product code reads them): with HOCBA_TEST_MARKERS=DIR
the import and the upload touch DIR/tx-start when their transaction begins and DIR/in-tx once every row is
written but before the commit; HOCBA_TEST_PAUSE_IN_TX=SECONDS then sleeps there, so that a test can kill the
process inside the transaction for certain.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import sys
import time
from pathlib import Path


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hocba.web.settings")
    import django

    django.setup()


def _marker(name: str) -> None:
    folder = os.environ.get("HOCBA_TEST_MARKERS")
    if folder:
        Path(folder, name).touch()


def _pause() -> None:
    _marker("in-tx")
    seconds = float(os.environ.get("HOCBA_TEST_PAUSE_IN_TX", "0") or 0)
    if seconds:
        time.sleep(seconds)


def _audit_ok() -> dict:
    from hocba.audit.verify import verify_audit

    report = verify_audit()
    return {"ok": report.ok, "events": report.events, "problems": [p.message for p in report.problems]}


def _school_world(admin_name: str = "quantri"):
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from hocba.school.actions import create_school_year
    from hocba.school.models import Department, Membership, School

    call_command("migrate", verbosity=0)
    department = Department.objects.create(code="79", name="Sở GDĐT Thành phố Hồ Chí Minh")
    school = School.objects.create(department=department, code="79000077", name="Trường THCS Bền Vững",
                                   commune_name="Phường 1", province_name="TP HCM", province_code="79")
    admin = User.objects.create_user(admin_name, password="x")
    Membership.objects.create(user=admin, role="school_admin", school=school)
    year = create_school_year(admin, school, "2024-2025", dt.date(2024, 9, 5), dt.date(2025, 5, 31),
                              is_current=True)
    return school, year, admin


# --- roster import ---------------------------------------------------------------------------------------

def roster_setup(spec: dict) -> dict:
    import csv

    from hocba.school.models import SchoolClass
    from hocba.school.roster import STUDENT_HEADERS

    school, year, admin = _school_world()
    names = [f"{grade}A{n}" for grade in (6, 7, 8, 9) for n in range(1, 10)]
    SchoolClass.objects.bulk_create([SchoolClass(school=school, year=year, grade=int(n[0]), name=n) for n in names])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(STUDENT_HEADERS)
    for i in range(spec["students"]):
        row = {"Mã học sinh": f"HS{i:05d}", "Số định danh cá nhân": f"079212{i:06d}",
               "Họ và tên": f"Nguyễn Văn Bền {i}", "Giới tính": "Nam" if i % 2 else "Nữ",
               "Ngày sinh": "05/09/2012", "Nơi sinh": "TP HCM", "Quê quán": "Long An",
               "Nơi ở hiện nay": "Quận 1, TP HCM", "Lớp": names[i % len(names)]}
        writer.writerow([row.get(h, "") for h in STUDENT_HEADERS])
    Path(spec["csv"]).write_text(out.getvalue(), encoding="utf-8")
    return {"school": school.pk, "year": year.pk, "admin": admin.pk, "classes": len(names)}


def roster_import(spec: dict) -> dict:
    from django.contrib.auth.models import User

    from hocba.school import roster
    from hocba.school.models import School, SchoolYear

    school = School.objects.get()
    year = SchoolYear.objects.get(school=school)
    admin = User.objects.get(username="quantri")
    data = Path(spec["csv"]).read_bytes()
    preview = roster.parse_roster("students", "hoc-sinh.csv", data, school=school, year=year)
    assert preview.ok, (preview.file_errors, preview.errors[:3])
    apply = roster._APPLY["students"]

    def hooked(*args):
        _marker("tx-start")
        apply(*args)
        _pause()

    roster._APPLY["students"] = hooked
    result = roster.import_roster(admin, school, year, "students", preview)
    return {"created": result.created}


def roster_state(_spec: dict) -> dict:
    from hocba.audit.models import AuditEvent
    from hocba.school.models import Enrolment, Student

    return {"students": Student.objects.count(), "enrolments": Enrolment.objects.count(),
            "imports": AuditEvent.objects.filter(action="roster.import").count(), "audit": _audit_ok()}


# --- grade-book upload -----------------------------------------------------------------------------------

def column_setup(spec: dict) -> dict:
    from django.contrib.auth.models import User

    from hocba.school.models import (
        Enrolment,
        Membership,
        SchoolClass,
        Staff,
        Student,
        Subject,
        TeachingAssignment,
    )

    school, year, _admin = _school_world()
    teacher = User.objects.create_user("gvtoan", password="x")
    Membership.objects.create(user=teacher, role="teacher", school=school)
    staff = Staff.objects.create(school=school, user=teacher, staff_code="GV01", personal_number="079085000001",
                                 full_name="Trần Thị Mai", gender="2")
    cls = SchoolClass.objects.create(school=school, year=year, grade=6, name="6A1")
    for i in range(spec["students"]):
        student = Student.objects.create(
            school=school, personal_number=f"079213{i:06d}", student_code=f"HS{i:04d}",
            full_name=f"Lê Thị Vững {i}", gender="2", birth_date=dt.date(2013, 1, 1), birthplace="x",
            hometown="x", residence="x")
        Enrolment.objects.create(school=school, student=student, year=year, school_class=cls)
    TeachingAssignment.objects.create(school=school, school_class=cls, subject=Subject.objects.get(code="TO"),
                                      semester=1, teacher=staff)
    return {"class": cls.pk}


def column_upload(_spec: dict) -> dict:
    import openpyxl
    from django.contrib.auth.models import User

    from hocba.gradebook import actions, excel
    from hocba.school.models import SchoolClass, Subject

    teacher = User.objects.get(username="gvtoan")
    cls = SchoolClass.objects.select_related("school", "year").get(name="6A1")
    subject = Subject.objects.get(code="TO")
    plan = actions.column_plan(cls, subject)
    tx = plan.regular_assessments
    data = excel.column_workbook(teacher, cls, subject, 1, kind=plan.kind, tx_count=tx)
    # The teacher fills every cell of the column offline.
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    sheet = workbook[excel.SHEET_TITLE]
    row = excel.HEADER_ROW + 1
    while sheet.cell(row=row, column=2).value:
        for j, slot in enumerate(excel.slot_names(tx), start=4):
            sheet.cell(row=row, column=j).value = "Tiến bộ" if slot == "comment" else 5 + (row + j) % 5
        row += 1
    out = io.BytesIO()
    workbook.save(out)
    upload = excel.read_column_upload("so-diem.xlsx", out.getvalue(), school_class=cls, subject=subject,
                                      semester=1, kind=plan.kind, tx_count=tx)
    upload = excel.preview_against_database(upload, cls, subject, 1)
    assert upload.ok and upload.changes, (upload.file_errors, upload.errors[:3])

    save = actions._save_cells
    record = actions.record

    def hooked_save(*args, **kwargs):
        _marker("tx-start")
        return save(*args, **kwargs)

    def hooked_record(*args, **kwargs):
        event = record(*args, **kwargs)
        _pause()  # every row, every cell change and the audit event are written; the commit is next
        return event

    actions._save_cells, actions.record = hooked_save, hooked_record
    result = actions.save_cells(teacher, cls, subject, 1, excel.edits_of(upload))
    return {"changed": result.changed, "cells": len(upload.changes)}


def column_state(_spec: dict) -> dict:
    from hocba.audit.models import AuditEvent
    from hocba.gradebook.models import CellChange, SubjectRow

    rows = list(SubjectRow.objects.all())
    filled = sum(1 for r in rows for slot in [f"tx{i + 1}" for i in range(len(r.tx))] + ["gk", "ck", "comment"]
                 if r.cell(slot))
    return {"rows": len(rows), "changes": CellChange.objects.count(), "filled": filled,
            "versions": sorted({r.version for r in rows}),
            "events": AuditEvent.objects.filter(action="gradebook.save_cells").count(), "audit": _audit_ok()}


# --- a backup killed half-way ---------------------------------------------------------------------------

def backup_paused(spec: dict) -> dict:
    from hocba.ops import archive, backup

    add_file = archive.ArchiveWriter.add_file

    def hooked(self, name, path):
        member = add_file(self, name, path)
        if name.startswith("database"):
            _pause()
        return member

    archive.ArchiveWriter.add_file = hooked
    report = backup.create_backup(Path(spec["out"]))
    return {"path": str(report.path)}


# --- concurrent score entry ------------------------------------------------------------------------------

def write_loop(spec: dict) -> dict:
    from django.db import OperationalError, close_old_connections

    from hocba.gradebook.actions import CellEdit, StaleEdit, column_plan, save_cells
    from hocba.gradebook.models import SubjectRow
    from hocba.school.models import Enrolment, TeachingAssignment

    rng = random.Random(spec["seed"])
    assignments = list(TeachingAssignment.objects.filter(
        school_class__year__is_current=True, semester=1, teacher__user__isnull=False,
    ).select_related("school_class__school", "school_class__year", "subject", "teacher__user")
        .order_by("pk"))
    mine = [a for i, a in enumerate(assignments) if i % spec["writers"] == spec["index"]][:12]
    columns = []
    for a in mine:
        students = list(Enrolment.objects.filter(school_class=a.school_class, status="studying")
                        .values_list("student_id", flat=True)[:8])
        columns.append((a, column_plan(a.school_class, a.subject), students))
    saved = stale = errors = 0
    progress = Path(spec["progress"])
    while not Path(spec["stop"]).exists():
        a, plan, students = rng.choice(columns)
        student, slot = rng.choice(students), rng.choice(["tx1", "gk", "ck"])
        new = f"{rng.randint(0, 9)}.{rng.choice([0, 5])}" if plan.kind == "score" else rng.choice(["Đ", "CĐ"])
        row = SubjectRow.objects.filter(student_id=student, year=a.school_class.year, subject=a.subject,
                                        semester=1).first()
        old = row.cell(slot) if row else ""
        try:
            result = save_cells(a.teacher.user, a.school_class, a.subject, 1, [CellEdit(student, slot, old, new)])
        except StaleEdit:
            stale += 1
            continue
        except OperationalError:
            errors += 1
            close_old_connections()
            continue
        saved += 1 if result.changed else 0
        tmp = progress.with_suffix(".tmp")
        tmp.write_text(str(saved))
        tmp.replace(progress)
    return {"saved": saved, "stale": stale, "errors": errors}


def consistency(_spec: dict) -> dict:
    """What must hold in any committed state of the grade book, and the audit trail's agreement with it."""
    from collections import Counter, defaultdict

    from hocba.audit.models import AuditEvent
    from hocba.gradebook.models import CellChange, SubjectRow

    rows = {r.pk: r for r in SubjectRow.objects.all()}
    changes = list(CellChange.objects.order_by("id"))
    orphans = [c.pk for c in changes if c.row_id not in rows]
    last: dict[tuple[int, str], CellChange] = {}
    saves: dict[int, set] = defaultdict(set)
    for c in changes:
        last[(c.row_id, c.slot)] = c
        saves[c.row_id].add(c.changed_at)
    wrong_cells = [(row_id, slot, c.new_value, rows[row_id].cell(slot)) for (row_id, slot), c in last.items()
                   if row_id in rows and rows[row_id].cell(slot) != c.new_value]
    # A save that touches a row moves its version on by one and stamps its cell changes with one time.
    wrong_versions = [(r.pk, r.version, len(saves[r.pk])) for r in rows.values() if r.version - 1 != len(saves[r.pk])]
    from_audit = Counter()
    events = 0
    for extra in AuditEvent.objects.filter(action="gradebook.save_cells").values_list("extra", flat=True):
        events += 1
        for ch in extra["changes"]:
            from_audit[(ch["student"], ch["slot"], ch["new"])] += 1
    from_data = Counter((rows[c.row_id].student_id, c.slot, c.new_value) for c in changes if c.row_id in rows)
    return {"rows": len(rows), "changes": len(changes), "events": events, "orphans": orphans[:5],
            "wrong_cells": wrong_cells[:5], "wrong_versions": wrong_versions[:5],
            "audit_matches_data": from_audit == from_data}


COMMANDS = {"roster-setup": roster_setup, "roster-import": roster_import, "roster-state": roster_state,
            "column-setup": column_setup, "column-upload": column_upload, "column-state": column_state,
            "backup-paused": backup_paused, "write-loop": write_loop, "consistency": consistency}


def main(argv: list[str]) -> None:
    command = argv[0]
    spec = json.loads(argv[1]) if len(argv) > 1 else {}
    _django()
    out = COMMANDS[command](spec)
    from django.db import connections

    connections.close_all()  # SQLite: the last connection to close checkpoints the WAL into the file
    sys.stdout.write(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
