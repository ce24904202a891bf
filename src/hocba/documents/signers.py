"""Who signs a học bạ năm học, in which order, and what each signature covers.

One plan serves both formats. In the PDF each part is a signature field (created empty, all at once, before
the first signature: ``render.prepare_signature_fields``); in the XML each part is an XAdES signature whose
references are the element Ids the signer answers for:

- each subject teacher (``gv-<subject>-<personal number>``): their subject row ``mon-<subject>``; all
  teachers of an integrated subject sign the same row;
- the GVCN (``gvcn``): the student, the class, the subject table (the form's "Xác nhận của giáo viên chủ
  nhiệm") and the summary page (``gvcn``);
- the principal, or a vice-principal "KT. HIỆU TRƯỞNG" (``hieutruong``): every part of the year;
- the school seal (``condau``), last: the whole document (``references=None``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import HocBaNamHoc, Person
from .writer import (
    ID_CLASS,
    ID_HEADER,
    ID_HISTORY,
    ID_HOMEROOM,
    ID_PRINCIPAL,
    ID_SCHOOL,
    ID_STUDENT,
    ID_SUBJECTS,
    subject_id,
)

SEAL_ROLE = "con_dau"  # = hocba.signing.pades.SEAL_ROLE (not imported: pyHanko is slow to import)
FIELD_HOMEROOM = "gvcn"
FIELD_PRINCIPAL = "hieutruong"
FIELD_SEAL = "condau"


def teacher_field(subject_code: str, teacher: Person) -> str:
    return f"gv-{subject_code}-{teacher.personal_number}"


@dataclass(frozen=True)
class SignerPart:
    """One expected signature. ``references``: XML Ids covered (``None``: the whole document)."""

    field_name: str
    role: str                      # gvbm | gvcn | ht | pht | con_dau
    label: str                     # Vietnamese, shown as the PDF field's name
    person: Person | None          # None for the school seal
    references: tuple[str, ...] | None
    subject_code: str | None = None

    @property
    def signature_id(self) -> str:
        """The ``Id`` of this signer's ``ds:Signature`` in the XML."""
        return f"sig-{self.field_name}"


def signing_plan(record: HocBaNamHoc) -> tuple[SignerPart, ...]:
    """The signatures of ``record`` in signing order: subject teachers (form order), GVCN, principal, seal."""
    parts: list[SignerPart] = []
    for subject in record.subjects:
        for teacher in subject.teachers:
            parts.append(SignerPart(teacher_field(subject.code, teacher), "gvbm",
                                    f"Giáo viên môn {subject.name}: {teacher.name}", teacher,
                                    (subject_id(subject.code),), subject.code))
    parts.append(SignerPart(FIELD_HOMEROOM, "gvcn", f"Giáo viên chủ nhiệm: {record.homeroom_teacher.name}",
                            record.homeroom_teacher, (ID_STUDENT, ID_CLASS, ID_SUBJECTS, ID_HOMEROOM)))
    leader = record.leader
    parts.append(SignerPart(FIELD_PRINCIPAL, "pht" if leader.on_behalf else "ht",
                            f"{'KT. Hiệu trưởng – ' + leader.title if leader.on_behalf else 'Hiệu trưởng'}: "
                            f"{leader.name}", leader.person,
                            (ID_HEADER, ID_SCHOOL, ID_STUDENT, ID_CLASS, ID_SUBJECTS, ID_HOMEROOM, ID_PRINCIPAL,
                             ID_HISTORY)))
    parts.append(SignerPart(FIELD_SEAL, SEAL_ROLE, f"Con dấu số: {record.school.name}", None, None))
    return tuple(parts)


def pdf_slots(record: HocBaNamHoc) -> list:
    """``hocba.signing.pades.SignerSlot`` for every signer, in signing order (the seal last)."""
    from hocba.signing.pades import SignerSlot

    return [SignerSlot(p.field_name, p.role, p.label) for p in signing_plan(record)]


def xml_references(record: HocBaNamHoc) -> dict[str, tuple[str, ...] | None]:
    """Field name → the element Ids that signer's XAdES signature references (``None``: whole document)."""
    return {p.field_name: p.references for p in signing_plan(record)}
