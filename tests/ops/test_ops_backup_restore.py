"""``hocba backup`` and ``hocba restore`` as an administrator runs them: real subprocesses on real instances.

A restored instance holds the same data and byte-identical documents, and passes ``hocba audit verify``; a
corrupt, partial or hostile archive is refused with a clear message and nothing is restored; a non-empty
instance is never overwritten; a backup killed half-way leaves nothing that looks like a backup.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import tarfile
import time

import pytest

from hocba.ops.archive import verify_archive

COUNT_SCRIPT = ("import json; from hocba.school.models import Student, SchoolClass; "
                "from hocba.audit.models import AuditEvent; "
                "print(json.dumps([Student.objects.count(), SchoolClass.objects.count(), "
                "AuditEvent.objects.count()]))")
DOCUMENTS = {
    "79770001/2024-2025/9A1/hoc-ba-079212000001.pdf": os.urandom(150_000),
    "79770001/2024-2025/9A1/hoc-ba-079212000001.xml": b"<?xml version='1.0'?><hocBa/>",
    "79770001/2023-2024/Học bạ Nguyễn Thị Ánh – bản thay thế.pdf": os.urandom(5_000),
}


def shell(instance, script: str) -> str:
    """The last line ``hocba shell -c SCRIPT`` prints."""
    done = instance.hocba("shell", "-v0", "-c", script)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def counts(instance) -> list[int]:
    return json.loads(shell(instance, COUNT_SCRIPT))


def write_documents(root, documents=DOCUMENTS):
    for name, data in documents.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def read_documents(root) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def assert_nothing_restored(instance) -> None:
    """No table was created, no document written (a refused restore touches nothing)."""
    assert shell(instance, "from django.db import connection; print(len(connection.introspection.table_names()))") == "0"
    assert not instance.documents.exists() or not any(instance.documents.iterdir())
    assert not list(instance.var_dir.glob(".hocba-restore-*"))


@pytest.fixture(scope="module")
def source(instances):
    """The demo school with a few stored documents, and its backup."""
    instance = instances.new("source")
    for args in (("migrate", "-v0"), ("demo",)):
        done = instance.hocba(*args)
        assert done.returncode == 0, done.stderr
    write_documents(instance.documents)
    archive = instance.var_dir / "sao-luu.tar"
    done = instance.hocba("backup", str(archive))
    assert done.returncode == 0, done.stderr
    assert "Đã sao lưu vào" in done.stdout and "3 tài liệu" in done.stdout
    return instance, archive


@pytest.fixture(scope="module")
def empty_target(instances):
    """An instance that nothing may ever be restored into: every refusal test checks it stays empty."""
    return instances.new("refused")


def test_a_backup_restores_into_an_empty_instance_with_the_same_data_and_documents(source, instances):
    instance, archive = source
    target = instances.new("restored")
    done = target.hocba("restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert "Đã khôi phục cơ sở dữ liệu và 3 tài liệu" in done.stdout
    assert "Nhật ký toàn vẹn" in done.stdout

    verify = target.hocba("audit", "verify")
    assert verify.returncode == 0, verify.stderr
    students, classes, events = counts(target)
    source_students, source_classes, _ = counts(instance)
    assert (students, classes) == (source_students, source_classes) and students > 1000
    # The restored chains hold every event of the snapshot, plus the restore itself.
    heads = verify_archive(archive).manifest["audit_heads"]
    assert events == sum(h["seq"] for h in heads.values()) + 1
    assert read_documents(target.documents) == DOCUMENTS


def test_an_instance_that_only_ran_migrate_counts_as_empty(source, instances):
    _instance, archive = source
    target = instances.new("migrated")
    assert target.hocba("migrate", "-v0").returncode == 0
    done = target.hocba("restore", str(archive))
    assert done.returncode == 0, done.stderr
    assert target.hocba("audit", "verify").returncode == 0


def test_restore_refuses_an_instance_that_has_data_and_changes_nothing(source, instances):
    _instance, archive = source
    target = instances.new("busy")
    assert target.hocba("restore", str(archive)).returncode == 0
    before = counts(target)
    done = target.hocba("restore", str(archive))
    assert done.returncode == 1
    assert "Bản cài đặt đích không trống" in done.stderr and "không có gì bị thay đổi" in done.stderr
    assert counts(target) == before


def test_check_only_reads_the_whole_archive_and_restores_nothing(source, empty_target):
    _instance, archive = source
    done = empty_target.hocba("restore", "--check-only", str(archive))
    assert done.returncode == 0, done.stderr
    assert "hợp lệ" in done.stdout and "mọi mã SHA-256 đều khớp" in done.stdout
    assert_nothing_restored(empty_target)


def test_backup_refuses_to_overwrite_unless_told(source):
    instance, archive = source
    done = instance.hocba("backup", str(archive))
    assert done.returncode == 1 and "đã có" in done.stderr
    into_dir = instance.hocba("backup", str(instance.var_dir))
    assert into_dir.returncode == 0, into_dir.stderr
    made = sorted(instance.var_dir.glob("hocba-*.tar"))
    assert made and verify_archive(made[-1]).manifest["documents"]["count"] == 3
    assert oct(made[-1].stat().st_mode & 0o777) == "0o600"  # every pupil's personal data is in it


# --- damaged, partial and hostile archives ----------------------------------------------------------------

def member_offset(archive, name: str) -> int:
    with tarfile.open(archive) as tar:
        return tar.getmember(name).offset_data


def database_member(archive) -> str:
    return verify_archive(archive).database_member.name


def damaged(archive, tmp_path, how: str):
    data = bytearray(archive.read_bytes())
    out = tmp_path / f"{how}.tar"
    if how == "database-byte":
        data[member_offset(archive, database_member(archive)) + 50_000] ^= 0xFF
    elif how == "document-byte":
        data[member_offset(archive, "documents/79770001/2024-2025/9A1/hoc-ba-079212000001.pdf") + 777] ^= 0x01
    elif how == "manifest-byte":
        data[member_offset(archive, "manifest.json") + 40] ^= 0x01
    elif how == "header-byte":
        data[member_offset(archive, "manifest.json") - 512 + 10] ^= 0x01
    elif how == "truncated-half":
        data = data[:len(data) // 2]
    elif how == "truncated-end":
        data = data[:member_offset(archive, "manifest.json") + 100]
    out.write_bytes(bytes(data))
    return out


def rebuilt(archive, tmp_path, *, drop=(), add=()):
    """A tar of the archive's members with some left out or some added, the manifest unchanged."""
    out = tmp_path / "rebuilt.tar"
    with tarfile.open(archive) as tin, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin.getmembers():
            if info.name not in drop:
                tout.addfile(info, tin.extractfile(info))
        for name, payload in add:
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tout.addfile(info, io.BytesIO(payload))
    return out


