"""``hocba.signing.usages``: the difference analysis run on the pruned reverse cross-reference map must judge
every document exactly as pyHanko's own complete map does — the same paths to every object a later revision
writes or a form rule asks about, and the same verdict on every signature, tampered documents included.

The documents are real học bạ PDFs (Typst, tagged: ~370 structure elements whose ``/Pg`` point at the pages),
signed as the records workflow signs them, plus the two shapes the pruning has to get right: a signature
whose field is created at signing time (its widget rewrites a page, so the paths to that page through the
structure tree count), and a structure element rewritten between two signatures."""

from __future__ import annotations

import io

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader, RawPdfPath
from pyhanko.sign import fields, signers

from hocba.documents import Renderer, pdf_slots
from hocba.documents.sample import sample_record
from hocba.signing import fastpades, fastparse, pades, usages
from hocba.signing.backends import pyhanko_signer
from hocba.signing.validate import validate_pdf
from hocba.verify.samples import SHORT_PLAN, sign_hoc_ba


@pytest.fixture(scope="module")
def record():
    return sample_record()


@pytest.fixture(scope="module")
def sealed(pki, record) -> bytes:
    """GVCN and principal (fast path), the seal and its document timestamp (pyHanko), as the workflow signs."""
    return sign_hoc_ba(pki, record, only=SHORT_PLAN).pdf


@pytest.fixture(scope="module")
def unsigned(record) -> bytes:
    slots = [s for s in pdf_slots(record) if s.field_name in ("gvcn", "hieutruong")]
    return pades.prepare_fields(Renderer().render(record), slots)


@pytest.fixture(scope="module")
def field_made_at_signing(unsigned, pades_settings, signer_for) -> bytes:
    """GVCN by the fast path, then a signature into a field pyHanko creates while signing (a new widget in the
    first page's /Annots), then the principal."""
    pdf = fastpades.sign_batch([unsigned], "gvcn", signer_for("gv.van"), pades_settings)[0]
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(field_name="phoduyet", md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    pdf = signers.PdfSigner(meta, signer=pyhanko_signer(signer_for("gv.toan"))).sign_pdf(
        writer, existing_fields_only=False).getvalue()
    return fastpades.sign_batch([pdf], "hieutruong", signer_for("hieutruong"), pades_settings)[0]


@pytest.fixture(scope="module")
def indirect_kids(pades_settings, signer_for) -> bytes:
    """Not ours: a page tree whose /Kids is an indirect array (the walk reaches the page through it), signed
    twice by pyHanko into fields created while signing (each one rewriting the page's /Annots)."""
    from hocba.signing.samples import minimal_pdf

    writer = IncrementalPdfFileWriter(io.BytesIO(minimal_pdf(["Hoc ba so - cay trang"])), strict=False)
    pages = writer.root["/Pages"]
    pages["/Kids"] = writer.add_object(generic.ArrayObject(pages.raw_get("/Kids")))
    writer.update_container(pages)
    out = io.BytesIO()
    writer.write(out)
    pdf = out.getvalue()
    for name, user in (("mot", "gv.toan"), ("hai", "gv.van")):
        meta = signers.PdfSignatureMetadata(field_name=name, md_algorithm="sha256",
                                            subfilter=fields.SigSeedSubFilter.PADES)
        pdf = signers.PdfSigner(meta, signer=pyhanko_signer(signer_for(user))).sign_pdf(
            IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False), existing_fields_only=False).getvalue()
    return pdf


@pytest.fixture(scope="module")
def structure_rewritten(unsigned, pades_settings, signer_for) -> bytes:
    """GVCN signs; then someone rewrites a structure element (its /Alt text); then the principal signs."""

    def rewrite(writer):
        elem_ref = _first_structure_element(writer.root["/StructTreeRoot"])
        elem_ref.get_object()["/Alt"] = generic.TextStringObject("Điểm đã sửa")
        writer.mark_update(elem_ref)

    return _changed_between_signatures(unsigned, pades_settings, signer_for, rewrite)


