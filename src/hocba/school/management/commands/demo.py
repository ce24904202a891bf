"""``hocba demo``: load the fictional demo school and print its accounts."""

from __future__ import annotations

from typing import ClassVar

from django.core.management.base import BaseCommand, CommandError

from hocba.school.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_SEED,
    DemoError,
    DemoSummary,
    demo_school_exists,
    load_demo,
)


class Command(BaseCommand):
    help = ("Nạp trường minh hoạ (khoảng 1.200 học sinh, 32 lớp, 55 cán bộ, ba năm học) và in danh sách "
            "tài khoản minh hoạ.")
    # A data seed, like migrate: it needs the tables, not the URL configuration or the templates.
    requires_system_checks: ClassVar[list[str]] = []

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=DEMO_SEED,
                            help=f"hạt giống sinh dữ liệu (mặc định {DEMO_SEED}); cùng hạt giống, cùng dữ liệu")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--reset", action="store_true",
                          help="xoá dữ liệu của trường minh hoạ đã có rồi nạp lại")
        mode.add_argument("--if-missing", action="store_true",
                          help="nếu trường minh hoạ đã có thì không nạp, chỉ in danh sách tài khoản")

    def handle(self, *args, seed: int, reset: bool, if_missing: bool, **options):
        if if_missing and demo_school_exists():
            self.stdout.write("Trường minh hoạ đã có; không nạp lại (dùng --reset để nạp lại).")
            self.stdout.write(accounts_table())
            return
        try:
            summary = load_demo(seed, reset=reset)
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(summary_text(summary)))
        self.stdout.write(accounts_table())


def summary_text(summary: DemoSummary) -> str:
    c = summary.counts
    seconds = f"{summary.seconds:.1f}".replace(".", ",")
    lines = [
        (f"Đã {'nạp lại' if summary.reset else 'nạp'} trường minh hoạ «{summary.school_name}» "
         f"(mã {summary.school_code}), hạt giống {summary.seed}, trong {seconds} giây."),
        (f"  {c['staff']} cán bộ, {c['students']} học sinh, {c['years']} năm học, {c['classes']} lớp, "
         f"{c['enrolments']} lượt xếp lớp, {c['assignments']} phân công giảng dạy, {c['accounts']} tài khoản."),
    ]
    for y in summary.years:
        lines.append(f"  Năm học {y.name}: {y.classes} lớp, {y.studying} học sinh đang học "
                     f"({y.transferred_in} chuyển đến, {y.transferred_out} chuyển đi, {y.dropped_out} thôi học), "
                     f"{y.assignments} phân công.")
    return "\n".join(lines)


def accounts_table() -> str:
    header = ("Tên đăng nhập", "Mật khẩu", "Vai trò", "Thử gì")
    rows = [header] + [(username, DEMO_PASSWORD, role, what) for username, role, what in DEMO_ACCOUNTS]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["", "Tài khoản minh hoạ:"]
    for n, row in enumerate(rows):
        lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths)) + "  " + row[3])
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * len(header[3]))
    lines.append("Mọi cán bộ khác cũng có tài khoản, tên đăng nhập là chức vụ và mã cán bộ viết thường "
                 f"(gv.cb0…, pht.cb003), cùng mật khẩu {DEMO_PASSWORD}.")
    return "\n".join(lines)
