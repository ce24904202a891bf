"""JSON over HTTP to the sector platform (urllib, no extra dependency), with errors a caller can act on.

``call`` never raises for an HTTP status: it returns it, so that the caller decides what a 409 or a 503
means. It raises ``TransportError`` when no answer came: refused or reset connection, timeout, a broken
answer. Those are always worth retrying.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode


class TransportError(Exception):
    """No usable answer arrived (the request may or may not have been processed)."""


class NotConfigured(Exception):
    """HOCBA_SECTOR_URL (or the exchange URL) is not set."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("error") or f"HTTP {self.status}")


def call(method: str, base_url: str, path: str, *, token: str, timeout: float, params: dict | None = None,
         payload: dict | None = None, headers: dict | None = None) -> Answer:
    if not base_url:
        raise NotConfigured("Chưa cấu hình địa chỉ nền tảng dữ liệu ngành (HOCBA_SECTOR_URL).")
    url = base_url.rstrip("/") + path
    if params:
        url += "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})
    data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json; charset=utf-8")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Answer(response.status, _json(response.read()))
    except urllib.error.HTTPError as exc:
        try:
            body = _json(exc.read())
        except (OSError, http.client.HTTPException):
            body = {}
        return Answer(exc.code, body)
    except (TimeoutError, urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise TransportError(f"Không kết nối được {base_url}: {type(reason).__name__}: {reason}") from exc


def _json(raw: bytes) -> dict:
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {"message": raw[:300].decode("utf-8", "replace")}
    return body if isinstance(body, dict) else {"items": body}
