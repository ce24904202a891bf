"""``hocba backup OUT``: a consistent, checksummed archive of the database and every stored document, taken
while the application keeps running.

Consistency, per engine:

- **SQLite** — the online backup API (``sqlite3.Connection.backup``) copies every page in one step, inside
  one read transaction. The database runs in WAL mode, so that read transaction sees one committed state and
  never blocks the teachers who keep saving (their commits go to the WAL behind it). A stepped backup
  (a few pages at a time) would restart whenever another connection writes, and under steady score entry
  might never finish. The copy is switched to a rollback journal and checked with ``PRAGMA
  integrity_check`` before it goes into the archive, so the member is one self-contained file.
- **PostgreSQL** — a REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot()``);
  ``pg_dump --format=custom --snapshot=…`` dumps exactly that snapshot, and the manifest's migrations and
  audit chain heads are read in the same transaction, so they describe the dump and not a later state.

Documents are copied **after** the database snapshot. Issued documents are immutable and written before the
transaction that records them commits, so every document the snapshot refers to is already on disk; a
document written after the snapshot is merely extra. A document file is written by a temporary file and a
rename, so a file is read whole or not at all (the size taken at open is the size archived).

The archive is written to a hidden temporary file beside ``OUT`` (same file system, mode 0600: it holds
every pupil's personal data) and renamed to ``OUT`` only once complete and flushed to disk, so a backup
killed half-way never leaves a file that looks complete. A ``ops.backup`` event in the deployment's audit
chain records who took which archive (its SHA-256), since a backup is a copy of everything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from hocba.audit.models import AuditChainHead

from .archive import DATABASE_MEMBERS, DOCUMENTS_PREFIX, FORMAT, FORMAT_VERSION, ArchiveError, ArchiveWriter


class BackupError(Exception):
    """The backup could not be made; the argument is the Vietnamese message."""


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The database as of one moment, in a file, with what the manifest says about it."""

    engine: str
    path: Path
    migrations: dict[str, str]  # app label -> latest applied migration
    audit_heads: dict[str, dict[str, Any]]  # scope -> {"seq", "hash"}
    server_version: str


@dataclasses.dataclass(frozen=True)
class BackupReport:
    path: Path
    engine: str
    size: int
    sha256: str
    database_bytes: int
    documents: int
    documents_bytes: int
    audit_events: int
    seconds: float
    warnings: tuple[str, ...] = ()


def app_version() -> str:
    from hocba import __version__

    return __version__


def documents_dir() -> Path:
    return Path(settings.HOCBA_DOCUMENTS_DIR)


def engine() -> str:
    vendor = connection.vendor
    if vendor not in DATABASE_MEMBERS:
        raise BackupError(f"Không hỗ trợ sao lưu cơ sở dữ liệu loại {vendor}.")
    return vendor


def _latest_migrations(rows) -> dict[str, str]:
    latest: dict[str, str] = {}
    for app, name in rows:  # names are numbered (0001_…), so the greatest name is the latest
        if name > latest.get(app, ""):
            latest[app] = name
    return dict(sorted(latest.items()))


def _heads(rows) -> dict[str, dict[str, Any]]:
    return {str(scope): {"seq": int(seq), "hash": hash_} for scope, seq, hash_ in sorted(rows)}


# --- database snapshots --------------------------------------------------------------------------------

def _snapshot_sqlite(dest: Path) -> Snapshot:
    name = settings.DATABASES["default"]["NAME"]
    if not Path(name).exists():
        raise BackupError(f"Không có cơ sở dữ liệu SQLite «{name}».")
    source = sqlite3.connect(name, timeout=30)
    try:
        copy = sqlite3.connect(dest)
        try:
            source.backup(copy)  # pages=-1: every page in one step, one read transaction
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA integrity_check").fetchall()
            if check != [("ok",)]:
                raise BackupError(f"Bản chụp cơ sở dữ liệu không toàn vẹn: {check[:3]}.")
            migrations = _latest_migrations(copy.execute("SELECT app, name FROM django_migrations"))
            heads = _heads(copy.execute(f"SELECT scope, seq, hash FROM {AuditChainHead._meta.db_table}"))
        finally:
            copy.close()
    except sqlite3.Error as exc:
        raise BackupError(f"Không chụp được cơ sở dữ liệu SQLite: {exc}.") from exc
    finally:
        source.close()
    return Snapshot("sqlite", dest, migrations, heads, sqlite3.sqlite_version)


