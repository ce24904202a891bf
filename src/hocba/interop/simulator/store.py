"""The simulator's state in one SQLite file, so that a restart (even ``kill -9``) keeps it.

Two halves:

- **Sector data** (CSDL ngành): one row per entity (a school, class, student, staff member or teaching
  assignment) with its JSON, the school it belongs to and ``updated_at``, the time it last changed. Writing
  the same JSON again changes nothing, so re-seeding is harmless. Pages are read in ``(updated_at, key)``
  order with a keyset token, so an entity that changes during a pull moves behind the reader instead of
  shifting the pages under it.
- **The exchange receiver** (the data-integration platform): per record id the envelope with the highest
  version it has received, and a log of every envelope and what was done with it. The receiver's rules are
  the national ones: keep the highest version, ignore lower or equal ones.

Writes and the ``server_time`` a page reports are taken under one process-wide lock, so no write stamped
before ``server_time`` can commit after it: a client that pulls ``updated_since=server_time`` next time misses
nothing. (A real server cannot promise that across machines; the client pulls with an overlap as well.)
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

#: the key fields of each kind of sector data, in key order
KINDS: dict[str, tuple[str, ...]] = {
    "schools": ("code",),
    "staff": ("school_code", "staff_code"),
    "classes": ("school_code", "school_year", "name"),
    "students": ("school_code", "student_code"),
    "assignments": ("school_code", "school_year", "class_name", "subject_code", "semester", "staff_code"),
}
EVENTS = ("NEW", "UPDATE", "CANCEL")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entities (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    school_code TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS entities_page ON entities (kind, school_code, updated_at, key);
CREATE TABLE IF NOT EXISTS exchange_records (
    record_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    event TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    document_id TEXT NOT NULL,
    school_code TEXT NOT NULL,
    status TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exchange_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    record_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    event TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL,
    received_at TEXT NOT NULL
);
"""


