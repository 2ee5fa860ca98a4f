"""What of the employee a recipient may not see, and how to recognise it in any text (pure, no I/O).

Two hard rules of PROCEDURE.md are proven here on plain text; the shell's guard feeds it every text a finished PDF
carries (pages, metadata, XMP, attachments, file and folder names):

- an invoice to the employer, the arbodienst or the own doctor holds no employee identifier: name (with or
  without initials), BSN, birth date, address, postcode, e-mail, phone, personnel number;
- nothing to the employer holds the case's medical content (medical data, findings, conclusion, reasoning).

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

import datetime as dt
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Iterator

import ftfy
from stdnum.nl import bsn as stdnum_bsn

from pipeline.core import dutch
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


# --- normalisation ----------------------------------------------------------------------------------------------

_TABLE = {ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"}
_TABLE |= {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"}
_TABLE |= {ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u00b4\u0060\u02bc"}
_TABLE |= {ord(k): v for k, v in {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l",
                                   "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
                                   "ı": "i", "ß": "ss", "ẞ": "ss"}.items()}
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_WORD = re.compile(r"[\W_]+")
_LINEBREAK_HYPHEN = re.compile(r"([^\W\d_])-[ \t]*\r?\n\s*(?=[^\W\d_])")
# On the folded text an underscore separates (file names: SO-2026-0042_factuur_P20417.pdf), so a boundary is
# "no letter or digit", not \b.
_L, _R = r"(?<![^\W_])", r"(?![^\W_])"


def fold(text: str) -> str:
    """Case-, diacritic- and ligature-insensitive form of a text; punctuation and line breaks are kept."""
    text = unicodedata.normalize("NFKC", text).translate(_TABLE).casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def word_form(text: str) -> str:
    """Folded text as words (letters and digits) separated by single spaces: `M.A. Jansen` → `m a jansen`."""
    return _NON_WORD.sub(" ", fold(text)).strip()


def _byte_views() -> dict[str, int]:
    """Every character a latin-1 or cp1252 decoder shows for one byte, and that byte (cp1252's five undefined
    bytes come through as latin-1's control characters, as sloppy decoders pass them)."""
    views = {chr(b): b for b in range(256)}
    for b in range(0x80, 0xA0):
        try:
            views[bytes([b]).decode("cp1252")] = b
        except UnicodeDecodeError:
            pass
    return views


_BYTE_OF = _byte_views()


def _chars(low: int, high: int) -> str:
    return re.escape("".join(ch for ch, b in _BYTE_OF.items() if low <= b <= high))


# A UTF-8 letter read byte by byte: its lead byte, then as many continuation bytes as that lead announces. A space
# may stand for the byte 0xA0 (a no-break space that text extraction turned into a plain space: `HÃ  Ná»™i`).
_CONT = f"(?:[{_chars(0x80, 0xBF)}]| )"
_MOJIBAKE = re.compile(f"[{_chars(0xC2, 0xDF)}]{_CONT}|[{_chars(0xE0, 0xEF)}]{_CONT}{{2}}"
                       f"|[{_chars(0xF0, 0xF4)}]{_CONT}{{3}}")
_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC")
# A letter cut short at the very end: its last byte was 0x85 or 0xA0, which latin-1 shows as NEL and a no-break
# space, both whitespace that stripping a value removes (`Aá»\x85` for `Aễ` arrives as `Aá»`).
_CUT_SHORT = re.compile(f"(?:[{_chars(0xC2, 0xDF)}]|[{_chars(0xE0, 0xEF)}]{_CONT}|[{_chars(0xF0, 0xF4)}]{_CONT}{{2}})$")
_STRIPPED_BYTES = ("\x85", "\xa0")


def _redecode(m: re.Match) -> str:
    chunk = m.group()
    try:
        letter = bytes(0xA0 if ch == " " else _BYTE_OF[ch] for ch in chunk).decode("utf-8")
    except UnicodeDecodeError:
        return chunk
    if " " in chunk and not unicodedata.name(letter, "").startswith(_SCRIPTS):
        return chunk  # `café –` is text, not a no-break space in a broken letter
    return letter


def _by_letter(text: str) -> str:
    return _MOJIBAKE.sub(_redecode, text)


def _repaired(text: str, first, then) -> str:
    for _ in range(3):  # mojibake of mojibake: each round undoes one wrong decoding
        repaired = then(first(text))
        if repaired == text:
            break
        text = repaired
    return text


def mojibake_readings(text: str) -> list[str]:
    """The repaired readings of `text` (none when there is nothing to repair): UTF-8 that was decoded as cp1252 or
    latin-1 on the way, once or twice (`Ã–zdemir` → `Özdemir`, `Nguyá»…n` → `Nguyễn`).

    Letter by letter first, then ftfy for what is left; and ftfy first, then letter by letter. ftfy alone leaves
    a single word with some three-byte letters (`Thá»§y`) or a cp1252 glyph as second byte (`Åžahin`), and reads
    a no-break space turned into a space as a real one (`HÃ n` → `Hà n`); the letter-by-letter reading does not.
    Both readings are kept, so the guard matches either."""
    out = _repairs(text)
    if _CUT_SHORT.search(text[-4:]):  # also as it was before stripping took the last byte of its last letter
        out += [r for byte in _STRIPPED_BYTES for r in _repairs(text + byte) if r != text and r not in out]
    return out


def _repairs(text: str) -> list[str]:
    if ftfy.fix_encoding(text) == text and not _MOJIBAKE.search(text):
        return []  # the usual case, one ftfy pass: nothing that reads as mojibake
    out: list[str] = []
    for reading in (_repaired(text, _by_letter, ftfy.fix_encoding), _repaired(text, ftfy.fix_encoding, _by_letter)):
        if reading != text and reading not in out:
            out.append(reading)
    return out


def repair_mojibake(text: str) -> str:
    """The first repair of `text` (`mojibake_readings` without the guesses for a letter cut short at the end), or
    `text` itself when there is nothing to repair."""
    readings = _repairs(text)
    return readings[0] if readings else text


def _readings(text: str) -> list[tuple[str, str]]:
    """(folded, word form) readings of a text: as is, with line-end hyphenation joined, and mojibake repaired."""
    variants = [text, *mojibake_readings(text)]
    out: list[tuple[str, str]] = []
    for v in variants:
        folded = fold(v)
        for f in (folded, _LINEBREAK_HYPHEN.sub(r"\1", folded)):
            pair = (f, _NON_WORD.sub(" ", f))
            if pair not in out:
                out.append(pair)
    return out


# --- name parsing -------------------------------------------------------------------------------------------

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


def _initial_groups(voorletters: str) -> tuple[str, ...]:
    """`M.A.` → (m, a); `Th.J.` → (th, j); `IJ.` → (ij,); `MA` → (m, a)."""
    text = unicodedata.normalize("NFKC", voorletters).strip()
    # "Th." is one initial, "IJ" too; an undotted word of three or more letters is a given name.
    groups = re.findall(r"IJ|Ij|[^\W\d_][a-z]*(?=\.)|[^\W\d_][a-z]{2,}|[^\W\d_]", text)
    return tuple(word_form(g) for g in groups if word_form(g))


def _surname_words(naam: str) -> tuple[str, ...]:
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


def _surname_alternatives(surname: tuple[str, ...], original: str) -> list[tuple[str, ...]]:
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
        spelled.append(_surname_words(german))
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


# --- identifiers --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identifier:
    """One way an employee identifier can appear."""
    key: str
    """Groups the variants of one identifier: one hit per key and place."""
    label: str
    """`naam van de werknemer`"""
    shown: str
    """The value as in the case file, for the finding (`M.A. Jansen`)."""
    pattern: re.Pattern
    on_words: bool
    """Matched on the word form (names, streets, written dates) or else on the folded text (numbers, e-mail)."""
    maskable: bool = False
    """A match inside an occurrence of another party's name does not count."""


def _phrase(words: Iterable[str]) -> str:
    return r"\ ".join(re.escape(w) for w in words)


def _alt(options: Iterable[str]) -> str:
    opts = sorted(set(options), key=lambda o: (-len(o), o))
    return "(?:" + "|".join(opts) + ")"


def _words_re(body: str) -> re.Pattern:
    return re.compile(rf"(?<!\w){body}(?!\w)")


def _initial_forms(groups: tuple[str, ...]) -> list[str]:
    """Regex-ready word-form spellings of the initials: `m a`, `ma`, `m`; `th j`, `thj`, `t j`, `tj`, `th`, `t`."""
    if not groups:
        return []
    letters = tuple(g[0] for g in groups)
    forms = {" ".join(groups), "".join(groups), groups[0], " ".join(letters), "".join(letters), letters[0]}
    return [_phrase(f.split()) for f in forms if f]


def _name_identifiers(naam: str, voorletters: str, shown: str) -> list[Identifier]:
    surname = _surname_words(naam)
    if not surname:
        return []
    alternatives = _surname_alternatives(surname, naam)
    # the case file's validation strips white space at the ends, a no-break space byte of a broken last letter too
    # (`Hà` read as cp1252 is `HÃ` + U+00A0): read the name with it as well
    for repaired in mojibake_readings(naam) + mojibake_readings(naam + "\u00a0"):
        repaired = repaired.strip()
        alternatives += [a for a in _surname_alternatives(_surname_words(repaired), repaired)
                         if a not in alternatives]
    inits = _initial_forms(_initial_groups(voorletters))
    full = _alt(_phrase(a) for a in alternatives)
    key, label = "naam", "naam van de werknemer"
    ids = []
    if inits:
        i = _alt(inits)
        # "Jansen, M.A." / "Vries, M.A. de" / "de Vries, M.A." (lists sorted by surname)
        reversed_ = []
        for a in alternatives:
            p = PersonName((), a)
            core = _phrase([p.core])
            reversed_.append(rf"{core}\ {i}\ {_phrase(p.particles)}" if p.particles else rf"{core}\ {i}")
        reversed_.append(rf"{full}\ {i}")
        ids.append(Identifier(key, label, shown, _words_re(rf"{i}\ {full}"), True, True))
        ids.append(Identifier(key, label, shown, _words_re(_alt(reversed_)), True, True))
    # "de heer Jansen", "werknemer De Lange": on the folded text, so that punctuation between the two
    # ("de werknemer, De Jong-Bouw ...") breaks the reference
    name = _alt(r"[\s'\-]+".join(re.escape(w) for w in a) for a in alternatives)
    honorific = _alt(re.escape(x).replace(r"\ ", r"\s+") + (r"\.?" if len(x) <= 4 else "") for x in HONORIFICS)
    role = _alt(re.escape(x) for x in ROLES)
    ids.append(Identifier(key, label, shown, re.compile(rf"{_L}(?:{honorific}\s+|{role}[ \t]+){name}{_R}"),
                          False, True))
    alone = [a for a in alternatives if stands_alone(a)]
    if alone:
        ids.append(Identifier(key, label, shown, _words_re(_alt(_phrase(a) for a in alone)), True, True))
    return ids


_DIGIT_SEP = r"[\s.\-/]?"


def _digits_re(digits: str, sep: str = _DIGIT_SEP) -> str:
    return sep.join(re.escape(d) for d in digits)


MAANDEN_KORT = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")
MONTHS_EN = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
             "november", "december")


