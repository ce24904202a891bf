# ruff: noqa: N999  (the command is "hocba api-token", so the module name has a hyphen)
"""``hocba api-token USERNAME``: issue an API token for a user (printed once), list or revoke them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hocba.api import actions
from hocba.api.models import ApiToken
from hocba.school.actions import ActionError


class Command(BaseCommand):
    help = "Cấp khoá API cho một tài khoản (in ra một lần duy nhất), liệt kê hoặc thu hồi khoá."

    def add_arguments(self, parser):
        parser.add_argument("username", help="tên đăng nhập")
        parser.add_argument("--label", default="", help="tên gợi nhớ của khoá (ví dụ: máy chấm điểm phòng 12)")
        parser.add_argument("--list", action="store_true", help="liệt kê các khoá của tài khoản")
        parser.add_argument("--revoke", metavar="ID", type=int, help="thu hồi khoá có số ID này")

    def handle(self, *args, username: str, label: str, list: bool, revoke: int | None, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"Không có tài khoản '{username}'.")
        if list:
            for token in ApiToken.objects.filter(user=user):
                state = "đã thu hồi" if token.revoked else "đang dùng"
                used = f"{token.last_used_at:%d/%m/%Y %H:%M}" if token.last_used_at else "chưa dùng"
                self.stdout.write(f"{token.pk}\t{token.prefix}…\t{state}\t{used}\t{token.label}")
            return
        try:
            if revoke is not None:
                token = ApiToken.objects.filter(user=user, pk=revoke).first()
                if token is None:
                    raise CommandError(f"Tài khoản '{username}' không có khoá số {revoke}.")
                actions.revoke_token(None, token)
                self.stdout.write(f"Đã thu hồi khoá {token.prefix}… của {username}.")
                return
            issued = actions.issue_token(None, user, label=label)
        except ActionError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stderr.write(f"Khoá API mới của {username} (số {issued.token.pk}); lưu lại ngay, khoá chỉ hiện một lần:")
        self.stdout.write(issued.secret)
