"""Documents out for a personal signature, and the reports on signed PDFs refused when they come back.

Out: when the pipeline cannot make a doctor's personal signature itself (`pipeline.core.signatures`), the
document is rendered unsigned into that doctor's folder and recorded as pending (its SHA-256 and length): the
final advice into `outbox/so-bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`, the request form into
`outbox/bedrijfsarts/<BIG>/<kenmerk>/te-ondertekenen/`. The doctor signs it (`sopipe sign`) and drops the result
into `inbox/`.

Back: the runner takes a returned PDF through the same skeleton as a case file (`pipeline.shell.runner`): its
name is parsed once when it is taken from the inbox, the PDF is read once (`pipeline.adapters.returned_pdf`) into
a `pipeline.core.returns.ReturnedDocument`, and the pure checks of `pipeline.core.returns` decide over it against
the `ReturnPolicy` here (the trust roots, the doctors' registry). An accepted document is delivered by the routing
row of its kind with the consents as they are *now* (`pipeline.core.signatures.returned_signed`), the pending
record closes and the file moves to `inbox/processed/`. Anything else goes to `inbox/failed/` with a plain Dutch
report naming the reason (`report`, `consent_form_report`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from pipeline.core.artsen import Arts
from pipeline.core.returns import ROL
from pipeline.core.signatures import signer_party
from pipeline.errors import PipelineError, ReturnRefused  # noqa: F401 - ReturnRefused: the old name still imports

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


def report(name: str, e: PipelineError, *, kind: str | None = None) -> str:
    """The Dutch report beside a refused returned PDF in `inbox/failed/` (`kind`: the one its name gives)."""
    party = signer_party(kind or "advies")
    return _refusal(f"Het ondertekende document {name} is NIET aangenomen.", e, [
        "  Er is niets verstuurd; het document wacht nog op een geldige handtekening.",
        f"  Onderteken het klaargezette document in outbox/{party.value}/<BIG-nummer>/<kenmerk>/te-ondertekenen/",
        f"  met de eigen sleutel van de {ROL[party]} (sopipe sign) en zet het resultaat in inbox/."])


def consent_form_report(name: str, e: PipelineError) -> str:
    """The Dutch report beside a refused consent form in `inbox/failed/`."""
    return _refusal(f"Het ondertekende toestemmingsformulier {name} is NIET gearchiveerd.", e, [
        "  Er is niets gearchiveerd of verstuurd. Controleer het kenmerk en de soort machtiging in de bestandsnaam",
        "  (<kenmerk>_machtiging-medische-gegevens.pdf, …_machtiging-advies-delen-bedrijfsarts.pdf, …) en zet het",
        "  juiste formulier opnieuw in inbox/."])


def _refusal(title: str, e: PipelineError, what_now: list[str]) -> str:
    lines = [title, ""]
    if e.kenmerk:
        lines.append(f"Zaak (kenmerk): {e.kenmerk}")
    if e.rule:
        lines.append(f"Reden: {_REASONS.get(e.rule, e.rule)}")
    return "\n".join([*lines, "", "Wat is er mis:", f"  - {e.message}", "", "Wat nu:", *what_now, ""])


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
    "ander-formulier": "niet het toegestuurde formulier",
    "bron-onduidelijk": "bron van de machtiging niet op te maken",
}
