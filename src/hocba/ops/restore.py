"""``hocba restore ARCHIVE``: restore a backup into an empty instance.

The order is what makes a refusal safe:

1. **Check the whole archive** (``archive.verify_archive``): readable tar, manifest of a known format and
   version, every member present with the right size and SHA-256, no unsafe or unexpected member. A corrupt
   or partial archive is refused here, before anything is touched.
2. **Check the archive fits this instance**: the same database engine, and no migration this version of
   hocba does not know (an archive from a newer hocba is refused; one from an older hocba is migrated
   forward after the restore).
3. **Check the target is empty**: no row in any table of hocba's data (the national subject catalogue,
   which the migrations seed, does not count) and no user account, and an empty documents directory. A
   restore never overwrites a school's data; to replace an instance, the administrator empties it first.
4. **Stage**: copy the database and every document out of the archive into a temporary directory beside
   the documents directory, hashing each one again (the archive must not change between check and use).
5. **Restore the database in one transaction**: SQLite through the online backup API into the configured
   file (a single step, so a crash leaves the target as it was, and stale WAL files are never an issue);
   PostgreSQL through ``pg_restore --single-transaction --exit-on-error`` into the configured database,
   after dropping the empty instance's tables (which hold no data: step 3).
6. **Put the documents in place** with one directory rename.
7. **Migrate forward** if the archive came from an older hocba, then **verify the audit chains** (the logic
   of ``hocba audit verify``, signed checkpoints included) and compare their heads with the ones the backup
   recorded, **re-validate every stored học bạ document** (``documents.verify_documents``: hashes against the
   records and the registry, and every signature of each issued PDF and XML; ``documents="hash"`` or
   ``"none"`` to do less), and note the restore in the deployment's audit chain.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone

from hocba.audit.chain import ChainReport

from .archive import DOCUMENTS_PREFIX, ENGINE_NAMES, ArchiveError, VerifiedArchive, verify_archive
from .backup import documents_dir, engine, pg_command_env
from .documents import DocumentsReport, verify_documents

# Rows the migrations themselves create: an instance holding only these is empty.
REFERENCE_MODELS = {"school.subject"}  # the national subject catalogue (migration school.0002)
ACCOUNT_MODELS = {"auth.user", "auth.group"}


class RestoreError(Exception):
    """The restore was refused or failed; the argument is the Vietnamese message."""


@dataclasses.dataclass(frozen=True)
class RestoreReport:
    archive: VerifiedArchive
    documents: int
    documents_bytes: int
    migrations_applied: tuple[str, ...]
    audit: ChainReport
    heads_match: bool
    documents_check: DocumentsReport | None = None

    @property
    def ok(self) -> bool:
        return self.audit.ok and self.heads_match and (self.documents_check is None or self.documents_check.ok)


def _local(iso: str | None) -> str:
    try:
        return f"{timezone.localtime(dt.datetime.fromisoformat(iso)):%H:%M:%S %d/%m/%Y}"
    except (TypeError, ValueError):
        return "?"


def describe(archive: VerifiedArchive) -> str:
    m = archive.manifest
    docs = m.get("documents", {})
    return (f"Tệp sao lưu «{archive.path.name}» hợp lệ: định dạng {m['format']} phiên bản {m['version']}, tạo lúc "
            f"{_local(m.get('created_at'))} bởi hocba {m.get('app_version', '?')}, cơ sở dữ liệu "
            f"{ENGINE_NAMES[m['engine']]}, {docs.get('count', len(archive.documents))} tài liệu; mọi mã SHA-256 "
            "đều khớp.")


def check_archive(path: Path) -> VerifiedArchive:
    try:
        return verify_archive(Path(path))
    except ArchiveError as exc:
        raise RestoreError(str(exc)) from exc


# --- does the archive fit, is the target empty ---------------------------------------------------------

def _check_fits(archive: VerifiedArchive) -> None:
    from django.db.migrations.loader import MigrationLoader

    here = engine()
    if archive.engine != here:
        raise RestoreError(f"Tệp sao lưu là của {ENGINE_NAMES[archive.engine]} nhưng bản cài đặt này dùng "
                           f"{ENGINE_NAMES[here]}; chỉ khôi phục được vào cùng loại cơ sở dữ liệu.")
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    unknown = [f"{app}.{name}" for app, name in archive.manifest.get("migrations", {}).items()
               if (app, name) not in known]
    if unknown:
        raise RestoreError(f"Tệp sao lưu được tạo bởi phiên bản hocba mới hơn (có {', '.join(unknown)} mà phiên "
                           f"bản này không có). Hãy khôi phục bằng hocba {archive.manifest.get('app_version')} "
                           "hoặc mới hơn.")


def _data_models():
    for model in apps.get_models(include_auto_created=True):
        label = model._meta.label_lower
        if label in REFERENCE_MODELS or not model._meta.managed or model._meta.proxy:
            continue
        if model._meta.app_config.name.startswith("hocba.") or label in ACCOUNT_MODELS:
            yield model


def target_problems() -> list[str]:
    """Why the configured instance is not empty (nothing when it is)."""
    problems = []
    tables = set(connection.introspection.table_names())
    filled = [m._meta.db_table for m in _data_models()
              if m._meta.db_table in tables and m._base_manager.using("default").exists()]
    if filled:
        shown = ", ".join(filled[:6]) + ("…" if len(filled) > 6 else "")
        problems.append(f"cơ sở dữ liệu đã có dữ liệu (bảng {shown})")
    docs = documents_dir()
    if docs.exists() and any(docs.iterdir()):
        problems.append(f"thư mục tài liệu «{docs}» không trống")
    return problems


# --- restoring -----------------------------------------------------------------------------------------

def _stage(archive: VerifiedArchive, staging: Path) -> tuple[Path, Path, int]:
    """Copy the database and documents out of the archive, re-hashed; (database file, documents dir, bytes)."""
    database = staging / "database"
    with open(database, "wb") as f:
        archive.copy_member(archive.database_member.name, f)
    docs = staging / "documents"
    docs.mkdir()
    total = 0
    root = docs.resolve()
    for member in archive.documents:
        dest = (docs / member.name[len(DOCUMENTS_PREFIX):]).resolve()
        if not dest.is_relative_to(root):  # names were checked already; this is a second lock on the door
            raise RestoreError(f"Tệp sao lưu bị hỏng: thành phần «{member.name}» ra ngoài thư mục tài liệu.")
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "xb") as f:
            archive.copy_member(member.name, f)
        total += member.size
    return database, docs, total


def _restore_sqlite(staged: Path) -> None:
    name = Path(settings.DATABASES["default"]["NAME"])
    name.parent.mkdir(parents=True, exist_ok=True)
    connections.close_all()
    source = sqlite3.connect(staged)
    try:
        target = sqlite3.connect(name, timeout=30)
        try:
            source.backup(target)  # one step: the target changes in a single transaction
            target.execute("PRAGMA journal_mode=WAL")
            check = target.execute("PRAGMA integrity_check").fetchall()
        finally:
            target.close()
    except sqlite3.Error as exc:
        raise RestoreError(f"Không ghi được cơ sở dữ liệu SQLite «{name}»: {exc}.") from exc
    finally:
        source.close()
    if check != [("ok",)]:
        raise RestoreError(f"Cơ sở dữ liệu sau khi khôi phục không toàn vẹn: {check[:3]}.")


def _restore_postgresql(staged: Path) -> None:
    if shutil.which("pg_restore") is None:
        raise RestoreError("Không tìm thấy chương trình pg_restore; hãy cài gói postgresql-client cùng phiên bản "
                           "với máy chủ PostgreSQL.")
    # The target holds no data (checked), only perhaps the empty tables of a `hocba migrate`: drop them so
    # that the dump's tables, whatever migrations they are at, take their place.
    with transaction.atomic(), connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
    connections.close_all()
    args, env = pg_command_env()
    done = subprocess.run(["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner",
                           "--no-privileges", "--dbname", settings.DATABASES["default"]["NAME"], *args, str(staged)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RestoreError(f"pg_restore thất bại, cơ sở dữ liệu không thay đổi: {done.stderr.strip()}")


def _pending_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, backwards in plan if not backwards]


def restore_backup(path: Path, *, documents: str = "full",
                   progress: Callable[[int, int], None] | None = None) -> RestoreReport:
    """Restores ``path`` (see the module docstring); ``documents`` is how the restored học bạ documents are
    re-validated ("full", "hash" or "none"), ``progress(done, total)`` is called as they are."""
    archive = check_archive(path)
    _check_fits(archive)
    try:
        problems = target_problems()
    except DatabaseError as exc:
        raise RestoreError(f"Không kết nối được cơ sở dữ liệu đích: {exc}".strip()) from exc
    if problems:
        raise RestoreError("Bản cài đặt đích không trống: " + "; ".join(problems) + ". Khôi phục chỉ ghi vào một "
                           "bản cài đặt mới, trống (cơ sở dữ liệu mới và thư mục tài liệu trống), để không bao "
                           "giờ ghi đè dữ liệu đang có; không có gì bị thay đổi.")
    docs_dir = documents_dir()
    docs_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=docs_dir.parent, prefix=".hocba-restore-"))
    try:
        try:
            database, staged_docs, doc_bytes = _stage(archive, staging)
        except ArchiveError as exc:
            raise RestoreError(str(exc)) from exc
        except OSError as exc:  # e.g. "documents/a" and "documents/a/b" both present
            raise RestoreError(f"Không tách được tài liệu ra khỏi tệp sao lưu: {exc}; không có gì bị thay "
                               "đổi.") from exc
        os.sync()
        if archive.engine == "sqlite":
            _restore_sqlite(database)
        else:
            _restore_postgresql(database)
        if docs_dir.exists():
            docs_dir.rmdir()  # empty: checked above
        os.rename(staged_docs, docs_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    connections.close_all()
    pending = _pending_migrations()
    if pending:
        call_command("migrate", interactive=False, verbosity=0)
    from hocba.audit.models import AuditChainHead
    from hocba.audit.verify import verify_audit

    audit = verify_audit()
    heads = {str(h.scope): {"seq": h.seq, "hash": h.hash} for h in AuditChainHead.objects.order_by("scope")}
    checked = verify_documents(documents, progress=progress)
    report = RestoreReport(archive, len(archive.documents), doc_bytes, tuple(pending), audit,
                           heads == archive.manifest.get("audit_heads"), checked)
    _record_restore(report)
    return report


def _record_restore(report: RestoreReport) -> None:
    from hocba.audit.log import record

    m = report.archive.manifest
    with transaction.atomic():
        record("ops.restore", object_type="ops.archive", object_id=report.archive.manifest_sha256,
               object_repr=report.archive.path.name,
               extra={"path": str(report.archive.path), "manifest_sha256": report.archive.manifest_sha256,
                      "created_at": m.get("created_at"), "app_version": m.get("app_version"),
                      "documents": report.documents, "migrations_applied": list(report.migrations_applied),
                      "audit_ok": report.audit.ok, "heads_match": report.heads_match,
                      "documents_check": {"mode": report.documents_check.mode,
                                          "records": report.documents_check.records,
                                          "validated": report.documents_check.validated,
                                          "problems": len(report.documents_check.problems)}})
