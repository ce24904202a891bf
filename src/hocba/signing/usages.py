"""The reverse cross-reference map of pyHanko's difference analysis, computed only where it can matter.

pyHanko's ``StandardDiffPolicy`` judges every revision written after a signature against the signed
revision. To do so it asks the signed revision, for each object a later revision overwrites, every path by
which that object can be reached from the trailer (``HistoricalResolver._get_usages_of_ref``); the first such
question makes the revision walk its whole object graph and record the paths to *every* object
(``_load_reverse_xref_cache``). A học bạ rendered by Typst is a tagged PDF — about 370 structure elements out
of 420 objects — and carries one signature per teacher, so that walk ran once per signature over a graph in
which almost nothing is ever overwritten: 60% of the time needed to validate an 18-signature record.

``PrunedResolver`` answers the same questions with the same answers, from a walk that never enters an object
from which no object of interest can be reached:

- the objects of interest ("targets") are every object written in a revision after this one (what
  ``StandardDiffPolicy.apply`` asks about) and every form field with its appearance dictionary (what the
  form-field rules ask about). A question about any other object is answered from pyHanko's own complete
  walk, made on first need — so an answer is never missing a path, which would make the analysis more
  permissive.
- "can reach" is computed on the object graph of the revision (every reference in an object's dictionaries
  and arrays, ``/Parent`` and ``/P`` included: more edges only prune less), with one refinement taken from
  the walk itself: pyHanko enters a page-tree node only by its canonical path (``/Root /Pages /Kids …``), so
  an edge into a page-tree node from anything other than the catalog, another page-tree node or an array (an
  indirect ``/Kids``) carries no path beyond that node. This is what keeps the structure tree (whose elements
  point at their pages with ``/Pg``) out of the walk.
- the walk is pyHanko's, unchanged, with one early return: after recording the path to an object, it does not
  go into the object when no target can be reached from it. Every path to a target found by the complete walk
  passes only through objects from which that target can be reached, in the same order and under the same
  path-dependent rules, so the pruned walk finds exactly the same paths to every target.
- the page tree and the set of structure elements (at which pyHanko stops when it enters one from outside the
  structure tree) are collected as pyHanko collects them, the latter from the raw objects of the graph.

Objects are read once per version (an object unchanged over many revisions is parsed once), without
pyHanko's per-revision copy; the resolvers' own ``get_object`` (what the difference analysis reads) copies from
that reading too, instead of parsing again for every revision each object written again later. Used only by
``validate.validate_pdf`` through ``install``; the complete walk is taken instead for encrypted files and
whenever anything here fails. Written against pyHanko 0.38 (the walk below is a copy of
``HistoricalResolver._load_reverse_xref_cache``, MIT licence); tests compare the two maps.
"""

from __future__ import annotations

import bisect
import functools
import logging
from collections import defaultdict

from pyhanko.pdf_utils import generic, misc
from pyhanko.pdf_utils.reader import HistoricalResolver, PdfFileReader, RawPdfPath
from pyhanko.sign.diff_analysis import form_rules_api, policies
from pyhanko.sign.diff_analysis.commons import qualify
from pyhanko.sign.diff_analysis.form_rules_api import FieldComparisonSpec, FormUpdate
from pyhanko.sign.diff_analysis.policy_api import ModificationLevel, SuspiciousModification
from pyhanko.sign.diff_analysis.rules.form_field_rules import (
    BaseFieldModificationRule,
    SigFieldModificationRule,
)
from pyhanko.sign.diff_analysis.rules.metadata_rules import MetadataUpdateRule

log = logging.getLogger(__name__)

Key = tuple[int, int]  # (idnum, generation)