class BadRequest(ValueError):
    """Input the simulator refuses with 400; the message says which field and why."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, field: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise BadRequest(f"{field}: '{text}' is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:  # a naive time is read as UTC
        moment = moment.replace(tzinfo=dt.UTC)
    return moment


def entity_key(kind: str, item: dict) -> str:
    fields = KINDS[kind]
    missing = [f for f in fields if item.get(f) in (None, "")]
    if missing:
        raise BadRequest(f"{kind}: key field(s) {', '.join(missing)} missing in {json.dumps(item)[:200]}")
    return "/".join(str(item[f]) for f in fields)


def _school_code(kind: str, item: dict) -> str:
    return str(item["code"] if kind == "schools" else item["school_code"])


def _canonical(item: dict) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def encode_token(updated_at: str, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([updated_at, key]).encode()).decode()


def decode_token(token: str) -> tuple[str, str]:
    try:
        updated_at, key = json.loads(base64.urlsafe_b64decode(token.encode()))
        return str(updated_at), str(key)
    except (ValueError, TypeError, binascii.Error):
        raise BadRequest("page_token is not a token this server issued") from None


class Store:
    def __init__(self, path: str | Path):
        self.path = str(path)
        self._write_lock = threading.Lock()
        self._last_stamp = ""
        with self._connect() as db:
            db.executescript(_SCHEMA)
            row = db.execute("SELECT max(updated_at) FROM entities").fetchone()
            self._last_stamp = row[0] or ""

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        return db

    def _next_stamp(self) -> str:
        """Now, strictly after every stamp given before (called under the write lock)."""
        moment = utc_now()
        text = stamp(moment)
        if text <= self._last_stamp:
            last = parse_time(self._last_stamp, "updated_at")
            text = stamp(last + dt.timedelta(microseconds=1))
        self._last_stamp = text
        return text

    # --- sector data -----------------------------------------------------------------------------------

    def upsert(self, kind: str, items: Iterable[dict]) -> int:
        """Writes sector data; an item equal to the stored one is left alone. Returns how many changed."""
        if kind not in KINDS:
            raise BadRequest(f"unknown kind '{kind}'; one of {', '.join(KINDS)}")
        prepared = []
        for item in items:
            if not isinstance(item, dict):
                raise BadRequest(f"{kind}: every item must be a JSON object")
            prepared.append((entity_key(kind, item), _school_code(kind, item), _canonical(item)))
        changed = 0
        with self._write_lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for key, school_code, data in prepared:
                    row = db.execute("SELECT data FROM entities WHERE kind=? AND key=?", (kind, key)).fetchone()
                    if row is not None and row[0] == data:
                        continue
                    db.execute("INSERT INTO entities (kind, key, school_code, data, updated_at) VALUES (?,?,?,?,?) "
                               "ON CONFLICT (kind, key) DO UPDATE SET school_code=excluded.school_code, "
                               "data=excluded.data, updated_at=excluded.updated_at",
                               (kind, key, school_code, data, self._next_stamp()))
                    changed += 1
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return changed

    def page(self, kind: str, *, school_code: str | None = None, updated_since: str | None = None,
             page_token: str | None = None, limit: int = DEFAULT_LIMIT) -> dict:
        """One page of ``kind`` changed at or after ``updated_since``, oldest change first."""
        if kind not in KINDS:
            raise BadRequest(f"unknown kind '{kind}'; one of {', '.join(KINDS)}")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
        with self._write_lock:  # no write is half-way while server_time is read
            server_time = max(stamp(utc_now()), self._last_stamp)
        sql = "SELECT key, data, updated_at FROM entities WHERE kind=?"
        args: list = [kind]
        if school_code:
            sql += " AND school_code=?"
            args.append(school_code)
        if updated_since:
            sql += " AND updated_at >= ?"
            args.append(stamp(parse_time(updated_since, "updated_since")))
        if page_token:
            after_stamp, after_key = decode_token(page_token)
            sql += " AND (updated_at > ? OR (updated_at = ? AND key > ?))"
            args += [after_stamp, after_stamp, after_key]
        sql += " ORDER BY updated_at, key LIMIT ?"
        args.append(limit + 1)
        with self._connect() as db:
            rows = db.execute(sql, args).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        items = [{**json.loads(data), "updated_at": updated_at} for _key, data, updated_at in rows]
        next_token = encode_token(rows[-1][2], rows[-1][0]) if more else None
        return {"items": items, "next_page_token": next_token, "server_time": server_time}

    def all_items(self, kind: str, school_code: str | None = None) -> list[dict]:
        sql, args = "SELECT data, updated_at FROM entities WHERE kind=?", [kind]
        if school_code:
            sql += " AND school_code=?"
            args.append(school_code)
        with self._connect() as db:
            rows = db.execute(sql + " ORDER BY key", args).fetchall()
        return [{**json.loads(data), "updated_at": updated_at} for data, updated_at in rows]

    # --- the exchange receiver -------------------------------------------------------------------------

    def receive(self, envelope: dict) -> dict:
        """Applies one envelope by the receiver's rules: a higher version replaces, anything else is ignored.

        The same envelope twice is answered ``duplicate`` (so a sender that lost the first answer learns that
        it arrived); a lower version, or the same version with other content, ``ignored``. Every envelope is
        logged with its outcome.
        """
        record_id, version, event, changed_at, content, digest = _check_envelope(envelope)
        document_id = str(envelope.get("madinhdanhhocba") or record_id)
        school_code = str(envelope.get("matruong") or "")
        status = str(envelope.get("trangthaithongtinhocba") or ("2" if event == "CANCEL" else "1"))
        now = stamp(utc_now())
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT version, sha256, event FROM exchange_records WHERE record_id=?",
                                 (record_id,)).fetchone()
                if row is None or version > row[0]:
                    outcome = "applied"
                    db.execute(
                        "INSERT INTO exchange_records (record_id, version, event, changed_at, document_id, "
                        "school_code, status, sha256, content, received_at) VALUES (?,?,?,?,?,?,?,?,?,?) "
                        "ON CONFLICT (record_id) DO UPDATE SET version=excluded.version, event=excluded.event, "
                        "changed_at=excluded.changed_at, document_id=excluded.document_id, "
                        "school_code=excluded.school_code, status=excluded.status, sha256=excluded.sha256, "
                        "content=excluded.content, received_at=excluded.received_at",
                        (record_id, version, event, changed_at, document_id, school_code, status, digest, content,
                         now))
                    current = (version, digest, event)
                elif version == row[0] and digest == row[1] and event == row[2]:
                    outcome, current = "duplicate", row
                else:
                    outcome, current = "ignored", row
                db.execute("INSERT INTO exchange_log (record_id, version, event, sha256, outcome, received_at) "
                           "VALUES (?,?,?,?,?,?)", (record_id, version, event, digest, outcome, now))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return {"result": outcome, "idbanghi": record_id, "phienban": version, "current_version": current[0],
                "current_sha256": current[1], "current_event": current[2]}

    def exchange_record(self, record_id: str, *, with_content: bool = True) -> dict | None:
        with self._connect() as db:
            row = db.execute("SELECT record_id, version, event, changed_at, document_id, school_code, status, "
                             "sha256, content, received_at FROM exchange_records WHERE record_id=?",
                             (record_id,)).fetchone()
        return _record_json(row, with_content) if row else None

    def exchange_records(self) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT record_id, version, event, changed_at, document_id, school_code, status, "
                              "sha256, content, received_at FROM exchange_records ORDER BY record_id").fetchall()
        return [_record_json(r, False) for r in rows]

    def exchange_log(self) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT id, record_id, version, event, sha256, outcome, received_at "
                              "FROM exchange_log ORDER BY id").fetchall()
        return [{"id": r[0], "idbanghi": r[1], "phienban": r[2], "sukien": r[3], "sha256": r[4], "outcome": r[5],
                 "received_at": r[6]} for r in rows]


def _record_json(row, with_content: bool) -> dict:
    out = {"idbanghi": row[0], "phienban": row[1], "sukien": row[2], "thoigiancapnhat": row[3],
           "madinhdanhhocba": row[4], "matruong": row[5], "trangthaithongtinhocba": row[6], "sha256": row[7],
           "received_at": row[9]}
    if with_content:
        out["noidung"] = base64.b64encode(row[8]).decode()
    return out


def _check_envelope(envelope: dict) -> tuple[str, int, str, str, bytes, str]:
    if not isinstance(envelope, dict):
        raise BadRequest("the envelope must be a JSON object")
    record_id = envelope.get("idbanghi")
    if not isinstance(record_id, str) or not 0 < len(record_id) <= 150:
        raise BadRequest("idbanghi: required, a string of 1–150 characters")
    event = str(envelope.get("sukien") or "").upper()
    if event not in EVENTS:
        raise BadRequest(f"sukien: one of {', '.join(EVENTS)}")
    version = envelope.get("phienban")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BadRequest("phienban: required, an integer of at least 1")
    changed_at = stamp(parse_time(str(envelope.get("thoigiancapnhat") or ""), "thoigiancapnhat"))
    try:
        content = base64.b64decode(str(envelope.get("noidung") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("noidung: not base64") from None
    if not content:
        raise BadRequest("noidung: required (the signed XML, base64)")
    digest = hashlib.sha256(content).hexdigest()
    if envelope.get("sha256") != digest:
        raise BadRequest("sha256: does not match the SHA-256 of noidung")
    return record_id, version, event, changed_at, content, digest
