"""Documents out for a personal signature, and the signed PDFs that come back into the inbox.

Out: when the pipeline cannot make a doctor's personal signature itself (`pipeline.core.signatures`), the
document is rendered unsigned into that doctor's folder and recorded as pending (its SHA-256 and length): the
final advice into `outbox/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`, the request form into
`outbox/bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`. The doctor signs it (`sopipe sign`) and drops the result
into `inbox/`.

Back: `process_returned_pdf` accepts a PDF only when, in this order,
  1. its case and kind are known from the file name (`<kenmerk>_advies*.pdf`, `<kenmerk>_aanvraagformulier*.pdf`
     …) and/or the PDF's /Keywords (the converter
     writes the kenmerk there) — both, when present, must agree;
  2. a signature of that case is pending;
  3. it is signed, the signature is intact, valid and chains to a trust root (pki/ca.pem + configured roots);
  4. the signer is the doctor who must sign that kind (certificate serialNumber = BIG number): the SO doctor for
     the advice, the own doctor for the request form;
  5. the signed file starts with exactly the bytes of the pending unsigned PDF (same SHA-256), and nothing but
     the signature was added to it (every page's content, resources and annotations compared: no page changed).
Then it is delivered by the routing row of its kind with the consents as they are *now*
(`pipeline.core.signatures.returned_signed`), the pending record closes and the file moves to
`inbox/processed/`. Anything else goes to `inbox/failed/` with a plain Dutch report naming the reason.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from pipeline.core.procedure import DocumentOrder
from pipeline.core.routing import Party, file_name, recipient_code
from pipeline.core.signatures import kenmerk_from_file_name, returned_signed, signer_of, signer_party
from pipeline.errors import DeliveryError, PipelineError, ReturnRefused, SigningError

if TYPE_CHECKING:
    from pipeline.core.state import CaseState
    from pipeline.shell.intake import Intake
    from pipeline.shell.runner import Outcome, Pipeline

log = logging.getLogger("sopipe")

TE_ONDERTEKENEN = "te-ondertekenen"
MAX_PDF_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class ReturnPolicy:
    """What a returned signed PDF is checked against."""

    trust_roots: tuple[Path, ...]
    """PEM files of the trusted root certificates (the PKI's ca.pem plus `[signing] extra_trust_roots`)."""
    max_bytes: int = MAX_PDF_BYTES


# --- out: waiting for the doctor ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unsigned:
    order: DocumentOrder
    pdf: bytes


def prepare_unsigned(pipeline: Pipeline, held: Sequence[DocumentOrder]) -> list[Unsigned]:
    """Render and convert the held documents without signing them (before anything is delivered)."""
    if not held:
        return []
    pdfs = [pipeline._make_one(replace(order, sign=None)) for order in held]
    return [Unsigned(order, pdf) for order, pdf in zip(held, pdfs)]


def park_for_signature(pipeline: Pipeline, unsigned: Sequence[Unsigned], *, state: CaseState) -> list[Path]:
    """Put each unsigned document in its signer's `te-ondertekenen/` folder and record it as pending."""
    parked = []
    for item in unsigned:
        order = item.order
        name = file_name(order.kenmerk, order.kind)
        party = signer_party(order.kind)
        code = order.sign.big_nummer if order.sign and order.sign.big_nummer else recipient_code(party, state)
        try:
            target = pipeline.mailboxes.deliver(party, order.kenmerk, name, item.pdf, code=code,
                                                sub=(TE_ONDERTEKENEN,))
        except DeliveryError as e:
            raise DeliveryError(f"Kan {name} niet klaarzetten om te ondertekenen: {e.message}",
                                kenmerk=order.kenmerk) from e
        pipeline.store.add_pending(kenmerk=order.kenmerk, kind=order.kind, sha256=hashlib.sha256(item.pdf).hexdigest(),
                                   size=len(item.pdf), path=str(target.relative_to(pipeline.mailboxes.outbox.parent)),
                                   signer_big=order.sign.big_nummer if order.sign else None)
        log.info("%s: %s waits for the signature of %s in %s", order.kenmerk, name,
                 order.sign.naam if order.sign else "?", target.parent)
        parked.append(target)
    return parked


# --- back: a signed PDF in the inbox -----------------------------------------------------------------------------

def max_bytes(pipeline: Pipeline) -> int:
    """The largest returned PDF accepted."""
    policy: ReturnPolicy | None = getattr(pipeline, "returns", None)
    return policy.max_bytes if policy else MAX_PDF_BYTES


def not_a_file() -> ReturnRefused:
    return ReturnRefused("Dit is geen gewoon bestand; zet het PDF-bestand zelf in de inbox.", rule="geen-bestand")


def wrong_size(size: int, limit: int) -> ReturnRefused:
    return ReturnRefused(f"Het bestand is leeg of te groot ({size} bytes; de grens is {limit}).", rule="grootte")


def process_returned_pdf(pipeline: Pipeline, intake: Intake) -> Outcome:
    """The staged PDF, read once by the runner (`pipeline.shell.intake`), checked and delivered or refused."""
    from pipeline.shell.runner import Outcome

    name = intake.name
    policy: ReturnPolicy | None = getattr(pipeline, "returns", None)
    if intake.sha256 is None:
        return pipeline._fail(intake, None, _report(name, intake.error), intake.error.message)
    raw, digest = intake.raw, intake.sha256
    if pipeline.store.journal_status(digest) == "done":
        pipeline._move(intake, "processed", suffix=".duplicaat")
        return Outcome(name, "duplicate", detail="al eerder verwerkt")
    pipeline.store.journal_start(digest, name)
    kenmerk = None
    try:
        if policy is None:
            raise ReturnRefused("Deze installatie neemt geen ondertekende documenten aan (geen vertrouwde "
                                "basiscertificaten ingesteld).", rule="niet-ingesteld")
        kenmerk, kind = _identify(raw, name)
        state = pipeline.case_state(kenmerk)
        if state is None:
            raise ReturnRefused(f"Er is geen zaak met kenmerk {kenmerk}.", kenmerk=kenmerk, rule="onbekende-zaak")
        pending = pipeline.store.pending(kenmerk, kind)
        if pending is None or pending.done_at is not None:
            what = "al eerder ondertekend terugontvangen" if pending else "niet ter ondertekening uitgezet"
            raise ReturnRefused(f"Voor zaak {kenmerk} staat geen {kind} open om te ondertekenen (het document is "
                                f"{what}).", kenmerk=kenmerk, rule="niets-openstaand")
        arts = signer_of(state, kind)
        _check_signature(raw, kenmerk=kenmerk, big=arts.big_nummer if arts else None,
                         naam=arts.naam if arts else "?", rol=_ROL[signer_party(kind)], policy=policy,
                         pending_sha256=pending.sha256, pending_size=pending.size)
        decision = returned_signed(state, kind)
        case_audit = pipeline.audit.case_file(kenmerk=kenmerk, namens=None, datum=state.laatste_datum, bestand=name,
                                              sha256=digest)
        case_audit.verified(document=kind, sha256=digest, ondertekenaar=arts.naam if arts else None)
        documents = [raw] + [pipeline._make_one(order) for order in decision.orders[1:]]
        delivered, records = pipeline._deliver(decision, documents)
        case_audit.delivered(records)
    except PipelineError as e:
        if isinstance(e, DeliveryError):
            return pipeline._retry(intake, e, kenmerk=kenmerk)
        e.kenmerk = e.kenmerk or kenmerk
        return pipeline._fail(intake, digest, _report(name, e, kind=_kind_of(name)), e.message, kenmerk=kenmerk, rule=e.rule,
                              error=type(e).__name__)
    pipeline.store.complete_pending(kenmerk=kenmerk, kind=kind, signed_sha256=digest, deliveries=records)
    pipeline._move(intake, "processed")
    log.info("%s: signed %s returned and delivered (%d files)", kenmerk, name, len(delivered))
    return Outcome(name, "processed", kenmerk=kenmerk, delivered=delivered)


def _identify(raw: bytes, name: str) -> tuple[str, str]:
    """(kenmerk, kind) from the file name and the PDF's /Keywords; they must agree when both are there."""
    from_name = kenmerk_from_file_name(name)
    keywords = None
    try:
        from pypdf import PdfReader
        meta = PdfReader(io.BytesIO(raw)).metadata
        keywords = (meta.get("/Keywords") or "").strip() if meta else None
    except Exception:
        raise ReturnRefused("Het bestand is geen leesbare PDF.", rule="geen-pdf") from None
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


def _kind_of(name: str) -> str | None:
    found = kenmerk_from_file_name(name)
    return found[1] if found else None


_ROL = {Party.SO_BEDRIJFSARTS: "second opinion-bedrijfsarts", Party.BEDRIJFSARTS: "eigen bedrijfsarts (aanvrager)"}


def _check_signature(raw: bytes, *, kenmerk: str, big: str | None, naam: str, rol: str, policy: ReturnPolicy,
                     pending_sha256: str, pending_size: int) -> None:
    from pipeline.adapters.validation import verify_pdf
    try:
        result = verify_pdf(raw, trust_roots=list(policy.trust_roots))
    except SigningError as e:
        raise ReturnRefused(f"De handtekening kan niet worden gecontroleerd: {e.message}", kenmerk=kenmerk,
                            rule="onleesbaar") from e
    if not result.signatures:
        raise ReturnRefused("Het document is niet ondertekend.", kenmerk=kenmerk, rule="niet-ondertekend")
    if len(result.signatures) != 1:
        raise ReturnRefused(f"Het document heeft {len(result.signatures)} handtekeningen; verwacht is alleen die "
                            f"van {naam}.", kenmerk=kenmerk, rule="handtekeningen")
    sig = result.signatures[0]
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
    if big is None or sig.big_nummer != big:
        raise ReturnRefused(f"Ondertekend door {sig.signer_naam} (BIG {sig.big_nummer or 'onbekend'}), maar de "
                            f"{rol} van deze zaak, die dit document moet ondertekenen, is {naam} (BIG {big}).",
                            kenmerk=kenmerk,
                            rule="verkeerde-ondertekenaar")
    if not sig.ok:
        raise ReturnRefused(f"De handtekening is niet geldig: {sig.reason or 'zie sopipe verify'} ({sig.indication}"
                            f"{' / ' + sig.sub_indication if sig.sub_indication else ''}).", kenmerk=kenmerk,
                            rule="handtekening-ongeldig")
    if len(raw) <= pending_size or hashlib.sha256(raw[:pending_size]).hexdigest() != pending_sha256:
        raise ReturnRefused("Het ondertekende document is niet het document dat ter ondertekening is klaargezet "
                            "(de inhoud is gewijzigd).", kenmerk=kenmerk, rule="ander-document")
    _check_only_signature_added(raw, pending_size, kenmerk=kenmerk)


def _check_only_signature_added(raw: bytes, pending_size: int, *, kenmerk: str) -> None:
    """Compared with the prepared document, every page must be unchanged: same content, resources, size and
    annotations, apart from signature fields (widgets of /FT /Sig) the signing added."""
    try:
        before = _page_fingerprints(raw[:pending_size])
        after = _page_fingerprints(raw)
    except Exception as e:
        raise ReturnRefused(f"De pagina's van het document kunnen niet worden vergeleken: {e}", kenmerk=kenmerk,
                            rule="pagina-gewijzigd") from e
    if len(before) != len(after):
        raise ReturnRefused(f"Het aantal pagina's is veranderd ({len(before)} → {len(after)}).", kenmerk=kenmerk,
                            rule="pagina-gewijzigd")
    changed = [n for n, (a, b) in enumerate(zip(before, after), start=1) if a != b]
    if changed:
        raise ReturnRefused(f"Na het klaarzetten is pagina {', '.join(map(str, changed))} inhoudelijk gewijzigd.",
                            kenmerk=kenmerk, rule="pagina-gewijzigd")


def _page_fingerprints(pdf: bytes) -> list[str]:
    """Per page a hash of what is shown: content streams, resources, boxes and the non-signature annotations."""
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(pdf), strict=False)
    out = []
    for page in reader.pages:
        contents = page.get_contents()
        annots = [a.get_object() for a in (page.get("/Annots") or [])]
        shown = [a for a in annots if not (a.get("/Subtype") == "/Widget" and _is_signature_widget(a))]
        parts = [contents.get_data() if contents is not None else b"", _canonical(page.get("/Resources")),
                 repr([float(x) for x in page.mediabox]).encode(), _canonical(shown)]
        out.append(hashlib.sha256(b"\x00".join(parts)).hexdigest())
    return out