class ObjectGraph:
    """The references each object holds, per version of the object, for one reader."""

    def __init__(self, reader: PdfFileReader):
        self.reader = reader
        xrefs = reader.xrefs
        self.revisions = xrefs.total_revisions
        self._sections = [xrefs.get_xref_data(i) for i in range(self.revisions)]
        self._written = [{(r.idnum, r.generation) for r in xrefs.explicit_refs_in_revision(i)}
                         for i in range(self.revisions)]
        # the object numbers each section can resolve without its hybrid part: a section without one, whose
        # entries do not mention a number, answers KeyError for it (``try_resolve``), so it is not asked
        self._numbers = [None if section.hybrid is not None
                         else {*section.xrefs_in_objstm, *section.standard_xrefs, *section.freed}
                         for section in self._sections]
        self._versions: dict[Key, list[int]] = {}
        self._objects: dict[tuple[Key, int], generic.PdfObject] = {}
        self._reading: list | None = None  # (key, version) of each object read, while a walk is recorded
        self._compared: dict = {}  # see _compare_fields
        self._struct_trees: list[tuple[Key, tuple, frozenset]] = []  # see struct_tree_refs
        self._edges: dict[tuple[Key, int], tuple[Key, ...]] = {}

    def written_after(self, revision: int) -> set[Key]:
        out: set[Key] = set()
        for i in range(revision + 1, self.revisions):
            out |= self._written[i]
        return out

    def form_refs(self, revision: int, trailer) -> set[Key]:
        """The form fields of ``revision`` (the ``/AcroForm /Fields`` tree, ``/Kids`` included) and their
        indirect ``/AP`` dictionaries: what the form-field rules ask the usages of, changed or not.
        ``trailer``: the revision's trailer dictionary (its resolver's ``trailer_view``)."""
        out: set[Key] = set()
        catalog = self.deref(trailer.raw_get("/Root"), revision)
        if not isinstance(catalog, generic.DictionaryObject) or "/AcroForm" not in catalog:
            return out
        form = self.deref(catalog.raw_get("/AcroForm"), revision)
        if not isinstance(form, generic.DictionaryObject) or "/Fields" not in form:
            return out
        stack = [form.raw_get("/Fields")]
        while stack:
            value = stack.pop()
            if isinstance(value, generic.IndirectObject):
                key = (value.idnum, value.generation)
                if key in out:
                    continue
                out.add(key)
                value = self.get(key, revision)
            if isinstance(value, generic.ArrayObject):
                stack.extend(value)
            elif isinstance(value, generic.DictionaryObject):
                for name in ("/Kids", "/AP"):
                    if name in value:
                        stack.append(value.raw_get(name))
        return out

    def _version(self, key: Key, revision: int) -> int | None:
        """The revision whose cross-reference section resolves ``key`` as seen from ``revision`` (pyHanko's
        ``get_historical_ref`` order), or None."""
        versions = self._versions.get(key)
        if versions is None:
            ref = generic.Reference(*key)
            versions = []
            for i, section in enumerate(self._sections):
                numbers = self._numbers[i]
                if numbers is not None and key[0] not in numbers:
                    continue
                try:
                    section.try_resolve(ref)
                except KeyError:
                    continue
                versions.append(i)
            self._versions[key] = versions
        at = bisect.bisect_right(versions, revision) - 1
        return versions[at] if at >= 0 else None

    def get(self, key: Key, revision: int) -> generic.PdfObject:
        """The raw object ``key`` as of ``revision`` (its references unresolved), read once per version."""
        version = self._version(key, revision)
        if self._reading is not None:
            self._reading.append((key, version))
        if version is None:
            return generic.NullObject()
        obj = self._objects.get((key, version))
        if obj is None:
            ref = generic.Reference(*key)
            if self.reader.xrefs.get_historical_ref(ref, version) is None:  # freed
                obj = generic.NullObject()
            elif self._version(key, self.revisions - 1) == version:
                obj = self.reader.get_object(ref, transparent_decrypt=False)
            else:
                obj = self.reader.get_object(ref, version, transparent_decrypt=False)
            self._objects[(key, version)] = obj
        return obj

    def deref(self, value, revision: int):
        if isinstance(value, generic.IndirectObject):
            return self.get((value.idnum, value.generation), revision)
        return value

    def edges(self, key: Key, revision: int) -> tuple[Key, ...]:
        version = self._version(key, revision)
        if version is None:
            return ()
        cached = self._edges.get((key, version))
        if cached is None:
            found: list[Key] = []
            _collect(self.get(key, revision), found)
            cached = self._edges[(key, version)] = tuple(dict.fromkeys(found))
        return cached

    def struct_tree_refs(self, struct_tree_root, revision: int) -> set[Key]:
        """pyHanko's ``_collect_struct_tree_refs`` over the raw objects of ``revision``: the structure elements
        under ``/StructTreeRoot /K``, same order, same errors (a KeyError ends the collection where it is).

        The answer is a function of the objects the walk reads: it is kept with the version of each, and given
        again for another revision that resolves every one of them to the same version (signatures do not touch
        the structure tree: one walk for all the revisions of a signed record). An indirect root only (a direct
        one is part of the catalog); an exception is not kept."""
        if not isinstance(struct_tree_root, generic.IndirectObject):
            return self._struct_tree_refs(struct_tree_root, revision)
        root_key = (struct_tree_root.idnum, struct_tree_root.generation)
        for key, read, nodes in self._struct_trees:
            if key == root_key and all(self._version(k, revision) == v for k, v in read):
                return set(nodes)
        self._reading = []
        try:
            nodes = self._struct_tree_refs(struct_tree_root, revision)
            read = tuple(dict.fromkeys(self._reading))
        finally:
            self._reading = None
        self._struct_trees.append((root_key, read, frozenset(nodes)))
        return nodes

    def _struct_tree_refs(self, struct_tree_root, revision: int) -> set[Key]:
        nodes: set[Key] = set()

        def walk(elem):
            children = self.deref(elem.raw_get("/K"), revision) if "/K" in elem else None
            if children is None:
                return
            if not isinstance(children, generic.ArrayObject):
                children = (children,)
            for child in children:
                child_key = None
                if isinstance(child, generic.IndirectObject):
                    child_key = (child.idnum, child.generation)
                    child = self.get(child_key, revision)
                if not isinstance(child, generic.DictionaryObject):
                    continue
                if "/Type" in child and self.deref(child.raw_get("/Type"), revision) != "/StructElem":
                    continue
                if child_key is not None:
                    yield child_key
                yield from walk(child)

        root = self.deref(struct_tree_root, revision)
        if not isinstance(root, generic.DictionaryObject):  # pyHanko fails on it (TypeError) too
            raise TypeError("the structure tree root is not a dictionary")
        for key in walk(root):
            if key in nodes:
                raise misc.PdfReadError("Circular reference in structure tree in mapping stage")
            nodes.add(key)
        return nodes

    def can_reach(self, revision: int, trailer, targets: set[Key], page_tree: set[Key], root: Key | None) -> set[Key]:
        """Every object of ``revision`` from which the walk can record a path to a target: it holds a reference
        to a target, or a reference it can walk into (see the module's notes on page-tree nodes) to an object
        that can."""
        predecessors: dict[Key, list[Key]] = defaultdict(list)
        seen: set[Key] = set()
        stack: list[Key] = []
        _collect(trailer, stack)
        while stack:
            key = stack.pop()
            if key in seen:
                continue
            seen.add(key)
            for child in self.edges(key, revision):
                predecessors[child].append(key)
                if child not in seen:
                    stack.append(child)
        walkable_into_pages = page_tree | ({root} if root is not None else set())

        def walks_into_pages(parent: Key) -> bool:
            # the canonical path of a page-tree node ends "/Pages" (from the catalog) or "/Kids, i": its last
            # step leaves the catalog, a page-tree node holding a direct /Kids array, or an indirect /Kids
            # array; any array counts (more edges only prune less)
            return parent in walkable_into_pages or isinstance(self.get(parent, revision), generic.ArrayObject)

        reach: set[Key] = set()
        stack = []
        for target in targets:
            for parent in predecessors.get(target, ()):
                if parent not in reach:
                    reach.add(parent)
                    stack.append(parent)
        while stack:
            key = stack.pop()
            into_page_tree = key in page_tree
            for parent in predecessors.get(key, ()):
                if parent in reach or (into_page_tree and not walks_into_pages(parent)):
                    continue
                reach.add(parent)
                stack.append(parent)
        return reach


