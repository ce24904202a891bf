"""The học bạ files on disk, content-addressed: ``<school code>/<year>/<record id>/<sha256>.<ext>``.

A signature never rewrites a file: the signed document is a new file named by its hash, written next to the
old one (temporary name, fsync, rename), and only then does the database switch the record to it in one
transaction. The superseded intermediate file is deleted after that transaction commits; a crash in between
leaves at most an orphan, which ``orphans``/``remove_orphans`` find and clean. Issued files are never
deleted.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from .conf import documents_dir


class StoredFileError(RuntimeError):
    """A stored file is missing or its bytes no longer match the hash the database holds."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def relative_dir(school_code: str, year_name: str, record_id: str) -> str:
    return f"{school_code}/{year_name}/{record_id}"


def write(directory: str, data: bytes, ext: str) -> tuple[str, str]:
    """Stores ``data``; returns (relative path, sha256). Idempotent: the same bytes give the same path."""
    digest = sha256(data)
    rel = f"{directory}/{digest}.{ext}"
    path = documents_dir() / rel
    if path.exists() and path.stat().st_size == len(data):
        return rel, digest
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=f".{ext}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel, digest


def read(rel: str, expected_sha256: str | None = None) -> bytes:
    path = documents_dir() / rel
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise StoredFileError(f"Không tìm thấy tệp học bạ {rel} trong kho lưu trữ.") from exc
    if expected_sha256 is not None and sha256(data) != expected_sha256:
        raise StoredFileError(f"Tệp học bạ {rel} không khớp mã băm đã lưu (tệp bị thay đổi hoặc hỏng).")
    return data


def delete(rel: str) -> None:
    (documents_dir() / rel).unlink(missing_ok=True)


def files_under(directory: str) -> list[str]:
    root = documents_dir() / directory
    if not root.is_dir():
        return []
    return [f"{directory}/{p.name}" for p in root.iterdir() if p.is_file()]
