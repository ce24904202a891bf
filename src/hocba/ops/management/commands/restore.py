"""``hocba restore ARCHIVE [--check-only] [--documents full|hash|none]``: check a backup fully, restore it into an
empty instance, then re-validate the audit trail and the stored học bạ documents."""

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
        parser.add_argument("--documents", choices=("full", "hash", "none"), default="full",
                            help="sau khi khôi phục, kiểm tra lại học bạ số đã lưu: full = mã băm và mọi chữ ký số "
                                 "của học bạ đã phát hành (mặc định), hash = chỉ mã băm, none = bỏ qua")

    def handle(self, *args, archive: Path, check_only: bool, documents: str = "full", **options):
        from hocba.ops.restore import RestoreError, check_archive, describe, restore_backup

        try:
            if check_only:
                self.stdout.write(describe(check_archive(archive)))
                return
            report = restore_backup(archive, documents=documents, progress=self.progress)
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
        checked = report.documents_check
        if checked is not None and checked.mode != "none":
            what = ("mã băm, sổ đăng ký và chữ ký số" if checked.mode == "full" else "mã băm và sổ đăng ký")
            self.stdout.write(f"Kiểm tra học bạ số ({what}): {checked.records} phiên bản, {checked.files} tệp, "
                              f"{checked.validated} học bạ đã phát hành được kiểm tra chữ ký, "
                              f"{len(checked.problems)} lỗi ({checked.seconds:.1f} giây).")
            for problem in checked.problems:
                self.stderr.write(f"LỖI học bạ: {problem}")
        if not report.ok:
            sys.exit(1)

    def progress(self, done: int, total: int) -> None:
        """One line per record for a small instance, about every 5 % for a large one."""
        step = max(1, total // 20)
        if done == total or done % step == 0:
            self.stdout.write(f"Đang kiểm tra học bạ số: {done}/{total}")
            self.stdout.flush()