def _changed_between_signatures(unsigned, pades_settings, signer_for, change, patch=lambda data: data) -> bytes:
    """The GVCN signs; ``change(writer)`` is written as an update (its bytes then passed through ``patch``);
    the principal signs."""
    pdf = fastpades.sign_batch([unsigned], "gvcn", signer_for("gv.van"), pades_settings)[0]
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    changed = patch(out.getvalue())
    return fastpades.sign_batch([changed], "hieutruong", signer_for("hieutruong"), pades_settings)[0]


@pytest.fixture(scope="module")
def signed_field_rewritten(unsigned, pades_settings, signer_for) -> bytes:
    """GVCN signs; then someone rewrites the GVCN's signed field (a tooltip added); then the principal signs."""

    def rewrite(writer):
        field_ref = next(f for f in writer.root["/AcroForm"]["/Fields"] if f.get_object().get("/T") == "gvcn")
        field_ref.get_object()["/TU"] = generic.TextStringObject("Đã sửa sau khi ký")
        writer.mark_update(field_ref)

    return _changed_between_signatures(unsigned, pades_settings, signer_for, rewrite)


@pytest.fixture(scope="module")
def metadata_broken(unsigned, pades_settings, signer_for) -> bytes:
    """GVCN signs; then the XMP metadata is rewritten into something that is not XMP (its root element renamed,
    same length); then the principal signs."""

    def new_metadata(writer):
        writer.root["/Metadata"] = writer.add_object(generic.StreamObject(
            {generic.NameObject("/Type"): generic.NameObject("/Metadata")}, stream_data=b"placeholder"))
        writer.update_root()

    def not_xmp(data: bytes) -> bytes:
        data = bytearray(data)
        at = data.rindex(b"<x:xmpmeta")  # pyHanko wrote fresh XMP into the new stream, uncompressed
        data[at:at + 10] = b"<x:xmpmetb"
        return bytes(data)

    return _changed_between_signatures(unsigned, pades_settings, signer_for, new_metadata, not_xmp)


def _first_structure_element(node):
    kids = node["/K"]
    for kid in kids if isinstance(kids, generic.ArrayObject) else [kids]:
        raw = kid
        if isinstance(raw, generic.IndirectObject):
            return raw
    raise AssertionError("no indirect structure element")


def _readers(pdf: bytes):
    plain = PdfFileReader(io.BytesIO(pdf), strict=False)
    pruned = PdfFileReader(io.BytesIO(pdf), strict=False)
    assert usages.install(pruned)
    return plain, pruned


@pytest.mark.parametrize("doc", ["sealed", "field_made_at_signing", "structure_rewritten", "indirect_kids"])
def test_every_path_to_every_object_asked_about_is_the_same_as_pyhankos(doc, request):
    plain, pruned = _readers(request.getfixturevalue(doc))
    if doc != "indirect_kids":
        assert plain.root["/StructTreeRoot"]["/K"], "a tagged PDF: the structure tree is what the pruning skips"
    asked = 0
    for revision in range(plain.xrefs.total_revisions):
        complete, fast = plain.get_historical_resolver(revision), pruned.get_historical_resolver(revision)
        assert isinstance(fast, usages.PrunedResolver)
        complete._load_reverse_xref_cache()
        fast._load_reverse_xref_cache()
        targets = fast._indirect_object_access_cache._targets
        for key in targets:
            ref = generic.Reference(*key)
            assert fast._get_usages_of_ref(ref) == complete._get_usages_of_ref(ref), (revision, key)
            asked += 1
        # any other object (here: every object pyHanko found paths to) is answered from the complete walk
        for ref in list(complete._indirect_object_access_cache)[:25]:
            assert fast._get_usages_of_ref(ref) == complete._get_usages_of_ref(ref), (revision, ref)
    assert asked > (5 if doc == "indirect_kids" else 30), asked


