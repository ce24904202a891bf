"""The backup archive, format ``hocba-backup`` version 1: writing one and checking one, with no Django.

An archive is an uncompressed POSIX tar whose members are, in this order::

    database.sqlite3 | database.pgdump   the database snapshot (a SQLite file, or pg_dump --format=custom)
    documents/<path>                     every stored document, by its path under HOCBA_DOCUMENTS_DIR
    manifest.json                        what the archive holds: format, version, engine, migrations, and
                                         each member's name, size and SHA-256
    manifest.sha256                      "<SHA-256 of manifest.json>  manifest.json" (sha256sum -c reads it)

Choices, and why:

- **The manifest comes last.** Each member's SHA-256 is computed while the member is streamed into the
  archive, so every byte is read once (a district's documents run to hundreds of gigabytes); tar needs a
  member's size before its data, so a manifest placed first would need a second pass. A truncated archive
  therefore lacks its manifest and is refused as incomplete.
- **No compression.** PDFs and ``pg_dump --format=custom`` are compressed already; plain tar keeps the
  archive readable with standard tools (``tar tf``, ``sha256sum -c``) and lets the checker locate every byte.
- **Every byte is checked before anything is restored.** Member contents by their SHA-256 in the manifest,
  the manifest by ``manifest.sha256``, tar headers by their own checksums and by matching the manifest's
  names and sizes, and the zero padding after each member and after the end of the archive by reading it:
  a flipped byte anywhere is refused. Names are checked before any content is read: only regular files with
  relative paths, no ``..``, no other member types (links, devices, directories).

The messages are Vietnamese, for the school's administrator: "Tệp sao lưu bị hỏng: …" for damage or
tampering, "Tệp sao lưu không đầy đủ: thiếu …" for a truncated or partial archive.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO

FORMAT = "hocba-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_SUM = "manifest.sha256"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
DOCUMENTS_PREFIX = "documents/"
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

_CHUNK = 1024 * 1024
_BLOCK = tarfile.BLOCKSIZE


class ArchiveError(Exception):
    """The archive cannot be written or is refused; the argument is the Vietnamese message."""


def corrupt(detail: str) -> ArchiveError:
    return ArchiveError(f"Tệp sao lưu bị hỏng: {detail}")


def incomplete(detail: str) -> ArchiveError:
    return ArchiveError(f"Tệp sao lưu không đầy đủ: thiếu {detail}")


# --- names -----------------------------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name(name: str) -> bool:
    """True for a member name that could write outside the restore directory, or that no writer makes."""
    if not name or name.startswith("/") or _DRIVE.match(name) or "\\" in name or "\x00" in name:
        return True
    return any(part in ("", ".", "..") for part in name.split("/"))


def expected_name(name: str) -> bool:
    return name in (MANIFEST, MANIFEST_SUM) or name in DATABASE_MEMBERS.values() or (
        name.startswith(DOCUMENTS_PREFIX) and len(name) > len(DOCUMENTS_PREFIX))


# --- writing ---------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Member:
    name: str
    size: int
    sha256: str

    def as_json(self) -> dict:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


class _HashingReader(io.RawIOBase):
    """Reads at most ``size`` bytes of ``raw`` and hashes what it hands out."""

    def __init__(self, raw: BinaryIO, size: int):
        self.raw, self.left, self.digest = raw, size, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.raw.read(n)
        self.left -= len(data)
        self.digest.update(data)
        return data


class _HashingWriter(io.RawIOBase):
    """Hashes and counts what is written through it (the archive's own SHA-256, at no extra read)."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.size, self.digest = raw, 0, hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        data = bytes(data)
        self.raw.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)


