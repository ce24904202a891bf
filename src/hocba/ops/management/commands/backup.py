"""``hocba backup OUT [--overwrite]``: archive the database and every stored document while the app runs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import ClassVar

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Sao lưu cơ sở dữ liệu và mọi tài liệu đã lưu vào một tệp .tar có kiểm tra SHA-256; chạy được khi "
            "hệ thống đang hoạt động.")
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        parser.add_argument("out", type=Path,
                            help="tệp sao lưu cần tạo, hoặc một thư mục (tên tệp: hocba-NămThángNgày-GiờPhútGiây.tar)")
        parser.add_argument("--overwrite", action="store_true", help="ghi đè nếu tệp đã có")

    def handle(self, *args, out: Path, overwrite: bool, **options):
        from hocba.ops.archive import ENGINE_NAMES
        from hocba.ops.backup import BackupError, create_backup

        try:
            report = create_backup(out, overwrite=overwrite)
        except BackupError as exc:
            self.stderr.write(f"Sao lưu không thành công: {exc}")
            sys.exit(1)
        self.stdout.write(f"Đã sao lưu vào {report.path} ({_decimal(report.size / (1024 * 1024))} MB, "
                          f"{_decimal(report.seconds)} giây).")
        self.stdout.write(f"  Cơ sở dữ liệu {ENGINE_NAMES[report.engine]}, {report.documents} tài liệu, "
                          f"{report.audit_events} sự kiện nhật ký.")
        self.stdout.write(f"  SHA-256 của tệp: {report.sha256}")
        for warning in report.warnings:
            self.stderr.write(f"Cảnh báo: {warning}")


def _decimal(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")
