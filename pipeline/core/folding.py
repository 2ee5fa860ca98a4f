"""Text as the privacy guard compares it: folded, and reduced to a word form (pure, no I/O).

Text is folded (NFKC for ligatures, soft hyphens and zero-width characters dropped, case folded, diacritics
stripped, ß→ss, ø→o, æ→ae, ı→i), then reduced to a *word form*: runs of letters and digits separated by single
spaces, so that names match only as whole words. `readings` adds the forms a text may also have been meant as
(line-end hyphenation joined, mojibake repaired). The regex building blocks below make patterns on that word form.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

from pipeline.core.mojibake import mojibake_readings

_TABLE = {ord(c): None for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e"}
_TABLE |= {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"}
_TABLE |= {ord(c): "'" for c in "\u2018\u2019\u201a\u201b\u00b4\u0060\u02bc"}
_TABLE |= {ord(k): v for k, v in {"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ł": "l",
                                   "Ł": "l", "đ": "d", "Đ": "d", "ð": "d", "Ð": "d", "þ": "th", "Þ": "th",
                                   "ı": "i", "ß": "ss", "ẞ": "ss"}.items()}
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
NON_WORD = re.compile(r"[\W_]+")
_LINEBREAK_HYPHEN = re.compile(r"([^\W\d_])-[ \t]*\r?\n\s*(?=[^\W\d_])")
# On the folded text an underscore separates (file names: SO-2026-0042_factuur_P20417.pdf), so a boundary is
# "no letter or digit", not \b.
WORD_START, WORD_END = r"(?<![^\W_])", r"(?![^\W_])"


def fold(text: str) -> str:
    """Case-, diacritic- and ligature-insensitive form of a text; punctuation and line breaks are kept."""
    text = unicodedata.normalize("NFKC", text).translate(_TABLE).casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text))


def word_form(text: str) -> str:
    """Folded text as words (letters and digits) separated by single spaces: `M.A. Jansen` → `m a jansen`."""
    return NON_WORD.sub(" ", fold(text)).strip()


def readings(text: str) -> list[tuple[str, str]]:
    """(folded, word form) readings of a text: as is, with line-end hyphenation joined, and mojibake repaired."""
    variants = [text, *mojibake_readings(text)]
    out: list[tuple[str, str]] = []
    for v in variants:
        folded = fold(v)
        for f in (folded, _LINEBREAK_HYPHEN.sub(r"\1", folded)):
            pair = (f, NON_WORD.sub(" ", f))
            if pair not in out:
                out.append(pair)
    return out


# --- patterns on the word form ----------------------------------------------------------------------------------

def phrase(words: Iterable[str]) -> str:
    """A regex for these words in a row on the word form: `phrase(["de", "vries"])` matches `de vries`."""
    return r"\ ".join(re.escape(w) for w in words)


def alt(options: Iterable[str]) -> str:
    """A regex for any of `options` (regexes themselves), the longest tried first."""
    opts = sorted(set(options), key=lambda o: (-len(o), o))
    return "(?:" + "|".join(opts) + ")"


def words_re(body: str) -> re.Pattern:
    """`body` compiled to match whole words only: never inside a longer word (`ede` in `bedrijfsgeneeskunde`)."""
    return re.compile(rf"(?<!\w){body}(?!\w)")
