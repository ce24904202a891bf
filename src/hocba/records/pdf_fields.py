"""The empty signature fields of a học bạ PDF, locked so that personal signatures may come in any order.

``hocba.documents.prepare_signature_fields`` (through ``hocba.signing.pades.prepare_fields``) locks field
*i* with FieldMDP *Exclude* = the fields after it in the signing plan. That makes the PDF valid only when
the fields are signed in exactly the plan's order: a literature teacher who signs before the maths
teacher leaves the maths field "locked", and the maths signature made afterwards breaks the literature
one ("Tài liệu đã bị sửa đổi sau khi ký theo cách không được phép"; tests/records check it). Subject
teachers of a class sign independently, so here every personal field excludes *every other signature
field* from its lock: any personal signature may follow any other, nothing else may change. The order the
law asks for — personal signatures first, the school seal last — is kept by the seal's field, which locks
everything and sets DocMDP "no changes", and which ``pades.sign_field``/``BatchSession`` refuse to sign
while another field is empty; the order GVBM → GVCN → HT is kept by the workflow (``workflow``).

Same field names, labels and order as ``signing_plan``, then the document timestamp's field
(``pades.TIMESTAMP_FIELD``); the layout of the fields is that of ``pades.prepare_fields`` (invisible fields).
"""

from __future__ import annotations

import io

from hocba.documents import HocBaNamHoc, signing_plan

SEAL_ROLE = "con_dau"


def prepare_fields(pdf: bytes, record: HocBaNamHoc) -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields as pdf_fields
    from pyhanko.sign.fields import SigFieldSpec

    from hocba.signing.pades import TIMESTAMP_FIELD, append_timestamp_field, field_lock

    parts = signing_plan(record)
    names = [p.field_name for p in parts]
    if len(set(names)) != len(names) or TIMESTAMP_FIELD in names:
        raise ValueError("tên trường chữ ký bị trùng")
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    for part in parts:
        lock, docmdp = field_lock(part.role == SEAL_ROLE, [n for n in names if n != part.field_name])
        pdf_fields.append_signature_field(writer, SigFieldSpec(
            sig_field_name=part.field_name, field_mdp_spec=lock, doc_mdp_update_value=docmdp,
            readable_field_name=part.label))
    if parts and parts[-1].role == SEAL_ROLE:
        append_timestamp_field(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
