"""The complete THCS record: all issued years in one file, checked in one step (ids and SHA-256 chain,
manifest, XML twins in the PDFs)."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import zipfile

import pytest

from hocba.documents import IssuedYear, PreviousYear, export_bundle, to_xml, verify_chain
from hocba.documents.sample import sample_years


@pytest.fixture(scope="module")
def years(renderer):
    out = []
    for record, xml in sample_years():
        out.append((record, IssuedYear(xml, renderer.render(record, xml=xml))))
    return out


@pytest.fixture(scope="module")
def bundle(years):
    return export_bundle([y for _, y in years])


def _rezip(bundle: bytes, change) -> bytes:
    """A copy of ``bundle`` with ``change(files)`` applied to its {name: bytes}."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        files = {i.filename: z.read(i) for i in z.infolist()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return out.getvalue()


def test_the_four_years_form_a_valid_chain(bundle, years):
    report = verify_chain(bundle)
    assert report.ok, report.problems
    assert [y.grade for y in report.years] == [6, 7, 8, 9]
    assert all(y.link_ok and y.twin_ok for y in report.years)
    assert report.student_number == years[0][0].student.personal_number
    assert "hợp lệ" in report.verdict
    # the caller validates the signatures of every file the report lists
    assert sum(name.endswith((".xml", ".pdf")) for name in report.files) == 8


def test_the_export_is_deterministic_and_lists_the_chain_in_its_manifest(bundle, years):
    assert export_bundle([y for _, y in reversed(years)]) == bundle
    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        manifest = json.loads(z.read("manifest.json"))
    entries = manifest["years"]
    assert [e["namhoc"] for e in entries] == ["2021-2022", "2022-2023", "2023-2024", "2024-2025"]
    for prev, cur in itertools.pairwise(entries):
        assert cur["hocbanamtruoc"] == {"madinhdanhhocba": prev["madinhdanhhocba"], "sha256": prev["xml_sha256"]}


def test_a_wrong_hash_in_the_year_link_is_caught(years):
    items = [y for _, y in years]
    record9 = years[3][0]
    forged = record9.replace(previous_year=PreviousYear(record9.previous_year.record_id, "f" * 64))
    items[3] = IssuedYear(to_xml(forged))
    report = verify_chain(items)
    assert not report.ok
    assert report.years[3].link_ok is False
    assert any("mã băm SHA-256 của năm học 2023-2024 không khớp" in p for p in report.problems)


def test_a_changed_earlier_year_breaks_the_next_years_link(years):
    items = [y for _, y in years]
    record7 = years[1][0]
    items[1] = IssuedYear(to_xml(record7.replace(absences=30)))  # a silent edit of grade 7, same id
    report = verify_chain(items)
    assert not report.ok
    assert [y.link_ok for y in report.years] == [True, True, False, True]


def test_a_wrong_id_in_the_year_link_is_caught(years):
    items = [y for _, y in years]
    record8 = years[2][0]
    link = record8.previous_year
    items[2] = IssuedYear(to_xml(record8.replace(
        previous_year=PreviousYear("00000000-0000-4000-8000-000000000000", link.sha256))))
    report = verify_chain(items)
    assert not report.ok and any("liên kết tới mã học bạ" in p for p in report.problems)


def test_a_missing_year_is_caught(years):
    report = verify_chain([y for i, (_, y) in enumerate(years) if i != 1])
    assert not report.ok


def test_a_file_changed_inside_the_bundle_is_caught_by_the_manifest(bundle):
    def tamper(files):
        name = next(n for n in files if n.startswith("2022-2023") and n.endswith(".xml"))
        files[name] = files[name].replace(b"<sobuoinghi>2</sobuoinghi>", b"<sobuoinghi>1</sobuoinghi>")
    report = verify_chain(_rezip(bundle, tamper))
    assert not report.ok
    assert any("không khớp manifest" in p for p in report.problems)


def test_a_pdf_whose_twin_differs_from_the_xml_is_caught(years, renderer):
    items = [y for _, y in years]
    record9 = years[3][0]
    other_pdf = renderer.render(record9.replace(homeroom_comment="Nhận xét khác"))
    items[3] = IssuedYear(items[3].xml, other_pdf)
    report = verify_chain(export_bundle(items))
    assert not report.ok and report.years[3].twin_ok is False


def test_hostile_archives_are_refused(bundle):
    report = verify_chain(_rezip(bundle, lambda files: files.update({"../../etc/passwd": b"x"})))
    assert not report.ok and any("Tên tệp không hợp lệ" in p for p in report.problems)
    assert not verify_chain(b"not a zip").ok
    assert not verify_chain(_rezip(bundle, lambda files: files.pop("manifest.json"))).ok


def test_years_of_two_students_cannot_be_bundled(years):
    record = years[0][0]
    other = record.replace(student=record.student.__class__(
        **{**record.student.__dict__, "personal_number": "079310009999"}))
    with pytest.raises(ValueError, match="nhiều học sinh"):
        export_bundle([years[1][1], IssuedYear(to_xml(other))])


def test_chain_digest_names_the_whole_record(bundle, years):
    report = verify_chain(bundle)
    hashes = [hashlib.sha256(y.xml).hexdigest() for _, y in years]
    assert report.chain_sha256 == hashlib.sha256("\n".join(hashes).encode()).hexdigest()
