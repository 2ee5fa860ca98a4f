"""One redaction for every text that leaves a case's own documents: logs, stdout, reports, journal, audit trail.

Pure functions, no I/O. What counts as a BSN is said once here: nine digits (also written 123.456.789,
123 456 789 or 1234.56.789), not part of a longer number, that pass the elfproef (`stdnum.nl.bsn`). Letters and
underscores around it do not protect it: `jansen_111222333.json` is redacted too (over-redacting is the safe
side). A BIG number (11 digits) or a kenmerk is not touched.

- `redact(text)`: every BSN becomes `[BSN]` (logs, stdout, reports, journal details).
- `mask_digits(text)`: `111222333` → `******333` (a privacy finding must be recognisable, not identifying).
- `mask_long_numbers(text)`: every run of 8 or more digits masked (file names in the audit trail, kept years).
- `contains_bsn(text)`: whether any 9-digit window of any digit run passes the elfproef (the audit trail refuses
  such a detail outright; stricter than `redact` on purpose).
- `escape_controls(text)`: control characters as `\\n`, `\\x1b`, ... so a file name cannot forge a log line.
- `personal_data_in(text, names=, dates=)`: what in a free text meant for the audit trail (a reason) is personal
  data: a BSN, one of the case's names, one of its dates (a birth date, in any usual Dutch notation).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator

from stdnum.nl import bsn as stdnum_bsn

from pipeline.core.dutch import MAANDEN

REDACTED = "[BSN]"

_BSN_LIKE = re.compile(r"(?<!\d)(?:\d{9}|\d{3}[ .]\d{3}[ .]\d{3}|\d{4}[ .]\d{2}[ .]\d{3})(?!\d)")
_LONG_DIGITS = re.compile(r"\d{8,}")
_DIGIT_RUNS = re.compile(r"\d{9,}")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def is_bsn(text: str) -> bool:
    """True for a BSN (nine digits, separators allowed) that passes the elfproef."""
    return bool(stdnum_bsn.is_valid(text))


def redact(text: str) -> str:
    """`text` with every BSN-like number that passes the elfproef replaced by `[BSN]`."""
    return _BSN_LIKE.sub(lambda m: REDACTED if is_bsn(m.group(0)) else m.group(0), text)


def contains_bsn(text: str) -> bool:
    """Whether `text` holds a BSN anywhere, also inside a longer run of digits."""
    if _BSN_LIKE.search(text) and redact(text) != text:
        return True
    return any(is_bsn(run[i:i + 9]) for run in _DIGIT_RUNS.findall(text) for i in range(len(run) - 8))


def mask_digits(text: str) -> str:
    """`111222333` → `******333`: enough to recognise, too little to identify."""
    digits = sum(ch.isdigit() for ch in text)
    seen = 0
    out = []
    for ch in text:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 3 else "*")
        else:
            out.append(ch)
    return "".join(out)


def mask_long_numbers(text: str) -> str:
    """Mask every run of 8 or more digits and every 9-digit number written with dots or spaces (a BSN, a phone or
    personnel number in a file name)."""
    masked = _LONG_DIGITS.sub(lambda m: "#" * len(m.group()), text)
    return _BSN_LIKE.sub(lambda m: re.sub(r"\d", "#", m.group()), masked)


def escape_controls(text: str) -> str:
    """Control characters (and Unicode line separators) written as escapes: one text stays one line."""
    return _CONTROLS.sub(lambda m: _NAMED.get(m.group(), f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                                              else f"\\u{ord(m.group()):04x}"), text)


def for_people(text: str) -> str:
    """What operator output (stdout, plain log lines) shows of a text: no BSN, no control characters."""
    return escape_controls(redact(text))


_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)|(?<!\d)(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?!\d)")
_WRITTEN_DATE = re.compile(rf"(?<!\d)(\d{{1,2}})\s+({'|'.join(MAANDEN)}|{'|'.join(m[:3] for m in MAANDEN)})\.?\s+(\d{{4}})(?!\d)",
                           re.IGNORECASE)


def _dates_in(text: str) -> Iterator[dt.date]:
    for m in _NUMERIC_DATE.finditer(text):
        y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(5), m.group(4))
        try:
            yield dt.date(int(y), int(mo), int(d))
        except ValueError:
            continue
    for m in _WRITTEN_DATE.finditer(text):
        month = next(i for i, name in enumerate(MAANDEN, start=1) if name.startswith(m.group(2).lower()[:3]))
        try:
            yield dt.date(int(m.group(3)), month, int(m.group(1)))
        except ValueError:
            continue


def personal_data_in(text: str, *, names: Iterable[str] = (), dates: Iterable[dt.date] = ()) -> list[str]:
    """What personal data `text` holds, in Dutch words (`een BSN`, `een naam uit de zaak`, `een geboortedatum`)."""
    found = []
    if contains_bsn(text):
        found.append("een BSN")
    folded = text.casefold()
    if any(len(n.strip()) >= 2 and re.search(rf"(?<!\w){re.escape(n.strip().casefold())}(?!\w)", folded)
           for n in names):
        found.append("een naam uit de zaak")
    wanted = set(dates)
    if wanted and any(d in wanted for d in _dates_in(text)):
        found.append("een geboortedatum")
    return found
