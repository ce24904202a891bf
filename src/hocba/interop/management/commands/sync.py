"""`hocba sync pull [--since ISO] [--full] [--school CODE…] [--verbose]`: pull from the sector database.
`hocba sync export --school CODE --out FILE`: a school's data in the sector's format (the simulator's seed).

``pull`` prints the change report and exits 1 if a school could not be pulled or an item was refused.
"""

from __future__ import annotations

import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from hocba.interop.report import ACTION_LABELS, KIND_LABELS


def _since(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = dt.datetime.strptime(text, "%d/%m/%Y")
        except ValueError:
            raise CommandError(f"--since '{text}': ghi ngày giờ ISO 8601 (2026-05-30T08:00) hoặc dd/mm/yyyy.") from None
    return moment if moment.tzinfo else timezone.make_aware(moment)


class Command(BaseCommand):
    help = "Đồng bộ dữ liệu trường, lớp, học sinh, cán bộ, phân công từ CSDL ngành."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        pull = sub.add_parser("pull", help="nhận dữ liệu thay đổi từ CSDL ngành")
        pull.add_argument("--since", help="chỉ nhận thay đổi từ thời điểm này (mặc định: từ lần đồng bộ trước)")
        pull.add_argument("--full", action="store_true", help="nhận lại toàn bộ dữ liệu (không dùng mốc)")
        pull.add_argument("--school", action="append", dest="schools", metavar="CODE",
                          help="chỉ đồng bộ trường có mã này (có thể ghi nhiều lần)")
        pull.add_argument("--verbose", action="store_true", help="liệt kê từng thay đổi")
        export = sub.add_parser("export", help="xuất dữ liệu một trường theo định dạng của CSDL ngành (JSON)")
        export.add_argument("--school", action="append", dest="schools", metavar="CODE", required=True)
        export.add_argument("--out", required=True, help="tệp JSON ghi ra")

    def handle(self, *args, subcommand, since=None, full=False, schools=None, verbose=False, **options):
        if subcommand == "export":
            return self.export(schools, options["out"])
        from hocba.interop import client

        if since and full:
            raise CommandError("Chỉ dùng một trong --since và --full.")
        report = client.pull(since=_since(since) if since else None, full=full, school_codes=schools)
        for scope in report.all_scopes:
            self.stdout.write(scope.summary())
            if verbose:
                for change in scope.changes:
                    diffs = "; ".join(f"{label}: '{old}' → '{new}'" for label, old, new in change.diffs)
                    self.stdout.write(f"  {ACTION_LABELS[change.action]} {KIND_LABELS[change.kind]} {change.key} "
                                      f"({change.label}){': ' + diffs if diffs else ''}")
            for c in scope.conflicts:
                what = "đã lấy theo CSDL ngành" if c.applied else "CHƯA áp dụng, nhà trường cần xử lý"
                self.stdout.write(f"  XUNG ĐỘT{' (định danh)' if c.identity else ''} {KIND_LABELS[c.kind]} {c.key} "
                                  f"({c.label}) – {c.field}: tại trường '{c.local}', CSDL ngành '{c.sector}' – {what}")
            for note in scope.notes:
                self.stdout.write(f"  Lưu ý: {note}")
            for error in scope.errors:
                self.stderr.write(f"  LỖI: {error}")
        for error in report.errors:
            self.stderr.write(f"LỖI: {error}")
        self.stdout.write(f"Tổng cộng: {report.change_count} thay đổi, {report.conflict_count} xung đột.")
        if not report.ok:
            sys.exit(1)

    def export(self, codes: list[str], out: str) -> None:
        import json

        from hocba.interop.export import sector_data
        from hocba.school.models import School

        merged: dict[str, list[dict]] = {}
        for code in codes:
            school = School.objects.filter(code=code).select_related("department", "division").first()
            if school is None:
                raise CommandError(f"Không có trường mã {code}.")
            for kind, items in sector_data(school).items():
                merged.setdefault(kind, []).extend(items)
        with open(out, "w", encoding="utf-8") as fh:
            json.dump(merged, fh, ensure_ascii=False, indent=1)
        counts = ", ".join(f"{kind} {len(items)}" for kind, items in merged.items())
        self.stdout.write(f"Đã ghi {out}: {counts}.")