def _collect(obj, out: list[Key]) -> None:
    """The references ``obj`` holds in its dictionaries and arrays (not going into other objects)."""
    if isinstance(obj, generic.IndirectObject):
        out.append((obj.idnum, obj.generation))
    elif isinstance(obj, generic.DictionaryObject):  # stream dictionaries included
        for value in obj.values():
            _collect(value, out)
    elif isinstance(obj, generic.ArrayObject):
        for value in obj:
            _collect(value, out)


class _Usages(dict):
    """The pruned map, complete for the targets; any other object is looked up in pyHanko's complete map
    (computed on first need). Always true, so ``_get_usages_of_ref``'s ``cache or {}`` keeps it."""

    def __init__(self, resolver: PrunedResolver, pruned: dict, targets: set[Key]):
        super().__init__(pruned)
        self._resolver = resolver
        self._targets = targets
        self._complete: dict | None = None

    def __bool__(self) -> bool:
        return True

    def __getitem__(self, ref):
        if (ref.idnum, ref.generation) in self._targets:
            return super().__getitem__(ref)
        if self._complete is None:
            self._complete = self._resolver.complete_usages()
        return self._complete[ref]


class PrunedResolver(HistoricalResolver):
    def __init__(self, reader: PdfFileReader, revision: int, graph: ObjectGraph):
        super().__init__(reader, revision)
        self._graph = graph
        self._orphans: frozenset | None = None  # see _find_orphans
        self._expected_contexts: dict = {}  # see _expected_contexts
        self._well_formed: set[Key] = set()  # see _is_well_formed_xml
        self._field_lists: dict = {}  # see _field_list

    def get_object(self, ref: generic.Reference, as_metadata_stream: bool = False):
        """pyHanko's ``HistoricalResolver.get_object`` (this revision's copy of the object, its references bound to
        this resolver, kept), copied from the graph's parse of that version instead of parsing it again: pyHanko
        parses anew, for every revision, each object written again later (the catalog, the form, the DSS, …).
        An object the graph cannot hand out as pyHanko would read it (no version, freed, a metadata stream) is
        pyHanko's way."""
        cache = self.cache
        obj = cache.get(ref)
        if obj is None:
            graph, key = self._graph, (ref.idnum, ref.generation)
            version = graph._version(key, self.revision)
            if (as_metadata_stream or version is None
                    or self.reader.xrefs.get_historical_ref(ref, version) is None):
                return super().get_object(ref, as_metadata_stream)
            cache[ref] = obj = self._copy(graph.get(key, self.revision), {})
        return obj

    def _copy(self, obj, refs: dict):
        """pyHanko's ``_subsume_object``, in its order: the object's container reference bound to this resolver
        (pyHanko's error when there is none), then references rebound, dictionaries, streams and arrays copied
        with the bound container reference, anything else as it is. The bound reference for an object number is
        made once per object copied (pyHanko makes one per value: equal, immutable values)."""
        container = obj.get_container_ref()
        key = (container.idnum, container.generation)
        bound = refs.get(key)
        if bound is None:
            bound = refs[key] = generic.Reference(idnum=key[0], generation=key[1], pdf=self)
        if isinstance(obj, generic.DecryptedObjectProxy):
            return self._subsume_object(obj)
        if isinstance(obj, generic.IndirectObject):
            return generic.IndirectObject(idnum=obj.idnum, generation=obj.generation, pdf=self)
        if isinstance(obj, generic.DictionaryObject):
            copy = self._copy
            items = {k: copy(v, refs) for k, v in obj.items()}
            result = (generic.StreamObject(items, encoded_data=obj.encoded_data)
                      if isinstance(obj, generic.StreamObject) else generic.DictionaryObject(items))
        elif isinstance(obj, generic.ArrayObject):
            copy = self._copy
            result = generic.ArrayObject(copy(v, refs) for v in obj)
        else:
            return obj
        result.container_ref = bound
        return result

    def complete_usages(self) -> dict:
        """pyHanko's own map (the complete walk), leaving this resolver's map in place."""
        mine = self._indirect_object_access_cache
        self._indirect_object_access_cache = None
        try:
            HistoricalResolver._load_reverse_xref_cache(self)
            return self._indirect_object_access_cache
        finally:
            self._indirect_object_access_cache = mine

    def _load_reverse_xref_cache(self):
        if self._indirect_object_access_cache is not None:
            return
        try:
            self._indirect_object_access_cache = self._pruned()
        except Exception:  # a file this does not understand gets pyHanko's complete walk
            log.debug("pruned reverse xref map failed; complete walk", exc_info=True)
            self._indirect_object_access_cache = None
            HistoricalResolver._load_reverse_xref_cache(self)

    def _pruned(self) -> _Usages:
        graph = self._graph
        targets = graph.written_after(self.revision) | graph.form_refs(self.revision, self.trailer_view)
        collected = defaultdict(set)

        # -- from pyHanko's _load_reverse_xref_cache: the page tree nodes and their canonical paths
        def _collect_page_tree_refs(pages_obj, path):
            for ix, kid in enumerate(pages_obj['/Kids']):
                kid_path = path.cons('/Kids').cons(ix)
                if isinstance(kid, generic.IndirectObject):
                    yield kid.reference, kid_path
                kid = kid.get_object()
                if kid.get('/Type', None) == '/Pages':
                    yield from _collect_page_tree_refs(kid, kid_path)

        pages_ref = self.root.raw_get('/Pages')
        pages_path = misc.ConsList.sing('/Root').cons('/Pages')
        page_tree_nodes = {}
        if isinstance(pages_ref, generic.IndirectObject):
            page_tree_nodes[pages_ref.reference] = pages_path
        for ref, path in _collect_page_tree_refs(pages_ref.get_object(), pages_path):
            if ref in page_tree_nodes:
                raise misc.PdfReadError("Circular reference in page tree in mapping stage")
            page_tree_nodes[ref] = path

        root_raw = self.trailer_view.raw_get('/Root')
        root_key = (root_raw.idnum, root_raw.generation) if isinstance(root_raw, generic.IndirectObject) else None
        reach = graph.can_reach(self.revision, self.trailer_view, targets,
                                {(r.idnum, r.generation) for r in page_tree_nodes}, root_key)

        struct_tree_nodes: set[Key] = set()
        try:
            struct_tree_nodes = graph.struct_tree_refs(self.root.raw_get('/StructTreeRoot'), self.revision)
        except KeyError:
            pass

        # -- pyHanko's walk, with the one early return marked below. It reads each object as the graph holds it
        # (the version this revision resolves, read once for all revisions) instead of through this resolver,
        # which copies every object to bind its references to itself and parses again, for every revision, any
        # object changed later: the walk only looks at keys, values and reference numbers, which are the same.
        revision = self.revision
        def _compute_paths_to_refs(obj, cur_path, seen_in_path, *, page_tree_objs, is_struct_tree,
                                   struct_tree_objs):
            if isinstance(obj, generic.IndirectObject):
                obj_ref = obj.reference
                if obj_ref in seen_in_path:
                    return
                collected[obj_ref].add(cur_path)
                if (obj_ref.idnum, obj_ref.generation) not in reach:  # the pruning: no target below
                    return
                seen_in_path = seen_in_path.cons(obj_ref)
                obj = graph.get((obj_ref.idnum, obj_ref.generation), revision)  # pyHanko: self(obj_ref), see below
                canonical_path = page_tree_objs.get(obj_ref, cur_path)
                if cur_path != canonical_path:
                    return
                if not is_struct_tree and (obj_ref.idnum, obj_ref.generation) in struct_tree_objs:
                    return
            if isinstance(obj, generic.DictionaryObject):
                for k, v in obj.items():
                    if k == '/Parent' or (is_struct_tree and k == '/P'):
                        continue
                    _compute_paths_to_refs(
                        v, cur_path.cons(k), seen_in_path, page_tree_objs=page_tree_objs,
                        is_struct_tree=is_struct_tree or (
                            cur_path.head == '/StructTreeRoot' and k == '/K'
                            and cur_path.tail == misc.ConsList.sing('/Root')),
                        struct_tree_objs=struct_tree_objs)
            elif isinstance(obj, generic.ArrayObject):
                for ix, v in enumerate(obj):
                    _compute_paths_to_refs(v, cur_path.cons(ix), seen_in_path, page_tree_objs=page_tree_objs,
                                           is_struct_tree=is_struct_tree, struct_tree_objs=struct_tree_objs)

        _compute_paths_to_refs(self.trailer_view, misc.ConsList.empty(), misc.ConsList.empty(),
                               page_tree_objs=page_tree_nodes, is_struct_tree=False,
                               struct_tree_objs=struct_tree_nodes)
        pruned = {ref: {RawPdfPath(*reversed(list(p))) for p in paths} for ref, paths in collected.items()
                  if (ref.idnum, ref.generation) in targets}
        return _Usages(self, pruned, targets)