@pytest.mark.parametrize("how, message", [
    ("database-byte", "Tệp sao lưu bị hỏng: «{database}» sai mã SHA-256"),
    ("document-byte", "Tệp sao lưu bị hỏng: «documents/79770001/2024-2025/9A1/hoc-ba-079212000001.pdf» sai mã"),
    ("manifest-byte", "Tệp sao lưu bị hỏng: manifest.json không khớp mã SHA-256"),
    ("header-byte", "Tệp sao lưu bị hỏng: dữ liệu không đọc được"),
    ("truncated-half", "Tệp sao lưu không đầy đủ: thiếu"),
    ("truncated-end", "Tệp sao lưu không đầy đủ: thiếu"),
])
def test_a_damaged_archive_is_refused_and_nothing_is_restored(source, empty_target, tmp_path, how, message):
    _instance, archive = source
    done = empty_target.hocba("restore", str(damaged(archive, tmp_path, how)))
    assert done.returncode == 1
    assert message.format(database=database_member(archive)) in done.stderr, done.stderr
    assert_nothing_restored(empty_target)


def test_an_archive_missing_a_member_is_refused_naming_it(source, empty_target, tmp_path):
    _instance, archive = source
    name = "documents/79770001/2024-2025/9A1/hoc-ba-079212000001.xml"
    done = empty_target.hocba("restore", str(rebuilt(archive, tmp_path, drop={name})))
    assert done.returncode == 1
    assert f"Tệp sao lưu không đầy đủ: thiếu 1 thành phần: {name}" in done.stderr, done.stderr
    assert_nothing_restored(empty_target)


def test_an_archive_with_a_path_out_of_the_instance_is_refused_and_writes_nothing_there(
        source, empty_target, tmp_path):
    _instance, archive = source
    evil = rebuilt(archive, tmp_path, add=[("../evil", b"owned"), ("documents/../../evil2", b"owned")])
    done = empty_target.hocba("restore", str(evil))
    assert done.returncode == 1
    assert "Tệp sao lưu bị hỏng: thành phần «../evil» có đường dẫn không an toàn" in done.stderr, done.stderr
    assert_nothing_restored(empty_target)
    for folder in (empty_target.var_dir, empty_target.var_dir.parent, tmp_path):
        assert not (folder / "evil").exists() and not (folder / "evil2").exists()


