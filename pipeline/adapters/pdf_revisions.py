"""What each incremental update (revision) of a PDF adds and changes, read with pyHanko's xref history.

Each revision's objects are compared with their previous version and described as facts (`RevisionChanges`)
for the pure decisions of `pipeline.core.revisions`: the check of a returned signed document
(`pipeline.adapters.returned_pdf`, after the prepared bytes) and of any signed document (`sopipe verify`:
after each signature, `pipeline.adapters.validation`).
"""

from __future__ import annotations

import io
import re
from typing import Mapping, Sequence

from pipeline.core.revisions import (FieldChange, ObjectChange, PdfRevisions, RevisionChanges, Widget,
                                     after_prepared)

_WALK_LIMIT = 20_000
"""Most objects followed when looking for a page's content (bounded: a hostile file cannot make it endless)."""


def revision_changes(pdf: bytes, *, prepared_size: int, signed: Mapping[str, tuple[str, int | None]]
                     ) -> tuple[RevisionChanges, ...]:
    """What each incremental update after the first `prepared_size` bytes (the prepared document) adds and
    changes, read with pyHanko's xref history; ValueError when the revisions cannot be read or do not build on
    exactly the prepared document (`pipeline.core.revisions.after_prepared`).

    `signed`: per field name the kind of its value (`/Sig`, `/DocTimeStamp`) and the revision its byte range
    reaches, as the validation found them (`AdesSignatureReport.revision`): the signature values themselves are
    not parsed again (their /Contents is most of the cost of reading them). The pipeline reads a returned PDF
    once and takes its revisions from that reading (`pdf_revisions`, `pipeline.adapters.returned_pdf`)."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        found = pdf_revisions(reader, signed=signed)
    except Exception as e:  # pyHanko's PdfReadError and friends: the structure cannot be followed
        raise ValueError(structure_problem(e)) from e
    return after_prepared(pdf, found, prepared_size=prepared_size)


def pdf_revisions(reader, *, signed: Mapping[str, tuple[str, int | None]],
                  known: Sequence[RevisionChanges] | None = None) -> PdfRevisions:
    """Where each revision of an open pyHanko reader starts, and what each after the first changes (`known`: as
    the validation read them already, `DocumentReport.revisions`; else read here, each revision on its own). A
    revision whose changes cannot be followed is kept as a problem, for the check that needs it; a failure to read
    where the revisions start is raised."""
    xrefs = reader.xrefs
    starts = tuple(xrefs.get_startxref_for_revision(r) for r in range(xrefs.total_revisions))
    if known is not None and len(known) == len(starts) - 1:
        return PdfRevisions(starts, tuple(known))
    by_revision, kinds = _signed_by(signed)
    changes, problems = [], []
    for r in range(1, len(starts)):
        try:
            changes.append(_one_revision(reader, r, index=r, signed_by=by_revision.get(r), kinds=kinds))
        except Exception as e:  # pyHanko's PdfReadError and friends: this revision cannot be followed
            changes.append(None)
            problems.append((r, structure_problem(e)))
    return PdfRevisions(starts, tuple(changes), tuple(problems))


def revisions_after(reader, base: int, *, signed: Mapping[str, tuple[str, int | None]]
                    ) -> tuple[RevisionChanges, ...]:
    """The changes of every revision after revision `base` of an open pyHanko reader (index 1: revision base+1);
    `signed` as for `revision_changes`."""
    by_revision, kinds = _signed_by(signed)
    return tuple(_one_revision(reader, r, index=r - base, signed_by=by_revision.get(r), kinds=kinds)
                 for r in range(base + 1, reader.xrefs.total_revisions))


def _signed_by(signed: Mapping[str, tuple[str, int | None]]) -> tuple[dict[int, str], dict[str, str]]:
    """(the field whose byte range ends with each revision, the kind of value of each field)."""
    by_revision: dict[int, str] = {}
    for name, (_kind, revision) in signed.items():
        if revision is not None:
            by_revision.setdefault(revision, name)
    return by_revision, {name: kind for name, (kind, _revision) in signed.items()}


def _one_revision(reader, r: int, *, index: int, signed_by: str | None, kinds: Mapping[str, str]
                  ) -> RevisionChanges:
    from pyhanko.pdf_utils import generic
    xrefs = reader.xrefs
    old, new = reader.get_historical_resolver(r - 1), reader.get_historical_resolver(r)
    explicit = xrefs.explicit_refs_in_revision(r)
    freed = {ref for ref in xrefs.refs_freed_in_revision(r) if xrefs.get_historical_ref(ref, r - 1) is not None}

    def existed(ref) -> bool:
        return xrefs.get_historical_ref(ref, r - 1) is not None

    changed = {(ref.idnum, ref.generation) for ref in explicit
               if existed(ref) and not _same(old.get_object(ref), new.get_object(ref))}
    handled: set[tuple[int, int]] = set()

    # trailer and catalog
    t_old, t_new = old.trailer_view, new.trailer_view
    catalog_keys = {f"trailer:{k}" for k in _diff_keys(t_old, t_new)
                    if k not in ("/Size", "/Prev", "/ID", "/XRefStm", "/Root", "/Info", "/Type", "/Length",
                                 "/Filter", "/DecodeParms", "/W", "/Index")}
    root_old, root_new = old.root, new.root
    handled |= _refs_of(t_old, "/Root") | _refs_of(t_new, "/Root")
    catalog_keys |= _diff_keys(root_old, root_new) - {"/AcroForm", "/Metadata"}
    metadata_refs = _refs_of(root_old, "/Metadata") | _refs_of(root_new, "/Metadata")
    metadata_keys: set[str] = set()
    if "/Metadata" in _diff_keys(root_old, root_new) or metadata_refs & changed:
        metadata_keys = _xmp_diff(_get(root_old, "/Metadata"), _get(root_new, "/Metadata"))
    handled |= metadata_refs

    # the form: fields added (or empty signature fields filled)
    form_old, form_new = _get(root_old, "/AcroForm"), _get(root_new, "/AcroForm")
    handled |= _refs_of(root_old, "/AcroForm") | _refs_of(root_new, "/AcroForm")
    fields_old, fields_new = _refs_in(form_old, "/Fields"), _refs_in(form_new, "/Fields")
    form_keys = _diff_keys(form_old or {}, form_new or {}) - {"/Fields"}
    if fields_new[:len(fields_old)] != fields_old:
        form_keys.add("/Fields")
    added = [ref for ref in fields_new if ref not in fields_old]
    filled = []
    for ref in fields_new:
        if ref in fields_old and ref in changed:
            before, after = old.get_object(_ref(ref, old)), new.get_object(_ref(ref, new))
            if before.get("/FT") == "/Sig" and "/V" not in before and "/V" in after \
                    and _diff_keys(before, after) <= {"/V", "/AP"}:
                filled.append(ref)
                handled.add(ref)

    # pages: only widgets added to /Annots
    pages_old, pages_new = _pages(root_old), _pages(root_new)
    page_of = {ref: n for n, (ref, _page) in enumerate(pages_new, start=1)}
    page_changes, annots_added = [], []
    for n, ((ref_old, page_old), (ref_new, page_new)) in enumerate(zip(pages_old, pages_new), start=1):
        if ref_old != ref_new:
            continue  # the page tree changed: reported by the tree's own objects
        handled.add(ref_new)
        keys = _diff_keys(page_old, page_new) - {"/Annots"}
        a_old, a_new = _refs_in(page_old, "/Annots"), _refs_in(page_new, "/Annots")
        handled |= _refs_of(page_old, "/Annots") | _refs_of(page_new, "/Annots")
        if a_new[:len(a_old)] != a_old:
            keys.add("/Annots")
        annots_added += [(n, a) for a in a_new if a not in a_old]
        if keys:
            page_changes.append((n, frozenset(keys)))

    fields, widget_refs = [], set()
    for ref in [*added, *filled]:
        fld = new.get_object(_ref(ref, new))
        kids = [k for k in _refs_in(fld, "/Kids")]
        widgets = kids or ([ref] if fld.get("/Subtype") == "/Widget" else [])
        widget_refs |= set(widgets)
        keys = set(fld.keys())
        shown = []
        for w in widgets:
            wd = new.get_object(_ref(w, new))
            keys |= set(wd.keys())
            page = next((n for n, a in annots_added if a == w), None) or page_of.get(_raw_ref(wd, "/P"))
            shown.append(Widget(page=page, fraction=_fraction(wd, pages_new[page - 1][1] if page else None),
                                appearance=_has_appearance(wd)))
        name = str(fld.get("/T", ""))
        kind = None if "/V" not in fld else kinds.get(name, "other")  # a value the validation did not read: odd
        fields.append(FieldChange(name=name, field_type=str(fld["/FT"]) if "/FT" in fld else None,
                                  value=kind if kind in (None, "/Sig", "/DocTimeStamp") else "other",
                                  widgets=tuple(shown), keys=frozenset(keys), filled=ref in filled))
    annotations = []
    for n, a in annots_added:
        if a in widget_refs:
            continue
        annot = new.get_object(_ref(a, new))
        annotations.append((n, str(annot.get("/Subtype", "?"))))

    # /Info: what signing software may update
    # (the trailer's references resolve in the newest revision: look them up in each revision itself)
    info_old, info_new = (_in(res, _raw_ref(t, "/Info")) for res, t in ((old, t_old), (new, t_new)))
    handled |= _refs_of(t_old, "/Info") | _refs_of(t_new, "/Info")
    info_keys = _diff_keys(info_old or {}, info_new or {})

    # validation data: the DSS dictionary and its containers
    dss_old, dss_new = _get(root_old, "/DSS"), _get(root_new, "/DSS")
    dss_refs = _refs_of(root_new, "/DSS") | {
        r_ for d in (dss_old, dss_new) if d is not None for k in ("/VRI", "/Certs", "/OCSPs", "/CRLs")
        for r_ in _refs_of(d, k)}
    validation_data = "/DSS" in catalog_keys or bool(dss_refs & changed)
    handled |= dss_refs

    others = sorted(changed - handled) + sorted((ref.idnum, ref.generation) for ref in freed)
    objects = []
    if others:
        tree, content = _page_structure(old, root_old)
        for number, gen in others:
            role = "paginaboom" if (number, gen) in tree else \
                "pagina-inhoud" if (number, gen) in content else \
                "veld" if (number, gen) in fields_old else "object"
            objects.append(ObjectChange(number, role, removed=any(f.idnum == number for f in freed)))
    return RevisionChanges(index=index, signed_by=signed_by, fields=tuple(fields),
                           catalog_keys=frozenset(catalog_keys), form_keys=frozenset(form_keys),
                           info_keys=frozenset(info_keys), metadata_keys=frozenset(metadata_keys),
                           pages=tuple(page_changes),
                           annotations=tuple(annotations), objects=tuple(objects), validation_data=validation_data)


def _in(resolver, key: tuple[int, int] | None):
    """The object `key` as it is in the resolver's revision, or None."""
    return None if key is None else resolver.get_object(_ref(key, resolver))