def pg_command_env() -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump/pg_restore from the settings; the password goes in the environment."""
    db = settings.DATABASES["default"]
    args = ["--no-password"]
    if db.get("HOST"):
        args += ["--host", db["HOST"]]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def pg_connect(**kwargs):
    import psycopg

    db = settings.DATABASES["default"]
    return psycopg.connect(host=db.get("HOST") or None, port=db.get("PORT") or None, user=db.get("USER") or None,
                           password=db.get("PASSWORD") or None, dbname=db["NAME"], **kwargs)


def _snapshot_postgresql(dest: Path) -> Snapshot:
    import psycopg

    if shutil.which("pg_dump") is None:
        raise BackupError("Không tìm thấy chương trình pg_dump; hãy cài gói postgresql-client cùng phiên bản "
                          "với máy chủ PostgreSQL.")
    try:
        conn = pg_connect()
    except psycopg.Error as exc:
        raise BackupError(f"Không kết nối được PostgreSQL: {exc}.") from exc
    try:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cur:
            snapshot_id = cur.execute("SELECT pg_export_snapshot()").fetchone()[0]
            migrations = _latest_migrations(cur.execute("SELECT app, name FROM django_migrations").fetchall())
            heads = _heads(cur.execute(
                f"SELECT scope, seq, hash FROM {AuditChainHead._meta.db_table}").fetchall())
            server_version = cur.execute("SHOW server_version").fetchone()[0]
        args, env = pg_command_env()
        # The exporting transaction stays open until pg_dump is done, so the snapshot stays importable.
        done = subprocess.run(["pg_dump", "--format=custom", f"--snapshot={snapshot_id}", "--file", str(dest),
                               *args, settings.DATABASES["default"]["NAME"]],
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackupError(f"pg_dump thất bại: {done.stderr.strip()}")
        conn.rollback()
    except psycopg.Error as exc:
        raise BackupError(f"Không chụp được cơ sở dữ liệu PostgreSQL: {exc}.") from exc
    finally:
        conn.close()
    return Snapshot("postgresql", dest, migrations, heads, server_version)


def snapshot_database(dest: Path) -> Snapshot:
    return _snapshot_sqlite(dest) if engine() == "sqlite" else _snapshot_postgresql(dest)


# --- documents -----------------------------------------------------------------------------------------

def document_files(root: Path) -> list[tuple[str, Path]]:
    """(member name, path) of every regular file under ``root``, in a stable order; links are refused."""
    found: list[tuple[str, Path]] = []
    if not root.exists():
        return found
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for d in dirs:
            if (Path(folder) / d).is_symlink():
                raise BackupError(f"Thư mục tài liệu có liên kết «{Path(folder) / d}»; hocba không tạo liên kết "
                                  "trong thư mục này, hãy kiểm tra và bỏ nó đi.")
        for f in sorted(files):
            path = Path(folder) / f
            if path.is_symlink() or not path.is_file():
                raise BackupError(f"«{path}» trong thư mục tài liệu không phải tệp thông thường; hãy kiểm tra "
                                  "và bỏ nó đi.")
            relative = path.relative_to(root).as_posix()
            try:
                relative.encode("utf-8")
            except UnicodeEncodeError:
                raise BackupError(f"Tên tệp «{path}» không phải UTF-8 hợp lệ.") from None
            found.append((DOCUMENTS_PREFIX + relative, path))
    return found


# --- the archive ---------------------------------------------------------------------------------------

def default_name(now: dt.datetime) -> str:
    return f"hocba-{timezone.localtime(now):%Y%m%d-%H%M%S}.tar"


def create_backup(out: Path, *, overwrite: bool = False) -> BackupReport:
    started = time.monotonic()
    now = timezone.now()
    out = Path(out)
    if out.is_dir():
        out = out / default_name(now)
    out = out.absolute()
    if out.exists() and not overwrite:
        raise BackupError(f"Tệp «{out}» đã có; chọn tên khác hoặc thêm --overwrite để ghi đè.")
    if not out.parent.is_dir():
        raise BackupError(f"Thư mục «{out.parent}» không tồn tại.")
    if out.parent.resolve().is_relative_to(documents_dir().resolve()):
        raise BackupError(f"Không ghi tệp sao lưu vào trong thư mục tài liệu «{documents_dir()}»: tệp sao lưu sẽ "
                          "tự chép chính nó; hãy chọn thư mục khác.")
    kind = engine()

    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=".hocba-backup-"))
    fd, partial_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".partial")
    partial = Path(partial_name)
    try:
        with os.fdopen(fd, "wb") as f:
            snap = snapshot_database(staging / DATABASE_MEMBERS[kind])
            documents = document_files(documents_dir())  # after the snapshot (see the module's docstring)
            writer = ArchiveWriter(f)
            db_member = writer.add_file(DATABASE_MEMBERS[kind], snap.path)
            doc_bytes, vanished = 0, []
            for name, path in documents:
                try:
                    doc_bytes += writer.add_file(name, path).size
                except FileNotFoundError:  # a temporary file renamed or removed since it was listed
                    vanished.append(name)
            gone = set(vanished)
            documents = [d for d in documents if d[0] not in gone]
            manifest = {
                "format": FORMAT, "version": FORMAT_VERSION,
                "created_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
                "app_version": app_version(), "engine": kind, "database_server_version": snap.server_version,
                "migrations": snap.migrations, "audit_heads": snap.audit_heads,
                "documents": {"count": len(documents), "bytes": doc_bytes},
            }
            size, sha256 = writer.finish(manifest, now.timestamp())
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, out)
        _fsync_dir(out.parent)
    except ArchiveError as exc:
        raise BackupError(str(exc)) from exc
    finally:
        partial.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    warnings = []
    if vanished:
        warnings.append(f"{len(vanished)} tệp trong thư mục tài liệu biến mất trong lúc sao lưu (tệp tạm đang "
                        f"được ghi hoặc đổi tên), không có trong tệp sao lưu: {', '.join(vanished[:5])}")
    report = BackupReport(out, kind, size, sha256, db_member.size, len(documents), doc_bytes,
                          sum(h["seq"] for h in snap.audit_heads.values()), time.monotonic() - started)
    try:
        _record_backup(report, manifest)
    except Exception as exc:  # noqa: BLE001 - the archive is complete; say what could not be noted
        warnings.append(f"Không ghi được sự kiện sao lưu vào nhật ký: {exc}")
    return dataclasses.replace(report, warnings=tuple(warnings))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _record_backup(report: BackupReport, manifest: dict) -> None:
    """The deployment's audit chain notes the backup. The archive is already complete, so a failure here
    (a read-only replica, say) is reported by the caller and does not undo it."""
    from hocba.audit.log import record

    with transaction.atomic():
        record("ops.backup", object_type="ops.archive", object_id=report.sha256[:64],
               object_repr=report.path.name,
               extra={"path": str(report.path), "sha256": report.sha256, "size": report.size,
                      "engine": report.engine, "created_at": manifest["created_at"],
                      "documents": report.documents, "audit_heads": manifest["audit_heads"]})
