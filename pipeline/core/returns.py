"""A PDF that came back into the inbox: what its name says, what reading it found, and whether it is taken (pure).

Two kinds come back. A document out for a doctor's personal signature (`<kenmerk>_advies….pdf`,
`<kenmerk>_aanvraagformulier….pdf`) is accepted only when, in this order,
  1. its case and kind are known from the file name and/or the PDF's /Keywords (the converter writes the kenmerk
     there) — both, when present, must agree (`identify`);
  2. a signature of that case is pending (`expected_signer`);
  3. it is signed, the signature is intact, valid and chains to a trust root;
  4. the signer is the doctor who must sign that kind (`pipeline.core.artsen.signer_mismatch`);
  5. the signed file starts with exactly the bytes of the pending unsigned PDF, then exactly one revision adds that
     doctor's signature, and after it only validation data and trusted document timestamps
     (`pipeline.core.revisions`) — steps 3–5 are `check_return`.
A consent form the employee signed (`<kenmerk>_machtiging-<consent>….pdf`, `consent_form_of`) is archived only
for a known case whose machtiging was recorded and not refused, once, without active content, with every
signature intact and over exactly the form we made (`check_consent_form` and the checks beside it).

The name is parsed once, when the file is taken from the inbox (`returned_name`); the PDF is read once, by
`pipeline.adapters.returned_pdf`, into a `ReturnedDocument`; these functions only decide over those values. What
reading found wrong is carried in the value and raised here, at the step that would have read it, so a file is
refused for the same first reason as ever.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Mapping, Sequence

from pipeline.core import model
from pipeline.core.artsen import Arts, Certificaathouder, signer_mismatch
from pipeline.core.procedure import DocumentOrder, Delivery, signed_consent
from pipeline.core.revisions import PdfRevisions, after_prepared, describe, judge
from pipeline.core.kinds import Row
from pipeline.core.routing import Audience, Party
from pipeline.core.signatures import kenmerk_from_file_name, signer_of, signer_party
from pipeline.core.state import CaseState, Consent
from pipeline.core.trail import Gebeurtenis
from pipeline.errors import ReturnRefused

# --- the name, parsed once -------------------------------------------------------------------------------------

_BRONNEN = "bedrijfsarts|werkgever|behandelaar"
_CONSENT_FORM = re.compile(
    r"^(?P<kenmerk>[A-Za-z0-9_-]{3,40}?)_machtiging-(?P<consent>medische[-_]gegevens|"
    rf"extra[-_]informatie(?:[-_](?:{_BRONNEN}))?|advies[-_]delen(?:[-_](?:bedrijfsarts|werkgever))?)"
    r"(?:[._ -][^/]*)?\.pdf$", re.IGNORECASE)
_ANY_CONSENT_FORM = re.compile(r"^(?P<kenmerk>[A-Za-z0-9_-]{3,40}?)_machtiging-", re.IGNORECASE)


@dataclass(frozen=True)
class ConsentForm:
    """What the name of a returned consent form says: `<kenmerk>_machtiging-<consent>….pdf`."""
    kenmerk: str
    consent: str
    """The consent as the case state names it: `medische_gegevens`, `extra_informatie:werkgever` …; or, for the
    form under the name it was sent with (`…_machtiging-extra-informatie.pdf`, `…_machtiging-advies-delen.pdf`),
    the family (`extra_informatie`, `advies_delen`): every consent of the case in it."""
    label: str
    """The same in a file name: `medische-gegevens`, `extra-informatie-werkgever` …"""

    @property
    def archive_name(self) -> str:
        """Its name in the case's archive folder, beside the sealed record of the consent."""
        return f"machtiging-{self.label}-ondertekend.pdf"

    @property
    def kind(self) -> str:
        return f"machtiging-{self.label}-ondertekend"


def consent_form_of(name: str) -> ConsentForm | None:
    """The consent form a file name announces, or None (then it is no consent form)."""
    match = _CONSENT_FORM.match(name)
    if not match:
        return None
    label = match.group("consent").lower().replace("_", "-")
    consent = label.replace("-", "_")
    if consent.startswith("extra_informatie_"):
        consent = "extra_informatie:" + consent.removeprefix("extra_informatie_")
    return ConsentForm(match.group("kenmerk"), consent, label)


