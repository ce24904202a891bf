"""Per-address rate limit of the public lookups, in Django's cache (a fixed window per address).

The address is hashed with the deployment's secret key before it is used as a key or logged. The default
cache (``LocMemCache``) counts per web process; with several processes behind one address, configure a shared
cache (``CACHES``: database or Redis) to make the limit exact.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache

from . import conf


def client_ip(request) -> str:
    header = conf.ip_header()
    if header:
        value = request.META.get(header, "")
        if value:
            return value.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def ip_hash(ip: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"hocba-verify:{ip}".encode(), hashlib.sha256).hexdigest()


def hit(request) -> int:
    """Counts one lookup of this address; returns 0 when allowed, else the seconds until the window ends."""
    limit, window = conf.rate_limit()
    if limit <= 0:
        return 0
    now = time.time()
    slot = int(now // window)
    key = f"hocba-verify:rate:{ip_hash(client_ip(request))}:{slot}"
    cache.add(key, 0, timeout=window + 5)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 5)
        count = 1
    if count <= limit:
        return 0
    return max(1, int((slot + 1) * window - now) + 1)


REFUSED_MESSAGE = ("Bạn đã tra cứu quá nhiều lần trong thời gian ngắn. Vui lòng thử lại sau {seconds} giây. "
                   "Nếu đơn vị cần xác thực số lượng lớn học bạ, hãy liên hệ quản trị hệ thống.")
