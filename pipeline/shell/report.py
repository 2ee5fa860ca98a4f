"""Error reports a secretariat understands: the one place where errors become text for people.

A failed case file gets `<file name>.error.txt` beside it in `inbox/failed/`, in plain Dutch: which file,
which case, which field, which rule, and what to do now.
"""

from __future__ import annotations

import difflib
import enum
import functools
import types
import typing
from dataclasses import dataclass

from pydantic import BaseModel, ValidationError

from pipeline.core import model
from pipeline.core.dutch import zinseinde
from pipeline.core.model import STAPPEN
from pipeline.core.redaction import escape_controls, mask_digits, redact
from pipeline.errors import InternalError, PipelineError

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
    "bool_parsing": "moet true of false zijn (zonder aanhalingstekens)",
    "date_type": "is geen geldige datum (gebruik JJJJ-MM-DD)",
    "datetime_type": "is geen geldig moment (gebruik bijvoorbeeld 2026-11-17T10:30:00+01:00)",
    "decimal_type": "is geen geldig bedrag",
    "dict_type": "moet een object zijn ({ ... })",
    "list_type": "moet een lijst zijn ([ ... ])",
    "int_type": "moet een geheel getal zijn",
    "int_parsing": "moet een geheel getal zijn",
    "none_required": "moet leeg zijn (null)",
    "decimal_parsing": "is geen geldig bedrag",
    "datetime_from_date_parsing": "is geen geldig moment (gebruik bijvoorbeeld 2026-11-17T10:30:00+01:00)",
    "json_invalid": "is geen geldige JSON",
}
UNKNOWN_PROBLEM = "heeft een ongeldige waarde"
"""For a pydantic error kind without a Dutch text above: never pydantic's English message."""


FORM = {
    # what a value of this (last) field name looks like, for "heeft niet de juiste vorm"
    "kenmerk": "3 tot 40 letters, cijfers, - of _, zonder spaties (bijvoorbeeld SO-2026-0042)",
    "big_nummer": "11 cijfers (bijvoorbeeld 19012345601)",
    "kvk_nummer": "8 cijfers",
    "bsn": "9 cijfers (bijvoorbeeld 111222333)",
    "factuurnummer": "1 tot 40 letters, cijfers, /, _, . of -, beginnend met een letter of cijfer (bijvoorbeeld "
                     "AV-2026-118)",
    "code": "2 tot 40 kleine letters, cijfers, - of _ (de code uit de stamgegevens, bijvoorbeeld arbonoord)",
    "praktijk": "2 tot 40 kleine letters, cijfers, - of _ (de code uit de stamgegevens, bijvoorbeeld "
                "arbopraktijk-visser)",
    "email": "een e-mailadres (naam@domein.nl)",
}
BSN_OPTIONAL = ("Het BSN is niet verplicht: laat het veld 'bsn' weg als het niet zeker is; de zaak gaat dan gewoon "
                "verder.")


def _plain(tp):
    """`X | None`, `Annotated[X, ...]` → X."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


@functools.cache
def _event_models() -> dict[str, type[BaseModel]]:
    union = typing.get_args(model.CaseEvent)[0]
    return {typing.get_args(cls.model_fields["stap"].annotation)[0]: cls for cls in typing.get_args(union)}


def _walk(loc: tuple) -> tuple[type[BaseModel] | None, object]:
    """(the model holding the last field of `loc`, that field's type, or None when unknown)."""
    parts = [p for p in loc if not isinstance(p, int)]
    if not parts or parts[0] not in _event_models():
        return None, None
    holder: type[BaseModel] = _event_models()[parts[0]]
    tp: object = holder
    for i, name in enumerate(parts[1:]):
        if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
            return None, None
        holder = tp
        info = holder.model_fields.get(name)
        if info is None:
            return holder, None
        tp = _plain(info.annotation)
        if typing.get_origin(tp) in (list, tuple):
            tp = _plain(typing.get_args(tp)[0])
    return holder, tp


def allowed_values(tp) -> list[str]:
    """The values a Literal or Enum field accepts (empty for any other type)."""
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp) if a is not None]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [str(e.value) for e in tp]
    return []


def _of(values: list[str]) -> str:
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " of " + quoted[-1]


