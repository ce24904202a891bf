"""``hocba audit verify [--school CODE]``: check the tamper-evident audit trail and the signed checkpoints
that seal it; exit 1 on any problem.

``hocba audit checkpoint (--school CODE | --all)``: seal the head of each school's chain with the school's seal
(run it daily from cron: docs/security.md); exit 1 if a school could not be sealed. ``--all`` takes every
school with an active seal and names the others.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Kiểm tra tính toàn vẹn của nhật ký (chuỗi băm theo từng trường) và niêm phong nhật ký bằng con dấu số."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser("verify", help="kiểm tra chuỗi băm của nhật ký và chữ ký các điểm niêm phong")
        verify.add_argument("--school", help="mã trường (mặc định: mọi trường)")
        verify.add_argument("--no-signatures", action="store_true",
                            help="không kiểm tra chữ ký số của các điểm niêm phong (chỉ đối chiếu mã băm)")
        checkpoint = sub.add_parser("checkpoint", help="niêm phong đầu chuỗi nhật ký bằng con dấu số của trường "
                                                       "(chạy hằng ngày)")
        which = checkpoint.add_mutually_exclusive_group(required=True)
        which.add_argument("--school", help="mã trường")
        which.add_argument("--all", action="store_true", help="mọi trường có con dấu số đang dùng")

    def handle(self, *args, subcommand, school=None, **options):
        from hocba.school.models import School

        found = None
        if school:
            found = School.objects.filter(code=school).first()
            if found is None:
                raise CommandError(f"Không có trường mã {school}.")
        if subcommand == "checkpoint":
            return self.checkpoint([found] if found else None)
        from hocba.audit.verify import verify_audit

        report = verify_audit(found.pk if found else None, signatures=not options.get("no_signatures"))
        if report.ok:
            self.stdout.write(f"Nhật ký toàn vẹn: {report.events} sự kiện trong {report.scopes} chuỗi, "
                              f"{report.checkpoints} điểm niêm phong khớp"
                              + (" (chưa kiểm tra chữ ký)." if options.get("no_signatures") else
                                 ", chữ ký số hợp lệ."))
            return
        for problem in report.problems:
            self.stderr.write(f"LỖI (chuỗi {problem.scope}): {problem.message}")
        sys.exit(1)

    def checkpoint(self, schools):
        from hocba.audit.actions import CheckpointError, checkpoint_chain
        from hocba.identities.models import SigningIdentity
        from hocba.school.models import School

        if schools is None:
            sealed = set(SigningIdentity.objects.filter(kind=SigningIdentity.Kind.SEAL,
                                                        status=SigningIdentity.Status.ACTIVE)
                         .values_list("school_id", flat=True))
            schools = []
            for s in School.objects.order_by("code"):
                if s.pk in sealed:
                    schools.append(s)
                else:
                    self.stdout.write(f"Bỏ qua {s.code} {s.name}: chưa đăng ký con dấu số.")
        failed = 0
        for s in schools:
            try:
                cp = checkpoint_chain(s)
            except CheckpointError as exc:
                failed += 1
                self.stderr.write(f"LỖI {s.code}: {exc}")
                continue
            self.stdout.write(f"Đã niêm phong nhật ký của {s.code} {s.name} tại số thứ tự {cp.seq} "
                              f"(mã băm {cp.hash[:16]}…, ký bởi {cp.signer_name}).")
        if failed:
            sys.exit(1)
