"""``hocba admission``: the admission batch of a school (hồ sơ tuyển sinh).

    hocba admission export --school CODE --grade 9 --out FILE [--year YYYY-YYYY] [--full-validation] [--dry-run]

Prints the report (how many students, who is missing or invalid and why). ``--dry-run`` writes nothing at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from hocba.records.pipeline import acting_user
from hocba.school.actions import ActionError

from .transfer import find_school, messages_of


class Command(BaseCommand):
    help = "Hồ sơ tuyển sinh: một tệp cho mỗi trường chứa học bạ đã ký của học sinh lớp cuối cấp."
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="command", required=True)
        export = sub.add_parser("export", help="tạo tệp hồ sơ tuyển sinh (hoặc chỉ báo cáo, với --dry-run)")
        export.add_argument("--school", required=True, help="mã trường")
        export.add_argument("--grade", type=int, required=True, choices=(5, 9), help="khối: 9 (THCS) hoặc 5")
        export.add_argument("--year", help="năm học (mặc định: năm học hiện tại)")
        export.add_argument("--out", help="tệp .zip ghi ra (không cần với --dry-run)")
        export.add_argument("--dry-run", action="store_true", help="chỉ kiểm tra và in báo cáo, không ghi gì")
        export.add_argument("--full-validation", action="store_true",
                            help="kiểm tra lại mọi chữ ký số của mọi tệp (khoảng 4 giây mỗi năm học)")
        export.add_argument("--as", dest="username")

    def handle(self, *args, command: str, school: str, grade: int, year: str | None, out: str | None,
               dry_run: bool, full_validation: bool, username: str | None, **_):
        from hocba.interop import actions

        if not dry_run and not out:
            raise CommandError("Cần --out TỆP (hoặc --dry-run).")
        target = find_school(school)
        actor = acting_user(username, target)
        try:
            report, result = actions.export_admission(actor, target, grade, year_name=year, full=full_validation,
                                                      dry_run=dry_run)
        except (ActionError, PermissionDenied) as exc:
            raise CommandError("\n".join(messages_of(exc))) from exc
        for line in report.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("Chạy thử: không ghi tệp nào.")
            return
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_bytes(result.data)
        self.stdout.write(f"Đã ghi hồ sơ tuyển sinh ({len(report.included)} học sinh): {out}")