# -- what the analysis of every (signed revision, later revision) pair recomputes about one revision alone.
# pyHanko judges each later revision against each signed one: 190 pairs for 19 signatures and timestamps.
# Several of its steps depend on one revision only (the orphans it writes, a field's expected paths, its field
# listing, its metadata's syntax) or on two versions of one object (a field's comparison, a signature field
# unchanged between the two): on a ``PrunedResolver`` their answer is kept on the resolver or the graph (any
# other resolver gets pyHanko's functions, unchanged); an exception is never kept, so it is raised again on
# every call as before. ``_install_memos`` puts them in place; the tests compare each with pyHanko's own.

_original_find_orphans = policies._find_orphans
_original_expected_contexts = FieldComparisonSpec.expected_contexts


def _find_orphans(hist_rev):
    """``policies._find_orphans``: the objects a revision writes that nothing older reaches — a function of
    that revision (and the one before it), asked again for every signature before it."""
    if not isinstance(hist_rev, PrunedResolver):
        return _original_find_orphans(hist_rev)
    if hist_rev._orphans is None:
        hist_rev._orphans = frozenset(_original_find_orphans(hist_rev))
    return set(hist_rev._orphans)


def _expected_contexts(spec):
    """``FieldComparisonSpec.expected_contexts``: the paths by which a form field is reached in the signed
    revision (its page's /Annots, the structure tree, /AcroForm /Fields) — a function of that revision, the
    field and its path there, asked again for every later revision."""
    ref = spec.old_field_ref
    old = ref.get_pdf_handler() if ref is not None else None
    if not isinstance(old, PrunedResolver):
        return _original_expected_contexts(spec)
    key = (ref.idnum, ref.generation, spec.old_canonical_path)
    contexts = old._expected_contexts.get(key)
    if contexts is None:
        contexts = old._expected_contexts[key] = frozenset(_original_expected_contexts(spec))
    return set(contexts)


