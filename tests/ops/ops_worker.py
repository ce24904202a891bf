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
    records-setup    {"students": N, "seal": BOOL} -> a class's học bạ generated and signed up to the leader (the
                                                      session PKI at $HOCBA_VAR_DIR/pki), and with "seal" issued
    records-seal     {}                            -> the seal batch (issue), in chunks of $HOCBA_SIGNING_CHUNK
    records-resume   {}                            -> run the seal batch a killed process left on again
    records-state    {}                            -> each record's status, steps, registry, files and signatures

Test hooks, set by the tests in this process only (no product code reads them): with HOCBA_TEST_MARKERS=DIR
the import and the upload touch DIR/tx-start when their transaction begins and DIR/in-tx once every row is
written but before the commit; HOCBA_TEST_PAUSE_IN_TX=SECONDS then sleeps there, so that a test can kill the
process inside the transaction for certain. The seal batch touches DIR/tx-start when it starts signing,
DIR/in-tx inside the first chunk's transaction (records switched, not yet committed) and, with
HOCBA_TEST_PAUSE_AFTER_CHUNK=SECONDS, DIR/chunk-committed after the first chunk commits, then sleeps.
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


# --- học bạ: a signing batch (the seal, which issues) ---------------------------------------------------

RECORDS_PEOPLE = (("hieutruong", "principal", "HT"), ("gvcn", "teacher", "GV"), ("gvtoan", "teacher", "GV"),
                  ("gvhoa", "teacher", "GV"))
PERSON_OF = {"hieutruong": "hieutruong", "gvcn": "gv.van", "gvtoan": "gv.toan", "gvhoa": "gv.hoa"}
SUBJECTS = ("TO", "NV", "GDTC", "HDTN")  # scores (gvtoan), a comment subject (gvhoa), HĐTN (the GVCN)


def _identity(school, staff, person: str, kind: str = "personal"):
    from django.utils import timezone

    from hocba.identities.certificates import inspect
    from hocba.identities.models import SigningIdentity
    from hocba.identities.service import demo_pki

    pki = demo_pki()
    info = inspect(pki.cert_path(person).read_bytes())
    return SigningIdentity.objects.create(
        school=school, staff=staff, kind=kind, backend="server_pkcs12", certificate=info.der,
        chain_pem=pki.cert_path("interm").read_text(), subject_cn=info.common_name,
        subject_serial_number=info.serial_number_attr, issuer=info.issuer, serial=info.serial_hex,
        fingerprint=info.fingerprint, not_before=info.not_before, not_after=info.not_after,
        params={"path": f"p12/{person}.p12"}, registered_at=timezone.now())


def _run_kind(kind: str, username: str) -> None:
    from django.contrib.auth.models import User

    from hocba.records import actions, workflow
    from hocba.school.models import School

    batch = actions.start_signing(User.objects.get(username=username), School.objects.get(), kind)
    assert batch is not None, kind
    batch = workflow.run_batch(batch)
    assert batch.state == "finished", (kind, batch.error)


def records_setup(spec: dict) -> dict:
    """A class of ``students`` whose học bạ are generated and signed by every teacher, the GVCN and the
    principal (the seal's batch prepared, not run); with ``seal`` the seal runs too (issued)."""
    from django.contrib.auth.models import User

    from hocba.identities.service import demo_pki
    from hocba.records import actions
    from hocba.records.demo import write_gradebook
    from hocba.school.models import (
        Enrolment,
        Membership,
        SchoolClass,
        Staff,
        Student,
        SubjectPlan,
        TeachingAssignment,
    )

    school, year, _admin = _school_world()
    people = {}
    for n, (username, role, position) in enumerate(RECORDS_PEOPLE):
        who = next(p for p in demo_pki().people if p.username == PERSON_OF[username])
        user = User.objects.create_user(username, password="x")
        Membership.objects.create(user=user, role=role, school=school)
        staff = Staff.objects.create(school=school, user=user, staff_code=f"CB{n:03d}", full_name=who.full_name,
                                     personal_number=who.personal_number, gender="2", position=position)
        _identity(school, staff, who.username)
        people[username] = staff
    _identity(school, None, "condau", kind="seal")
    cls = SchoolClass.objects.create(school=school, year=year, grade=9, name="9A1", homeroom_teacher=people["gvcn"])
    for i in range(spec["students"]):
        student = Student.objects.create(
            school=school, personal_number=f"079310{i:06d}", student_code=f"HS9{i:03d}",
            full_name=f"Trần Thị Bền {i}", gender="2", birth_date=dt.date(2010, 3, 1 + i),
            birthplace="Thành phố Hồ Chí Minh", hometown="Tỉnh Nam Định", residence="12 Lê Lợi, TP HCM",
            father_name="Trần Văn Cha", mother_name="Lê Thị Mẹ")
        Enrolment.objects.create(school=school, student=student, year=year, school_class=cls)
    # Three subjects instead of the full plan: the seal's batch is what the tests kill, and each subject is a
    # signature field every record carries through every earlier batch (the set-up's cost).
    SubjectPlan.objects.filter(year=year, grade=9).exclude(subject__code__in=spec.get("subjects", SUBJECTS)).delete()
    assignments = []
    for plan in SubjectPlan.objects.filter(year=year, grade=9, elective=False).select_related("subject"):
        teacher = (people["gvcn"] if plan.subject.code == "HDTN" else
                   people["gvtoan"] if plan.kind == "score" else people["gvhoa"])
        assignments += [TeachingAssignment(school=school, school_class=cls, subject=plan.subject, semester=n,
                                           teacher=teacher) for n in (1, 2)]
    TeachingAssignment.objects.bulk_create(assignments)
    write_gradebook(cls)
    made = actions.generate_class(User.objects.get(username="hieutruong"), cls)
    assert len(made.created) == spec["students"], made.not_ready
    for kind, username in (("gvbm", "gvtoan"), ("gvbm", "gvhoa"), ("gvbm", "gvcn"), ("gvcn", "gvcn"),
                           ("leader", "hieutruong")):
        _run_kind(kind, username)
    if spec.get("seal"):
        _run_kind("seal", "hieutruong")
    return {"records": len(made.created)}