def _ref(key: tuple[int, int], resolver):
    from pyhanko.pdf_utils import generic
    return generic.Reference(key[0], key[1], pdf=resolver)


def _raw(obj, key):
    from pyhanko.pdf_utils import generic
    if obj is None or key not in obj:
        return None
    return obj.raw_get(key) if isinstance(obj, generic.DictionaryObject) else obj[key]


def _raw_ref(obj, key) -> tuple[int, int] | None:
    from pyhanko.pdf_utils import generic
    value = _raw(obj, key)
    return (value.idnum, value.generation) if isinstance(value, generic.IndirectObject) else None


def _refs_of(obj, key) -> set[tuple[int, int]]:
    found = _raw_ref(obj, key)
    return {found} if found else set()


def _get(obj, key):
    """`obj[key]` resolved, or None."""
    if obj is None or key not in obj:
        return None
    value = obj[key]
    return value.get_object() if hasattr(value, "get_object") else value


def _refs_in(obj, key) -> list[tuple[int, int]]:
    """The indirect references in the array `obj[key]` (itself direct or indirect), in order."""
    from pyhanko.pdf_utils import generic
    array = _get(obj, key)
    if not isinstance(array, generic.ArrayObject):
        return []
    out = []
    for i in range(len(array)):
        item = array.raw_get(i)
        if isinstance(item, generic.IndirectObject):
            out.append((item.idnum, item.generation))
    return out