# -- and one step that depends on one object version: pyHanko's signature-field rule compares a field's dictionary
# in the signed revision with the same field in the later one, for every field of the form and every pair. When
# both revisions resolve the field to the same version of the object (nothing wrote it in between), pyHanko's
# ``SigFieldModificationRule.check_form_field`` can only reach one outcome — ``compare_fields`` finds the same
# keys and equal values (two copies of one parsed object: PDF values compare by content, references by number)
# and the same ``/Type``, so the change is valid when locked; ``/V`` is in both or in neither, so it yields the
# field's reference at LTA level once per expected context, and stops. That outcome is produced directly, from
# pyHanko's own ``qualify`` and ``FormUpdate``; any other case (a new field, a changed one, a stream, an empty
# dictionary, which pyHanko treats as no field, another kind of resolver) is pyHanko's function.

_original_sig_field_check = SigFieldModificationRule.check_form_field


def _sig_field_check(self, fq_name, spec, context):
    old, new = context.old, context.new
    ref = spec.new_field_ref
    if (spec.field_type == "/Sig" and ref is not None and spec.old_field_ref == ref
            and isinstance(old, PrunedResolver) and isinstance(new, PrunedResolver) and old._graph is new._graph):
        graph, key = old._graph, (ref.idnum, ref.generation)
        version = graph._version(key, old.revision)
        if version is not None and version == graph._version(key, new.revision):
            field = graph.get(key, old.revision)
            if isinstance(field, generic.DictionaryObject) and not isinstance(field, generic.StreamObject) and field:
                yield from qualify(ModificationLevel.LTA_UPDATES, (
                    FormUpdate(updated_ref=ref, field_name=fq_name, valid_when_locked=True, context_checked=expected)
                    for expected in spec.expected_contexts()))
                return
    yield from _original_sig_field_check(self, fq_name, spec, context)


