"""Documents out for a personal signature, and the signed PDFs that come back into the inbox.

Out: when the pipeline cannot make a doctor's personal signature itself (`pipeline.core.signatures`), the
document is rendered unsigned into that doctor's folder and recorded as pending (its SHA-256 and length): the
final advice into `outbox/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`, the request form into
`outbox/bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`. The doctor signs it (`sopipe sign`) and drops the result
into `inbox/`.

Back: the runner takes a returned PDF through the same skeleton as a case file (`pipeline.shell.runner`);
the checks here, pure functions of what the runner and the PDF reader (`ReturnReader`) found, accept it only
when, in this order,
  1. its case and kind are known from the file name (`<kenmerk>_advies*.pdf`, `<kenmerk>_aanvraagformulier*.pdf`
     …) and/or the PDF's /Keywords (the converter
     writes the kenmerk there) — both, when present, must agree;
  2. a signature of that case is pending;
  3. it is signed, the signature is intact, valid and chains to a trust root (pki/ca.pem + configured roots);
  4. the signer is the doctor who must sign that kind, the SO doctor for the advice, the own doctor for the request
     form, recognised by the doctors' registry (`[artsen.<BIG>]`: the UZI number of their UZI-pas or a
     certificate fingerprint; without an entry the BIG number in the certificate's serialNumber, as the DEMO
     certificates carry it: `pipeline.core.artsen`);
  5. the signed file starts with exactly the bytes of the pending unsigned PDF (same SHA-256), then exactly one
     revision adds that doctor's signature, and after it only validation data and trusted document timestamps
     (the revisions compared object by object: `pipeline.core.revisions`).
Then it is delivered by the routing row of its kind with the consents as they are *now*
(`pipeline.core.signatures.returned_signed`), the pending record closes and the file moves to
`inbox/processed/`. Anything else goes to `inbox/failed/` with a plain Dutch report naming the reason.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol, Sequence

from pipeline.core.artsen import Arts, Certificaathouder, signer_mismatch
from pipeline.core.revisions import RevisionChanges, describe, judge
from pipeline.core.routing import Party
from pipeline.core.signatures import kenmerk_from_file_name, signer_of, signer_party
from pipeline.core.state import Consent
from pipeline.errors import PipelineError, ReturnRefused

TE_ONDERTEKENEN = "te-ondertekenen"
MAX_PDF_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ReturnPolicy:
    """What a returned signed PDF is checked against."""

    trust_roots: tuple[Path, ...]
    """PEM files of the trusted root certificates (the PKI's ca.pem plus `[signing] extra_trust_roots`)."""
    max_bytes: int = MAX_PDF_BYTES
    artsen: Mapping[str, Arts] = field(default_factory=dict)
    """The doctors' registry by BIG number (`[artsen.<BIG>]`): how each doctor's certificate is recognised."""


class ReturnReader(Protocol):
    """What is read from a returned PDF (`pipeline.adapters.returned_pdf.PdfReturnReader`)."""

    def keywords(self, pdf: bytes) -> str | None:
        """/Keywords; ReturnRefused (rule geen-pdf) when it is no readable PDF."""

    def signatures(self, pdf: bytes, *, trust_roots: Sequence[Path]):
        """The validation of its signatures (`.signatures`, each with intact/valid/trusted/ok/big_nummer …);
        SigningError when they cannot be read."""

    def certificate_holder(self, der: bytes) -> Certificaathouder:
        """What the signer's certificate (DER) says about its holder (`pipeline.adapters.keys.certificate_holder`)."""

    def revisions(self, pdf: bytes, *, prepared_size: int, signed: Mapping[str, tuple[str, int | None]],
                  known: Sequence[RevisionChanges] = ()) -> Sequence[RevisionChanges]:
        """What each incremental update after the prepared document (its first `prepared_size` bytes) adds and
        changes, given the signatures' and timestamps' (kind, revision) by field name and the changes the
        validation read already (`known`); ValueError when the revisions cannot be read or do not build on the
        prepared document."""


def not_a_file() -> ReturnRefused:
    return ReturnRefused("Dit is geen gewoon bestand; zet het PDF-bestand zelf in de inbox.", rule="geen-bestand")


def wrong_size(size: int, limit: int) -> ReturnRefused:
    return ReturnRefused(f"Het bestand is leeg of te groot ({size} bytes; de grens is {limit}).", rule="grootte")


def not_configured() -> ReturnRefused:
    return ReturnRefused("Deze installatie neemt geen ondertekende documenten aan (geen vertrouwde "
                         "basiscertificaten ingesteld).", rule="niet-ingesteld")


def identify(name: str, keywords: str | None) -> tuple[str, str]:
    """(kenmerk, kind) from the file name and the PDF's /Keywords; they must agree when both are there."""
    from_name = kenmerk_from_file_name(name)
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


def check_signed(raw: bytes, *, kenmerk: str, kind: str, arts, pending, policy: ReturnPolicy,
                 reader: ReturnReader):
    """Steps 3–5: one intact, trusted signature of the right doctor, added to exactly the pending document, and
    after it nothing but validation data and trusted document timestamps (`pipeline.core.revisions`). Returns the
    validation (`pipeline.adapters.validation.DocumentReport`)."""
    from pipeline.errors import SigningError
    try:
        result = reader.signatures(raw, trust_roots=policy.trust_roots)
    except SigningError as e:
        raise ReturnRefused(f"De handtekening kan niet worden gecontroleerd: {e.message}", kenmerk=kenmerk,
                            rule="onleesbaar") from e
    naam, big = (arts.naam, arts.big_nummer) if arts else ("?", None)
    check_signature(result.signatures, kenmerk=kenmerk)
    check_document_timestamps(result.document_timestamps, kenmerk=kenmerk)
    sig = result.signatures[0]
    holder = reader.certificate_holder(sig.signer_cert_der)
    why = signer_mismatch(holder, big=big, naam=naam, arts=policy.artsen.get(big)) if big else \
        "de zaak noemt geen arts"
    if why:
        raise ReturnRefused(f"Ondertekend door {sig.signer_naam} (certificaat-serialNumber "
                            f"{holder.serial_number or '—'}), "
                            f"maar de {_ROL[signer_party(kind)]} van deze zaak, die dit document moet ondertekenen, "
                            f"is {naam} (BIG {big}): {why}.", kenmerk=kenmerk, rule="verkeerde-ondertekenaar")
    check_same_document(raw, kenmerk=kenmerk, pending_sha256=pending.sha256, pending_size=pending.size)
    try:
        revisions = reader.revisions(raw, prepared_size=pending.size, signed=result.signed_fields,
                                     known=result.revisions)
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


# --- a consent form signed by the employee (issue 14) -------------------------------------------------------

_BRONNEN = "bedrijfsarts|werkgever|behandelaar"
_CONSENT_FORM = re.compile(
    r"^(?P<kenmerk>[A-Za-z0-9_-]{3,40}?)_machtiging-(?P<consent>medische[-_]gegevens|"
    rf"extra[-_]informatie(?:[-_](?:{_BRONNEN}))?|advies[-_]delen(?:[-_](?:bedrijfsarts|werkgever))?)"
    r"(?:[._ -][^/]*)?\.pdf$", re.IGNORECASE)


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


def check_consent_form(form: ConsentForm, *, state, signatures: Sequence, archived: bool,
                       replacing: bool = False) -> None:
    """A signed consent form is archived only for a known case whose machtiging was recorded and not refused, once
    (or again when a replacement of the archived one was allowed: `replacing`, see `pipeline.shell.consent_forms`),
    and with every electronic signature it carries intact (a scan carries none)."""
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


def consent_form_report(name: str, e: PipelineError) -> str:
    """The Dutch report beside a refused consent form in `inbox/failed/`."""
    return _refusal(f"Het ondertekende toestemmingsformulier {name} is NIET gearchiveerd.", e, [
        "  Er is niets gearchiveerd of verstuurd. Controleer het kenmerk en de soort machtiging in de bestandsnaam",
        "  (<kenmerk>_machtiging-medische-gegevens.pdf, …_machtiging-advies-delen-bedrijfsarts.pdf, …) en zet het",
        "  juiste formulier opnieuw in inbox/."])


def kind_of(name: str) -> str | None:
    found = kenmerk_from_file_name(name)
    return found[1] if found else None


_ROL = {Party.SO_BEDRIJFSARTS: "second opinion-bedrijfsarts", Party.BEDRIJFSARTS: "eigen bedrijfsarts (aanvrager)"}


def report(name: str, e: PipelineError) -> str:
    """The Dutch report beside a refused returned PDF in `inbox/failed/`."""
    return _report(name, e, kind=kind_of(name))


def _report(name: str, e: PipelineError, *, kind: str | None = None) -> str:
    party = signer_party(kind or "advies")
    return _refusal(f"Het ondertekende document {name} is NIET aangenomen.", e, [
        "  Er is niets verstuurd; het document wacht nog op een geldige handtekening.",
        f"  Onderteken het klaargezette document in outbox/{party.value}/<BIG-nummer>/<kenmerk>/te-ondertekenen/",
        f"  met de eigen sleutel van de {_ROL[party]} (sopipe sign) en zet het resultaat in inbox/."])


def _refusal(title: str, e: PipelineError, what_now: list[str]) -> str:
    lines = [title, ""]
    if e.kenmerk:
        lines.append(f"Zaak (kenmerk): {e.kenmerk}")
    if e.rule:
        lines.append(f"Reden: {_REASONS.get(e.rule, e.rule)}")
    return "\n".join([*lines, "", "Wat is er mis:", f"  - {e.message}", "", "Wat nu:", *what_now, ""])


_EXPIRED = ("EXPIRED", "OUT_OF_BOUNDS_NO_POE", "OUT_OF_BOUNDS_NOT_REVOKED", "NOT_YET_VALID")

_REASONS = {
    "onbekende-zaak": "onbekende zaak",
    "niets-openstaand": "er staat niets open om te ondertekenen",
    "niet-ondertekend": "niet ondertekend",
    "handtekening-ongeldig": "handtekening ongeldig",
    "niet-vertrouwd": "certificaat niet vertrouwd (onbekende certificaatautoriteit)",
    "ingetrokken": "certificaat van de ondertekenaar ingetrokken",
    "verlopen": "certificaat van de ondertekenaar verlopen",
    "verkeerde-ondertekenaar": "verkeerde ondertekenaar",
    "ander-document": "gewijzigd document (niet het klaargezette document)",
    "pagina-gewijzigd": "pagina gewijzigd",
    "toevoeging": "meer toegevoegd dan de handtekening",
    "tijdstempel-niet-vertrouwd": "documenttijdstempel niet vertrouwd",
    "kenmerk-verschilt": "kenmerk in naam en document verschillen",
    "geen-pdf": "geen leesbare PDF",
    "niet-ingesteld": "niet ingesteld",
    "machtiging-onbekend": "geen machtiging vastgelegd",
    "machtiging-geweigerd": "machtiging geweigerd",
    "al-ontvangen": "al eerder ontvangen",
    "onleesbaar": "handtekening niet te controleren",
    "tijdstempel-ongeldig": "tijdstempel ongeldig",
    "validatiegegevens": "validatiegegevens van de handtekening niet te verkrijgen",
    "actieve-inhoud": "actieve inhoud (scripts, acties of ingesloten bestanden)",
}


# --- the consent cycle: an electronically signed form is the form we made for it ---------------------------------

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


_REASONS.update({
    "ander-formulier": "niet het toegestuurde formulier",
    "bron-onduidelijk": "bron van de machtiging niet op te maken",
})