def _diff_keys(a, b) -> set[str]:
    """Keys added, removed or changed between two dictionaries (values compared as written, not resolved)."""
    return {k for k in set(a) | set(b) if k not in a or k not in b or not _same(_raw(a, k), _raw(b, k))}


def _same(a, b, depth: int = 0) -> bool:
    from pyhanko.pdf_utils import generic
    if depth > 50:
        return False
    if isinstance(a, generic.IndirectObject) or isinstance(b, generic.IndirectObject):
        return isinstance(a, generic.IndirectObject) and isinstance(b, generic.IndirectObject) and \
            (a.idnum, a.generation) == (b.idnum, b.generation)
    if isinstance(a, generic.StreamObject) or isinstance(b, generic.StreamObject):
        return isinstance(a, generic.StreamObject) and isinstance(b, generic.StreamObject) and \
            a.encoded_data == b.encoded_data and _diff_keys_deep(a, b, depth)
    if isinstance(a, generic.DictionaryObject) and isinstance(b, generic.DictionaryObject):
        return _diff_keys_deep(a, b, depth)
    if isinstance(a, generic.ArrayObject) and isinstance(b, generic.ArrayObject):
        return len(a) == len(b) and all(_same(a.raw_get(i), b.raw_get(i), depth + 1) for i in range(len(a)))
    return type(a) is type(b) and a == b


