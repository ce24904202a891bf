"""The archive format on its own (no database): what the checker accepts and refuses, byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import time

import pytest

from hocba.ops.archive import ArchiveError, ArchiveWriter, verify_archive


def small_archive(path, documents=None):
    documents = documents if documents is not None else {"documents/79/a.pdf": b"%PDF-1.7 " + bytes(range(256)),
                                                         "documents/79/b.xml": b"<hocba/>",
                                                         "documents/79/Học bạ năm học 2024-2025.pdf": b"%PDF"}
    db = path.parent / "db.sqlite3"
    db.write_bytes(b"SQLite format 3\x00" + b"x" * 700)
    with open(path, "wb") as f:
        writer = ArchiveWriter(f)
        writer.add_file("database.sqlite3", db)
        for name, data in documents.items():
            writer.add_bytes(name, data, time.time())
        writer.finish({"format": "hocba-backup", "version": 1, "engine": "sqlite", "migrations": {},
                       "audit_heads": {}}, time.time())
    return path


def rewrite(source, dest, *, drop=(), add=(), manifest=None):
    """Copy an archive member by member, leaving some out, adding others, or replacing the manifest (with
    a matching manifest.sha256, so that only what the test means to break is broken)."""
    with tarfile.open(source) as tin, tarfile.open(dest, "w", format=tarfile.PAX_FORMAT) as tout:
        listing = tin.extractfile("manifest.json").read()
        if manifest is not None:
            listing = json.dumps(manifest(json.loads(listing))).encode()
        for info in tin.getmembers():
            if info.name in drop:
                continue
            data = tin.extractfile(info).read()
            if info.name == "manifest.json":
                data = listing
            elif info.name == "manifest.sha256":
                data = f"{hashlib.sha256(listing).hexdigest()}  manifest.json\n".encode()
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
        for info, data in add:
            tout.addfile(info, io.BytesIO(data))
    return dest


def test_a_written_archive_verifies_and_lists_every_member(tmp_path):
    archive = verify_archive(small_archive(tmp_path / "a.tar"))
    assert archive.engine == "sqlite"
    assert sorted(archive.members) == ["database.sqlite3", "documents/79/Học bạ năm học 2024-2025.pdf",
                                       "documents/79/a.pdf", "documents/79/b.xml"]
    out = io.BytesIO()
    archive.copy_member("documents/79/b.xml", out)
    assert out.getvalue() == b"<hocba/>"


def test_a_flipped_bit_anywhere_in_the_archive_is_refused(tmp_path):
    """Every byte position: member data, tar headers, padding, the manifest, the end-of-archive blocks."""
    good = small_archive(tmp_path / "a.tar").read_bytes()
    bad = tmp_path / "bad.tar"
    accepted = []
    for position in range(len(good)):
        data = bytearray(good)
        data[position] ^= 0x01
        bad.write_bytes(data)
        try:
            verify_archive(bad)
        except ArchiveError as exc:
            assert str(exc).startswith(("Tệp sao lưu bị hỏng:", "Tệp sao lưu không đầy đủ:")), (position, exc)
        else:
            accepted.append(position)
    assert not accepted, f"flips accepted at {accepted[:10]} of {len(good)} bytes"


@pytest.mark.parametrize("keep", [0, 511, 512, 1500, -10240, -1024, -1])
def test_a_truncated_archive_is_refused_as_incomplete(tmp_path, keep):
    good = small_archive(tmp_path / "a.tar").read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good[:keep] if keep >= 0 else good[:len(good) + keep])
    with pytest.raises(ArchiveError) as refused:
        verify_archive(cut)
    if keep == 0:
        assert "không đầy đủ" in str(refused.value)
    else:
        assert str(refused.value).startswith(("Tệp sao lưu không đầy đủ", "Tệp sao lưu bị hỏng: không phải tệp tar"))


def test_a_missing_member_is_named(tmp_path):
    partial = rewrite(small_archive(tmp_path / "a.tar"), tmp_path / "p.tar", drop={"documents/79/b.xml"})
    with pytest.raises(ArchiveError, match="Tệp sao lưu không đầy đủ: thiếu 1 thành phần: documents/79/b.xml"):
        verify_archive(partial)


@pytest.mark.parametrize("name", ["../evil", "documents/../../evil", "/tmp/evil", "documents/./x", "C:/evil"])
def test_an_unsafe_path_is_refused_even_when_the_manifest_lists_it(tmp_path, name):
    info = tarfile.TarInfo(name)
    info.size = 4

    def listed(m):
        return {**m, "members": m["members"] + [{"name": name, "size": 4, "sha256": hashlib.sha256(b"evil").hexdigest()}]}

    evil = rewrite(small_archive(tmp_path / "a.tar"), tmp_path / "evil.tar", add=[(info, b"evil")], manifest=listed)
    with pytest.raises(ArchiveError, match="Tệp sao lưu bị hỏng: thành phần .* đường dẫn không an toàn"):
        verify_archive(evil)


def test_links_and_unknown_members_are_refused(tmp_path):
    link = tarfile.TarInfo("documents/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(ArchiveError, match="không phải tệp thông thường"):
        verify_archive(rewrite(small_archive(tmp_path / "a.tar"), tmp_path / "l.tar", add=[(link, b"")]))
    stray = tarfile.TarInfo("notes.txt")
    stray.size = 2
    with pytest.raises(ArchiveError, match="thành phần lạ «notes.txt»"):
        verify_archive(rewrite(small_archive(tmp_path / "a.tar"), tmp_path / "s.tar", add=[(stray, b"hi")]))


def test_an_unknown_format_version_is_refused_with_what_to_do(tmp_path):
    newer = rewrite(small_archive(tmp_path / "a.tar"), tmp_path / "n.tar", manifest=lambda m: {**m, "version": 2})
    with pytest.raises(ArchiveError, match="phiên bản 2; phiên bản hocba này chỉ đọc được phiên bản 1"):
        verify_archive(newer)


def test_something_that_is_not_a_tar_is_refused(tmp_path):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"PK\x03\x04" + b"\x00" * 4000)
    with pytest.raises(ArchiveError, match="Tệp sao lưu bị hỏng: không phải tệp tar"):
        verify_archive(junk)