def is_returned(name: str) -> bool:
    """A PDF in the inbox is a returned document (signed elsewhere, or a consent form); anything else is read as a
    case file."""
    return name.lower().endswith(".pdf")


@dataclass(frozen=True)
class ReturnedName:
    """What the name of a returned PDF says, parsed once when it is taken from the inbox (`returned_name`)."""
    signed: tuple[str, str] | None
    """(kenmerk, kind) of a document out for a personal signature (`<kenmerk>_advies….pdf` …), or None."""
    form: ConsentForm | None
    """The consent form it announces (`<kenmerk>_machtiging-<consent>….pdf`), or None."""
    case: str | None
    """The case it joins in a batch (its name's kenmerk, also of a consent form of an unknown kind), or None."""

    @property
    def kind(self) -> str | None:
        """The signed document's kind (`advies`, `aanvraagformulier`), or None."""
        return self.signed[1] if self.signed else None


def returned_name(name: str) -> ReturnedName:
    """Parse a returned PDF's file name, once."""
    signed, form = kenmerk_from_file_name(name), consent_form_of(name)
    loose = _ANY_CONSENT_FORM.match(name)
    return ReturnedName(signed, form, signed[0] if signed else loose.group("kenmerk") if loose else None)


# --- what reading the PDF found, once ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ReturnedDocument:
    """What a returned PDF holds, read once (`pipeline.adapters.returned_pdf.PdfReturnReader.read`) and carried on
    to acceptance, delivery and the archive's validation report."""
    keywords: str | None = None
    """The PDF's /Keywords (the converter writes the kenmerk there), or None."""
    unreadable: ReturnRefused | None = None
    """It is no readable PDF (rule geen-pdf), or an encrypted consent form: refused when a check reaches it."""
    validation: Any = None
    """Its signatures as pyHanko validated them, once (`pipeline.adapters.validation.Validation`: the
    `DocumentReport`, the trust roots and the SHA-256 of the bytes validated); None when not validated (not
    readable, a scan, or the installation takes no signed documents)."""
    validation_error: str | None = None
    """Why its signatures cannot be validated at all (pyHanko's reading failed), in Dutch."""
    signers: tuple[Certificaathouder | None, ...] = ()
    """What each validated signature's certificate says about its holder, in the order of the validation (None:
    a signature whose structure could not be read)."""
    revisions: PdfRevisions | None = None
    """Its revisions as the validation's reading found them (`pipeline.core.revisions.PdfRevisions`)."""
    signature_dictionaries: int = 0
    """A consent form: signature and document-timestamp dictionaries in the parsed objects."""
    active: tuple[str, ...] = ()
    """A consent form: active content found, each said in Dutch."""

    @property
    def report(self):
        """The validation's `DocumentReport` (None when not validated)."""
        return self.validation.report if self.validation is not None else None


# --- refusals before anything is read ---------------------------------------------------------------------------

def not_a_file() -> ReturnRefused:
    return ReturnRefused("Dit is geen gewoon bestand; zet het PDF-bestand zelf in de inbox.", rule="geen-bestand")


def wrong_size(size: int, limit: int) -> ReturnRefused:
    return ReturnRefused(f"Het bestand is leeg of te groot ({size} bytes; de grens is {limit}).", rule="grootte")


def not_configured() -> ReturnRefused:
    return ReturnRefused("Deze installatie neemt geen ondertekende documenten aan (geen vertrouwde "
                         "basiscertificaten ingesteld).", rule="niet-ingesteld")


def unreadable_pdf() -> ReturnRefused:
    return ReturnRefused("Het bestand is geen leesbare PDF.", rule="geen-pdf")


# --- a document out for a personal signature --------------------------------------------------------------------

ROL = {Party.SO_BEDRIJFSARTS: "second opinion-bedrijfsarts", Party.BEDRIJFSARTS: "eigen bedrijfsarts (aanvrager)"}
"""The doctor who signs, as a report names them."""

_EXPIRED = ("EXPIRED", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "NOT_YET_VALID")