def test_a_page_rewritten_after_a_signature_keeps_its_paths_through_the_structure_tree(field_made_at_signing):
    plain, pruned = _readers(field_made_at_signing)
    first_signed = 2  # revision 0: Typst, 1: the empty fields, 2: the GVCN
    page = plain.root["/Pages"]["/Kids"].raw_get(0).reference
    assert (page.idnum, page.generation) in pruned.get_historical_resolver(first_signed)._graph.written_after(
        first_signed), "the field created at signing rewrote the first page"
    fast = pruned.get_historical_resolver(first_signed)
    fast._load_reverse_xref_cache()
    paths = fast._get_usages_of_ref(page)
    assert any("/StructTreeRoot" in p for p in paths), paths
    complete = plain.get_historical_resolver(first_signed)
    complete._load_reverse_xref_cache()
    assert paths == complete._get_usages_of_ref(page)


def _judged(report):
    return [(s.id, s.valid, s.problems) for s in report.signatures]


@pytest.mark.parametrize("doc", ["sealed", "field_made_at_signing", "structure_rewritten", "indirect_kids",
                                 "signed_field_rewritten", "metadata_broken"])
def test_validation_says_the_same_with_and_without_the_pruning(doc, request, trust, monkeypatch):
    pdf = request.getfixturevalue(doc)
    installed, install = [], usages.install
    monkeypatch.setattr(usages, "install", lambda reader: installed.append(install(reader)) or installed[-1])
    pruned = validate_pdf(pdf, trust)
    assert installed == [True], "validate_pdf validates on the pruned resolvers"
    assert generic.read_hex_string_from_stream is fastparse.read_hex_string_from_stream
    assert generic._decode_name is fastparse.decode_name, "and the fast token readers"
    monkeypatch.setattr(usages, "install", lambda reader: False)
    assert _judged(validate_pdf(pdf, trust)) == _judged(pruned)


def test_the_sealed_record_is_valid_and_its_timestamp_fills_the_field_made_for_it(sealed, trust):
    report = validate_pdf(sealed, trust)
    assert report.valid, report.render_text()
    assert [s.id for s in report.signatures][-1] == pades.TIMESTAMP_FIELD
    assert report.signatures[-1].kind == "document_timestamp" and not report.warnings
    reader = PdfFileReader(io.BytesIO(sealed), strict=False)
    page = reader.root["/Pages"]["/Kids"].raw_get(0).reference
    signed_from = 2
    rewritten_after = set().union(*(reader.xrefs.explicit_refs_in_revision(i)
                                    for i in range(signed_from, reader.xrefs.total_revisions)))
    assert page not in rewritten_after, "no revision after the first signature touches a page"


@pytest.mark.parametrize("doc", ["structure_rewritten", "signed_field_rewritten", "metadata_broken"])
def test_a_change_between_two_signatures_breaks_the_first(doc, request, trust):
    """A structure element, the first signature's own field or the metadata rewritten between two signatures."""
    report = validate_pdf(request.getfixturevalue(doc), trust)
    by_id = {s.id: s for s in report.signatures}
    assert not by_id["gvcn"].valid
    assert any("sửa đổi sau khi ký" in p for p in by_id["gvcn"].problems), by_id["gvcn"].problems
    assert by_id["hieutruong"].valid, by_id["hieutruong"].problems


