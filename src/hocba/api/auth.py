"""Token authentication and the JSON conventions of every API endpoint.

Only ``Authorization: Bearer <token>`` authenticates an API request; a browser session is ignored (so the
API needs no CSRF token: a request that a malicious page makes the browser send carries no bearer
token). Refusals are JSON with a Vietnamese message:

- 401 ``{"error": "unauthorized", "message"}`` — no token, an unknown or revoked token;
- 403 ``{"error": "forbidden", "message"}`` — the action's permission check refused;
- 404 ``{"error": "not_found", "message"}``; 405 ``{"error": "method_not_allowed", "message"}``;
- 400 ``{"errors": [{"field"?, "message", …}]}`` — bad input, naming the field;
- 409 ``{"error": "stale", "message", "conflicts": [...]}`` — somebody saved first.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from hocba.school.actions import ActionError

from .actions import token_hash
from .models import ApiToken

# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


class BadRequest(Exception):
    """Bad input: ``errors`` is the list of ``{"field", "message"}`` the 400 answer carries."""

    def __init__(self, errors: list[dict]):
        super().__init__(errors)
        self.errors = errors


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status,
                        json_dumps_params={"ensure_ascii": False})


def ok(data, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def bearer_user(request):
    """The active user of a valid, unrevoked bearer token, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    token = (ApiToken.objects.filter(token_hash=token_hash(secret.strip()), revoked_at__isnull=True)
             .select_related("user").first())
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    request.api_token = token
    return token.user


def json_body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest([{"field": "body", "message": f"Nội dung không phải JSON hợp lệ: {exc}"}]) from None
    if not isinstance(data, dict):
        raise BadRequest([{"field": "body", "message": "Nội dung phải là một đối tượng JSON."}])
    return data


def action_errors(exc: ActionError) -> list[dict]:
    if hasattr(exc, "error_dict"):
        return [{"field": field, "message": message} for field, messages in exc.message_dict.items()
                for message in messages]
    return [{"message": message} for message in exc.messages]


def endpoint(*methods: str, authenticated: bool = True):
    """A JSON endpoint: allowed methods, bearer authentication, and the refusals above."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method not in methods:
                response = error(405, "method_not_allowed", f"Phương thức {request.method} không được hỗ trợ.")
                response["Allow"] = ", ".join(methods)
                return response
            if authenticated:
                user = bearer_user(request)
                if user is None:
                    response = error(401, "unauthorized", "Cần khoá API hợp lệ trong tiêu đề "
                                                          "'Authorization: Bearer …'.")
                    response["WWW-Authenticate"] = 'Bearer realm="hocba"'
                    return response
                request.user = user
            try:
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return ok({"errors": exc.errors}, status=400)
            except PermissionDenied as exc:
                return error(403, "forbidden", str(exc) or "Bạn không có quyền thực hiện thao tác này.")
            except (Http404, ObjectDoesNotExist) as exc:
                return error(404, "not_found", str(exc) or "Không tìm thấy.")
            except ActionError as exc:
                return ok({"errors": action_errors(exc)}, status=400)

        return wrapper

    return decorate