def identify(named: ReturnedName, doc: ReturnedDocument) -> tuple[str, str]:
    """(kenmerk, kind) from the file name and the PDF's /Keywords; they must agree when both are there."""
    if doc.unreadable is not None:
        raise doc.unreadable
    keywords = doc.keywords
    from_name = named.signed
    if from_name and keywords and from_name[0] != keywords:
        raise ReturnRefused(f"De bestandsnaam noemt zaak {from_name[0]}, maar het document zelf zaak {keywords}.",
                            kenmerk=keywords, rule="kenmerk-verschilt")
    if from_name:
        return from_name
    if keywords and kenmerk_from_file_name(f"{keywords}_advies.pdf"):
        return keywords, "advies"
    raise ReturnRefused("Uit de bestandsnaam (verwacht: <kenmerk>_advies….pdf of <kenmerk>_aanvraagformulier….pdf, "
                        "zoals klaargezet) en het document is niet op te maken bij welke zaak dit hoort.",
                        rule="onbekende-zaak")


def expected_signer(kenmerk: str, kind: str, *, state, pending):
    """The doctor who must have signed it (or None): the case must be known and that document pending."""
    if state is None:
        raise ReturnRefused(f"Er is geen zaak met kenmerk {kenmerk}.", kenmerk=kenmerk, rule="onbekende-zaak")
    if pending is None or pending.done_at is not None:
        what = "al eerder ondertekend terugontvangen" if pending else "niet ter ondertekening uitgezet"
        raise ReturnRefused(f"Voor zaak {kenmerk} staat geen {kind} open om te ondertekenen (het document is "
                            f"{what}).", kenmerk=kenmerk, rule="niets-openstaand")
    return signer_of(state, kind)


def check_return(raw: bytes, doc: ReturnedDocument, *, kenmerk: str, kind: str, arts, pending,
                 artsen: Mapping[str, Arts]):
    """Steps 3–5: one intact, trusted signature of the right doctor, added to exactly the pending document, and
    after it nothing but validation data and trusted document timestamps. Returns the validation's report."""
    if doc.validation_error is not None or doc.report is None:
        raise ReturnRefused(f"De handtekening kan niet worden gecontroleerd: {doc.validation_error or '?'}",
                            kenmerk=kenmerk, rule="onleesbaar")
    result = doc.report
    naam, big = (arts.naam, arts.big_nummer) if arts else ("?", None)
    check_signature(result.signatures, kenmerk=kenmerk)
    check_document_timestamps(result.document_timestamps, kenmerk=kenmerk)
    sig, holder = result.signatures[0], doc.signers[0]
    if holder is None:
        raise ReturnRefused(f"Het certificaat van de ondertekenaar ({sig.signer_naam}) kan niet worden gelezen; "
                            "wie heeft ondertekend is daardoor niet vast te stellen.", kenmerk=kenmerk,
                            rule="onleesbaar")
    why = signer_mismatch(holder, big=big, naam=naam, arts=artsen.get(big)) if big else "de zaak noemt geen arts"
    if why:
        raise ReturnRefused(f"Ondertekend door {sig.signer_naam} (certificaat-serialNumber "
                            f"{holder.serial_number or '—'}), "
                            f"maar de {ROL[signer_party(kind)]} van deze zaak, die dit document moet ondertekenen, "
                            f"is {naam} (BIG {big}): {why}.", kenmerk=kenmerk, rule="verkeerde-ondertekenaar")
    check_same_document(raw, kenmerk=kenmerk, pending_sha256=pending.sha256, pending_size=pending.size)
    try:
        revisions = after_prepared(raw, doc.revisions, prepared_size=pending.size)
    except ValueError as e:
        raise ReturnRefused(f"De bewerkingen na het klaarzetten kunnen niet worden gelezen: {e}", kenmerk=kenmerk,
                            rule="ander-document") from e
    verdict = judge(revisions, signature=sig.field_name,
                    trusted_timestamps=frozenset(t.field_name for t in result.document_timestamps if t.ok))
    if not verdict.accepted:
        raise ReturnRefused(describe(verdict, naam=naam), kenmerk=kenmerk, rule=verdict.rule)
    check_valid(sig, kenmerk=kenmerk)
    return result


