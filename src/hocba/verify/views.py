"""The public pages (no login): ``/xac-thuc/`` (drop a file or type a code), ``/xac-thuc/<code>`` (the
status; with ``?k=<secret>`` from the printed QR code, the summary and the authentic copy) and
``/xac-thuc/<code>/tai-ve/<pdf|xml>?k=<secret>``. Thin: limits and refusals here, the rest in ``service``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.http import HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from hocba.records.codes import normalise_code

from . import conf, service, throttle
from .models import VerificationLog

FORM = "verify/portal.html"
RESULT = "verify/result.html"


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _form(request, *, error: str = "", code: str = "", status: int = 200):
    return render(request, FORM, {"error": error, "code": code, "max_size": _mb(conf.max_bytes())}, status=status)


def _refused(request, message: str, status: int, retry_after: int | None = None):
    response = render(request, "verify/refused.html", {"message": message, "status": status}, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def _rate_limited(request):
    wait = throttle.hit(request)
    if wait:
        return _refused(request, throttle.REFUSED_MESSAGE.format(seconds=wait), 429, wait)
    return None


def _private(response):
    """Results name a student or carry the QR secret: never cached, never sent on as a referrer."""
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "POST"])
def portal(request):
    if request.method == "POST":
        return _upload(request)
    if "ma" in request.GET:
        typed = request.GET.get("ma", "")
        code = normalise_code(typed)
        if not code:
            return _form(request, code=typed[:40], status=400,
                         error="Mã tra cứu gồm 12 chữ và số (ví dụ K7M2-9QXR-4TBD). Vui lòng kiểm tra lại.")
        return redirect("verify:code", code=code)
    return _form(request)


def _upload(request):
    refused = _rate_limited(request)
    if refused:
        return refused
    limit = conf.max_bytes()
    too_big = f"Tệp quá lớn: cổng xác thực nhận tệp đến {_mb(limit)}."
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + 64 * 1024:
        return _refused(request, too_big, 413)
    try:
        upload = request.FILES.get("file")
    except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation, BadRequest, ValueError):
        return _form(request, status=400, error="Không nhận được tệp (dữ liệu gửi lên bị hỏng). Vui lòng gửi lại.")
    if upload is None:
        return _form(request, status=400, error="Chưa chọn tệp PDF hoặc XML để kiểm tra.")
    if upload.size > limit:
        return _refused(request, too_big, 413)
    data = upload.read(limit + 1)
    if len(data) > limit:
        return _refused(request, too_big, 413)
    try:
        report = service.check_file(data, channel=VerificationLog.PAGE, ip_hash=throttle.ip_hash(
            throttle.client_ip(request)))
    except service.Busy as exc:
        return _refused(request, str(exc), 503, 30)
    name = (upload.name or "")[:120]
    return _private(render(request, RESULT, {"report": report, "file_name": name}))


@require_GET
def by_code(request, code: str):
    secret = request.GET.get("k") or None
    normal = normalise_code(code)
    if normal and normal != code:
        target = reverse("verify:code", kwargs={"code": normal})
        return redirect(target + ("?" + urlencode({"k": secret}) if secret else ""))
    refused = _rate_limited(request)
    if refused:
        return refused
    lookup = service.check_code(normal or code, secret, channel=VerificationLog.PAGE,
                                ip_hash=throttle.ip_hash(throttle.client_ip(request)))
    status = 404 if lookup.record is None else 200
    response = render(request, RESULT, {"report": lookup.report, "lookup": lookup, "code": normal or code[:20],
                                        "secret": secret if lookup.secret_ok else None}, status=status)
    return _private(response)


@require_GET
def download(request, code: str, fmt: str):
    refused = _rate_limited(request)
    if refused:
        return refused
    copy = service.authentic_copy(code, request.GET.get("k"), fmt, channel=VerificationLog.PAGE,
                                  ip_hash=throttle.ip_hash(throttle.client_ip(request)))
    if copy is None:
        return _refused(request, "Không tải được bản gốc: đường dẫn thiếu hoặc sai khoá bí mật in trong mã QR, "
                                 "hoặc học bạ chưa được phát hành.", 403)
    data, filename, content_type = copy
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)
