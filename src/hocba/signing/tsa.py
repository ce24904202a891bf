"""RFC 3161 timestamps from the deployment's TSA, for every signature we make (PAdES fast path, XAdES).

A request carries a nonce and asks for the TSA's certificate; an answer is accepted only if granted and if
its nonce and message imprint are the ones asked for. ``TsaClient`` keeps a few persistent HTTP connections
(one per worker thread) and keeps requests in flight while the caller works on earlier answers.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import urllib.parse
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

from asn1crypto import cms, tsp

from .precheck import SigningRefused

TSA_CONNECTIONS = 4


class TsaClient:
    """RFC 3161 requests over a few persistent HTTP connections (one per worker thread), each answer
    checked (status, nonce, message imprint). ``stamp_all`` yields the tokens in order while later requests
    are still in flight, so the caller assembles document *i* while the TSA works on *i + 1...*."""

    def __init__(self, url: str, connections: int = TSA_CONNECTIONS):
        self.url = urllib.parse.urlsplit(url)
        self.connections = connections
        self._local = threading.local()

    def _connection(self):
        cls = http.client.HTTPSConnection if self.url.scheme == "https" else http.client.HTTPConnection
        return cls(self.url.hostname, self.url.port, timeout=30)

    def _one(self, digest: bytes) -> bytes:
        nonce = secrets.randbits(63)
        req = tsp.TimeStampReq({"version": 1, "message_imprint": {
            "hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": nonce, "cert_req": True}).dump()
        path = self.url.path or "/"
        for attempt in (1, 2):
            conn = getattr(self._local, "conn", None)
            if conn is None:
                conn = self._local.conn = self._connection()
            try:
                conn.request("POST", path, body=req, headers={"Content-Type": "application/timestamp-query"})
                resp = conn.getresponse()
                body = resp.read()
                if resp.will_close:
                    conn.close()
                    self._local.conn = None
                if resp.status != 200:
                    raise SigningRefused(f"Máy chủ cấp dấu thời gian trả lỗi HTTP {resp.status}; chưa ký.",
                                         code="tsa_refused")
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise SigningRefused("Không kết nối được máy chủ cấp dấu thời gian; chưa ký.",
                                         code="tsa_unreachable") from None
        try:
            answer = tsp.TimeStampResp.load(body)
            granted = answer["status"]["status"].native in ("granted", "granted_with_mods")
        except ValueError:
            granted = False
        if not granted:
            raise SigningRefused("Máy chủ cấp dấu thời gian từ chối yêu cầu; chưa ký.", code="tsa_refused")
        token = answer["time_stamp_token"]
        info = token["content"]["encap_content_info"]["content"].parsed
        if info["nonce"].native != nonce or info["message_imprint"]["hashed_message"].native != digest:
            raise SigningRefused("Dấu thời gian nhận được không khớp yêu cầu; chưa ký.", code="tsa_mismatch")
        return token.dump()

    def stamp_each(self, digests: Sequence[bytes]) -> Iterator[bytes]:
        if not digests:
            return
        workers = max(1, min(self.connections, len(digests)))
        pool = ThreadPoolExecutor(workers, thread_name_prefix="tsa")
        try:
            futures = [pool.submit(self._one, d) for d in digests]
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()
            pool.shutdown(wait=True)

    def stamp_all(self, digests: Sequence[bytes]) -> list[bytes]:
        return list(self.stamp_each(digests))


def request_timestamp(tsa_url: str, digest: bytes) -> cms.ContentInfo:
    """One SHA-256 timestamp token over ``digest`` (checked as above)."""
    return cms.ContentInfo.load(TsaClient(tsa_url, 1).stamp_all([digest])[0])