@pytest.mark.parametrize("doc", ["sealed", "field_made_at_signing", "structure_rewritten", "signed_field_rewritten"])
def test_what_is_kept_per_revision_is_what_pyhanko_computes_each_time(doc, request):
    """The orphans of each revision, the expected paths of each field in each signed revision and what the
    signature-field rule says of each field, asked as the analysis asks them (every later revision against every
    earlier one): the kept or directly produced answer is pyHanko's."""
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY, form_rules_api, policies
    from pyhanko.sign.diff_analysis.form_rules_api import (
        FieldComparisonContext,
        FieldComparisonSpec,
        _list_fields,
    )
    from pyhanko.sign.diff_analysis.rules.form_field_rules import (
        BaseFieldModificationRule,
        SigFieldModificationRule,
    )

    _, pruned = _readers(request.getfixturevalue(doc))
    assert policies._find_orphans is usages._find_orphans
    assert FieldComparisonSpec.expected_contexts is usages._expected_contexts
    assert SigFieldModificationRule.check_form_field is usages._sig_field_check
    assert form_rules_api._list_fields is usages._list_fields
    rule = next(r for r in DEFAULT_DIFF_POLICY.form_rule.field_rules if isinstance(r, SigFieldModificationRule))
    revisions = pruned.xrefs.total_revisions
    specs = unchanged = compared = 0
    assert BaseFieldModificationRule.compare_fields is usages._compare_fields
    for old_revision in range(revisions - 1):
        old = pruned.get_historical_resolver(old_revision)
        for new_revision in range(old_revision + 1, revisions):
            new = pruned.get_historical_resolver(new_revision)
            assert usages._find_orphans(new) == usages._original_find_orphans(new), new_revision
            fields = []
            if "/AcroForm" in old.root:
                lists = (old.root["/AcroForm"]["/Fields"], new.root["/AcroForm"]["/Fields"])
                path = RawPdfPath("/Root", "/AcroForm", "/Fields")
                fields = list(_list_fields(*lists, old_path=path))
                for _ in range(2):  # the second time from what the resolvers keep
                    assert list(usages._list_fields(*lists, old_path=path)) == fields
                assert fields == list(usages._original_list_fields(*lists, old_path=path))
            context = FieldComparisonContext(field_specs=dict(fields), old=old, new=new)
            for name, spec in fields:
                assert spec.expected_contexts() == usages._original_expected_contexts(spec)
                specs += 1
                assert (_outcome(usages._sig_field_check(rule, name, spec, context))
                        == _outcome(usages._original_sig_field_check(rule, name, spec, context))), (name, new_revision)
                if spec.old_field_ref is not None and spec.new_field_ref is not None:
                    for _ in range(2):  # the second time from what is kept
                        assert (_outcome(_lazily(usages._compare_fields, rule, spec))
                                == _outcome(_lazily(usages._original_compare_fields, rule, spec))), name
                    compared += 1
                ref = spec.new_field_ref
                unchanged += ref is not None and ref == spec.old_field_ref and (
                    pruned.xrefs.get_historical_ref(ref, old_revision) == pruned.xrefs.get_historical_ref(ref, new_revision))
        assert old._expected_contexts or "/AcroForm" not in old.root
    assert specs > 10 and unchanged > 2 and compared > 10, (specs, unchanged, compared)


def _lazily(fn, *args):
    yield fn(*args)


def _outcome(updates):
    try:
        return "ok", list(updates)
    except Exception as e:  # noqa: BLE001 - the exact refusal is what is compared
        return "error", type(e).__name__, str(e)


@pytest.mark.parametrize("doc", ["sealed", "signed_field_rewritten"])
def test_which_revision_wrote_an_object_is_what_pyhanko_says(doc, request):
    plain, pruned = _readers(request.getfixturevalue(doc))
    refs = [generic.Reference(i, 0) for i in range(1, 600)]
    for _ in range(2):  # the second time from what is kept
        for name in ("get_introducing_revision", "get_last_change"):
            for ref in refs:
                assert _outcome_of(getattr(pruned.xrefs, name), ref) == _outcome_of(getattr(plain.xrefs, name), ref)
    assert any(_outcome_of(pruned.xrefs.get_last_change, ref)[0] == "error" for ref in refs), "unknown objects too"
    assert type(pruned.xrefs).get_last_change is type(plain.xrefs).get_last_change, "other readers untouched"


def _outcome_of(fn, ref):
    try:
        return "ok", fn(ref)
    except KeyError:
        return "error", "KeyError"


