"""The JSON API of the portal (no token needed): ``POST /api/v1/verify`` (multipart ``file``) and
``GET /api/v1/records/{code}/status`` (``?k=`` the QR secret for the details). Both answer the report the
page shows (``Verification.to_dict()``); refusals follow ``hocba.api.auth``'s conventions. Described in
``hocba/api/openapi.yaml``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse

from hocba.api.auth import BadRequest, endpoint, error, ok
from hocba.records.codes import normalise_code

from . import conf, service, throttle
from .models import VerificationLog


def _limited(request):
    wait = throttle.hit(request)
    if wait:
        response = error(429, "rate_limited", throttle.REFUSED_MESSAGE.format(seconds=wait))
        response["Retry-After"] = str(wait)
        return response
    return None


def _private(response):
    response["Cache-Control"] = "no-store"
    return response


@endpoint("POST", authenticated=False)
def verify(request):
    """Checks the uploaded PDF or XML (form field ``file``)."""
    refused = _limited(request)
    if refused:
        return refused
    limit = conf.max_bytes()
    too_big = f"Tệp quá lớn: tối đa {limit} byte."
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit + 64 * 1024:
        return error(413, "too_large", too_big)
    try:
        upload = request.FILES.get("file")
    except (MultiPartParserError, RequestDataTooBig, SuspiciousOperation, DjangoBadRequest, ValueError):
        raise BadRequest([{"field": "file", "message": "Dữ liệu multipart bị hỏng."}]) from None
    if upload is None:
        raise BadRequest([{"field": "file", "message": "Cần gửi tệp PDF hoặc XML trong trường 'file' "
                                                       "(multipart/form-data)."}])
    if upload.size > limit:
        return error(413, "too_large", too_big)
    data = upload.read(limit + 1)
    if len(data) > limit:
        return error(413, "too_large", too_big)
    try:
        report = service.check_file(data, channel=VerificationLog.API,
                                    ip_hash=throttle.ip_hash(throttle.client_ip(request)))
    except service.Busy as exc:
        response = error(503, "busy", str(exc))
        response["Retry-After"] = "30"
        return response
    return _private(ok(report.to_dict()))


@endpoint("GET", authenticated=False)
def status(request, code: str):
    """The registry status of a verification code; with ``?k=`` (the QR secret) the full report."""
    refused = _limited(request)
    if refused:
        return refused
    secret = request.GET.get("k") or None
    lookup = service.check_code(normalise_code(code) or code, secret, channel=VerificationLog.API,
                                ip_hash=throttle.ip_hash(throttle.client_ip(request)))
    if lookup.record is None:
        return error(404, "not_found", lookup.report.reason)
    body = lookup.report.to_dict()
    if lookup.can_download:
        base = reverse("verify:code", kwargs={"code": lookup.record.verification_code})
        query = "?" + urlencode({"k": secret})
        body["downloads"] = {fmt: request.build_absolute_uri(f"{base}/tai-ve/{fmt}{query}") for fmt in ("pdf", "xml")}
    else:
        body["downloads"] = None
    return _private(ok(body))