def _month_words(month: int) -> list[str]:
    words = {dutch.MAANDEN[month - 1], MAANDEN_KORT[month - 1], dutch.MAANDEN[month - 1][:3],
             MONTHS_EN[month - 1], MONTHS_EN[month - 1][:3]}
    if month == 9:
        words.add("sept")
    return sorted(words)


def _date_identifiers(d: dt.date) -> list[Identifier]:
    key, label, shown = "geboortedatum", "geboortedatum van de werknemer", dutch.datum(d)
    day, month, yyyy, yy = f"0?{d.day}", f"0?{d.month}", f"{d.year:04d}", f"{d.year % 100:02d}"
    sep = r"\s?[-/.]\s?"
    numeric = [
        rf"(?<!\d){day}{sep}{month}{sep}(?:{yyyy}|{yy})(?!\d)",           # 17-03-1984, 17/3/84, 17.03.1984
        rf"(?<!\d){yyyy}{sep}{month}{sep}{day}(?!\d)",                    # 1984-03-17
        rf"(?<!\d)(?:{d:%Y%m%d}|{d:%d%m%Y})(?!\d)",                       # 19840317, 17031984
    ]
    months = _alt(re.escape(w) for w in _month_words(d.month))
    written = [rf"{day}(?:e|ste|de)?\ {months}\ {yyyy}", rf"{months}\ {day}(?:st|nd|rd|th)?\ {yyyy}"]
    return [Identifier(key, label, shown, re.compile("|".join(numeric)), False),
            Identifier(key, label, shown, _words_re("(?:" + "|".join(written) + ")"), True)]


