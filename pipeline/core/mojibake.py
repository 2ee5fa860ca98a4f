"""UTF-8 that was decoded as cp1252 or latin-1 on the way, read back (pure, no I/O).

A name typed in one system reaches a case file or a PDF through another that read its UTF-8 bytes one by one:
`Özdemir` arrives as `Ã–zdemir`, `Nguyễn` as `Nguyá»…n`. The privacy guard must recognise the employee in either
form (`pipeline.core.folding.readings`, `pipeline.core.identifiers`). ftfy repairs most of it; a letter-by-letter
re-decoding catches what its heuristics leave.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy


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
