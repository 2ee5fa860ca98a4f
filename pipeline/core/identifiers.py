"""The ways an employee identifier can appear in a text, as patterns (pure, no I/O).

One constructor per kind of identifier in the case file: the name (with initials, reversed, after a salutation,
alone when it can stand alone), BSN, birth date (numeric and written out, Dutch and English months), postcode,
street and number, e-mail address, phone number and personnel number. `pipeline.core.privacy` builds a case's
rules from them and searches texts with them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from stdnum.nl import bsn as stdnum_bsn

from pipeline.core import dutch
from pipeline.core.folding import WORD_END, WORD_START, alt, fold, phrase, word_form, words_re
from pipeline.core.mojibake import mojibake_readings
from pipeline.core.names import (HONORIFICS, ROLES, PersonName, initial_groups, stands_alone, surname_alternatives,
                                 surname_words)

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


def _initial_forms(groups: tuple[str, ...]) -> list[str]:
    """Regex-ready word-form spellings of the initials: `m a`, `ma`, `m`; `th j`, `thj`, `t j`, `tj`, `th`, `t`."""
    if not groups:
        return []
    letters = tuple(g[0] for g in groups)
    forms = {" ".join(groups), "".join(groups), groups[0], " ".join(letters), "".join(letters), letters[0]}
    return [phrase(f.split()) for f in forms if f]


def name_identifiers(naam: str, voorletters: str, shown: str) -> list[Identifier]:
    surname = surname_words(naam)
    if not surname:
        return []
    alternatives = surname_alternatives(surname, naam)
    # the case file's validation strips white space at the ends, a no-break space byte of a broken last letter too
    # (`Hà` read as cp1252 is `HÃ` + U+00A0): read the name with it as well
    for repaired in mojibake_readings(naam) + mojibake_readings(naam + "\u00a0"):
        repaired = repaired.strip()
        alternatives += [a for a in surname_alternatives(surname_words(repaired), repaired)
                         if a not in alternatives]
    inits = _initial_forms(initial_groups(voorletters))
    full = alt(phrase(a) for a in alternatives)
    key, label = "naam", "naam van de werknemer"
    ids = []
    if inits:
        i = alt(inits)
        # "Jansen, M.A." / "Vries, M.A. de" / "de Vries, M.A." (lists sorted by surname)
        reversed_ = []
        for a in alternatives:
            p = PersonName((), a)
            core = phrase([p.core])
            reversed_.append(rf"{core}\ {i}\ {phrase(p.particles)}" if p.particles else rf"{core}\ {i}")
        reversed_.append(rf"{full}\ {i}")
        ids.append(Identifier(key, label, shown, words_re(rf"{i}\ {full}"), True, True))
        ids.append(Identifier(key, label, shown, words_re(alt(reversed_)), True, True))
    # "de heer Jansen", "werknemer De Lange": on the folded text, so that punctuation between the two
    # ("de werknemer, De Jong-Bouw ...") breaks the reference
    name = alt(r"[\s'\-]+".join(re.escape(w) for w in a) for a in alternatives)
    honorific = alt(re.escape(x).replace(r"\ ", r"\s+") + (r"\.?" if len(x) <= 4 else "") for x in HONORIFICS)
    role = alt(re.escape(x) for x in ROLES)
    addressed = re.compile(rf"{WORD_START}(?:{honorific}\s+|{role}[ \t]+){name}{WORD_END}")
    ids.append(Identifier(key, label, shown, addressed, False, True))
    alone = [a for a in alternatives if stands_alone(a)]
    if alone:
        ids.append(Identifier(key, label, shown, words_re(alt(phrase(a) for a in alone)), True, True))
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


def date_identifiers(d: dt.date) -> list[Identifier]:
    key, label, shown = "geboortedatum", "geboortedatum van de werknemer", dutch.datum(d)
    day, month, yyyy, yy = f"0?{d.day}", f"0?{d.month}", f"{d.year:04d}", f"{d.year % 100:02d}"
    sep = r"\s?[-/.]\s?"
    numeric = [
        rf"(?<!\d){day}{sep}{month}{sep}(?:{yyyy}|{yy})(?!\d)",           # 17-03-1984, 17/3/84, 17.03.1984
        rf"(?<!\d){yyyy}{sep}{month}{sep}{day}(?!\d)",                    # 1984-03-17
        rf"(?<!\d)(?:{d:%Y%m%d}|{d:%d%m%Y})(?!\d)",                       # 19840317, 17031984
    ]
    months = alt(re.escape(w) for w in _month_words(d.month))
    written = [rf"{day}(?:e|ste|de)?\ {months}\ {yyyy}", rf"{months}\ {day}(?:st|nd|rd|th)?\ {yyyy}"]
    return [Identifier(key, label, shown, re.compile("|".join(numeric)), False),
            Identifier(key, label, shown, words_re("(?:" + "|".join(written) + ")"), True)]


def phone_identifiers(telefoon: str) -> list[Identifier]:
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


def postcode_identifiers(postcode: str) -> list[Identifier]:
    m = re.fullmatch(r"\s*(\d{4})\s*([A-Za-z]{2})\s*", postcode)
    if not m:
        return []
    return [Identifier("postcode", "postcode van de werknemer", f"{m[1]} {m[2].upper()}",
                       re.compile(rf"{WORD_START}{m[1]}[\s\-]{{0,3}}{m[2].lower()}{WORD_END}"), False)]


def street_identifiers(straat: str) -> list[Identifier]:
    m = re.fullmatch(r"\s*(.*?\D)\s*(\d+)\s*(.*?)\s*", straat)
    if m is None or not word_form(m[1]):
        return []
    name = word_form(m[1]).split()
    spellings = {phrase(name)}
    if name[-1].endswith("straat"):
        spellings.add(phrase(name[:-1] + [name[-1][:-6] + "str"]))
    return [Identifier("adres", "adres van de werknemer", straat,
                       re.compile(rf"(?<!\w){alt(spellings)}\ {m[2]}(?!\d)"), True, True)]


def email_identifiers(email: str) -> list[Identifier]:
    folded = fold(email.strip())
    local, at, domain = folded.partition("@")
    if not at:
        return []
    part = lambda s: r"\s?\.\s?".join(re.escape(p) for p in s.split("."))  # noqa: E731
    body = part(local) + r"\s?(?:@|\[at\]|\(at\))\s?" + part(domain)
    return [Identifier("email", "e-mailadres van de werknemer", email,
                       re.compile(rf"(?<![\w.+\-]){body}(?![\w\-])"), False)]


def bsn_identifiers(bsn: str) -> list[Identifier]:
    number = stdnum_bsn.compact(bsn)
    forms = [_digits_re(number)]
    if number.startswith("0"):
        forms.append(_digits_re(number.lstrip("0")))
    return [Identifier("bsn", "BSN van de werknemer", number,
                       re.compile(rf"(?<!\d){alt(forms)}(?!\d)"), False)]


def personnel_identifiers(nummer: str) -> tuple[list[Identifier], list[str]]:
    groups = re.findall(r"[^\W_]+", fold(nummer))
    digits = "".join(g for g in groups if g.isdigit())
    if sum(map(len, groups)) < 5 or len(digits) < 4:
        return [], [f"personeelsnummer '{nummer}' is te kort om betrouwbaar te herkennen"]
    key, label = "personeelsnummer", "personeelsnummer van de werknemer"
    ids = [Identifier(key, label, nummer,
                      re.compile(WORD_START + r"[\s./\-_]?".join(re.escape(g) for g in groups) + WORD_END), False)]
    number_groups = [g for g in groups if g.isdigit() and len(g) >= 5]
    if len(groups) > 1 and number_groups:
        ids.append(Identifier(key, label, nummer,
                              re.compile(rf"(?<![^\W_]|[.,]){alt(number_groups)}(?![^\W_]|[.,]\d)"), False))
    return ids, []
