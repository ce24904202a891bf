# ruff: noqa: N999 -- the command is called "hocba demo-pki", like "hocba pki"
"""``hocba demo-pki [--if-missing] [--port N] [--school CODE]``: the demo PKI and signing identities of the
demo school (after ``hocba demo``)."""

from __future__ import annotations

from typing import ClassVar

from django.core.management.base import BaseCommand, CommandError

from hocba.identities.demo import DemoPkiError, setup_demo_pki
from hocba.school.demo import demo_organisation
from hocba.school.models import School


class Command(BaseCommand):
    help = ("Tạo PKI minh hoạ (CA, OCSP, CRL, dấu thời gian) với chứng thư số cho mọi cán bộ của trường minh hoạ "
            "và con dấu số của trường, rồi đăng ký chúng làm chữ ký số của cán bộ. Chạy sau «hocba demo».")
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        parser.add_argument("--if-missing", action="store_true",
                            help="dùng lại PKI đã có nếu nó khớp danh sách cán bộ; chỉ đăng ký chứng thư số còn thiếu "
                                 "(mặc định: tạo PKI mới)")
        parser.add_argument("--port", type=int, default=None,
                            help="cổng của máy chủ PKI (hocba pki serve) trên 127.0.0.1; mặc định 9380")
        parser.add_argument("--school", default=None, help="mã trường (mặc định: trường minh hoạ)")

    def handle(self, *args, if_missing: bool, port: int | None, school: str | None, **options):
        code = school or demo_organisation().school_code
        target = School.objects.filter(code=code).first()
        if target is None:
            raise CommandError(f"Chưa có trường mã {code}; hãy chạy «hocba demo» trước.")
        try:
            summary = setup_demo_pki(target, port=port, if_missing=if_missing)
        except DemoPkiError as e:
            raise CommandError(str(e)) from e
        made = "Đã tạo" if summary.generated else "Dùng lại"
        seconds = f"{summary.seconds:.1f}".replace(".", ",")
        self.stdout.write(self.style.SUCCESS(
            f"{made} PKI minh hoạ tại {summary.pki_root} (cổng {summary.port}) cho {summary.people} cán bộ và con "
            f"dấu số của «{summary.school_name}»; đăng ký {summary.registered} chứng thư số ({seconds} giây)."))
        self.stdout.write("Chạy «hocba pki serve» (make demo tự chạy) để có OCSP, CRL và dấu thời gian khi ký.")