def check_signature(signatures: Sequence, *, kenmerk: str) -> None:
    """One intact, valid signature, by a certificate that is neither revoked nor expired and chains to a trust
    root (who it is comes next: `pipeline.core.artsen.signer_mismatch`)."""
    if not signatures:
        raise ReturnRefused("Het document is niet ondertekend.", kenmerk=kenmerk, rule="niet-ondertekend")
    if len(signatures) != 1:
        raise ReturnRefused(f"Het document heeft {len(signatures)} handtekeningen; verwacht is alleen die "
                            "van de arts die het moet ondertekenen.", kenmerk=kenmerk, rule="handtekeningen")
    sig = signatures[0]
    if not sig.intact or not sig.valid:
        raise ReturnRefused("De handtekening klopt niet: het document is na ondertekening gewijzigd of de "
                            "handtekening is beschadigd"
                            f"{' (' + sig.reason + ')' if sig.reason else ''}.", kenmerk=kenmerk,
                            rule="handtekening-ongeldig")
    sub = sig.sub_indication or ""
    if sub.startswith("REVOKED") or sub in _EXPIRED:  # the same verdict and words as `sopipe verify`
        raise ReturnRefused(f"Het certificaat van de ondertekenaar ({sig.signer_naam}) wordt niet aanvaard: "
                            f"{sig.reason}.", kenmerk=kenmerk,
                            rule="ingetrokken" if sub.startswith("REVOKED") else "verlopen")
    if not sig.trusted:
        raise ReturnRefused(f"Het certificaat van de ondertekenaar ({sig.signer_naam}) is niet uitgegeven door een "
                            "vertrouwde certificaatautoriteit.", kenmerk=kenmerk, rule="niet-vertrouwd")


def check_valid(sig, *, kenmerk: str) -> None:
    """What remains of the signature's validation once its signer and the revisions are right."""
    if not sig.ok:
        raise ReturnRefused(f"De handtekening is niet geldig: {sig.reason or 'zie sopipe verify'} ({sig.indication}"
                            f"{' / ' + sig.sub_indication if sig.sub_indication else ''}).", kenmerk=kenmerk,
                            rule="handtekening-ongeldig")


def check_document_timestamps(stamps: Sequence, *, kenmerk: str) -> None:
    """A document timestamp added to a returned PDF must be readable and cover the document as it is (a token
    without the TSA's certificate, or one that no longer matches, is refused, never archived for 20 years)."""
    for t in stamps:
        if not (t.intact and t.valid):
            raise ReturnRefused(f"Het document bevat een tijdstempel die niet klopt: {t.reason or t.indication}.",
                                kenmerk=kenmerk, rule="tijdstempel-ongeldig")


def check_same_document(raw: bytes, *, kenmerk: str, pending_sha256: str, pending_size: int) -> None:
    """The signed file starts with exactly the bytes of the pending unsigned PDF."""
    if len(raw) <= pending_size or hashlib.sha256(raw[:pending_size]).hexdigest() != pending_sha256:
        raise ReturnRefused("Het ondertekende document is niet het document dat ter ondertekening is klaargezet "
                            "(de inhoud is gewijzigd).", kenmerk=kenmerk, rule="ander-document")


# --- a consent form signed by the employee ----------------------------------------------------------------------

def check_form_contents(form: ConsentForm, doc: ReturnedDocument) -> None:
    """What the parsed form must show before its case is looked at: a readable PDF, the kenmerk our converter
    wrote into it (/Keywords), when there, the one its name gives, and no active content (JavaScript, an action on
    opening, a launch action, an embedded file, multimedia, an XFA form: the dossier is kept 20 years and exported
    to others, so nothing in it may run)."""
    if doc.unreadable is not None:
        raise doc.unreadable
    keywords = doc.keywords
    if keywords and keywords != form.kenmerk and kenmerk_from_file_name(f"{keywords}_advies.pdf"):
        raise ReturnRefused(f"De bestandsnaam noemt zaak {form.kenmerk}, maar het formulier zelf zaak "
                            f"{keywords}.", kenmerk=form.kenmerk, rule="kenmerk-verschilt")
    if doc.active:
        raise ReturnRefused("Het formulier bevat inhoud die bij het openen iets kan uitvoeren of meebrengt: "
                            f"{'; '.join(doc.active)}. Zo'n bestand wordt niet in het dossier bewaard.",
                            kenmerk=form.kenmerk, rule="actieve-inhoud")


