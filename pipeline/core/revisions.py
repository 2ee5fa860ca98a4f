"""What a returned signed document may add to the document we sent, decided over its revisions (pure).

The promise to the employee, the employer and the archive is "the same bytes plus the doctor's signature". A PDF
grows by incremental updates (revisions); the document we prepared is the first revision(s), and what came back
may add only, in this order:

  1. exactly one revision with that doctor's signature: one signature field (new, or an empty one filled), its
     widget (a signature block of modest size, or none) and its value; the catalog may get its /AcroForm and
     /Extensions, the page its widget in /Annots, /Info only its /ModDate and /Producer;
  2. then at most revisions with validation data (the DSS) and document timestamps whose TSA is trusted
     (an invisible timestamp field).

Anything else — a form field, an annotation, another widget, a changed page or page tree, a change of /Info or
the XMP metadata, an unsigned or untrusted timestamp field, a removed object — is refused, with what was added in
Dutch. The PDF reading that produces these facts is `pipeline.adapters.pdf_revisions`; which revisions come
after the prepared document is decided here too (`after_prepared`), from where each revision starts.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Sequence

MAX_BLOCK_FRACTION = 0.25
"""Largest part of a page a signature block may cover (a genuine block is a few percent)."""

SIGNATURE_CATALOG_KEYS = frozenset({"/AcroForm", "/Extensions", "/Version"})
"""Catalog keys a signing revision may add or change (the form, the ESIC extension, PDF 2.0 for ECDSA)."""
LATER_CATALOG_KEYS = frozenset({"/DSS", "/Extensions"})
"""Catalog keys a validation-data or document-timestamp revision may add or change."""
SIGNATURE_FORM_KEYS = frozenset({"/SigFlags", "/DR", "/DA"})
LATER_FORM_KEYS = frozenset({"/SigFlags"})
INFO_KEYS = frozenset({"/ModDate", "/Producer"})
"""/Info entries signing software may update; a title, subject or author is part of the document."""
XMP_KEYS = frozenset({"pdf:Producer", "xmp:ModifyDate", "xmp:MetadataDate", "xmpMM:InstanceID"})
"""The same in the XMP metadata."""
WIDGET_KEYS = frozenset({"/FT", "/T", "/TU", "/TM", "/Type", "/Subtype", "/F", "/Rect", "/P", "/AP", "/V", "/Ff",
                         "/Kids", "/Parent", "/MK", "/DA", "/Border", "/BS", "/Lock", "/SV", "/StructParent", "/NM",
                         "/M", "/AS"})
"""What a signature field and its widget carry; an action (/A, /AA) or anything else is refused."""


@dataclass(frozen=True)
class Widget:
    """Where a field is shown."""
    page: int | None
    """Page number (1-based) whose /Annots hold it; None: on no page."""
    fraction: float
    """Part of that page its /Rect covers (0 for a zero-size, invisible widget)."""
    appearance: bool
    """It has a normal appearance stream (something is drawn)."""


@dataclass(frozen=True)
class FieldChange:
    """A form field added (or an empty signature field filled) in a revision."""
    name: str
    field_type: str | None
    """/FT: `/Sig` for a signature field, `/Tx` text …"""
    value: str | None
    """What /V is: `/Sig` (a signature), `/DocTimeStamp`, `other`, or None (empty)."""
    widgets: tuple[Widget, ...] = ()
    keys: frozenset[str] = frozenset()
    """The keys of the field and its widgets."""
    filled: bool = False
    """An empty field of the prepared document that got its value here."""


@dataclass(frozen=True)
class ObjectChange:
    """An existing object that was changed or removed outside the places a signature may touch."""
    number: int
    role: str
    """`paginaboom`, `pagina-inhoud`, `veld` or `object`."""
    removed: bool = False


@dataclass(frozen=True)
class RevisionChanges:
    """What one incremental update after the prepared document adds and changes (`revision_changes`)."""
    index: int
    """1 for the first revision after the prepared document."""
    signed_by: str | None = None
    """The signature or document timestamp field whose byte range ends exactly with this revision."""
    fields: tuple[FieldChange, ...] = ()
    catalog_keys: frozenset[str] = frozenset()
    """Catalog (and trailer, as `trailer:/Key`) entries added, removed or changed; /AcroForm only when more than
    its fields and flags changed is shown in `form_keys`."""
    form_keys: frozenset[str] = frozenset()
    """/AcroForm entries changed besides fields added to /Fields (`/Fields` itself: fields removed or reordered)."""
    info_keys: frozenset[str] = frozenset()
    metadata_keys: frozenset[str] = frozenset()
    """XMP properties added, removed or changed (`dc:title` …; `(XMP)`: a packet that cannot be read)."""
    pages: tuple[tuple[int, frozenset[str]], ...] = ()
    """(page number, keys changed) for pages changed other than by widgets added to /Annots."""
    annotations: tuple[tuple[int, str], ...] = ()
    """Annotations added to a page that are not widgets of the added fields: (page number, /Subtype)."""
    objects: tuple[ObjectChange, ...] = ()
    validation_data: bool = False
    """The document security store (DSS: certificates, CRLs, OCSP responses) was added or extended."""


@dataclass(frozen=True)
class PdfRevisions:
    """A PDF's revisions as one reading of it found them (`pipeline.adapters.pdf_revisions.pdf_revisions`)."""
    startxrefs: tuple[int, ...]
    """Where each revision's cross-reference section starts, oldest first (empty: that could not be read)."""
    changes: tuple[RevisionChanges | None, ...] = ()
    """What each revision after the first adds and changes (index 1: the second revision); None for a revision
    whose changes cannot be followed."""
    problems: tuple[tuple[int, str], ...] = ()
    """(revision, why its changes cannot be followed, in Dutch) for those revisions; (0, why) when not even where
    the revisions start could be read."""


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")