def test_an_archive_of_the_other_engine_is_refused(source, empty_target, tmp_path):
    """A PostgreSQL dump cannot go into SQLite and the other way round; the message says which is which."""
    _instance, archive = source
    other = {"sqlite": "postgresql", "postgresql": "sqlite"}
    members = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
    engine = manifest["engine"]
    payload = b"not really a database"
    manifest["engine"] = other[engine]
    manifest["members"] = [m for m in manifest["members"] if m["name"] != members[engine]] + [
        {"name": members[other[engine]], "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}]
    data = json.dumps(manifest).encode()
    out = tmp_path / "other.tar"
    with tarfile.open(archive) as tin, tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin.getmembers():
            body = tin.extractfile(info).read()
            if info.name == members[engine]:
                info = tarfile.TarInfo(members[other[engine]])
                body = payload
            elif info.name == "manifest.json":
                body = data
            elif info.name == "manifest.sha256":
                body = f"{hashlib.sha256(data).hexdigest()}  manifest.json\n".encode()
            info.size = len(body)
            tout.addfile(info, io.BytesIO(body))
    done = empty_target.hocba("restore", str(out))
    assert done.returncode == 1
    assert "chỉ khôi phục được vào cùng loại cơ sở dữ liệu" in done.stderr, done.stderr
    assert_nothing_restored(empty_target)


def test_a_backup_killed_half_way_leaves_nothing_that_looks_like_a_backup(source, tmp_path):
    """SIGKILL while the archive is being written (a test-side pause once the database is in it): no OUT,
    only a hidden .partial file, which a restore refuses as incomplete."""
    instance, _archive = source
    out = tmp_path / "killed.tar"
    markers = tmp_path / "markers"
    markers.mkdir()
    process = instance.start_worker("backup-paused", {"out": str(out)}, HOCBA_TEST_MARKERS=str(markers),
                                    HOCBA_TEST_PAUSE_IN_TX="120")
    deadline = time.monotonic() + 120
    while not (markers / "in-tx").exists():
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    assert not out.exists()
    partial = list(tmp_path.glob(".killed.tar.*.partial"))
    assert len(partial) == 1 and partial[0].stat().st_size > 0
    done = instance.hocba("restore", "--check-only", str(partial[0]))
    assert done.returncode == 1 and "Tệp sao lưu không đầy đủ" in done.stderr, done.stderr


# --- the issued học bạ of a restored instance --------------------------------------------------------------

def test_a_restore_revalidates_every_issued_document_and_names_a_corrupted_one(sealed_records, pki_instance):
    """After a restore every issued học bạ is checked again — its files against the record and the registry,
    every signature of its PDF and XML — with a progress line, and the audit chain with its signed
    checkpoint verifies; a stored document damaged before the backup is named and the restore exits 1."""
    source, _ = sealed_records
    good = source.var_dir / "hoc-ba.tar"
    assert source.hocba("backup", str(good)).returncode == 0
    target = pki_instance("restored-records")
    done = target.hocba("restore", str(good))
    assert done.returncode == 0, done.stderr
    assert "Đang kiểm tra học bạ số: 2/2" in done.stdout
    assert ("Kiểm tra học bạ số (mã băm, sổ đăng ký và chữ ký số): 2 phiên bản, 4 tệp, 2 học bạ đã phát hành "
            "được kiểm tra chữ ký, 0 lỗi") in done.stdout, done.stdout
    verify = target.hocba("audit", "verify")
    assert verify.returncode == 0 and "chữ ký số hợp lệ" in verify.stdout, verify.stderr
    assert " 0 điểm niêm phong" not in verify.stdout  # the seal's batch checkpointed the chain

    damaged = pki_instance("damaged-records", source)
    pdf = min(damaged.documents.rglob("*.pdf"))
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pdf.write_bytes(bytes(data))
    archive = damaged.var_dir / "hoc-ba-hong.tar"
    assert damaged.hocba("backup", str(archive)).returncode == 0
    target = pki_instance("restored-damaged")
    done = target.hocba("restore", "--documents", "hash", str(archive))
    assert done.returncode == 1
    assert "1 lỗi" in done.stdout and "LỖI học bạ: Học bạ" in done.stderr, (done.stdout, done.stderr)
    assert pdf.name in done.stderr and "không khớp mã băm" in done.stderr