_original_list_fields = form_rules_api._list_fields


def _field_list(lst, exc, parent_name, inherited_ft) -> dict:
    """``_make_list`` of pyHanko's ``_list_fields``: the fields of one revision's field array by qualified name;
    kept on the revision's resolver for an array that resolver handed out (a revision's form, asked again by every
    pair it is part of). An exception is not kept."""
    ref = getattr(lst, "container_ref", None)
    resolver = getattr(ref, "pdf", None)
    if isinstance(resolver, PrunedResolver):
        key = (id(lst), exc, parent_name, inherited_ft)
        kept = resolver._field_lists.get(key)
        if kept is not None and kept[0] is lst:
            return kept[1]
    listed = dict(_make_list(lst, exc, parent_name, inherited_ft))
    if isinstance(resolver, PrunedResolver):
        resolver._field_lists[key] = (lst, listed)
    return listed


# -- pyHanko 0.38's form_rules_api._list_fields (MIT licence), unchanged but for _field_list above
def _make_list(lst, exc, parent_name, inherited_ft):
    if not isinstance(lst, generic.ArrayObject):
        raise exc("Field list is not an array.")
    names_seen = set()

    for ix, field_ref in enumerate(lst):
        if not isinstance(field_ref, generic.IndirectObject):
            raise exc("Fields must be indirect objects")

        field = field_ref.get_object()
        if not isinstance(field, generic.DictionaryObject):
            raise exc("Fields must be dictionary objects")

        try:
            name = field.raw_get('/T')
        except KeyError:
            continue
        if not isinstance(name, (generic.TextStringObject, generic.ByteStringObject)):
            raise exc("Names must be strings")
        if name in names_seen:
            raise exc("Duplicate field name")
        elif '.' in name:
            raise exc("Partial names must not contain periods")
        names_seen.add(name)

        fq_name = parent_name + "." + name if parent_name else name
        try:
            field_type = field.raw_get('/FT')
        except KeyError:
            field_type = inherited_ft

        try:
            kids = field["/Kids"]
        except KeyError:
            kids = generic.ArrayObject()

        if not kids and field_type is None:
            raise exc(f"Field type of terminal field {fq_name!r} could not be determined")
        yield fq_name, (field_type, field_ref.reference, kids, ix)