def after_prepared(pdf: bytes, revisions: PdfRevisions, *, prepared_size: int) -> tuple[RevisionChanges, ...]:
    """The changes of every revision after the prepared document, its first `prepared_size` bytes (index 1: the
    first revision after it); ValueError (Dutch) when they cannot be read or do not build on exactly it.

    The prepared document is the file's own first bytes (the caller has compared them with what was sent), so its
    last revision starts where its final `startxref` says; the revisions of the file up to that one are the
    prepared document's own (a chain of /Prev followed through the same bytes), the rest must all start after it."""
    starts = revisions.startxrefs
    if not starts:  # not even where the revisions start could be read
        raise ValueError(revisions.problems[0][1] if revisions.problems else _UNREADABLE)
    found = _STARTXREF.search(pdf[:prepared_size])
    if found is None or int(found.group(1)) not in starts:
        raise ValueError("de bewerkingen bouwen niet voort op het klaargezette document")
    base = starts.index(int(found.group(1))) + 1
    if any(start >= prepared_size for start in starts[:base]):
        raise ValueError("de bewerkingen bouwen niet voort op het klaargezette document")
    if any(start < prepared_size for start in starts[base:]):
        raise ValueError("een bewerking verwijst terug in het klaargezette document")
    if pdf[pdf.rfind(b"%%EOF") + 5:].strip():  # what no revision holds, a reader may still show
        raise ValueError("na het einde van de laatste bewerking staan nog gegevens")
    problem = next((why for revision, why in revisions.problems if revision >= base), None)
    if problem is not None or len(revisions.changes) != len(starts) - 1:
        raise ValueError(problem or _UNREADABLE)
    return tuple(dataclasses.replace(rev, index=rev.index - base + 1) for rev in revisions.changes[base - 1:])


_UNREADABLE = "de opbouw van het PDF-bestand is onleesbaar of beschadigd"


@dataclass(frozen=True)
class Finding:
    """One thing in the returned document that was not there or not allowed; `text` is Dutch."""
    text: str
    rule: str = "toevoeging"
    """`toevoeging` (something added), `pagina-gewijzigd` (a page or its content), `tijdstempel-niet-vertrouwd`."""


@dataclass(frozen=True)
class Verdict:
    """The decision over the revisions: accepted when there are no findings."""
    findings: tuple[Finding, ...] = ()
    timestamps: tuple[str, ...] = field(default=())
    """Field names of the (trusted) document timestamps after the signature."""

    @property
    def accepted(self) -> bool:
        return not self.findings

    @property
    def rule(self) -> str | None:
        rules = [f.rule for f in self.findings]
        return next((r for r in ("pagina-gewijzigd", "tijdstempel-niet-vertrouwd") if r in rules),
                    rules[0] if rules else None)