def _is_signature_widget(annot) -> bool:
    field = annot if "/FT" in annot else (annot.get("/Parent").get_object() if annot.get("/Parent") else annot)
    return field.get("/FT") == "/Sig"


def _canonical(obj, depth: int = 0) -> bytes:
    """A stable byte form of a PDF object graph (streams by their decoded data); back-references skipped."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject
    if depth > 40:
        return b"..."
    if isinstance(obj, IndirectObject):
        obj = obj.get_object()
    if isinstance(obj, StreamObject):
        head = {k: v for k, v in obj.items() if k not in ("/Length", "/Filter", "/DecodeParms")}
        return b"S" + _canonical(DictionaryObject(head), depth + 1) + hashlib.sha256(obj.get_data()).digest()
    if isinstance(obj, DictionaryObject):
        return b"{" + b",".join(k.encode() + b":" + _canonical(v, depth + 1) for k, v in sorted(obj.items())
                                if k not in ("/P", "/Parent")) + b"}"
    if isinstance(obj, (ArrayObject, list)):
        return b"[" + b",".join(_canonical(v, depth + 1) for v in obj) + b"]"
    return repr(obj).encode()


def _report(name: str, e: PipelineError, *, kind: str | None = None) -> str:
    lines = [f"Het ondertekende document {name} is NIET aangenomen.", ""]
    if e.kenmerk:
        lines.append(f"Zaak (kenmerk): {e.kenmerk}")
    if e.rule:
        lines.append(f"Reden: {_REASONS.get(e.rule, e.rule)}")
    lines += ["", "Wat is er mis:", f"  - {e.message}", "", "Wat nu:",
              "  Er is niets verstuurd; het document wacht nog op een geldige handtekening.",
              f"  Onderteken het klaargezette document in outbox/{signer_party(kind or 'advies').value}/<BIG-nummer>/"
              "<kenmerk>/te-ondertekenen/",
              f"  met de eigen sleutel van de {_ROL[signer_party(kind or 'advies')]} (sopipe sign) en zet het "
              "resultaat in inbox/.",
              ""]
    return "\n".join(lines)


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
    "kenmerk-verschilt": "kenmerk in naam en document verschillen",
    "geen-pdf": "geen leesbare PDF",
    "niet-ingesteld": "niet ingesteld",
}