def _same(a, b, mine=None, theirs=None) -> bool:
    """Same type, same value, and (for dictionaries, streams and arrays) the same container reference, bound to
    each reader's own resolver (``mine``, ``theirs``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (generic.DictionaryObject, generic.ArrayObject)) and mine is not None:
        ours, pyhankos = a.container_ref, b.container_ref
        if ours != pyhankos or ours.pdf is not mine or pyhankos.pdf is not theirs:
            return False
    if isinstance(a, generic.StreamObject):
        return a.encoded_data == b.encoded_data and all(_same(a.raw_get(k), b.raw_get(k), mine, theirs)
                                                         for k in a) and a.keys() == b.keys()
    if isinstance(a, generic.DictionaryObject):
        return a.keys() == b.keys() and all(_same(a.raw_get(k), b.raw_get(k), mine, theirs) for k in a)
    if isinstance(a, generic.ArrayObject):
        return len(a) == len(b) and all(_same(x, y, mine, theirs) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("doc", ["sealed", "signed_field_rewritten", "indirect_kids"])
def test_every_object_of_every_revision_is_what_pyhankos_resolver_hands_out(doc, request):
    """The resolvers copy objects from the graph's reading instead of parsing historical versions again: the
    same object, bound to the same resolver, for every object of every revision (missing ones included)."""
    plain, pruned = _readers(request.getfixturevalue(doc))
    revisions = plain.xrefs.total_revisions
    last = max(r.idnum for i in range(revisions) for r in plain.xrefs.explicit_refs_in_revision(i))
    compared = 0
    for revision in range(revisions):
        complete, fast = plain.get_historical_resolver(revision), pruned.get_historical_resolver(revision)
        for idnum in range(1, last + 5):  # and a few no revision has
            ref = generic.Reference(idnum, 0)
            mine, theirs = fast.get_object(ref), complete.get_object(ref)
            assert _same(mine, theirs, fast, complete), (revision, idnum)
            assert fast.get_object(ref) is mine, "kept, as pyHanko keeps it"
            for value in (mine.values() if isinstance(mine, generic.DictionaryObject) else ()):
                if isinstance(value, generic.IndirectObject):
                    assert value.get_pdf_handler() is fast, "references resolve within the same revision"
            compared += 1
    assert compared > 50


@pytest.mark.parametrize("doc", ["sealed", "metadata_broken"])
def test_each_revisions_metadata_is_judged_as_pyhanko_judges_it(doc, request):
    from pyhanko.sign.diff_analysis.rules.metadata_rules import MetadataUpdateRule

    _, pruned = _readers(request.getfixturevalue(doc))
    assert MetadataUpdateRule.is_well_formed_xml is usages._is_well_formed_xml
    refused = 0
    for revision in range(pruned.xrefs.total_revisions):
        resolver = pruned.get_historical_resolver(revision)
        ref = resolver.root.get_value_as_reference("/Metadata")
        for _ in range(2):  # the second time from what is kept
            try:
                usages._is_well_formed_xml(ref)
                kept = "ok"
            except Exception as e:  # noqa: BLE001 - the refusal is what is compared
                kept = type(e).__name__
            try:
                usages._original_is_well_formed_xml(ref)
                theirs = "ok"
            except Exception as e:  # noqa: BLE001
                theirs = type(e).__name__
            assert kept == theirs, revision
        refused += theirs != "ok"
    assert refused == (0 if doc == "sealed" else 2)


@pytest.mark.parametrize("doc", ["sealed", "structure_rewritten"])
def test_the_structure_tree_kept_for_a_revision_is_the_one_it_has(doc, request):
    """One walk of the structure tree serves every revision that has the same versions of what it read; a
    revision with a rewritten element gets its own (compared with a fresh walk of each revision)."""
    pdf = request.getfixturevalue(doc)
    _, pruned = _readers(pdf)
    graph = pruned.get_historical_resolver(0)._graph
    walks = 0
    for revision in range(graph.revisions):
        root = pruned.get_historical_resolver(revision).root.raw_get("/StructTreeRoot")
        kept = graph.struct_tree_refs(root, revision)
        fresh_graph = usages.ObjectGraph(PdfFileReader(io.BytesIO(pdf), strict=False))
        assert kept == fresh_graph._struct_tree_refs(root, revision), revision
        walks = len(graph._struct_trees)
    assert walks == (1 if doc == "sealed" else 2), walks
