"""``hocba restore ARCHIVE [--check-only]``: check a backup fully, then restore it into an empty instance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Khôi phục một tệp sao lưu của hocba vào bản cài đặt trống (cơ sở dữ liệu và thư mục tài liệu "
            "đang cấu hình); kiểm tra toàn bộ tệp trước và từ chối tệp hỏng hoặc không đầy đủ.")
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="tệp sao lưu do «hocba backup» tạo")
        parser.add_argument("--check-only", action="store_true",
                            help="chỉ kiểm tra tệp sao lưu (đọc mọi byte), không khôi phục gì")

    def handle(self, *args, archive: Path, check_only: bool, **options):
        from hocba.ops.restore import RestoreError, check_archive, describe, restore_backup

        try:
            if check_only:
                self.stdout.write(describe(check_archive(archive)))
                return
            report = restore_backup(archive)
        except RestoreError as exc:
            self.stderr.write(str(exc))
            sys.exit(1)
        self.stdout.write(describe(report.archive))
        self.stdout.write(f"Đã khôi phục cơ sở dữ liệu và {report.documents} tài liệu.")
        if report.migrations_applied:
            self.stdout.write(f"Đã nâng cấp cơ sở dữ liệu: {', '.join(report.migrations_applied)}.")
        if report.audit.ok:
            self.stdout.write(f"Nhật ký toàn vẹn: {report.audit.events} sự kiện trong {report.audit.scopes} chuỗi.")
        for problem in report.audit.problems:
            self.stderr.write(f"LỖI nhật ký (chuỗi {problem.scope}): {problem.message}")
        if not report.heads_match:
            self.stderr.write("LỖI: đầu các chuỗi nhật ký sau khi khôi phục khác với lúc sao lưu.")
        if not report.ok:
            sys.exit(1)