def form_signatures(form: ConsentForm, doc: ReturnedDocument) -> tuple[Sequence, Sequence]:
    """(signatures, document timestamps) of a form that carries any (a scan carries none): every signature
    dictionary of the parsed PDF validated (none skipped by spelling it differently), each timestamp intact."""
    if not doc.signature_dictionaries:
        return (), ()
    if doc.validation_error is not None or doc.report is None:
        raise ReturnRefused("De elektronische handtekening kan niet worden gelezen: het PDF-bestand is "
                            "beschadigd, versleuteld of niet volgens de PDF-norm opgebouwd.",
                            kenmerk=form.kenmerk, rule="onleesbaar")
    signatures, stamps = doc.report.signatures, doc.report.document_timestamps
    found, validated = doc.signature_dictionaries, len(signatures) + len(stamps)
    if validated < found:
        raise ReturnRefused(f"Het formulier bevat {found} handtekening(en), maar er kunnen er maar {validated} "
                            "worden gecontroleerd; een handtekening die niet te controleren is, wordt niet "
                            "aangenomen.", kenmerk=form.kenmerk, rule="onleesbaar")
    if any(not (t.intact and t.valid) for t in stamps):
        raise ReturnRefused("Een tijdstempel op het formulier klopt niet: het document is na het tijdstempel "
                            "gewijzigd of het tijdstempel is beschadigd.", kenmerk=form.kenmerk,
                            rule="handtekening-ongeldig")
    return signatures, stamps


def check_consent_form(form: ConsentForm, *, state, signatures: Sequence, archived: bool,
                       replacing: bool = False) -> None:
    """A signed consent form is archived only for a known case whose machtiging was recorded and not refused, once
    (or again when a replacement of the archived one was allowed: `replacing`, see `replacement_granted`), and
    with every electronic signature it carries intact (a scan carries none)."""
    kenmerk = form.kenmerk
    if state is None:
        raise ReturnRefused(f"Er is geen zaak met kenmerk {kenmerk}.", kenmerk=kenmerk, rule="onbekende-zaak")
    recorded = [value for name, value in state.consents.items()
                if name == form.consent or name.startswith((form.consent + ":", form.consent + "_"))]
    status = None if not recorded else Consent.GEWEIGERD if all(v is Consent.GEWEIGERD for v in recorded) else \
        next(v for v in recorded if v is not Consent.GEWEIGERD)
    wat = _CONSENT_LABEL.get(form.consent.split(":")[0], form.label.replace("-", " "))
    if status is None:
        raise ReturnRefused(f"Voor zaak {kenmerk} is geen machtiging voor {wat} vastgelegd; er hoort dus geen "
                            "ondertekend formulier bij.", kenmerk=kenmerk, rule="machtiging-onbekend")
    if status is Consent.GEWEIGERD:
        raise ReturnRefused(f"De werknemer heeft de machtiging voor {wat} in zaak {kenmerk} geweigerd; een "
                            "ondertekend toestemmingsformulier past daar niet bij.", kenmerk=kenmerk,
                            rule="machtiging-geweigerd")
    if archived and not replacing:
        raise ReturnRefused(f"Het ondertekende formulier voor {wat} van zaak {kenmerk} is al eerder ontvangen en "
                            "gearchiveerd. Dit exemplaar is daarom niet gearchiveerd: welk formulier geldt, wordt "
                            "niet door de volgorde van binnenkomst beslist. Moet dit exemplaar het eerdere "
                            "vervangen, dan legt de archivaris dat vast met `sopipe archive replace-form "
                            "inbox/failed/<dit bestand> --reden \"...\"`; anders kan het worden verwijderd.",
                            kenmerk=kenmerk, rule="al-ontvangen")
    # intact and valid, and nothing changed after a certifying signature (our seal) that it does not allow
    broken = [sig for sig in signatures if not (sig.intact and sig.valid) or sig.docmdp_ok is False]
    if broken:
        raise ReturnRefused("De elektronische handtekening op het formulier klopt niet: het document is na "
                            "ondertekening gewijzigd of de handtekening is beschadigd.", kenmerk=kenmerk,
                            rule="handtekening-ongeldig")