def judge(revisions: Sequence[RevisionChanges], *, signature: str, trusted_timestamps: frozenset[str]
          ) -> Verdict:
    """Accept exactly: one revision adding the signature `signature` (its field name), then revisions with
    validation data and document timestamps whose field names are in `trusted_timestamps`."""
    at = next((i for i, rev in enumerate(revisions) if rev.signed_by == signature), None)
    if at is None:
        return Verdict((Finding("de handtekening dekt geen volledige bewerking van het klaargezette document"),))
    findings: list[Finding] = []
    for rev in revisions[:at]:  # an update between the prepared document and the signature
        before = [Finding(f"vóór de handtekening: {f.text}", f.rule)
                  for f in _signature_revision(rev, signature, anything=True)]
        findings += before or [Finding("vóór de handtekening: een extra bewerking (revisie) zonder handtekening")]
    findings += _signature_revision(revisions[at], signature)
    stamps: list[str] = []
    for rev in revisions[at + 1:]:
        found = list(_later_revision(rev, trusted_timestamps))
        findings += found
        stamps += [f.name for f in rev.fields if f.value == "/DocTimeStamp"] if not found else []
    return Verdict(tuple(findings), tuple(stamps))


def judge_after(revisions: Sequence[RevisionChanges], *, timestamps: frozenset[str]) -> Verdict:
    """What may follow a signature in any signed document (`sopipe verify`): revisions that each add one more
    signature (as the signing revision above), validation data, and document timestamps (`timestamps`: their
    field names; whether their TSA is trusted is judged on the timestamps themselves)."""
    findings: list[Finding] = []
    for rev in revisions:
        signature = next((f.name for f in rev.fields if f.name == rev.signed_by and f.value == "/Sig"), None)
        findings += _signature_revision(rev, signature) if signature else _later_revision(rev, timestamps)
    return Verdict(tuple(findings))


def _signature_revision(rev: RevisionChanges, signature: str, *, anything: bool = False):
    """The doctor's revision; `anything`: a revision before it, where nothing at all may change."""
    sigs = [] if anything else [f for f in rev.fields
                                if f.name == signature and f.field_type == "/Sig" and f.value == "/Sig"]
    for f in rev.fields:
        if f in sigs[:1]:
            yield from _widgets(f, visible_ok=True)
        else:
            yield _field_finding(f)
    if anything:
        yield from _common(rev, catalog=frozenset(), form=frozenset(), dss_ok=False)
    else:
        yield from _common(rev, catalog=SIGNATURE_CATALOG_KEYS, form=SIGNATURE_FORM_KEYS, dss_ok=True)


def _later_revision(rev: RevisionChanges, trusted: frozenset[str]):
    for f in rev.fields:
        if f.field_type == "/Sig" and f.value == "/DocTimeStamp" and not f.filled:
            if f.name not in trusted:
                yield Finding(f"een documenttijdstempel ('{f.name}') van een niet-vertrouwde tijdstempeldienst of "
                              "dat niet klopt", "tijdstempel-niet-vertrouwd")
            elif rev.signed_by != f.name:
                yield Finding(f"een documenttijdstempel ('{f.name}') dat niet het hele document tot dan toe dekt")
            else:
                yield from _widgets(f, visible_ok=False)
        else:
            yield _field_finding(f, after=True)
    yield from _common(rev, catalog=LATER_CATALOG_KEYS, form=LATER_FORM_KEYS, dss_ok=True)


