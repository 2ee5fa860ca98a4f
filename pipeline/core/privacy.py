"""What of the employee a recipient may not see, and how to recognise it in any text (pure, no I/O).

Two hard rules of PROCEDURE.md are proven here on plain text; the shell's guard feeds it every text a finished PDF
carries (pages, metadata, XMP, attachments, file and folder names):

- an invoice to the employer, the arbodienst or the own doctor holds no employee identifier: name (with or
  without initials), BSN, birth date, address, postcode, e-mail, phone, personnel number;
- nothing to the employer holds the case's medical content (medical data, findings, conclusion, reasoning).

This module holds the rules of one case (`case_rules`: the employee's identifiers, the other parties' names that
mask them, the medical texts), the matching, the scopes per recipient, consent and the employer's linking rules.
How texts are compared lives in `pipeline.core.folding` (with `pipeline.core.mojibake`), how Dutch names are read
in `pipeline.core.names`, and the patterns of each kind of identifier in `pipeline.core.identifiers`.

A guard that blocks legitimate invoices gets switched off, so the matching is built against false positives:

- Text is folded first (NFKC for ligatures, soft hyphens and zero-width characters dropped, case folded,
  diacritics stripped, ß→ss, ø→o, æ→ae, ı→i; UTF-8 read as cp1252 is repaired), then reduced to a *word form*
  (runs of letters and digits separated by single spaces). Names match only as whole words, so `Ede` never
  matches inside `bedrijfsgeneeskunde` and `Jansen` not inside `Jansens`.
- Other parties' names are known: a name hit that lies inside an occurrence of another party's name
  (doctors and contact persons with initials, given names or a title; organisations; addresses; e-mail
  addresses) does not count. `H. de Vries` (contact) and `Bouwbedrijf De Vries B.V.` never trip the employee
  `de Vries`; `M. de Vries` and a bare `de Vries` elsewhere do.
- The bare surname is searched only when it can stand alone: a core of at least four letters (two with a
  particle) that is not an ordinary Dutch word (`de Lange` → `op de lange termijn`). Otherwise only initials +
  surname, the reversed `Lange, M. de` or a salutation (`de heer De Lange`) count.
- A non-name identifier that also occurs in another party's data (the employee lives at the employer's
  postcode) cannot prove a leak and is left out, and said so in `CaseRules.skipped`.
- Medical content is compared as runs of six consecutive words with spaces and punctuation removed, so reflowed
  lines, hyphenation and lost spaces in PDF text extraction do not hide it; runs that carry no content words or
  also occur in texts the employer may receive (the disputed advice, the work advice) are dropped. Findings
  name the field and the word positions, never the medical text itself.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Iterable, Iterator

from pipeline.core.folding import NON_WORD, alt, fold, phrase, readings, word_form, words_re
from pipeline.core.identifiers import (Identifier, bsn_identifiers, date_identifiers, email_identifiers,
                                       name_identifiers, personnel_identifiers, phone_identifiers,
                                       postcode_identifiers, street_identifiers)
from pipeline.core.names import HONORIFICS, TITLES, parse_person
from pipeline.core.procedure import DocumentOrder
from pipeline.core.redaction import mask_digits
from pipeline.core.routing import INVOICE_FOLDER, Audience, Party, unlinkable
from pipeline.core.state import CaseState

INVOICE_PARTIES = frozenset({Party.WERKGEVER, Party.ARBODIENST, Party.BEDRIJFSARTS})
"""Invoices to these mailboxes are anonymous (PROCEDURE.md step 10)."""
MEDICAL_FREE_PARTIES = frozenset({Party.WERKGEVER})
"""Mailboxes that never hold medical data, whatever the document."""

RUN_WORDS = 6
"""Medical content is matched as runs of this many consecutive words (or the whole text if shorter)."""
MIN_RUN_CHARS = 20
"""A run shorter than this without spaces ("3 x 4 uur per week") is too generic to prove anything."""


@dataclass(frozen=True)
class Hit:
    """Something a recipient may not see, found in one place."""
    what: str
    """Plain Dutch: what was found. Never the medical text itself."""
    where: str
    """`tekst pagina 1`, `PDF-metadata /Title`, `XMP dc:creator`, `bestandsnaam`, ..."""
    key: str = ""
    """Which identifier or medical text; one hit per key and place."""


# --- the other parties --------------------------------------------------------------------------------------

def _person_masks(full: str) -> list[str]:
    """Regexes (word form) for occurrences of another party's name that identify *that* person: as written,
    with initials or given names, with a title or salutation, reversed. A bare surname is not one of them."""
    p = parse_person(full)
    if not p.surname:
        return []
    surname = phrase(p.surname)
    titles = alt(phrase(t.split()) for t in TITLES + HONORIFICS)
    masks = [phrase(word_form(full).split()), rf"(?:{titles}\ )+{surname}"]
    if p.given:
        given = {" ".join(p.given), "".join(p.given), p.given[0], " ".join(g[0] for g in p.given),
                 "".join(g[0] for g in p.given), p.given[0][0]}
        g = alt(phrase(x.split()) for x in given)
        masks += [rf"(?:{titles}\ )*{g}\ {surname}", rf"{surname}\ {g}"]
        if p.particles:
            masks.append(rf"{phrase([p.core])}\ {g}\ {phrase(p.particles)}")
    return masks


_LEGAL_FORM = re.compile(r"(?:\s(?:b\sv|bv|n\sv|nv|v\so\sf|vof|c\sv|cv|gmbh|ltd|bvba|holding|b\sa|sa))+$")


def _phrase_mask(text: str) -> list[str]:
    words = word_form(text)
    if not words:
        return []
    out = [phrase(words.split())]
    stripped = _LEGAL_FORM.sub("", words)
    if stripped and stripped != words:
        out.append(phrase(stripped.split()))
        # "Bouwbedrijf De Vries B.V." is also written "De Vries B.V.": any tail that keeps the legal form
        head, tail = stripped.split(), words.split()[len(stripped.split()):]
        out += [phrase(head[i:] + tail) for i in range(1, len(head))]
    return out


@dataclass(frozen=True)
class _Others:
    persons: tuple[str, ...]
    phrases: tuple[str, ...]
    """Organisations, places, streets, e-mail addresses: masked as written."""
    values: tuple[str, ...]
    """Every other-party value (also numbers) an employee identifier must not coincide with."""


def _others(state: CaseState) -> _Others:
    v = state.verzoek
    persons = [v.bedrijfsarts.naam]
    if v.werkgever.contactpersoon:
        persons.append(v.werkgever.contactpersoon)
    phrases = [v.werkgever.naam, v.bedrijfsarts.organisatie, v.bedrijfsarts.email, v.arbodienst.naam]
    values = [state.kenmerk, v.bedrijfsarts.big_nummer]
    for adres in (v.werkgever.adres, v.arbodienst.adres):
        phrases += [adres.straat, adres.plaats]
        values.append(adres.postcode)
    if v.werkgever.kostenplaats:
        values.append(v.werkgever.kostenplaats)
    if state.selectie is not None:
        for arts in (state.selectie.so_bedrijfsarts, state.selectie.tweede_keuze):
            if arts is not None:
                persons.append(arts.naam)
                phrases += [arts.organisatie, arts.email]
                values.append(arts.big_nummer)
    phrases += [e.bron_naam for e in state.extra]
    for adres in (e.bron_adres for e in state.extra if e.bron_adres is not None):
        phrases += [adres.straat, adres.plaats]
        values.append(adres.postcode)
    if state.uitvoering is not None:
        phrases.append(state.uitvoering.locatie)
    if state.facturatie is not None:
        values.append(state.facturatie.factuurnummer)
    return _Others(tuple(persons), tuple(phrases), tuple(values + persons + phrases))


# --- medical content ----------------------------------------------------------------------------------------

STOPWORDS = frozenset("""
    de het een en of van in op te ten ter met voor aan bij door naar om over uit tot als dan dat die dit deze er
    is zijn was waren wordt worden werd kan kunnen moet moeten mag mogen zal zullen zou heeft hebben had niet geen
    wel ook nog al maar want dus zo na per sinds vanaf binnen zonder tegen onder boven tussen wat wie waar hoe
    welke zich hij zij ze wij we u uw ik mijn haar hun hem men meer minder veel weinig alle elke iedere
    werknemer werkgever bedrijfsarts advies eigen werk second opinion week weken uur uren dag dagen maand maanden
    jaar procent volgens
    januari februari maart april mei juni juli augustus september oktober november december""".split())


@dataclass(frozen=True)
class MedicalText:
    label: str
    """`medische gegevens (aanvraag)`, `conclusie (conceptadvies, definitief advies)`"""
    words: int
    runs: tuple[tuple[int, str], ...]
    """(index of the first word, the run's words joined without spaces)."""
    short: re.Pattern | None
    """Texts shorter than a run: the whole text as a word-form phrase."""


def _informative(words: Iterable[str]) -> int:
    return sum(1 for w in words if len(w) >= 4 and w.isalpha() and w not in STOPWORDS)


def _medical_texts(state: CaseState) -> tuple[MedicalText, ...]:
    fields: list[tuple[str, str, str]] = []  # (field, where it comes from, text)
    if state.aanvraag is not None and state.aanvraag.medische_gegevens:
        fields.append(("medische gegevens", "aanvraag", state.aanvraag.medische_gegevens))
    for advies, naam in ((state.concept, "conceptadvies"), (state.definitief, "definitief advies")):
        if advies is None:
            continue
        fields += [("bevindingen", naam, advies.bevindingen), ("conclusie", naam, advies.conclusie),
                   ("onderbouwing", naam, advies.onderbouwing)]
        if getattr(advies, "opmerkingen_werknemer", None):
            fields.append(("opmerkingen werknemer", naam, advies.opmerkingen_werknemer))
    allowed = [state.verzoek.betwist_advies] + [e.vraag for e in state.extra]
    allowed += [a.werkadvies for a in (state.concept, state.definitief) if a is not None]
    if state.beoordeling_advies is not None and state.beoordeling_advies.aangepast_werkadvies:
        allowed.append(state.beoordeling_advies.aangepast_werkadvies)
    if state.facturatie is not None:
        allowed.append(state.facturatie.omschrijving)
    allowed_words = [word_form(a) for a in allowed]
    allowed_flat = [a.replace(" ", "") for a in allowed_words]

    # the same text in the draft and the final advice is one text, named after both
    by_words: dict[tuple[str, ...], dict[str, list[str]]] = {}
    for field, source, text in fields:
        by_words.setdefault(tuple(word_form(text).split()), {}).setdefault(field, []).append(source)
    out = []
    for words, origins in by_words.items():
        if not words:
            continue
        label = " / ".join(f"{field} ({', '.join(sources)})" for field, sources in origins.items())
        runs, short = [], None
        for i in range(len(words) - RUN_WORDS + 1):
            run = words[i:i + RUN_WORDS]
            flat = "".join(run)
            if len(flat) >= MIN_RUN_CHARS and _informative(run) >= 1 and not any(flat in a for a in allowed_flat):
                runs.append((i, flat))
        if len(words) < RUN_WORDS and _informative(words) >= 1 and len("".join(words)) >= 10:
            spaced = " ".join(words)
            if not any(re.search(rf"(?<!\w){re.escape(spaced)}(?!\w)", a) for a in allowed_words):
                short = words_re(phrase(words))
        if runs or short is not None:
            out.append(MedicalText(label, len(words), tuple(runs), short))
    return tuple(out)


# --- the rules of one case ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseRules:
    """Everything needed to check texts of one case; build once per case (`case_rules`) and reuse."""
    kenmerk: str
    identifiers: tuple[Identifier, ...]
    others: tuple[re.Pattern, ...]
    """Occurrences of other parties' names, organisations, addresses and e-mail addresses (word form)."""
    medical: tuple[MedicalText, ...]
    skipped: tuple[str, ...]
    """Identifiers left out because they cannot prove a leak (they also belong to another party, too short)."""


def rules_key(state: CaseState) -> str:
    """Cache key: the kenmerk plus a hash of every case field the rules are built from."""
    parts = [state.verzoek, state.selectie, state.aanvraag, state.uitvoering, state.concept, state.definitief,
             state.beoordeling_advies, state.facturatie, *state.extra]
    blob = json.dumps([p.model_dump(mode="json") if p is not None else None for p in parts], sort_keys=True)
    return f"{state.kenmerk}:{hashlib.sha256(blob.encode()).hexdigest()}"


def case_rules(state: CaseState) -> CaseRules:
    w = state.verzoek.werknemer
    others = _others(state)
    ids: list[Identifier] = name_identifiers(w.naam, w.voorletters, f"{w.voorletters} {w.naam}")
    skipped: list[str] = []
    candidates: list[Identifier] = []
    if w.bsn:
        candidates += bsn_identifiers(w.bsn)
    candidates += date_identifiers(w.geboortedatum)
    candidates += postcode_identifiers(w.adres.postcode)
    candidates += street_identifiers(w.adres.straat)
    candidates += email_identifiers(w.email)
    candidates += phone_identifiers(w.telefoon)
    if w.personeelsnummer:
        personnel, why = personnel_identifiers(w.personeelsnummer)
        candidates += personnel
        skipped += why
    other_readings = [r for value in others.values for r in readings(value)]
    for ident in candidates:
        if any(ident.pattern.search(words if ident.on_words else folded) for folded, words in other_readings):
            skipped.append(f"{ident.label} ({ident.shown}) komt ook voor bij een andere partij")
            continue
        ids.append(ident)
    masks = [m for person in others.persons for m in _person_masks(person)]
    masks += [m for text in others.phrases for m in _phrase_mask(text)]
    others_re = tuple(words_re(f"(?:{m})") for m in dict.fromkeys(masks))
    return CaseRules(state.kenmerk, tuple(ids), others_re, _medical_texts(state), tuple(skipped))


# --- matching -----------------------------------------------------------------------------------------------

def _masked(span: tuple[int, int], masks: list[tuple[int, int]]) -> bool:
    return any(s <= span[0] and span[1] <= e for s, e in masks)


def _mask_spans(patterns: tuple[re.Pattern, ...], words: str) -> list[tuple[int, int]]:
    """Where other parties are named, as merged spans: a hit counts only if some word of it lies outside.

    Overlapping and adjacent occurrences merge, so that "bedrijfsarts Aaaaa⏎R. Bakker" does not read as
    the employee "Aaaaa, R." across the line break."""
    spans = []
    for pattern in patterns:
        pos = 0
        while (m := pattern.search(words, pos)) is not None:
            spans.append(m.span())
            pos = m.start() + 1
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def find_identifiers(rules: CaseRules, text: str, *, where: str) -> list[Hit]:
    """Employee identifiers in one text: at most one hit per identifier."""
    hits: dict[str, Hit] = {}
    for folded, words in readings(text):
        masks = None
        for ident in rules.identifiers:
            if ident.key in hits:
                continue
            haystack = words if ident.on_words else folded
            for m in ident.pattern.finditer(haystack):
                if ident.maskable and ident.on_words:
                    if masks is None:
                        masks = _mask_spans(rules.others, words)
                    if _masked(m.span(), masks):
                        continue
                elif ident.maskable:
                    hit_words = NON_WORD.sub(" ", m.group()).strip()
                    if any(p.fullmatch(hit_words) for p in rules.others):
                        continue
                found = " ".join(m.group().split())
                shown = ident.shown
                if ident.key == "bsn":  # reports and the audit trail are kept for years: never a whole BSN
                    shown, found = mask_digits(shown), mask_digits(found)
                hits[ident.key] = Hit(f"{ident.label} ({shown}), gevonden als \"{found}\"", where, ident.key)
                break
    return list(hits.values())


def find_medical(rules: CaseRules, text: str, *, where: str) -> list[Hit]:
    """The case's medical content in one text; the finding names the field and word positions, not the text."""
    if not rules.medical:
        return []
    hits: dict[str, Hit] = {}
    for words in dict.fromkeys(words for _, words in readings(text)):
        # Without spaces, a run survives reflowed lines, hyphenation and spaces lost or added by PDF extraction.
        flat = words.replace(" ", "")
        grams = {flat[i:i + 8] for i in range(len(flat) - 7)}
        for med in rules.medical:
            if med.label in hits:
                continue
            found = [i for i, run in med.runs if run[:8] in grams and run in flat]
            if found:
                first, last = min(found) + 1, max(found) + RUN_WORDS
                hits[med.label] = Hit(f"medische inhoud: {med.label}, woorden {first}–{last} van {med.words}",
                                      where, med.label)
            elif med.short is not None and med.short.search(words):
                hits[med.label] = Hit(f"medische inhoud: {med.label} (de hele tekst, {med.words} woorden)",
                                      where, med.label)
    return list(hits.values())


def consent_hits(order: DocumentOrder, party: Party, state: CaseState) -> list[Hit]:
    """A consent the delivery needs must hold at this moment (it can have been withdrawn meanwhile)."""
    hits = []
    for d in order.deliveries:
        if d.party is party and d.consent is not None and not state.heeft_toestemming(d.consent):
            status = state.consent(d.consent)
            hits.append(Hit(f"geen geldige toestemming '{d.consent}' op het moment van bezorgen "
                            f"({status.value if status else 'nooit gegeven'})", "bezorging", f"consent:{d.consent}"))
    return hits


@dataclass(frozen=True)
class Scope:
    identifiers: bool
    """Anonymous invoice: no employee identifier may appear."""
    medical: bool
    """Employer mailbox: no medical content may appear."""

    def __bool__(self) -> bool:
        return self.identifiers or self.medical


def scope(order: DocumentOrder, party: Party) -> Scope:
    # an anonymous document (the invoices, the employer's letter on a refused request) names no employee
    anonymous = order.row.invoice or order.row.audience is Audience.ANONIEM
    return Scope(identifiers=anonymous and party in INVOICE_PARTIES,
                 medical=party in MEDICAL_FREE_PARTIES)


def check_texts(rules: CaseRules, texts: Iterable[tuple[str, str]], *, what: Scope) -> Iterator[Hit]:
    """Every hit in (where, text) pairs for the given scope."""
    for where, text in texts:
        if not text:
            continue
        if what.identifiers:
            yield from find_identifiers(rules, text, where=where)
        if what.medical:
            yield from find_medical(rules, text, where=where)




# --- the employer cannot link an anonymous document to a named one ----------------------------------------------

MIN_REFERENCE_CHARS = 5
"""An invoice number shorter than this ("118") would also match ordinary numbers in a letter: not searched."""


@dataclass(frozen=True)
class LinkRules:
    """What one delivery may not share with the other documents of the same mailbox (`routing.unlinkable`)."""
    forbidden: tuple[tuple[str, str], ...]
    """(what it is, reference) pairs that may not appear in any text, metadata, file or folder name."""
    anonymous: bool
    """The document is the anonymous one: it belongs in the invoice folder; a named one never does."""


def link_rules(order: DocumentOrder, party: Party, state: CaseState) -> LinkRules | None:
    """The linking rules of a delivery to a mailbox that receives both named and anonymous documents (the
    employer's); None for every other delivery. The anonymous document never carries the case's kenmerk; a named
    document never carries the invoice number the anonymous one is known by."""
    if party is not Party.WERKGEVER:
        return None
    if unlinkable(order.row, party):
        return LinkRules((("het kenmerk van de zaak", state.kenmerk),), anonymous=True)
    if order.row.audience is Audience.ANONIEM:
        return None  # an anonymous document that is not the employer's (checked above for identifiers only)
    f = state.facturatie
    refs = (("het factuurnummer", f.factuurnummer),) if f is not None and \
        len(_compact(f.factuurnummer)) >= MIN_REFERENCE_CHARS else ()
    return LinkRules(refs, anonymous=False)


def _compact(text: str) -> str:
    """Letters and digits only, folded: `SO-2026-0042` → `so20260042`."""
    return word_form(text).replace(" ", "")


def _reference_re(reference: str) -> re.Pattern:
    return re.compile(rf"(?<![^ ]){re.escape(word_form(reference))}(?![^ ])")


def find_links(rules: LinkRules, texts: Iterable[tuple[str, str]], *, folder: tuple[str, ...]) -> list[Hit]:
    """Where a delivery would let its recipient link it to a document of the other kind: a forbidden reference in
    any of `texts` ((where, text) pairs: pages, metadata, file and folder names), or the wrong folder (`folder`:
    the path's folder names below the recipient's mailbox)."""
    hits = []
    if rules.anonymous and folder[-1:] != (INVOICE_FOLDER,):
        hits.append(Hit(f"anoniem document niet in de map {INVOICE_FOLDER}/: het ligt naast brieven die de "
                        "werknemer noemen", "mapnaam", "link:map"))
    if not rules.anonymous and INVOICE_FOLDER in folder:
        hits.append(Hit(f"document dat de werknemer noemt in de map {INVOICE_FOLDER}/ met anonieme facturen",
                        "mapnaam", "link:map"))
    patterns = [(what, _reference_re(ref), _compact(ref)) for what, ref in rules.forbidden if word_form(ref)]
    for where, text in texts:
        if not text:
            continue
        folded = fold(text)  # once per text: folding is the costly part
        words = NON_WORD.sub(" ", folded).strip()
        tokens = [NON_WORD.sub("", tok) for tok in re.split(r"[\s_]+", folded)]
        for what, pattern, compact in patterns:
            # whole words, or inside one reference-like token ("FSO-2026-0042", "SO20260042-1")
            if pattern.search(words) or (len(compact) >= MIN_REFERENCE_CHARS and
                                         any(compact in tok for tok in tokens)):
                kind = "een anoniem document" if rules.anonymous else "een document dat de werknemer noemt"
                hits.append(Hit(f"{what} in {kind}: daarmee is het te koppelen aan de andere documenten van deze "
                                "postbus", where, f"link:{what}"))
    return hits
