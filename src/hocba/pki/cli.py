"""``hocba pki init [--people JSON] [--port N] | serve [--port N] | revoke USERNAME [--reason R] [--at ISO]``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from .build import DEFAULT_PORT, REVOCATION_REASONS, DemoPki, init, revoke
from .model import people_from_json
from .server import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hocba pki", description="PKI minh hoạ và kiểm thử (không dùng thật).")
    parser.add_argument("--var-dir", type=Path, default=None, help="mặc định $HOCBA_VAR_DIR hoặc var/")
    sub = parser.add_subparsers(dest="command", required=True)
    p_init = sub.add_parser("init", help="tạo CA, OCSP, CRL, TSA, con dấu số và chứng thư số cá nhân")
    p_init.add_argument("--people", type=Path, help="tệp JSON danh sách người ký (mặc định: danh sách minh hoạ)")
    p_init.add_argument("--port", type=int, default=DEFAULT_PORT, help="cổng của máy chủ PKI trên 127.0.0.1")
    p_init.add_argument("--if-missing", action="store_true", help="không làm gì nếu PKI đã có")
    p_serve = sub.add_parser("serve", help="chạy OCSP/CRL/TSA (certomancer Animator) trên 127.0.0.1")
    p_serve.add_argument("--port", type=int, default=None)
    p_revoke = sub.add_parser("revoke", help="thu hồi chứng thư số minh hoạ của một người dùng")
    p_revoke.add_argument("username")
    p_revoke.add_argument("--reason", default="key_compromise", choices=REVOCATION_REASONS)
    p_revoke.add_argument("--at", type=dt.datetime.fromisoformat, default=None,
                          help="thời điểm thu hồi (ISO 8601, mặc định: bây giờ)")
    args = parser.parse_args(argv)

    if args.command == "init":
        if args.if_missing:
            try:
                DemoPki.open(args.var_dir)
                return 0
            except FileNotFoundError:
                pass
        people = people_from_json(args.people.read_text(encoding="utf-8")) if args.people else None
        pki = init(args.var_dir, people, port=args.port)
        print(f"Đã tạo PKI minh hoạ tại {pki.root} ({len(pki.usernames)} chứng thư số người ký).")
        return 0
    if args.command == "serve":
        serve(args.var_dir, port=args.port)
        return 0
    at = args.at
    if at is not None and at.tzinfo is None:
        at = at.astimezone()
    try:
        when = revoke(args.username, args.reason, at, var_dir=args.var_dir)
    except KeyError as e:
        print(e.args[0], file=sys.stderr)
        return 2
    print(f"Đã thu hồi chứng thư số của {args.username} từ {when.isoformat()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
