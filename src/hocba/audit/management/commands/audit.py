"""`hocba audit verify [--school CODE]`: check the tamper-evident audit trail; exit 1 on any problem."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Kiểm tra tính toàn vẹn của nhật ký (chuỗi băm theo từng trường)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="kiểm tra chuỗi băm của nhật ký")
        verify.add_argument("--school", help="mã trường (mặc định: mọi trường)")

    def handle(self, *args, subcommand, school=None, **options):
        from hocba.audit.verify import verify_audit
        from hocba.school.models import School

        scope = None
        if school:
            found = School.objects.filter(code=school).first()
            if found is None:
                raise CommandError(f"Không có trường mã {school}.")
            scope = found.pk
        report = verify_audit(scope)
        if report.ok:
            self.stdout.write(f"Nhật ký toàn vẹn: {report.events} sự kiện trong {report.scopes} chuỗi.")
            return
        for problem in report.problems:
            self.stderr.write(f"LỖI (chuỗi {problem.scope}): {problem.message}")
        sys.exit(1)