def _suggest(word: str, options) -> str:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" Bedoelt u '{found[0]}'?" if found else ""


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
        kind, loc = err["type"], err["loc"]
        leaf = str(loc[-1]) if loc else ""
        holder, tp = _walk(loc)
        allowed = allowed_values(tp)
        if kind in ("literal_error", "enum"):
            msg = f"heeft een ongeldige waarde; toegestaan: {_of(allowed)}" if allowed else \
                "heeft een ongeldige waarde"
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = ("stap",)
            tag = str(err.get("ctx", {}).get("tag", ""))
            msg = ("is geen bekende stap" if kind == "union_tag_invalid" else "ontbreekt: elk bestand noemt zijn stap")
            msg += f"; toegestaan: {_of(list(STAPPEN))}." + (_suggest(tag, STAPPEN) if tag else "")
        elif kind == "missing" and allowed:
            msg = f"ontbreekt (verplicht veld); toegestaan: {_of(allowed)}"
        elif kind == "extra_forbidden":
            msg = "is een onbekend veld; onbekende velden zijn niet toegestaan."
            msg += _suggest(leaf, holder.model_fields) if holder is not None else ""
        elif kind == "string_pattern_mismatch":
            msg = "heeft niet de juiste vorm" + (f": {FORM[leaf]}" if leaf in FORM else "")
        elif kind == "string_too_long":
            msg = f"is te lang (maximaal {err.get('ctx', {}).get('max_length')} tekens)"
        elif kind == "value_error":
            msg = str(err.get("ctx", {}).get("error", ""))  # our own validators speak Dutch
        else:
            msg = _PYDANTIC_NL.get(kind, UNKNOWN_PROBLEM)  # never pydantic's English message
        field = _field(loc)
        if "input" in err and kind not in {"missing", "extra_forbidden"} and not isinstance(err["input"], dict):
            shown = repr(err["input"])
            shown = f"{shown[:80]}{'…' if len(shown) > 80 else ''}"
            if field.rsplit(".", 1)[-1] == "bsn":  # a mistyped BSN is still someone's: recognisable, not whole
                shown = mask_digits(shown)
            msg += f" (gegeven: {redact(shown)})"
        if leaf == "bsn" and kind != "missing":
            msg = f"{zinseinde(msg)} {BSN_OPTIONAL}"
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
    "factuur-onvolledig": ("Laat de beheerder de stamgegevens in sopipe.toml aanvullen zoals hierboven staat en zet "
                           "het bestand daarna opnieuw in de map inbox/ (met \"praktijk\" erin als de zaak nog "
                           "geen praktijk noemt). De eerdere stappen van de zaak blijven gewoon staan.",),
    "factuurnummer-kenmerk": ("Geef de factuur een nummer dat niet van het kenmerk is afgeleid en zet het bestand "
                              "opnieuw in de map inbox/.",),
    "praktijk-tegenstrijdig": ("Corrigeer 'praktijk' in het bestand en zet het opnieuw in de map inbox/.",),
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


def internal_error_report(file_name: str, e: InternalError) -> str:
    """The report beside a file set aside because sopipe itself failed on it (not because of a rule): says so, says
    the file is kept unchanged, and what the secretariat and the operator can do."""
    if e.interruptions:
        what = (f"sopipe stopte onverwacht terwijl dit bestand werd verwerkt, {e.interruptions} keer achter elkaar. "
                "Om de andere bestanden niet langer op te houden is het opzijgezet.")
    else:
        what = ("Interne fout: de verwerking liep vast op een fout in sopipe zelf "
                f"({escape_controls(e.cause)}), niet op een regel van de procedure.")
    lines = [f"Het bestand {escape_controls(file_name)} is NIET verwerkt.", ""]
    if e.kenmerk:
        lines += [f"Zaak (kenmerk): {e.kenmerk}", ""]
    lines += ["Wat is er mis:", f"  - {what}", "",
              "Wat nu:",
              "  Het bestand is ongewijzigd bewaard in inbox/failed/; de andere bestanden worden gewoon verwerkt.",
              "  Secretariaat: meld dit aan de beheerder van sopipe met de naam van dit bestand. Wat er voor de zaak",
              "  al is verstuurd, toont sopipe status <kenmerk>.",
              "  Beheerder: de technische details staan in het logboek van sopipe watch (zoek op de bestandsnaam).",
              "  Zet het bestand na herstel van de fout opnieuw in de map inbox/.", ""]
    return redact("\n".join(lines))
