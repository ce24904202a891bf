"""``hocba transfer``: a student's học bạ moving between schools (in this deployment or another one).

    hocba transfer export --student PERSONAL_NO --out FILE [--school CODE] [--as USERNAME]
    hocba transfer import FILE --school CODE [--class NAME [--year YYYY-YYYY]] [--as USERNAME]

Both go through ``hocba.interop.actions`` as a named user (``--as``, default the school's principal): permission
checked, audited and, for an export, entered in the registry. A refused import prints every reason and saves
nothing (exit status 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from hocba.records.pipeline import acting_user
from hocba.school.actions import ActionError
from hocba.school.models import School, SchoolClass, Student


def find_school(value: str | None) -> School:
    if not value:
        if School.objects.count() == 1:
            return School.objects.get()
        raise CommandError("Cần --school MÃ_TRƯỜNG.")
    school = School.objects.filter(code=value).first()
    if school is None and value.isdigit():
        school = School.objects.filter(pk=int(value)).first()
    if school is None:
        raise CommandError(f"Không có trường mã {value}.")
    return school


def messages_of(exc: Exception) -> list[str]:
    return [str(m) for m in (getattr(exc, "messages", None) or [str(exc)])]


class Command(BaseCommand):
    help = "Chuyển trường: xuất gói học bạ đã ký của học sinh, nhận gói từ trường khác (kiểm tra mọi chữ ký)."
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        export = sub.add_parser("export", help="xuất gói chuyển trường của một học sinh")
        export.add_argument("--student", required=True, help="số định danh cá nhân (12 chữ số) của học sinh")
        export.add_argument("--school", help="mã trường đang quản lý học sinh (khi học sinh có ở nhiều trường)")
        export.add_argument("--out", required=True, help="tệp .zip ghi ra")
        export.add_argument("--recipient", default="", help="trường chuyển đến (ghi vào sổ đăng ký)")
        export.add_argument("--as", dest="username")
        imp = sub.add_parser("import", help="nhận gói chuyển trường (kiểm tra mọi chữ ký và chuỗi năm học)")
        imp.add_argument("file")
        imp.add_argument("--school", required=True, help="mã trường nhận")
        imp.add_argument("--class", dest="class_name", help="xếp học sinh vào lớp này (chuyển đến)")
        imp.add_argument("--year", help="năm học của lớp (mặc định: năm học hiện tại)")
        imp.add_argument("--as", dest="username")

    def handle(self, *args, command: str, **options):
        try:
            getattr(self, f"do_{command}")(**options)
        except (ActionError, PermissionDenied) as exc:
            raise CommandError("\n".join(messages_of(exc))) from exc

    def do_export(self, *, student: str, school: str | None, out: str, recipient: str, username: str | None,
                  **_):
        from hocba.interop import actions

        students = Student.objects.filter(personal_number=student).select_related("school")
        if school:
            students = students.filter(school=find_school(school))
        found = list(students)
        if not found:
            raise CommandError(f"Không có học sinh số định danh {student}.")
        if len(found) > 1:
            raise CommandError("Học sinh có ở nhiều trường; dùng --school MÃ_TRƯỜNG.")
        actor = acting_user(username, found[0].school)
        result = actions.export_transfer(actor, found[0], recipient=recipient)
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(result.data)
        self.stdout.write(f"Đã xuất gói chuyển trường của {found[0].full_name}: {out}")

    def do_import(self, *, file: str, school: str, class_name: str | None, year: str | None,
                  username: str | None, **_):
        from hocba.interop import actions

        target = find_school(school)
        actor = acting_user(username, target)
        school_class = None
        if class_name:
            year_obj = actions.admission_year(target, year)
            school_class = SchoolClass.objects.filter(school=target, year=year_obj, name=class_name).first()
            if school_class is None:
                raise CommandError(f"Không có lớp {class_name} trong năm học {year_obj.name}.")
        imported = actions.import_transfer(actor, target, Path(file).read_bytes(), school_class=school_class)
        years = list(imported.records.order_by("school_year"))
        self.stdout.write(f"Đã nhận học bạ của {imported.student.full_name} từ {imported.source_school_name}: "
                          f"{len(years)} năm học ({', '.join(r.school_year for r in years)}); mọi chữ ký số hợp lệ.")