def _phone_identifiers(telefoon: str) -> list[Identifier]:
    digits = re.sub(r"\D", "", telefoon)
    if telefoon.strip().startswith("+"):
        digits = "00" + digits
    if digits.startswith("0031"):
        digits = "0" + digits[4:]
    sep = r"[\s.\-()/]{0,3}"
    if digits.startswith("0") and not digits.startswith("00"):
        prefix = r"(?:0|\+\s?31\s?(?:\(\s?0\s?\)\s?)?|00\s?31\s?(?:\(\s?0\s?\)\s?)?)"
        body = prefix + sep + _digits_re(digits[1:], sep)
    else:
        body = r"(?:\+|00)?\s?" + _digits_re(digits.lstrip("0"), sep)
    return [Identifier("telefoon", "telefoonnummer van de werknemer", telefoon,
                       re.compile(rf"(?<![^\W_]|\+){body}(?!\d)"), False)]


def _postcode_identifiers(postcode: str) -> list[Identifier]:
    m = re.fullmatch(r"\s*(\d{4})\s*([A-Za-z]{2})\s*", postcode)
    if not m:
        return []
    return [Identifier("postcode", "postcode van de werknemer", f"{m[1]} {m[2].upper()}",
                       re.compile(rf"{_L}{m[1]}[\s\-]{{0,3}}{m[2].lower()}{_R}"), False)]