def records_seal(_spec: dict) -> dict:
    from django.contrib.auth.models import User

    from hocba.records import actions, workflow
    from hocba.school.models import School

    run_records, commit, issue = workflow._run_records, workflow._commit, workflow._issue
    chunks = []

    def hooked_run_records(*args, **kwargs):
        _marker("tx-start")  # the batch begins to sign (the window the random kills aim at)
        return run_records(*args, **kwargs)

    def hooked_issue(*args, **kwargs):
        issue(*args, **kwargs)
        if not chunks:
            _pause()  # inside the first chunk's transaction: records switched and issued, not committed

    def hooked_commit(*args, **kwargs):
        stale = commit(*args, **kwargs)
        chunks.append(1)
        if len(chunks) == 1 and os.environ.get("HOCBA_TEST_PAUSE_AFTER_CHUNK"):
            _marker("chunk-committed")
            time.sleep(float(os.environ["HOCBA_TEST_PAUSE_AFTER_CHUNK"]))
        return stale

    workflow._run_records, workflow._commit, workflow._issue = hooked_run_records, hooked_commit, hooked_issue
    batch = actions.start_signing(User.objects.get(username="hieutruong"), School.objects.get(), "seal")
    batch = workflow.run_batch(batch)
    _marker("done")
    return {"state": batch.state, "done": batch.done, "error": batch.error}


def records_resume(_spec: dict) -> dict:
    """What the principal does after the crash (``Chạy tiếp``), without waiting for the batch to go stale."""
    from django.utils import timezone

    from hocba.records import workflow
    from hocba.records.models import SigningBatch

    batch = SigningBatch.objects.get(kind="seal")
    # the killed process left it "running"; ten minutes later it is stale (time passes, nothing else changes)
    SigningBatch.objects.filter(pk=batch.pk, state=SigningBatch.RUNNING).update(
        heartbeat_at=timezone.now() - workflow.STALE_AFTER - dt.timedelta(seconds=1))
    assert workflow.stale_batches().filter(pk=batch.pk).exists()
    removed = workflow.remove_orphans()  # the outputs the killed chunk wrote but never committed
    batch = workflow.resume_batch(batch)
    return {"state": batch.state, "done": batch.done, "error": batch.error, "orphans_removed_before": removed}


def records_state(_spec: dict) -> dict:
    """Each record as the files and the database say it is."""
    from lxml import etree

    from hocba.audit.models import AuditCheckpoint, AuditEvent
    from hocba.records import storage, workflow
    from hocba.records.models import HocBaRecord, RegistryEntry, SignatureStep, SigningBatch, SigningBatchItem
    from hocba.signing.pades import signature_fields

    out = []
    for record in HocBaRecord.objects.order_by("pk"):
        steps = {s.field_name: s for s in SignatureStep.objects.filter(record=record)}
        files_ok = True
        try:
            pdf = storage.read(record.pdf_file, record.pdf_sha256)
            xml = storage.read(record.xml_file, record.xml_sha256)
        except storage.StoredFileError:
            files_ok, pdf, xml = False, b"", b""
        fields = signature_fields(pdf) if pdf else {}
        xml_ids = ({e.get("Id") for e in etree.fromstring(xml).findall("{http://www.w3.org/2000/09/xmldsig#}Signature")}
                   if xml else set())
        seal = next(s for s in steps.values() if s.kind == "seal")
        items = list(SigningBatchItem.objects.filter(record=record, batch__kind="seal").values_list("state", flat=True))
        out.append({
            "status": record.status, "files_ok": files_ok, "issued_at": record.issued_at is not None,
            "seal_step": seal.state, "unsigned_steps": sorted(n for n, s in steps.items() if s.state != "signed"),
            "pdf_unsigned": sorted(n for n, signed in fields.items() if not signed),
            "pdf_fields": sorted(fields), "xml_missing": sorted(s.signature_id for s in steps.values()
                                                                 if s.signature_id not in xml_ids),
            "issued_entries": list(RegistryEntry.objects.filter(record=record, event="issued")
                                   .values_list("file_sha256", flat=True)),
            "xml_sha256": record.xml_sha256, "seal_items": items,
        })
    issue_events = AuditEvent.objects.filter(action="records.issue")
    issued_in_events = sorted(r for e in issue_events for r in e.extra["records"])
    last_issue = issue_events.order_by("-seq").first()
    return {"records": out, "audit": _audit_ok(), "orphans": len(workflow.orphan_files()),
            "issued_in_events": issued_in_events,
            "issued_ids": sorted(str(r) for r in HocBaRecord.objects.filter(status="issued")
                                 .values_list("record_id", flat=True)),
            "batch": list(SigningBatch.objects.filter(kind="seal").values_list("state", flat=True)),
            "checkpoint_after_last_issue": bool(last_issue and AuditCheckpoint.objects.filter(
                scope=last_issue.scope, seq__gte=last_issue.seq).exists())}


COMMANDS = {"roster-setup": roster_setup, "roster-import": roster_import, "roster-state": roster_state,
            "column-setup": column_setup, "column-upload": column_upload, "column-state": column_state,
            "backup-paused": backup_paused, "write-loop": write_loop, "consistency": consistency,
            "records-setup": records_setup, "records-seal": records_seal, "records-resume": records_resume,
            "records-state": records_state}


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