_CONSENT_LABEL = {"medische_gegevens": "het delen van medische gegevens",
                  "extra_informatie": "het opvragen van aanvullende informatie",
                  "advies_delen": "het delen van het advies",
                  "advies_delen_bedrijfsarts": "het delen van het advies met de eigen bedrijfsarts",
                  "advies_delen_werkgever": "het delen van het arbeidsadvies met de werkgever"}

_EOF = re.compile(rb"%%EOF[\r\n]{0,2}")


def check_signed_over_form(raw: bytes, *, kenmerk: str, forms: Sequence[str]) -> None:
    """An electronically signed consent form starts with exactly the bytes of a form the pipeline made for that
    consent (`forms`: their SHA-256; an incremental signature only appends). No form made (a consent recorded
    before the pipeline made forms): nothing to compare with, the form is taken as before."""
    if not forms:
        return
    wanted = set(forms)
    for match in _EOF.finditer(raw):
        end = match.end()
        if end < len(raw) and hashlib.sha256(raw[:end]).hexdigest() in wanted:
            return
    raise ReturnRefused("Het elektronisch ondertekende formulier is niet precies het formulier dat de werknemer is "
                        "toegestuurd (de inhoud is gewijzigd of het is een ander bestand). Onderteken het toegestuurde "
                        "PDF-bestand zelf, zonder het te wijzigen, of lever een scan van het op papier ondertekende "
                        "formulier.", kenmerk=kenmerk, rule="ander-formulier")


REPLACEMENT = "vervanging-toegestaan"
"""The `wat` of the audit record that allows one file (by SHA-256) to replace an archived consent form."""


def replacement_granted(trail: Iterable, *, kind: str, sha256: str) -> bool:
    """Whether the audit trail holds a grant for exactly this file to replace the archived form `kind`."""
    return any(r.gebeurtenis == Gebeurtenis.TOESTEMMING and r.details.get("wat") == REPLACEMENT
               and r.details.get("document") == kind and r.details.get("bestand_sha256") == sha256 for r in trail)


def archive_name(form: ConsentForm, *, earlier: int) -> str:
    """The form's name in the archive: the first under its own name, each replacement beside it, numbered."""
    if earlier == 0:
        return form.archive_name
    return f"machtiging-{form.label}-ondertekend-vervanging-{earlier}.pdf"


def archive_order(form: ConsentForm) -> DocumentOrder:
    """The signed form as a document of its case: into the archive only, beside the sealed record of its consent,
    sent to no one and signed by no one (it came signed or scanned)."""
    row = Row(form.kind, "", f"Ondertekende machtiging ({form.label})", Audience.MEDISCH, ((Party.ARCHIEF, None),),
              "de door u ondertekende machtiging")
    return DocumentOrder(form.kenmerk, row, {}, (Delivery(Party.ARCHIEF, None),), None)


def received_event(form: ConsentForm, state: CaseState, *, sha256: str, today: date,
                   scanned: bool) -> model.MachtigingOntvangen:
    """The pipeline's own record that the form came in (`machtiging_ontvangen`), for the consent it signs; dated
    as the case's last step, so the form's arrival never puts later case files out of order."""
    consent = signed_consent(state, form.consent)
    if consent is None:
        raise ReturnRefused(f"Uit de bestandsnaam is niet op te maken voor welke bron dit formulier geldt: in zaak "
                            f"{form.kenmerk} wachten meer machtigingen voor aanvullende informatie op een "
                            "handtekening. Noem de bron in de naam, bijvoorbeeld "
                            f"{form.kenmerk}_machtiging-extra-informatie-behandelaar.pdf.",
                            kenmerk=form.kenmerk, rule="bron-onduidelijk")
    return model.parse_stored({
        "schema": model.SCHEMA_ID, "kenmerk": form.kenmerk, "stap": "machtiging_ontvangen",
        "datum": state.laatste_datum.isoformat(), "machtiging": consent, "bestand": form.archive_name,
        "ontvangen": today.isoformat(), "gescand": scanned, "sha256": sha256})