def _street_identifiers(straat: str) -> list[Identifier]:
    m = re.fullmatch(r"\s*(.*?\D)\s*(\d+)\s*(.*?)\s*", straat)
    if m is None or not word_form(m[1]):
        return []
    name = word_form(m[1]).split()
    spellings = {_phrase(name)}
    if name[-1].endswith("straat"):
        spellings.add(_phrase(name[:-1] + [name[-1][:-6] + "str"]))
    return [Identifier("adres", "adres van de werknemer", straat,
                       re.compile(rf"(?<!\w){_alt(spellings)}\ {m[2]}(?!\d)"), True, True)]


def _email_identifiers(email: str) -> list[Identifier]:
    folded = fold(email.strip())
    local, at, domain = folded.partition("@")
    if not at:
        return []
    part = lambda s: r"\s?\.\s?".join(re.escape(p) for p in s.split("."))  # noqa: E731
    body = part(local) + r"\s?(?:@|\[at\]|\(at\))\s?" + part(domain)
    return [Identifier("email", "e-mailadres van de werknemer", email,
                       re.compile(rf"(?<![\w.+\-]){body}(?![\w\-])"), False)]


def _bsn_identifiers(bsn: str) -> list[Identifier]:
    number = stdnum_bsn.compact(bsn)
    forms = [_digits_re(number)]
    if number.startswith("0"):
        forms.append(_digits_re(number.lstrip("0")))
    return [Identifier("bsn", "BSN van de werknemer", number,
                       re.compile(rf"(?<!\d){_alt(forms)}(?!\d)"), False)]


def _personnel_identifiers(nummer: str) -> tuple[list[Identifier], list[str]]:
    groups = re.findall(r"[^\W_]+", fold(nummer))
    digits = "".join(g for g in groups if g.isdigit())
    if sum(map(len, groups)) < 5 or len(digits) < 4:
        return [], [f"personeelsnummer '{nummer}' is te kort om betrouwbaar te herkennen"]
    key, label = "personeelsnummer", "personeelsnummer van de werknemer"
    ids = [Identifier(key, label, nummer,
                      re.compile(_L + r"[\s./\-_]?".join(re.escape(g) for g in groups) + _R), False)]
    number_groups = [g for g in groups if g.isdigit() and len(g) >= 5]
    if len(groups) > 1 and number_groups:
        ids.append(Identifier(key, label, nummer,
                              re.compile(rf"(?<![^\W_]|[.,]){_alt(number_groups)}(?![^\W_]|[.,]\d)"), False))
    return ids, []