def _diff_keys_deep(a, b, depth: int) -> bool:
    keys = (set(a) | set(b)) - {"/Length"}
    return all(k in a and k in b and _same(_raw(a, k), _raw(b, k), depth + 1) for k in keys)


def _pages(root) -> list[tuple[tuple[int, int] | None, object]]:
    """(reference, page dictionary) of each page, in order (bounded walk of the page tree)."""
    from pyhanko.pdf_utils import generic
    out, stack, seen = [], [(_raw(root, "/Pages"))], set()
    while stack and len(seen) < _WALK_LIMIT:
        node = stack.pop()
        key = (node.idnum, node.generation) if isinstance(node, generic.IndirectObject) else None
        if key in seen:
            continue
        if key:
            seen.add(key)
        obj = node.get_object() if node is not None else None
        if not isinstance(obj, generic.DictionaryObject):
            continue
        if obj.get("/Type") == "/Pages" or "/Kids" in obj:
            kids = _get(obj, "/Kids")
            if isinstance(kids, generic.ArrayObject):
                stack.extend(kids.raw_get(i) for i in reversed(range(len(kids))))
        else:
            out.append((key, obj))
    return out


def _page_structure(resolver, root) -> tuple[set, set]:
    """(the page tree's nodes, every object a page shows: contents, resources, annotations …), by reference."""
    from pyhanko.pdf_utils import generic
    tree, shown, stack = set(), set(), [_raw(root, "/Pages")]
    while stack and len(tree) + len(shown) < _WALK_LIMIT:
        node = stack.pop()
        if isinstance(node, generic.IndirectObject):
            key = (node.idnum, node.generation)
            if key in tree or key in shown:
                continue
            obj = node.get_object()
            is_tree = isinstance(obj, generic.DictionaryObject) and obj.get("/Type") == "/Pages"
            (tree if is_tree else shown).add(key)
            node = obj
        if isinstance(node, generic.DictionaryObject):
            stack.extend(node.raw_get(k) for k in node if k not in ("/Parent", "/P"))
        elif isinstance(node, generic.ArrayObject):
            stack.extend(node.raw_get(i) for i in range(len(node)))
    return tree, shown


