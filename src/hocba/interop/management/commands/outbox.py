"""`hocba outbox run [--once]` sends the exchange outbox; `hocba outbox status` counts it by state.

``run`` keeps going (sleeping until the next message is due) until SIGTERM/Ctrl+C; ``--once`` sends what is
due now and exits: 0 if nothing failed for good in this pass, 1 otherwise.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.db.models import Count


class Command(BaseCommand):
    help = "Gửi học bạ đã phát hành/thu hồi lên nền tảng tích hợp dữ liệu (hàng đợi gửi)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        run = sub.add_parser("run", help="gửi các bản tin đến hạn")
        run.add_argument("--once", action="store_true", help="gửi một lượt những gì đến hạn rồi dừng")
        sub.add_parser("status", help="số bản tin theo tình trạng")

    def handle(self, *args, subcommand, once=False, **options):
        from hocba.interop import conf, outbox
        from hocba.interop.models import OutboxMessage

        if subcommand == "status":
            counts = dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")))
            for state, label in OutboxMessage.STATE_CHOICES:
                self.stdout.write(f"{label}: {counts.get(state, 0)}")
            return

        def show(report):
            self.stdout.write(f"Đã gửi {report.sent}, chờ gửi lại {report.retried}, lỗi {report.failed}.")
            for error in report.errors:
                self.stderr.write(f"LỖI: {error}")

        if not conf.exchange_url():
            self.stderr.write("Chưa cấu hình HOCBA_SECTOR_URL (hoặc HOCBA_EXCHANGE_URL): các bản tin được giữ trong "
                              "hàng đợi cho đến khi có kết nối.")
            if once:
                sys.exit(1)
        if once:
            report = outbox.drain()
            show(report)
            if report.failed:
                sys.exit(1)
            return
        self.stdout.write("Đang chạy hàng đợi gửi (Ctrl+C để dừng).")
        outbox.run_forever(on_report=show)
