"""``hocba records``: học bạ số from the command line.

    hocba records issue --year 2024-2025 --class 9A1 [--class 9A2 | --all] [--demo-sign] [--processes N]
    hocba records status --year 2024-2025 --class 9A1
    hocba records export --student PERSONAL_NO [--year Y] --format pdf|xml|zip --out DIR [--purpose …] [--recipient …]
    hocba records export --class 9A1 --year 2024-2025 --format pdf|xml --out DIR
    hocba records revoke --record UUID --reason "…"
    hocba records reissue --record UUID [--demo-sign]
    hocba records verify FILE [FILE …]
    hocba records recover [--rollback]

Every change goes through ``hocba.records.actions`` as a named user (``--as USERNAME``, default the school's
principal), so it is permission-checked, audited and entered in the registry like a change made on the web.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from hocba.records.pipeline import acting_user
from hocba.school.actions import ActionError
from hocba.school.models import School, SchoolClass, Student

KIND_NAMES = {"gvbm": "Giáo viên bộ môn", "gvcn": "Giáo viên chủ nhiệm", "leader": "Hiệu trưởng duyệt",
              "seal": "Con dấu số"}


def _secs(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


class Command(BaseCommand):
    help = "Học bạ số: tạo, ký, phát hành, thu hồi, xuất và kiểm tra học bạ."
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)

        def common(p):
            p.add_argument("--school", help="mã trường (mặc định: trường duy nhất, hoặc trường minh hoạ)")
            p.add_argument("--as", dest="username", help="thực hiện với tư cách tài khoản này (mặc định: hiệu trưởng)")

        issue = sub.add_parser("issue", help="tạo học bạ của lớp từ sổ theo dõi đã ban hành (và ký, với --demo-sign)")
        common(issue)
        issue.add_argument("--year", required=True, help="năm học, ví dụ 2024-2025")
        issue.add_argument("--class", dest="classes", action="append", default=[], help="tên lớp (lặp lại được)")
        issue.add_argument("--all", dest="every", action="store_true", help="mọi lớp của năm học")
        issue.add_argument("--demo-sign", action="store_true",
                           help="mọi người ký bằng khoá minh hoạ trên máy chủ (chỉ dùng để trình diễn, kiểm thử); "
                                "lớp của trường minh hoạ chưa có điểm được nạp sổ điểm minh hoạ")
        issue.add_argument("--processes", type=int, default=1, help="số tiến trình ký song song (mặc định 1)")

        status = sub.add_parser("status", help="tiến độ ký học bạ của lớp")
        common(status)
        status.add_argument("--year", required=True)
        status.add_argument("--class", dest="classes", action="append", default=[], required=True)

        export = sub.add_parser("export", help="xuất học bạ đã phát hành của một học sinh (ghi sổ đăng ký)")
        common(export)
        who = export.add_mutually_exclusive_group(required=True)
        who.add_argument("--student", help="số định danh cá nhân (12 chữ số) của học sinh")
        who.add_argument("--class", dest="class_name", help="mọi học sinh của lớp (cần --year)")
        export.add_argument("--year", help="chỉ năm học này (mặc định: mọi năm đã phát hành)")
        export.add_argument("--format", choices=("pdf", "xml", "zip"), required=True,
                            help="zip: toàn bộ học bạ THCS trong một tệp, kiểm tra được trong một bước")
        export.add_argument("--out", required=True, help="thư mục ghi tệp")
        export.add_argument("--purpose", default="Xuất tệp bằng dòng lệnh", help="mục đích (ghi vào sổ đăng ký)")
        export.add_argument("--recipient", default="", help="cấp cho ai (ghi vào sổ đăng ký)")

        revoke = sub.add_parser("revoke", help="thu hồi một học bạ đã phát hành (hiệu trưởng)")
        common(revoke)
        revoke.add_argument("--record", required=True, help="mã định danh học bạ (UUID) hoặc mã tra cứu")
        revoke.add_argument("--reason", required=True)

        reissue = sub.add_parser("reissue", help="tạo phiên bản mới thay thế học bạ đã thu hồi")
        common(reissue)
        reissue.add_argument("--record", required=True)
        reissue.add_argument("--demo-sign", action="store_true")

        verify = sub.add_parser("verify", help="kiểm tra chữ ký số và tình trạng trong sổ đăng ký của tệp học bạ")
        verify.add_argument("files", nargs="+")

        recover = sub.add_parser("recover", help="chạy tiếp các lô ký bị dừng giữa chừng, dọn tệp mồ côi")
        recover.add_argument("--rollback", action="store_true", help="huỷ phần còn lại của các lô bị dừng")

    def handle(self, *args, command: str, **options):
        try:
            getattr(self, f"do_{command}")(**options)
        except (ActionError, PermissionDenied) as exc:
            messages = getattr(exc, "messages", None) or [str(exc)]
            raise CommandError(" ".join(str(m) for m in messages)) from exc

    # --- helpers ---------------------------------------------------------------------------------------
    def _school(self, code: str | None) -> School:
        from hocba.school.demo import demo_organisation

        if code:
            school = School.objects.filter(code=code).first()
        else:
            school = School.objects.filter(code=demo_organisation().school_code).first() or \
                (School.objects.get() if School.objects.count() == 1 else None)
        if school is None:
            raise CommandError("Không xác định được trường; dùng --school MÃ_TRƯỜNG.")
        return school

    def _classes(self, school: School, year: str, names: list[str], every: bool) -> list[SchoolClass]:
        qs = SchoolClass.objects.filter(school=school, year__name=year).select_related(
            "school__department", "year", "homeroom_teacher").order_by("grade", "name")
        if every:
            return list(qs)
        if not names:
            raise CommandError("Cần --class TÊN_LỚP (hoặc --all).")
        found = {c.name: c for c in qs.filter(name__in=names)}
        missing = [n for n in names if n not in found]
        if missing:
            raise CommandError(f"Năm học {year} không có lớp: {', '.join(missing)}.")
        return [found[n] for n in names]

    def _record(self, ref: str):
        import uuid

        from hocba.records.codes import normalise_code
        from hocba.records.models import HocBaRecord

        qs = HocBaRecord.objects.select_related("school", "student", "school_class", "year", "leader")
        try:
            record = qs.filter(record_id=uuid.UUID(ref)).first()
        except ValueError:
            record = qs.filter(verification_code=normalise_code(ref)).first()
        if record is None:
            raise CommandError(f"Không có học bạ {ref}.")
        return record

    # --- sub-commands ----------------------------------------------------------------------------------
    def do_issue(self, *, school, username, year, classes, every, demo_sign, processes, **_):
        from hocba.records import demo, pipeline
        from hocba.records.models import HocBaRecord

        school = self._school(school)
        actor = acting_user(username, school)
        targets = self._classes(school, year, classes, every)
        if demo_sign:
            for c in targets:
                if demo.is_demo_class(c) and not demo.has_gradebook(c):
                    counts = demo.fill_demo_gradebook(c)
                    self.stdout.write(f"Lớp {c.name}: chưa có sổ theo dõi, đã nạp sổ điểm minh hoạ của "
                                      f"{counts['students']} học sinh và ban hành.")

        def on_class(c, result):
            line = f"Lớp {c.name}: tạo {len(result.created)} học bạ"
            if result.skipped:
                line += f", {len(result.skipped)} học sinh đã có học bạ đang ký hoặc đã phát hành"
            if result.not_ready:
                line += f", {len(result.not_ready)} học sinh chưa đủ dữ liệu"
            self.stdout.write(line + f" ({_secs(sum(result.seconds.values()))} giây).")
            for nr in result.not_ready:
                self.stdout.write(f"  - {nr.student.full_name} ({nr.student.student_code}): {'; '.join(nr.reasons)}")

        pipeline.generate(actor, targets, on_class=on_class)
        records = HocBaRecord.objects.filter(school_class__in=targets,
                                             status__in=(HocBaRecord.DRAFT, HocBaRecord.SIGNING))
        if not demo_sign:
            self.stdout.write(f"{records.count()} học bạ đang chờ ký. Giáo viên, giáo viên chủ nhiệm và hiệu trưởng "
                              "ký trên trang «Học bạ số» của lớp; sau đó hiệu trưởng đóng con dấu số.")
            return

        def on_batch(kind, batch):
            if batch.state != "finished":
                self.stderr.write(f"  Lô {KIND_NAMES[kind]} #{batch.pk}: {batch.error}")

        runs = pipeline.sign_everything(school, records, processes=processes, on_batch=on_batch)
        for run in runs:
            self.stdout.write(f"{KIND_NAMES[run.kind]}: {run.signatures} chữ ký trong {run.batches} lô, "
                              f"{_secs(run.seconds)} giây" + (f", {run.failed} lỗi" if run.failed else "") + ".")
        issued = HocBaRecord.objects.filter(school_class__in=targets, status=HocBaRecord.ISSUED).count()
        pending = records.filter(status__in=(HocBaRecord.DRAFT, HocBaRecord.SIGNING)).count()
        self.stdout.write(self.style.SUCCESS(f"Đã phát hành {issued} học bạ.") if not pending else
                          self.style.ERROR(f"Đã phát hành {issued} học bạ; {pending} học bạ chưa phát hành được."))
        if pending:
            raise CommandError("Còn học bạ chưa phát hành (xem lỗi ở trên); chạy «hocba records recover».")

    def do_status(self, *, school, username, year, classes, **_):
        from hocba.records.selectors import class_overview

        school = self._school(school)
        actor = acting_user(username, school)
        for c in self._classes(school, year, classes, False):
            overview = class_overview(actor, c)
            self.stdout.write(f"Lớp {c.name} – năm học {year}: "
                              + ", ".join(f"{n} {s}" for s, n in sorted(overview.counts.items())))
            for p in overview.release_problems:
                self.stdout.write(f"  ! {p}")
            for step in overview.steps:
                self.stdout.write(f"  {step.name}: {step.signed}/{step.total}")
                for m in step.missing:
                    self.stdout.write(f"    còn thiếu: {m.name} – {m.count} (ký được ngay: {m.ready})")

    def do_export(self, *, school, username, student, class_name, year, format, out, purpose, recipient, **_):
        from hocba.records import actions
        from hocba.records.models import HocBaRecord, RegistryEntry

        if class_name:
            if not year or format == "zip":
                raise CommandError("Xuất cả lớp cần --year và định dạng pdf hoặc xml.")
            target_school = self._school(school)
            actor = acting_user(username, target_school)
            cls = self._classes(target_school, year, [class_name], False)[0]
            records = HocBaRecord.objects.filter(school_class=cls, status=HocBaRecord.ISSUED).select_related(
                "school", "school_class", "year", "student").order_by("student__sort_key")
            out_dir = Path(out)
            out_dir.mkdir(parents=True, exist_ok=True)
            for r in records:
                f = actions.give_copy(actor, r, format, event=RegistryEntry.EXPORTED, recipient=recipient,
                                      purpose=purpose)
                (out_dir / f.filename).write_bytes(f.data)
                self.stdout.write(str(out_dir / f.filename))
            return
        students = list(Student.objects.filter(personal_number=student).select_related("school"))
        if not students:
            raise CommandError(f"Không có học sinh có số định danh {student}.")
        target = next((s for s in students if school and s.school.code == school), students[0])
        actor = acting_user(username, target.school)
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        if format == "zip":
            files = [actions.give_bundle(actor, target, recipient=recipient, purpose=purpose)]
        else:
            records = HocBaRecord.objects.filter(student__personal_number=student, status=HocBaRecord.ISSUED) \
                .select_related("school", "school_class", "year", "student").order_by("year__name")
            if year:
                records = records.filter(year__name=year)
            if not records:
                raise CommandError("Học sinh chưa có học bạ đang có hiệu lực" + (f" năm học {year}." if year else "."))
            files = [actions.give_copy(actor, r, format, event=RegistryEntry.EXPORTED, recipient=recipient,
                                       purpose=purpose) for r in records]
        for f in files:
            (out_dir / f.filename).write_bytes(f.data)
            self.stdout.write(str(out_dir / f.filename))

    def do_revoke(self, *, school, username, record, reason, **_):
        from hocba.records import actions

        target = self._record(record)
        actor = acting_user(username, target.school)
        actions.revoke(actor, target, reason)
        self.stdout.write(self.style.SUCCESS(f"Đã thu hồi học bạ {target.record_id} (phiên bản {target.version})."))

    def do_reissue(self, *, school, username, record, demo_sign, **_):
        from hocba.records import actions, pipeline
        from hocba.records.models import HocBaRecord

        target = self._record(record)
        actor = acting_user(username, target.school)
        new = actions.reissue(actor, target)
        self.stdout.write(f"Đã tạo phiên bản {new.version} ({new.record_id}) thay thế {target.record_id}.")
        if demo_sign:
            pipeline.sign_everything(target.school, HocBaRecord.objects.filter(pk=new.pk))
            new.refresh_from_db()
            self.stdout.write(f"Phiên bản {new.version}: {new.get_status_display()}.")

    def do_verify(self, *, files, **_):
        from hocba.records.verification import verify_document

        failed = False
        for name in files:
            check = verify_document(Path(name).read_bytes())
            self.stdout.write(f"{name}: {check.verdict}")
            if check.record_id:
                self.stdout.write(f"  Mã định danh học bạ: {check.record_id}")
            failed |= not (check.signatures_valid and check.status.in_force)
        if failed:
            sys.exit(1)

    def do_recover(self, *, rollback, **_):
        from hocba.records import workflow

        stale = list(workflow.stale_batches())
        for batch in stale:
            if rollback:
                workflow.rollback_batch(batch.actor, batch)
                self.stdout.write(f"Đã huỷ phần còn lại của lô #{batch.pk}.")
            else:
                batch = workflow.resume_batch(batch)
                self.stdout.write(f"Lô #{batch.pk}: {batch.get_state_display()} ({batch.done}/{batch.total}).")
        removed = workflow.remove_orphans()
        self.stdout.write(f"{len(stale)} lô bị dừng; đã xoá {removed} tệp không còn được dùng.")
