"""``hocba sign pdf|xml --as USERNAME --field NAME IN OUT`` and ``hocba verify FILE [--json]``.

``sign`` uses the demo PKI's PKCS#12 of that user (``$HOCBA_VAR_DIR/pki``) and its running ``pki serve``
(timestamps, OCSP). ``verify`` exits 0 only when every signature is valid. Trust anchors: ``--trust PEM``
(repeatable), else ``HOCBA_TRUST_ANCHORS``, else the demo root of ``$HOCBA_VAR_DIR/pki``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .backends import Pkcs12Signer, SignerError
from .precheck import SigningRefused
from .trust import TrustConfig


def _trust(args) -> TrustConfig:
    if args.trust:
        return TrustConfig.from_files(args.trust, allow_fetching=not args.offline)
    from hocba.pki import DemoPki

    default = []
    try:
        default = [DemoPki.open(args.var_dir).root_cert_path]
    except FileNotFoundError:
        pass
    trust = TrustConfig.from_env(default)
    if args.offline:
        from dataclasses import replace

        trust = replace(trust, allow_fetching=False)
    return trust


def _sign(args) -> int:
    from hocba.pki import DemoPki

    pki = DemoPki.open(args.var_dir)
    signer = Pkcs12Signer.load(pki.pkcs12_path(args.username), pki.pkcs12_password)
    trust = TrustConfig.from_files(args.trust or [pki.root_cert_path])
    data = args.input.read_bytes()
    seal = args.seal or args.username == pki.school.seal_username
    if args.format == "pdf":
        from .pades import PadesSettings, SignerSlot, prepare_fields, sign_field, signature_fields

        if args.field not in signature_fields(data):
            data = prepare_fields(data, [SignerSlot(args.field, "con_dau" if seal else "ca_nhan", args.field)])
        out = sign_field(data, args.field, signer, PadesSettings(tsa_url=pki.tsa_url, trust=trust), seal=seal)
    else:
        from .xades import XadesSettings, sign_xml

        refs = [r for r in (args.refs or "").split(",") if r]
        out = sign_xml(data, signer, XadesSettings(tsa_url=pki.tsa_url, trust=trust), signature_id=args.field,
                       references=refs or None)
    args.output.write_bytes(out)
    print(f"Đã ký {args.output} (ô {args.field}) bằng chứng thư số của {args.username}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hocba")
    parser.add_argument("--var-dir", type=Path, default=None)
    sub = parser.add_subparsers(dest="command", required=True)
    p_sign = sub.add_parser("sign", help="ký PDF/XML bằng khoá minh hoạ của một người dùng")
    p_sign.add_argument("format", choices=["pdf", "xml"])
    p_sign.add_argument("--as", dest="username", required=True)
    p_sign.add_argument("--field", required=True, help="ô chữ ký PDF, hoặc Id của chữ ký XML")
    p_sign.add_argument("--refs", help="XML: Id các phần tử người ký chịu trách nhiệm, phân cách bằng dấu phẩy "
                                       "(mặc định: toàn bộ tài liệu)")
    p_sign.add_argument("--seal", action="store_true", help="chữ ký con dấu số (cuối cùng, thêm dấu thời gian "
                                                            "tài liệu)")
    p_sign.add_argument("--trust", action="append", type=Path)
    p_sign.add_argument("--offline", action="store_true", help=argparse.SUPPRESS)
    p_sign.add_argument("input", type=Path)
    p_sign.add_argument("output", type=Path)
    p_verify = sub.add_parser("verify", help="kiểm tra chữ ký số của tệp PDF/XML")
    p_verify.add_argument("file", type=Path)
    p_verify.add_argument("--json", action="store_true")
    p_verify.add_argument("--trust", action="append", type=Path, help="chứng thư số gốc tin cậy (PEM/DER)")
    p_verify.add_argument("--offline", action="store_true", help="không tra cứu OCSP/CRL trực tuyến")
    args = parser.parse_args(argv)

    if args.command == "sign":
        try:
            return _sign(args)
        except (SigningRefused, SignerError, KeyError, FileNotFoundError) as e:
            print(f"Không ký: {e.args[0] if e.args else e}", file=sys.stderr)
            return 3
    from .validate import validate_file

    try:
        trust = _trust(args)
    except (ValueError, OSError) as e:
        print(f"Cấu hình chứng thư số gốc tin cậy không hợp lệ: {e}", file=sys.stderr)
        return 2
    report = validate_file(args.file.read_bytes(), trust)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.render_text())
    return 0 if report.valid else 1


if __name__ == "__main__":
    sys.exit(main())