def _list_fields(old_fields, new_fields, old_path, parent_name="", inherited_ft=None):
    old_fields_by_name = _field_list(old_fields, misc.PdfReadError, parent_name, inherited_ft)
    new_fields_by_name = _field_list(new_fields, SuspiciousModification, parent_name, inherited_ft)

    names: set[str] = set()
    names.update(old_fields_by_name.keys())
    names.update(new_fields_by_name.keys())

    for field_name in names:
        try:
            (old_field_type, old_field_ref, old_kids, field_index) = old_fields_by_name[field_name]
        except KeyError:
            old_field_type = old_field_ref = None
            old_kids = generic.ArrayObject()
            field_index = None

        try:
            new_field_type, new_field_ref, new_kids, _ = new_fields_by_name[field_name]
        except KeyError:
            new_field_type = new_field_ref = None
            new_kids = generic.ArrayObject()

        if old_field_ref and new_field_ref and (new_field_type != old_field_type):
            raise SuspiciousModification(f"Update changed field type of {field_name}")
        common_ft = old_field_type or new_field_type
        if field_index is not None and old_path is not None:
            field_path = old_path + field_index
        else:
            field_path = None
        yield (
            field_name,
            FieldComparisonSpec(
                field_type=common_ft,
                old_field_ref=old_field_ref,
                new_field_ref=new_field_ref,
                old_canonical_path=field_path,
            ),
        )

        # recursively descend into /Kids if necessary
        if old_kids or new_kids:
            yield from _list_fields(
                old_kids,
                new_kids,
                parent_name=field_name,
                old_path=(field_path + '/Kids' if field_path is not None else None),
                inherited_ft=common_ft,
            )


