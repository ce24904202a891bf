"""The simulator's HTTP interface (``http.server``, no framework): what a school system sees of the sector.

Every endpoint needs ``Authorization: Bearer <token>``. Answers are JSON.

Sector data (CSDL ngành), read by ``hocba sync pull``::

    GET  /api/v1/{schools|staff|classes|students|assignments}
         ?school_code=…&updated_since=<ISO 8601>&page_token=…&limit=…
         → {"items": [...], "next_page_token": "…" | null, "server_time": "…"}

The exchange receiver (the data-integration platform), written to by ``hocba outbox run``::

    POST /api/v1/exchange/hocba     an envelope → {"result": "applied"|"duplicate"|"ignored", …}
    GET  /api/v1/exchange/hocba/<idbanghi>

Administration, for tests and the demo::

    PUT    /admin/data/<kind>        {"items": [...]}: create or change sector data
    GET    /admin/data/<kind>        everything of a kind (``?school_code=``)
    GET    /admin/exchange           what the receiver holds (no content)
    GET    /admin/exchange/log       every envelope received and its outcome
    POST   /admin/faults             {"mode": "drop_before"|"drop_after"|"error"|"slow", "count": n,
                                      "path": "/api/v1/exchange", "status": 503, "seconds": 2}
    GET    /admin/faults · DELETE /admin/faults
    GET    /health                   (no token needed)

Faults apply to the next ``count`` requests whose path starts with ``path``: ``drop_before`` reads half the
request and resets the connection without doing anything; ``drop_after`` does the work (the envelope is
stored) and then resets the connection before answering, which is what a sender cannot tell apart from a
lost request; ``error`` answers ``status`` (default 503) without doing anything; ``slow`` waits ``seconds``
before doing the work and answering.
"""

from __future__ import annotations

import hmac
import json
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .store import DEFAULT_LIMIT, KINDS, BadRequest, Store

MAX_BODY = 64 * 1024 * 1024
FAULT_MODES = ("drop_before", "drop_after", "error", "slow")


class _Dropped(Exception):
    """The connection was reset on purpose (fault injection); nothing more is written."""


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._faults: list[dict] = []

    def add(self, spec: dict) -> dict:
        mode = spec.get("mode")
        if mode not in FAULT_MODES:
            raise BadRequest(f"mode: one of {', '.join(FAULT_MODES)}")
        count = spec.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise BadRequest("count: an integer of at least 1")
        fault = {"mode": mode, "remaining": count, "path": str(spec.get("path") or "/api/"),
                 "status": int(spec.get("status") or 503), "seconds": float(spec.get("seconds") or 2.0)}
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, path: str) -> dict | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault["path"]) and fault["remaining"] > 0:
                    fault["remaining"] -= 1
                    if fault["remaining"] == 0:
                        self._faults.remove(fault)
                    return dict(fault)
        return None

    def list(self) -> list[dict]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, store: Store, token: str, *, verbose: bool = False):
        super().__init__(address, Handler)
        self.store, self.token, self.verbose = store, token, verbose
        self.faults = Faults()


class Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    protocol_version = "HTTP/1.1"
    server_version = "hocba-sector-simulator/1"

    # --- plumbing --------------------------------------------------------------------------------------

    def log_message(self, format, *args):
        if self.server.verbose:
            sys.stderr.write(f"{self.address_string()} {format % args}\n")

    def _send(self, status: int, body: dict | list) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        """Close the connection with a TCP reset: the client gets no answer at all."""
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        finally:
            self.close_connection = True
        raise _Dropped

    def _body(self, *, partial: bool = False) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise BadRequest(f"body larger than {MAX_BODY} bytes")
        return self.rfile.read(length // 2 if partial else length)

    def _json_body(self) -> dict:
        try:
            body = json.loads(self._body() or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        return body

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), self.server.token.encode())

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        try:
            if path == "/health":
                self._send(200, {"ok": True})
                return
            if not self._authorised():
                self._body()  # read the body so that the connection stays usable
                self._send(401, {"error": "unauthorized", "message": "missing or wrong bearer token"})
                return
            fault = self.server.faults.take(path) if not path.startswith("/admin") else None
            if fault and fault["mode"] == "drop_before":
                self._body(partial=True)
                self._reset()
            if fault and fault["mode"] == "error":
                self._body()
                self._send(fault["status"], {"error": "injected", "message": "injected failure"})
                return
            if fault and fault["mode"] == "slow":
                time.sleep(fault["seconds"])
            status, body = self._route(method, path, query)
            if fault and fault["mode"] == "drop_after":
                self._reset()
            self._send(status, body)
        except _Dropped:
            return
        except BadRequest as exc:
            self._send(400, {"error": "bad_request", "message": str(exc)})
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- routes ----------------------------------------------------------------------------------------

    def _route(self, method: str, path: str, query: dict) -> tuple[int, dict | list]:
        store = self.server.store
        parts = path.strip("/").split("/")

        def param(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        if parts[:2] == ["api", "v1"] and len(parts) == 3 and parts[2] in KINDS and method == "GET":
            limit = param("limit")
            try:
                limit_value = int(limit) if limit else DEFAULT_LIMIT
            except ValueError:
                raise BadRequest("limit: an integer") from None
            return 200, store.page(parts[2], school_code=param("school_code"), updated_since=param("updated_since"),
                                   page_token=param("page_token"), limit=limit_value)
        if parts[:4] == ["api", "v1", "exchange", "hocba"]:
            if len(parts) == 4 and method == "POST":
                return 200, store.receive(self._json_body())
            if len(parts) == 5 and method == "GET":
                found = store.exchange_record(parts[4])
                return (200, found) if found else (404, {"error": "not_found", "message": "no such record"})
        if parts[0] == "admin":
            return self._admin(method, parts[1:], param)
        self._body()
        return 404, {"error": "not_found", "message": f"no endpoint {method} {path}"}

    def _admin(self, method: str, parts: list[str], param) -> tuple[int, dict | list]:
        store, faults = self.server.store, self.server.faults
        if len(parts) == 2 and parts[0] == "data" and parts[1] in KINDS:
            if method == "PUT":
                items = self._json_body().get("items")
                if not isinstance(items, list):
                    raise BadRequest("items: a list of objects")
                return 200, {"changed": store.upsert(parts[1], items)}
            if method == "GET":
                return 200, {"items": store.all_items(parts[1], param("school_code"))}
        if parts == ["exchange"] and method == "GET":
            return 200, {"records": store.exchange_records()}
        if parts == ["exchange", "log"] and method == "GET":
            return 200, {"log": store.exchange_log()}
        if parts == ["faults"]:
            if method == "POST":
                return 200, {"fault": faults.add(self._json_body())}
            if method == "GET":
                return 200, {"faults": faults.list()}
            if method == "DELETE":
                faults.clear()
                return 200, {"faults": []}
        self._body()
        return 404, {"error": "not_found", "message": "no such admin endpoint"}


def make_server(host: str, port: int, db_path: str, token: str, *, verbose: bool = False) -> SimulatorServer:
    return SimulatorServer((host, port), Store(db_path), token, verbose=verbose)