# --- the other parties --------------------------------------------------------------------------------------

def _person_masks(full: str) -> list[str]:
    """Regexes (word form) for occurrences of another party's name that identify *that* person: as written,
    with initials or given names, with a title or salutation, reversed. A bare surname is not one of them."""
    p = parse_person(full)
    if not p.surname:
        return []
    surname = _phrase(p.surname)
    titles = _alt(_phrase(t.split()) for t in TITLES + HONORIFICS)
    masks = [_phrase(word_form(full).split()), rf"(?:{titles}\ )+{surname}"]
    if p.given:
        given = {" ".join(p.given), "".join(p.given), p.given[0], " ".join(g[0] for g in p.given),
                 "".join(g[0] for g in p.given), p.given[0][0]}
        g = _alt(_phrase(x.split()) for x in given)
        masks += [rf"(?:{titles}\ )*{g}\ {surname}", rf"{surname}\ {g}"]
        if p.particles:
            masks.append(rf"{_phrase([p.core])}\ {g}\ {_phrase(p.particles)}")
    return masks


_LEGAL_FORM = re.compile(r"(?:\s(?:b\sv|bv|n\sv|nv|v\so\sf|vof|c\sv|cv|gmbh|ltd|bvba|holding|b\sa|sa))+$")


def _phrase_mask(text: str) -> list[str]:
    words = word_form(text)
    if not words:
        return []
    out = [_phrase(words.split())]
    stripped = _LEGAL_FORM.sub("", words)
    if stripped and stripped != words:
        out.append(_phrase(stripped.split()))
        # "Bouwbedrijf De Vries B.V." is also written "De Vries B.V.": any tail that keeps the legal form
        head, tail = stripped.split(), words.split()[len(stripped.split()):]
        out += [_phrase(head[i:] + tail) for i in range(1, len(head))]
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
            phrase = " ".join(words)
            if not any(re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", a) for a in allowed_words):
                short = _words_re(_phrase(words))
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
    ids: list[Identifier] = _name_identifiers(w.naam, w.voorletters, f"{w.voorletters} {w.naam}")
    skipped: list[str] = []
    candidates: list[Identifier] = []
    if w.bsn:
        candidates += _bsn_identifiers(w.bsn)
    candidates += _date_identifiers(w.geboortedatum)
    candidates += _postcode_identifiers(w.adres.postcode)
    candidates += _street_identifiers(w.adres.straat)
    candidates += _email_identifiers(w.email)
    candidates += _phone_identifiers(w.telefoon)
    if w.personeelsnummer:
        personnel, why = _personnel_identifiers(w.personeelsnummer)
        candidates += personnel
        skipped += why
    other_readings = [r for value in others.values for r in _readings(value)]
    for ident in candidates:
        if any(ident.pattern.search(words if ident.on_words else folded) for folded, words in other_readings):
            skipped.append(f"{ident.label} ({ident.shown}) komt ook voor bij een andere partij")
            continue
        ids.append(ident)
    masks = [m for person in others.persons for m in _person_masks(person)]
    masks += [m for phrase in others.phrases for m in _phrase_mask(phrase)]
    others_re = tuple(_words_re(f"(?:{m})") for m in dict.fromkeys(masks))
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
    for folded, words in _readings(text):
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
                    hit_words = _NON_WORD.sub(" ", m.group()).strip()
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
    for words in dict.fromkeys(words for _, words in _readings(text)):
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
        words = _NON_WORD.sub(" ", folded).strip()
        tokens = [_NON_WORD.sub("", tok) for tok in re.split(r"[\s_]+", folded)]
        for what, pattern, compact in patterns:
            # whole words, or inside one reference-like token ("FSO-2026-0042", "SO20260042-1")
            if pattern.search(words) or (len(compact) >= MIN_REFERENCE_CHARS and
                                         any(compact in tok for tok in tokens)):
                kind = "een anoniem document" if rules.anonymous else "een document dat de werknemer noemt"
                hits.append(Hit(f"{what} in {kind}: daarmee is het te koppelen aan de andere documenten van deze "
                                "postbus", where, f"link:{what}"))
    return hits