_original_is_well_formed_xml = MetadataUpdateRule.is_well_formed_xml


def _is_well_formed_xml(metadata_ref):
    """``MetadataUpdateRule.is_well_formed_xml``: the XMP metadata stream a revision's catalog points to parses as
    XML — asked again, for the same revision, by every pair it is part of. Kept per resolver once it has passed
    (the stream object is the resolver's own and keeps its decoded data, so pyHanko's second look would read the
    same bytes); a refusal is raised again on every call."""
    resolver = getattr(metadata_ref, "pdf", None)
    if not isinstance(resolver, PrunedResolver):
        return _original_is_well_formed_xml(metadata_ref)
    key = (metadata_ref.idnum, metadata_ref.generation)
    if key not in resolver._well_formed:
        _original_is_well_formed_xml(metadata_ref)
        resolver._well_formed.add(key)
    return None


_original_compare_fields = BaseFieldModificationRule.compare_fields


def _compare_fields(self, spec):
    """``BaseFieldModificationRule.compare_fields``: whether a field's dictionary changed between two revisions
    beyond the keys a form fill may change — a function of the two versions of the dictionary (and the rule's
    key sets), asked again for every pair that sees the same two versions (a field signed in revision s: every
    signed revision before s against every revision from s on). Kept on the graph by the two versions; an
    exception is not kept."""
    old_ref, new_ref = spec.old_field_ref, spec.new_field_ref
    old, new = getattr(old_ref, "pdf", None), getattr(new_ref, "pdf", None)
    if not (isinstance(old, PrunedResolver) and isinstance(new, PrunedResolver) and old._graph is new._graph):
        return _original_compare_fields(self, spec)
    graph = old._graph
    old_key, new_key = (old_ref.idnum, old_ref.generation), (new_ref.idnum, new_ref.generation)
    key = (old_key, graph._version(old_key, old.revision), new_key, graph._version(new_key, new.revision), id(self))
    kept = graph._compared.get(key)
    if kept is None or kept[0] is not self:
        kept = graph._compared[key] = (self, _original_compare_fields(self, spec))
    return kept[1]


def _install_memos() -> None:
    policies._find_orphans = _find_orphans
    FieldComparisonSpec.expected_contexts = _expected_contexts
    SigFieldModificationRule.check_form_field = _sig_field_check
    BaseFieldModificationRule.compare_fields = _compare_fields
    MetadataUpdateRule.is_well_formed_xml = staticmethod(_is_well_formed_xml)
    form_rules_api._list_fields = _list_fields


def install(reader: PdfFileReader) -> bool:
    """Makes ``reader`` hand out ``PrunedResolver``s for its revisions (and puts the per-revision memos above in
    place). False (nothing changed) for an encrypted file or a pyHanko without the expected internals."""
    if getattr(reader, "encrypted", False) or "/Encrypt" in reader.trailer:
        return False
    cache = getattr(reader, "_historical_resolver_cache", None)
    if not isinstance(cache, dict) or cache:
        return False
    try:
        graph = ObjectGraph(reader)
        resolvers = {revision: PrunedResolver(reader, revision, graph) for revision in range(graph.revisions)}
    except Exception:  # a file pyHanko reads its own way: its own resolvers
        log.debug("pruned resolvers not installed", exc_info=True)
        return False
    cache.update(resolvers)
    _remember_xref_history(reader.xrefs)
    _install_memos()
    return True


def _remember_xref_history(xrefs) -> None:
    """``get_introducing_revision`` and ``get_last_change`` (which revision first / last wrote an object) search
    the cross-reference sections one by one, and every revision pair asks them again for the same objects; they
    are functions of the sections, which never change once read. Kept per reader, as attributes of its
    cross-reference cache (no other reader is touched); a KeyError (an object no section knows) is not kept."""
    for name in ("get_introducing_revision", "get_last_change"):
        setattr(xrefs, name, functools.lru_cache(maxsize=None)(getattr(xrefs, name)))
