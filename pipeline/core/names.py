"""Dutch personal names as the privacy guard reads them: particles, initials, titles and forms of address (pure).

`parse_person` splits another party's name as written (`Dr. P. Bakker`, `H. de Vries`) into given names and
surname; `stands_alone` says whether a surname is distinctive enough to be searched without initials or a
salutation (`de Lange` is not: `op de lange termijn`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pipeline.core.folding import word_form

PARTICLES = frozenset("""van de der den het ten ter te in t 'm op onder aan bij uit voor
    d da dal de' del della dello dei degli di do dos das du des la le lo los las von vom zum zur zu am auf
    el al ben bin ibn abu ou""".split())
"""Tussenvoegsels and foreign particles (folded word form: `'t` is `t`)."""

HONORIFICS = ("dhr", "de heer", "heer", "meneer", "mevr", "mevrouw", "mw", "mej", "mejuffrouw", "familie", "fam")
"""Forms of address: `de heer Jansen` is a person, whoever it is."""
ROLES = ("werknemer", "werkneemster", "medewerker", "medewerkster", "betrokkene", "client", "cliente", "patient",
         "patiente")
"""Words that make a surname the employee's (`werknemer Jansen`); never a doctor or a contact person."""

TITLES = ("dr", "drs", "prof", "ir", "ing", "ds", "bc", "mr", "dokter", "arts", "bedrijfsarts",
          "verzekeringsarts", "huisarts", "collega", "fysiotherapeut", "so bedrijfsarts", "second opinion arts")
"""Titles and roles that make a bare surname an occurrence of a (professional) other party."""

_NAME_SUFFIXES = frozenset("msc bsc ma ba phd mba llm jr sr".split())
_TITLE_WORDS = frozenset(t for x in TITLES + HONORIFICS for t in x.split()) - PARTICLES

COMMON_WORDS = frozenset("""
    groot grote klein kleine lange lang kort korte jong jonge oud oude nieuw nieuwe wit witte zwart groen rood
    bruin blauw goed goede vroeg laat snel stil sterk vrij rijk arm ziek zieke beter best bes
    post kok bos berg dam dijk hoek veld huis hof kerk beek bosch brug plein straat weg poort toren molen meer
    zee plas veen vliet sloot haven markt kamp hal muur wal
    baas koning keizer prins graaf ridder heer vos wolf haan beer vogel mol vink kraai valk hert ram
    winter zomer lente herfst vrijdag zondag maandag januari februari maart april mei juni juli augustus
    september oktober november december
    arts dokter zorg werk dienst uur uren dag dagen week weken maand jaar tijd kosten geld loon bedrag
    hart been hand hoofd rug nek knie voet long borst maag bloed bot huid oog oor mond
    ernst rust kracht moed hoop trouw vrede recht wet plicht
    staal steen ijzer hout glas water vuur brand storm regen ijs zon maan ster
    voor over onder achter boven buiten binnen tussen naast zonder sinds vanaf tegen vanwege
    meester""".split())
"""Surnames that are also ordinary Dutch words: searched only with initials or a salutation.

Occupational surnames that rarely occur as plain words in letters and invoices (Visser, Bakker, Smit, Mulder,
Koster) are left searchable on their own; another party called so is handled by masking its occurrences."""


@dataclass(frozen=True)
class PersonName:
    given: tuple[str, ...]
    """Initials or given names, word form (`m`, `a`; `th`; `hans`)."""
    surname: tuple[str, ...]
    """Surname with particles, word form (`de`, `vries`)."""

    @property
    def core(self) -> str:
        """The surname without particles (`vries`)."""
        rest = [t for t in self.surname if t not in PARTICLES]
        return rest[-1] if rest else self.surname[-1]

    @property
    def particles(self) -> tuple[str, ...]:
        return tuple(t for t in self.surname if t in PARTICLES)


def initial_groups(voorletters: str) -> tuple[str, ...]:
    """`M.A.` → (m, a); `Th.J.` → (th, j); `IJ.` → (ij,); `MA` → (m, a)."""
    text = unicodedata.normalize("NFKC", voorletters).strip()
    # "Th." is one initial, "IJ" too; an undotted word of three or more letters is a given name.
    groups = re.findall(r"IJ|Ij|[^\W\d_][a-z]*(?=\.)|[^\W\d_][a-z]{2,}|[^\W\d_]", text)
    return tuple(word_form(g) for g in groups if word_form(g))


def surname_words(naam: str) -> tuple[str, ...]:
    naam = naam.strip()
    if "," in naam:  # "Vries, de" → "de Vries"
        head, _, tail = naam.partition(",")
        naam = f"{tail.strip()} {head.strip()}"
    return tuple(word_form(naam).split())


def parse_person(full: str) -> PersonName:
    """Another party's name as written (`Dr. P. Bakker`, `H. de Vries`, `Jan-Willem van den Berg MSc`)."""
    raw = re.findall(r"([^\W_]+)(\.|['’])?", unicodedata.normalize("NFKC", full))
    tokens = [word_form(w) for w, _ in raw]
    # "D. Aaaaa": a dotted token is an initial, and a one-letter particle needs its apostrophe (d'Ancona)
    particle = [t in PARTICLES and sep != "." and (len(t) > 1 or sep != "") for t, (_, sep) in zip(tokens, raw)]
    while len(tokens) > 1 and tokens[0] in _TITLE_WORDS:
        tokens, particle = tokens[1:], particle[1:]
    if len(tokens) > 2 and tokens[0] == "de" and tokens[1] == "heer":
        tokens, particle = tokens[2:], particle[2:]
    while len(tokens) > 1 and tokens[-1] in _NAME_SUFFIXES:
        tokens, particle = tokens[:-1], particle[:-1]
    if not tokens:
        return PersonName((), ())
    start = len(tokens) - 1
    for i in range(len(tokens) - 1):
        if particle[i] and not all(particle[i + 1:]):
            start = i
            break
    return PersonName(tuple(tokens[:start]), tuple(tokens[start:]))


def surname_alternatives(surname: tuple[str, ...], original: str) -> list[tuple[str, ...]]:
    """The surname, each half of a double name (`Jansen-de Vries`), and spellings: ij/y, ö/oe, ü/ue, ä/ae."""
    alts = [surname]
    halves = [tuple(word_form(h).split()) for h in re.split(r"\s*-\s*", original) if word_form(h)]
    if len(halves) > 1:
        alts += halves
    spelled = []
    for alt in alts:
        joined = " ".join(alt)
        if "ij" in joined:
            spelled.append(tuple(joined.replace("ij", "y").split()))
    umlaut = unicodedata.normalize("NFC", original).casefold()
    if any(c in umlaut for c in "äöü"):
        german = umlaut.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
        spelled.append(surname_words(german))
    out: list[tuple[str, ...]] = []
    for alt in alts + spelled:
        if alt and alt not in out:
            out.append(alt)
    return out


def stands_alone(surname: tuple[str, ...]) -> bool:
    """May this surname be searched without initials or a salutation?"""
    name = PersonName((), surname)
    core = name.core
    if core in COMMON_WORDS or core in PARTICLES or not core.isalpha():
        return False
    return len(core) >= (2 if name.particles else 4)
