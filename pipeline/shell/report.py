"""Error reports a secretariat understands: the one place where errors become text for people.

A failed case file gets `<file name>.error.txt` beside it in `inbox/failed/`, in plain Dutch: which file,
which case, which field, which rule, and what to do now.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from pipeline.core.dutch import zinseinde
from pipeline.core.model import STAPPEN
from pipeline.core.redaction import escape_controls, mask_digits, redact
from pipeline.errors import PipelineError

_PYDANTIC_NL = {
    "missing": "ontbreekt (verplicht veld)",
    "extra_forbidden": "is een onbekend veld (typefout?); onbekende velden zijn niet toegestaan",
    "string_type": "moet tekst zijn",
    "bool_type": "moet true of false zijn (zonder aanhalingstekens)",
    "date_from_datetime_parsing": "is geen geldige datum (gebruik JJJJ-MM-DD)",
    "date_parsing": "is geen geldige datum (gebruik JJJJ-MM-DD)",
    "datetime_parsing": "is geen geldig moment (gebruik bijvoorbeeld 2026-11-17T10:30:00+01:00)",
    "timezone_aware": "mist de tijdzone (bijvoorbeeld +01:00)",
    "string_too_short": "is leeg",
    "string_too_long": "is te lang",
    "model_type": "moet een object zijn ({ ... })",
    "model_attributes_type": "moet een object zijn ({ ... })",
    "union_tag_invalid": "is geen bekende stap",
    "union_tag_not_found": "ontbreekt: elk bestand noemt zijn stap ('stap')",
    "decimal_parsing": "is geen geldig bedrag",
}


def _field(loc: tuple) -> str:
    # the first element of a discriminated union's location is the step name itself; leave it out
    parts = [str(x) for x in loc]
    if len(parts) > 1 and parts[0] in STAPPEN:
        parts = parts[1:]
    return ".".join(parts) or "(het hele bestand)"


def describe_validation(e: ValidationError) -> list[tuple[str, str]]:
    """(field, problem in Dutch) for each schema error."""
    out = []
    for err in e.errors(include_url=False):
        kind = err["type"]
        if kind == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            msg = f"heeft een ongeldige waarde; toegestaan: {expected}"
        elif kind == "string_pattern_mismatch":
            msg = "heeft niet de juiste vorm"
        elif kind == "string_too_long":
            msg = f"is te lang (maximaal {err.get('ctx', {}).get('max_length')} tekens)"
        elif kind == "value_error":
            msg = str(err.get("ctx", {}).get("error", err["msg"]))
        else:
            msg = _PYDANTIC_NL.get(kind, err["msg"])
        field = _field(err["loc"])
        if "input" in err and kind not in {"missing", "extra_forbidden"} and not isinstance(err["input"], dict):
            shown = repr(err["input"])
            shown = f"{shown[:80]}{'…' if len(shown) > 80 else ''}"
            if field.rsplit(".", 1)[-1] == "bsn":  # a mistyped BSN is still someone's: recognisable, not whole
                shown = mask_digits(shown)
            msg += f" (gegeven: {redact(shown)})"
        out.append((field, msg))
    return out


NEXT_STEP = {
    # nothing to correct: the request itself cannot be handled; the requester must hear why
    "alleen-werknemer": ("Er valt niets te corrigeren: dit verzoek kan niet in behandeling worden genomen.",
                         "Laat de aanvrager dit weten, bij voorkeur met een brief met de reden hierboven: alleen de "
                         "werknemer zelf kan om een second opinion vragen, via de eigen bedrijfsarts."),
    "aanstellingskeuring": ("Er valt niets te corrigeren: bij een aanstellingskeuring is geen second opinion "
                            "mogelijk.",
                            "Laat de aanvrager dit weten, bij voorkeur met een brief met de reden hierboven. Wie het "
                            "niet eens is met de uitslag van een aanstellingskeuring, kan een herkeuring vragen."),
    "onafhankelijkheid": ("Kies samen met de werknemer een second opinion-bedrijfsarts van een andere organisatie, "
                          "bijvoorbeeld de tweede keuze, en zet een nieuw bestand voor de selectie in de map inbox/.",),
    "factuurnummer-dubbel": ("Geef de factuur een nieuw factuurnummer en zet het bestand opnieuw in de map inbox/.",),
    "onbekende-organisatie": ("Gebruik een code die in de stamgegevens staat, of vraag de beheerder de organisatie "
                              "toe te voegen in sopipe.toml; zet het bestand daarna opnieuw in de map inbox/.",),
}
DEFAULT_NEXT = ("Corrigeer het bestand en zet het opnieuw in de map inbox/.",)


LETTER_SUFFIX = ".brief-aan-aanvrager.pdf"
"""Appended to a refused file's name in inbox/failed/ for the ready letter to its requester."""


@dataclass(frozen=True)
class LetterNote:
    """A ready letter to the requester beside the report (a request refused outright)."""
    file_name: str
    """Its name in inbox/failed/, e.g. `01-verzoek.json.brief-aan-aanvrager.pdf`."""
    aan: str
    """The addressee (an organisation, a doctor, or the candidate)."""


def _letter_steps(rule: str | None, letter: LetterNote) -> tuple[str, ...]:
    first = NEXT_STEP[rule][0]
    return (first, f"Laat de aanvrager dit weten: stuur de brief {escape_controls(letter.file_name)} (naast dit "
            f"rapport in inbox/failed/) aan {zinseinde(escape_controls(letter.aan))} De brief legt uit waarom het "
            "verzoek niet in behandeling wordt genomen en wat de aanvrager wel kan doen; hij bevat alleen gegevens "
            "die de aanvrager zelf heeft gestuurd.")


def failure_report(file_name: str, *, problems: list[tuple[str, str]], kenmerk: str | None, rule: str | None,
                   nothing_sent: bool = True, letter: LetterNote | None = None) -> str:
    """The report in plain Dutch: what is wrong and what to do next (per rule); never a rule slug or a BSN."""
    lines = [f"Het bestand {escape_controls(file_name)} is NIET verwerkt.", ""]
    if kenmerk:
        lines.append(f"Zaak (kenmerk): {kenmerk}")
        lines.append("")
    lines.append("Wat is er mis:")
    for field, problem in problems:
        lines.append(f"  - {field}: {problem}" if field else f"  - {problem}")
    lines += ["", "Wat nu:",
              "  Er is niets verstuurd en de zaak is ongewijzigd." if nothing_sent else
              "  De zaak is ongewijzigd."]
    steps = _letter_steps(rule, letter) if letter is not None and rule in NEXT_STEP else \
        NEXT_STEP.get(rule or "", DEFAULT_NEXT)
    lines += [f"  {step}" for step in steps]
    lines.append("")
    return redact("\n".join(lines))  # no BSN in a report, wherever it came from (a file name, a message)


def report_for_error(file_name: str, e: PipelineError, *, letter: LetterNote | None = None) -> str:
    return failure_report(file_name, problems=[(e.field or "", e.message)], kenmerk=e.kenmerk, rule=e.rule,
                          letter=letter)
