"""Học bạ số: the document layer (issue 5), with no Django import.

- ``model``: the học bạ năm học as frozen dataclasses (``HocBaNamHoc`` and its parts);
- ``writer.to_xml`` / ``reader.from_xml``: the XML (XSD ``schema/hocba-thcs-1.0.xsd``, namespace
  ``urn:hocba:hocbaso:thcs:1.0``), untrusted input read safely;
- ``render``: the PDF in the Ministry's THCS layout (Typst, PDF/A-3b, XML twin attached, QR and verification
  code on every page), and the empty signature fields for every signer;
- ``signers``: who signs what (PDF field names, XML references);
- ``bundle``: the complete THCS record (all issued years) as one ZIP, and its one-step chain check;
- ``sample``: a realistic fictional record for tests and benchmarks.

See docs/documents.md.
"""

from .bundle import ChainReport, IssuedYear, YearCheck, export_bundle, verify_chain, verify_years
from .model import (
    COMMENT,
    LEVELS,
    OUTCOMES,
    PROMOTED,
    PROMOTED_AFTER_SUMMER,
    RETAINED,
    SCORE,
    STATUS_IN_FORCE,
    STATUS_REVOKED,
    SUBJECT_ORDER,
    Address,
    AdjustedBy,
    Certificate,
    HocBaNamHoc,
    Leader,
    Levels,
    PageCorrections,
    Parent,
    Person,
    PreviousYear,
    RecordError,
    SchoolInfo,
    Student,
    StudyYear,
    SubjectResult,
)
from .reader import from_xml
from .render import (
    Renderer,
    RendererPool,
    RenderError,
    embedded_xml,
    prepare_signature_fields,
    render,
    twin_matches,
    verification_url,
)
from .signers import SignerPart, pdf_slots, signing_plan, xml_references
from .writer import to_xml
from .xsd import NAMESPACE, SCHEMA_PATH, HocBaXmlError

__all__ = [
    "COMMENT", "LEVELS", "NAMESPACE", "OUTCOMES", "PROMOTED", "PROMOTED_AFTER_SUMMER", "RETAINED", "SCHEMA_PATH",
    "SCORE", "STATUS_IN_FORCE", "STATUS_REVOKED", "SUBJECT_ORDER", "Address", "AdjustedBy", "Certificate",
    "ChainReport", "HocBaNamHoc", "HocBaXmlError", "IssuedYear", "Leader", "Levels", "PageCorrections", "Parent",
    "Person", "PreviousYear", "RecordError", "RenderError", "Renderer", "RendererPool", "SchoolInfo", "SignerPart", "Student",
    "StudyYear", "SubjectResult", "YearCheck", "embedded_xml", "export_bundle", "from_xml", "pdf_slots",
    "prepare_signature_fields", "render", "signing_plan", "to_xml", "twin_matches", "verification_url",
    "verify_chain", "verify_years", "xml_references",
]