class ArchiveWriter:
    """Streams members into a tar written to ``fileobj``; ``finish(manifest)`` adds the manifest last."""

    def __init__(self, fileobj: BinaryIO):
        self._out = _HashingWriter(fileobj)
        self._tar = tarfile.open(fileobj=self._out, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115 - closed by finish()
        self.members: list[Member] = []

    def _info(self, name: str, size: int, mtime: float) -> tarfile.TarInfo:
        if unsafe_name(name) or not expected_name(name):
            raise ArchiveError(f"Không sao lưu được «{name}»: tên không hợp lệ trong tệp sao lưu.")
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.type = size, int(mtime), 0o600, tarfile.REGTYPE
        return info

    def add_file(self, name: str, path: Path) -> Member:
        """Add a file as it is when opened: exactly the size seen then, hashed as it is copied."""
        with open(path, "rb") as f:
            stat = os.fstat(f.fileno())
            reader = _HashingReader(f, stat.st_size)
            try:
                self._tar.addfile(self._info(name, stat.st_size, stat.st_mtime), reader)
            except (OSError, tarfile.ReadError) as exc:  # the file shrank while it was read
                raise ArchiveError(f"Không đọc hết được «{path}» trong lúc sao lưu: {exc}.") from exc
        member = Member(name, stat.st_size, reader.digest.hexdigest())
        self.members.append(member)
        return member

    def add_bytes(self, name: str, data: bytes, mtime: float) -> Member:
        self._tar.addfile(self._info(name, len(data), mtime), io.BytesIO(data))
        member = Member(name, len(data), hashlib.sha256(data).hexdigest())
        self.members.append(member)
        return member

    def finish(self, manifest: dict[str, Any], mtime: float) -> tuple[int, str]:
        """Write the manifest (which lists every member added so far) and close; the archive's size and SHA-256."""
        data = (json.dumps({**manifest, "members": [m.as_json() for m in self.members]}, ensure_ascii=False,
                           indent=1) + "\n").encode()
        self._tar.addfile(self._info(MANIFEST, len(data), mtime), io.BytesIO(data))
        checksum = f"{hashlib.sha256(data).hexdigest()}  {MANIFEST}\n".encode()
        self._tar.addfile(self._info(MANIFEST_SUM, len(checksum), mtime), io.BytesIO(checksum))
        self._tar.close()
        return self._out.size, self._out.digest.hexdigest()


# --- checking --------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Located:
    """Where a member's data lies in the archive file."""

    name: str
    offset: int
    size: int
    sha256: str


@dataclasses.dataclass(frozen=True)
class VerifiedArchive:
    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str  # pins every member through their SHA-256 in the manifest
    members: dict[str, Located]  # the data members (database and documents), by name

    @property
    def engine(self) -> str:
        return self.manifest["engine"]

    @property
    def database_member(self) -> Located:
        return self.members[DATABASE_MEMBERS[self.engine]]

    @property
    def documents(self) -> list[Located]:
        return [m for name, m in self.members.items() if name.startswith(DOCUMENTS_PREFIX)]

    def copy_member(self, name: str, dest: IO[bytes]) -> None:
        """Copy one member's data into ``dest``, hashing it again: the file must not have changed since the
        check (a replaced or damaged archive is refused here too)."""
        located = self.members[name]
        digest, left = hashlib.sha256(), located.size
        with open(self.path, "rb") as f:
            f.seek(located.offset)
            while left:
                chunk = f.read(min(_CHUNK, left))
                if not chunk:
                    raise incomplete(f"dữ liệu của «{name}» (tệp đã bị cắt sau khi kiểm tra)")
                digest.update(chunk)
                dest.write(chunk)
                left -= len(chunk)
        if digest.hexdigest() != located.sha256:
            raise corrupt(f"«{name}» đã thay đổi kể từ lúc kiểm tra (mã SHA-256 không khớp).")


def _hash_region(f: BinaryIO, offset: int, size: int) -> tuple[str, int]:
    """SHA-256 of ``size`` bytes at ``offset`` and how many were there."""
    f.seek(offset)
    digest, read = hashlib.sha256(), 0
    while read < size:
        chunk = f.read(min(_CHUNK, size - read))
        if not chunk:
            break
        digest.update(chunk)
        read += len(chunk)
    return digest.hexdigest(), read


def _zeros(f: BinaryIO, offset: int, size: int | None) -> tuple[bool, int]:
    """Whether the ``size`` bytes at ``offset`` (to the end when None) are all zero, and how many were read."""
    f.seek(offset)
    read = 0
    while size is None or read < size:
        chunk = f.read(_CHUNK if size is None else min(_CHUNK, size - read))
        if not chunk:
            break
        if chunk.count(0) != len(chunk):
            return False, read
        read += len(chunk)
    return True, read


def _scan(path: Path) -> tuple[dict[str, Located], int]:
    """Every member with its computed SHA-256, and the offset where the tar's end-of-archive marker starts."""
    found: dict[str, Located] = {}
    with open(path, "rb") as raw:
        try:
            tar = tarfile.open(fileobj=raw, mode="r:")  # noqa: SIM115 - reads ``raw``, closed with it
        except tarfile.ReadError as exc:
            raise corrupt(f"không phải tệp tar đọc được ({exc}).") from None
        with open(path, "rb") as data:
            try:
                for info in _members(tar):
                    name = info.name
                    if unsafe_name(name):
                        raise corrupt(f"thành phần «{name}» có đường dẫn không an toàn (đường dẫn tuyệt đối "
                                      "hoặc chứa «..»); không khôi phục gì.")
                    if not info.isreg():
                        raise corrupt(f"thành phần «{name}» không phải tệp thông thường (liên kết, thư mục "
                                      "hoặc thiết bị); không khôi phục gì.")
                    if not expected_name(name):
                        raise corrupt(f"có thành phần lạ «{name}» không thuộc định dạng {FORMAT}.")
                    if name in found:
                        raise corrupt(f"thành phần «{name}» xuất hiện hai lần.")
                    _check_headers(data, info)
                    sha256, read = _hash_region(data, info.offset_data, info.size)
                    if read < info.size:
                        raise incomplete(f"phần cuối của «{name}» (tệp bị cắt cụt: có {read} trên {info.size} "
                                         "byte).")
                    pad = -info.size % _BLOCK
                    ok, read = _zeros(data, info.offset_data + info.size, pad)
                    if not ok:
                        raise corrupt(f"phần đệm sau «{name}» có dữ liệu lạ.")
                    if read < pad:
                        raise incomplete(f"phần cuối của «{name}» (tệp bị cắt cụt).")
                    found[name] = Located(name, info.offset_data, info.size, sha256)
            except tarfile.ReadError as exc:
                if "unexpected end of data" in str(exc):
                    raise incomplete(f"phần cuối của tệp (tệp bị cắt cụt sau {len(found)} thành phần).") from None
                raise corrupt(f"cấu trúc tar không đọc được sau {len(found)} thành phần ({exc}).") from None
            return found, tar.offset


_PAX_RECORD = re.compile(rb"([1-9][0-9]*) ")
_CHKSUM_END = 155  # the byte after the NUL that ends a header's checksum field; tarfile never reads it


def _check_headers(f: BinaryIO, info: tarfile.TarInfo) -> None:
    """The bytes of a member's header(s) that tarfile does not check: the last byte of each checksum field,
    and a pax extended header's records and padding (tarfile stops at the first record it cannot parse and
    ignores the rest). Together with the header checksums, every header byte is then accounted for."""
    start, end = info.offset, info.offset_data - _BLOCK
    f.seek(start)
    head = f.read(info.offset_data - start)
    if head[end - start + _CHKSUM_END] != 0x20:
        raise corrupt(f"phần đầu của «{info.name}» có dữ liệu lạ.")
    if end == start:
        return
    ext = head[:_BLOCK]
    try:
        ext_info = tarfile.TarInfo.frombuf(ext, "utf-8", "surrogateescape")
    except tarfile.HeaderError:
        raise corrupt(f"phần đầu mở rộng của «{info.name}» không đọc được.") from None
    records = head[_BLOCK:_BLOCK + ext_info.size]
    padding = head[_BLOCK + ext_info.size:end - start]
    if (ext[_CHKSUM_END] != 0x20 or ext_info.type != tarfile.XHDTYPE or len(padding) >= _BLOCK
            or padding.count(0) != len(padding)):
        raise corrupt(f"phần đầu mở rộng của «{info.name}» có dữ liệu lạ.")
    pos = 0
    while pos < len(records):
        match = _PAX_RECORD.match(records, pos)
        length = int(match.group(1)) if match else 0
        record = records[pos:pos + length]
        if not match or len(record) != length or not record.endswith(b"\n") or b"=" not in record[match.end() - pos:]:
            raise corrupt(f"phần đầu mở rộng của «{info.name}» có dữ liệu lạ.")
        pos += length


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    while True:
        info = tar.next()
        if info is None:
            return
        yield info


def verify_archive(path: Path) -> VerifiedArchive:
    """Check a whole archive, reading every byte; the archive, or ``ArchiveError`` saying what is wrong."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArchiveError(f"Không đọc được tệp sao lưu «{path}»: {exc.strerror}.") from None
    if not path.is_file():
        raise ArchiveError(f"«{path}» không phải một tệp.")
    if size == 0:
        raise incomplete("toàn bộ nội dung (tệp rỗng).")
    found, end = _scan(path)

    # The end-of-archive marker (two zero blocks) and the padding after it: all zeros, to the last byte.
    with open(path, "rb") as f:
        ok, read = _zeros(f, end, None)
    if not ok:
        if size - end < _BLOCK:  # less than a whole header block left: cut in the middle of a header
            raise incomplete("phần cuối của tệp (tệp bị cắt cụt giữa phần đầu của một thành phần).")
        raise corrupt(f"dữ liệu không đọc được ở vị trí {end + read} (phần đầu của một thành phần bị sửa "
                      "hoặc hỏng).")
    if MANIFEST not in found:
        raise incomplete(f"{MANIFEST} (tệp có thể bị cắt cụt hoặc không phải tệp sao lưu của hocba).")
    if MANIFEST_SUM not in found:
        raise incomplete(f"{MANIFEST_SUM} (tệp có thể bị cắt cụt).")
    if size - end < 2 * _BLOCK or size % tarfile.RECORDSIZE:  # tar pads its end to whole records
        raise incomplete("phần kết thúc của tệp tar (tệp bị cắt cụt).")

    with open(path, "rb") as f:
        f.seek(found[MANIFEST].offset)
        manifest_bytes = f.read(found[MANIFEST].size)
        f.seek(found[MANIFEST_SUM].offset)
        checksum = f.read(found[MANIFEST_SUM].size)
    expected = f"{hashlib.sha256(manifest_bytes).hexdigest()}  {MANIFEST}\n".encode()
    if checksum != expected:
        raise corrupt(f"{MANIFEST} không khớp mã SHA-256 ghi trong {MANIFEST_SUM}.")
    manifest = _parse_manifest(manifest_bytes)

    listed = {m["name"]: m for m in manifest["members"]}
    data = {name: m for name, m in found.items() if name not in (MANIFEST, MANIFEST_SUM)}
    missing = [name for name in listed if name not in data]
    if missing:
        shown = ", ".join(missing[:5]) + (f" và {len(missing) - 5} thành phần khác" if len(missing) > 5 else "")
        raise incomplete(f"{len(missing)} thành phần: {shown}.")
    extra = [name for name in data if name not in listed]
    if extra:
        raise corrupt(f"có thành phần lạ «{extra[0]}» không có trong danh mục {MANIFEST}.")
    for name, located in data.items():
        entry = listed[name]
        if entry["size"] != located.size:
            raise corrupt(f"«{name}» có {located.size} byte, danh mục ghi {entry['size']} byte.")
        if entry["sha256"] != located.sha256:
            raise corrupt(f"«{name}» sai mã SHA-256 (nội dung đã bị thay đổi hoặc hỏng).")
    database = DATABASE_MEMBERS[manifest["engine"]]
    if database not in data:
        raise incomplete(f"cơ sở dữ liệu ({database}).")
    others = [n for n in data if n in DATABASE_MEMBERS.values() and n != database]
    if others:
        raise corrupt(f"có thêm cơ sở dữ liệu «{others[0]}» không đúng loại {manifest['engine']}.")
    return VerifiedArchive(path, manifest, hashlib.sha256(manifest_bytes).hexdigest(), data)


def _parse_manifest(data: bytes) -> dict[str, Any]:
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise corrupt(f"{MANIFEST} không phải JSON hợp lệ ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise corrupt(f"{MANIFEST} không phải danh mục của tệp sao lưu hocba (định dạng "
                      f"«{manifest.get('format') if isinstance(manifest, dict) else '?'}»).")
    version = manifest.get("version")
    if version != FORMAT_VERSION:
        raise ArchiveError(f"Tệp sao lưu có định dạng {FORMAT} phiên bản {version}; phiên bản hocba này chỉ đọc "
                           f"được phiên bản {FORMAT_VERSION}. Hãy khôi phục bằng phiên bản hocba đã tạo ra tệp.")
    if manifest.get("engine") not in DATABASE_MEMBERS:
        raise corrupt(f"{MANIFEST} ghi loại cơ sở dữ liệu không hỗ trợ «{manifest.get('engine')}».")
    members = manifest.get("members")
    if not isinstance(members, list) or not all(
            isinstance(m, dict) and isinstance(m.get("name"), str) and isinstance(m.get("size"), int)
            and isinstance(m.get("sha256"), str) for m in members):
        raise corrupt(f"danh sách thành phần trong {MANIFEST} không hợp lệ.")
    names = [m["name"] for m in members]
    if len(set(names)) != len(names):
        raise corrupt(f"{MANIFEST} ghi một thành phần hai lần.")
    for name in names:
        if unsafe_name(name) or not expected_name(name) or name in (MANIFEST, MANIFEST_SUM):
            raise corrupt(f"{MANIFEST} ghi thành phần có tên không hợp lệ «{name}».")
    return manifest