def _fraction(widget, page) -> float:
    """Part of the page the widget's /Rect covers (0 when it has no size)."""
    try:
        x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
        area = abs(x2 - x1) * abs(y2 - y1)
        if area == 0 or page is None:
            return 0.0 if area == 0 else 1.0
        node, box = page, None
        for _ in range(32):  # /MediaBox is inherited from the page tree
            box = _get(node, "/MediaBox")
            if box is not None or _get(node, "/Parent") is None:
                break
            node = _get(node, "/Parent")
        px1, py1, px2, py2 = (float(v) for v in box) if box is not None else (0, 0, 595, 842)
        return min(1.0, area / max(1.0, abs(px2 - px1) * abs(py2 - py1)))
    except (KeyError, TypeError, ValueError):
        return 1.0  # a rectangle that cannot be read is judged as covering the page


def _has_appearance(widget) -> bool:
    ap = _get(widget, "/AP")
    return ap is not None and "/N" in ap


_XMP_PREFIXES = {"http://ns.adobe.com/pdf/1.3/": "pdf", "http://ns.adobe.com/xap/1.0/": "xmp",
                 "http://purl.org/dc/elements/1.1/": "dc", "http://www.aiim.org/pdfa/ns/id/": "pdfaid",
                 "http://ns.adobe.com/xap/1.0/mm/": "xmpMM"}
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def _xmp_diff(old, new) -> set[str]:
    """The XMP properties (`dc:title`, `pdf:Producer` …) added, removed or changed between two metadata streams;
    `(XMP)` when one of them cannot be read. Compared as properties, not as text: signing software rewrites the
    packet in its own layout."""
    try:
        a, b = _xmp_properties(old), _xmp_properties(new)
    except Exception:
        return {"(XMP)"}
    return {name for name in set(a) | set(b) if a.get(name) != b.get(name)}


def _xmp_properties(stream) -> dict[str, str]:
    from lxml import etree
    if stream is None:
        return {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(stream.data, parser)
    out: dict[str, str] = {}

    def name(tag: str) -> str:
        uri, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        return f"{_XMP_PREFIXES.get(uri, uri)}:{local}"

    for desc in root.iter(f"{{{_RDF}}}Description"):
        for key, value in desc.attrib.items():
            if not key.startswith(f"{{{_RDF}}}"):
                out[name(key)] = value
        for child in desc:
            if isinstance(child.tag, str):
                out[name(child.tag)] = "|".join(t.strip() for t in child.itertext() if t.strip())
    return out


_ORPHANED = re.compile(r"Object with id (\d+) has an orphaned generation")


def structure_problem(error: Exception) -> str:
    """Why pyHanko cannot read a PDF's structure, in Dutch (its own message is English and technical)."""
    text = str(error)
    orphaned = _ORPHANED.search(text)
    if orphaned:
        return (f"het bestand is niet volgens de PDF-norm bijgewerkt: object {orphaned.group(1)} is in een latere "
                "bewerking opnieuw gebruikt zonder eerst te zijn vrijgegeven. Zo schrijft bijvoorbeeld poppler "
                "(`pdfsig -add-signature`) een handtekening bij; zo'n bestand kan niet betrouwbaar worden "
                "gecontroleerd. Onderteken met een programma dat PAdES-handtekeningen volgens de norm maakt "
                "(`sopipe sign`, Adobe Acrobat Reader, pyHanko)")
    if "xref" in text.lower() or "startxref" in text.lower():
        return "de kruisverwijzingstabel van het PDF-bestand is onleesbaar of beschadigd"
    return "de opbouw van het PDF-bestand is onleesbaar of beschadigd"