def _widgets(f: FieldChange, *, visible_ok: bool):
    if f.keys - WIDGET_KEYS:
        yield Finding(f"het handtekeningveld '{f.name}' heeft ook {_keys(f.keys - WIDGET_KEYS)} (bijvoorbeeld een "
                      "actie)")
    if len(f.widgets) > 1:
        yield Finding(f"het handtekeningveld '{f.name}' wordt op {len(f.widgets)} plaatsen getoond")
    for w in f.widgets:
        if not w.appearance or w.fraction == 0:
            continue
        if not visible_ok:
            yield Finding(f"een documenttijdstempel ('{f.name}') met een zichtbare weergave{_on(w)}")
        elif w.fraction > MAX_BLOCK_FRACTION:
            yield Finding(f"een handtekeningblok dat {round(w.fraction * 100)}% van pagina {w.page} bedekt (een "
                          f"handtekeningblok mag hoogstens {round(MAX_BLOCK_FRACTION * 100)}% bedekken)")


def _field_finding(f: FieldChange, *, after: bool = False) -> Finding:
    shown = [w for w in f.widgets if w.appearance and w.fraction > 0]
    where = f"{_on(shown[0])} die {round(shown[0].fraction * 100)}% van de pagina bedekt" if shown else ""
    if f.field_type == "/Sig" and f.value is None:
        what = f"een nieuw handtekeningveld zonder handtekening ('{f.name}') met een zichtbare weergave{where}" \
            if shown else f"een nieuw, leeg handtekeningveld ('{f.name}')"
    elif f.field_type == "/Sig" and f.value == "/Sig":
        what = f"{'nog ' if after else ''}een handtekening ('{f.name}'){where}"
    elif f.field_type == "/Sig":
        what = f"een handtekeningveld ('{f.name}') met een ongebruikelijke inhoud{where}"
    else:
        what = f"een formulierveld ('{f.name}', soort {(f.field_type or '?').lstrip('/')}){where}"
    return Finding(what)


def _common(rev: RevisionChanges, *, catalog: frozenset[str], form: frozenset[str], dss_ok: bool):
    if rev.catalog_keys - catalog:
        yield Finding(f"de opbouw van het document (catalogus: {_keys(rev.catalog_keys - catalog)})")
    if rev.form_keys - form:
        yield Finding(f"de formuliergegevens ({_keys(rev.form_keys - form)})")
    if rev.info_keys - INFO_KEYS:
        yield Finding(f"de documenteigenschappen ({_info(rev.info_keys - INFO_KEYS)})")
    if rev.metadata_keys - XMP_KEYS:
        yield Finding(f"de XMP-metadata van het document ({_keys(rev.metadata_keys - XMP_KEYS)})")
    for page, keys in rev.pages:
        yield Finding(f"pagina {page} ({_keys(keys)})", "pagina-gewijzigd")
    for page, subtype in rev.annotations:
        yield Finding(f"een aantekening (annotatie van de soort {subtype.lstrip('/') or '?'}) op pagina {page}")
    for obj in rev.objects:
        yield Finding(_object(obj), "pagina-gewijzigd" if obj.role in ("paginaboom", "pagina-inhoud")
                      else "toevoeging")
    if rev.validation_data and not dss_ok:
        yield Finding("validatiegegevens (DSS)")


_ROLES = {"paginaboom": "de paginavolgorde (paginaboom)", "pagina-inhoud": "de inhoud van een pagina",
          "veld": "een bestaand formulierveld",
          "object": "een bestaand onderdeel van het document"}
_INFO = {"/Title": "titel", "/Subject": "onderwerp", "/Author": "auteur", "/Keywords": "trefwoorden",
         "/Creator": "maker", "/CreationDate": "aanmaakdatum", "/Trapped": "trapping"}


def _object(obj: ObjectChange) -> str:
    return f"{_ROLES.get(obj.role, _ROLES['object'])} {'verwijderd' if obj.removed else 'gewijzigd'} " \
           f"(object {obj.number})"


def _keys(keys) -> str:
    return ", ".join(sorted(keys))


def _info(keys) -> str:
    return ", ".join(_INFO.get(k, k.lstrip("/")) for k in sorted(keys))


def _on(w: Widget) -> str:
    return f" op pagina {w.page}" if w.page else ""


def describe(verdict: Verdict, *, naam: str) -> str:
    """The refusal in one Dutch sentence: what was added to the document sent to `naam` for signing."""
    items = "; ".join(f.text for f in verdict.findings)
    return (f"Het document bevat meer dan het klaargezette document met de handtekening van {naam}. "
            f"Toegevoegd of gewijzigd: {items}.")
