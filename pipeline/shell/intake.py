"""Read once: each inbox file is first taken out of the inbox into a private stage, then read, hashed and moved on.

`take` renames `inbox/<name>` into `state/intake/<id>/<name>` (same file system; the rename moves a symlink
itself, never its target). From then on the pipeline works only with those staged bytes: they are read once
(O_NOFOLLOW, no FIFO, no device) into one `Intake` value, and exactly that file is moved on to
`inbox/processed/` or `inbox/failed/` (or back into the inbox for a retry). A file dropped meanwhile under the
same name is a new file. After a kill -9 a file left in the stage is resumed at start-up (`leftovers`); the
journal, by SHA-256, decides whether it was already done. Modes are explicit (`IntakeAccess`), never the umask.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from pipeline.adapters import safefs
from pipeline.adapters.safefs import Access
from pipeline.core import model, redaction
from pipeline.core.returns import (ReturnedDocument, ReturnedName, is_returned, not_a_file, returned_name,
                                   wrong_size)
from pipeline.errors import CaseFileError, InternalError
from pipeline.settings import STAGE

log = logging.getLogger("sopipe")

STATE_DIR = Access(0o700)


@dataclass(frozen=True)
class IntakeAccess:
    """Modes for the inbox and the case files the pipeline moves; with a secretariat group: group access."""
    inbox: Access = Access(0o700)
    done: Access = Access(0o700)
    """inbox/processed/ and inbox/failed/."""
    case_file: Access = Access(0o600)
    """A case file once taken in (moved on with this mode), and the reports beside refused files."""

    @classmethod
    def for_group(cls, gid: int | None) -> "IntakeAccess":
        """The secretariat group may drop files into inbox/ and read processed/ and failed/ (setgid folders)."""
        if gid is None:
            return cls()
        return cls(inbox=Access(0o770, gid), done=Access(0o750, gid), case_file=Access(0o640, gid))


@dataclass(frozen=True)
class Intake:
    """One inbox file, read once: everything later steps need, so nothing reads or parses it again."""
    name: str
    """The file's name as it was dropped into the inbox."""
    stage_id: str
    """Its private folder `state/intake/<stage_id>/`, which holds exactly these bytes."""
    raw: bytes
    """The bytes (empty when they could not be read: see `error`)."""
    sha256: str | None
    """SHA-256 of `raw`; None when the file could not be read."""
    event: Any = None
    """The parsed event (case files) when valid."""
    data: dict | None = None
    """The decoded JSON object the event was parsed from."""
    error: Exception | None = None
    """Why the file cannot be taken: a PipelineError or a pydantic ValidationError."""
    named: ReturnedName | None = None
    """A returned PDF: what its name says (case, kind, consent form), parsed once as the value is made."""
    document: ReturnedDocument | None = None
    """A returned PDF: what it holds, read once as a PDF (`Pipeline.read_returned`, right after the journal
    recorded that its processing started, so a PDF that kills the process while being read is counted)."""

    def __post_init__(self) -> None:
        if self.named is None and self.returned:
            object.__setattr__(self, "named", returned_name(self.name))

    @property
    def returned(self) -> bool:
        """A signed PDF coming back (`pipeline.core.returns`), not a case file."""
        return is_returned(self.name)

    @property
    def kenmerk(self) -> str | None:
        """The case: the event's, or for a file that failed validation what its JSON calls it (never a BSN)."""
        if self.event is not None:
            return self.event.kenmerk
        value = self.data.get("kenmerk") if isinstance(self.data, dict) else None
        # a "kenmerk" that is a BSN names no case: it must not reach the journal or the audit trail either
        return value if isinstance(value, str) and len(value) <= 40 and not redaction.contains_bsn(value) else None

    @property
    def chain(self) -> str:
        """Files of one case are processed in order by one thread; unreadable files each get their own chain. A
        returned PDF joins its case's chain by its file name (`<kenmerk>_<kind>….pdf`) and, having no date, comes
        after that case's case files of the batch: a signed advice is delivered under the consent as the same
        batch's withdrawal left it, never racing it."""
        kenmerk = self.named.case if self.named is not None else self.kenmerk
        return "k:" + kenmerk if kenmerk else "f:" + self.name

    @property
    def order(self) -> tuple:
        """Within one batch, events of a case in procedure order even if the file names do not sort so."""
        data = self.data if isinstance(self.data, dict) else None
        if data is None:
            return (1, "", 0, self.name)
        stap = data.get("stap")
        idx = model.STAPPEN.index(stap) if stap in model.STAPPEN and stap != "intrekking" else 99
        return (0, str(data.get("datum", "")), idx, self.name)


MAX_JSON_DEPTH = 20
MAX_NUMBER_CHARS = 40
"""A number in a case file (an amount, a count) has at most this many characters, sign and exponent included."""

def shown_name(name: str) -> str:
    """The name as the pipeline keeps it: unchanged when it is UTF-8 text; else every byte that is not, escaped
    as `\\xNN` (a name from a share with another character set cannot be written to the journal or a report)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


NAME_MAX = 255
"""Bytes in one file name (ext4, xfs, tmpfs)."""
NAME_ROOM = 32
"""Bytes a kept name leaves free for what the pipeline adds to it (`.1`, `.duplicaat`, `.error.txt`,
`.brief-aan-aanvrager.pdf`), so a report can always be written beside the file."""


def kept_name(name: str) -> str:
    """The name a file is kept under from its intake on: `shown_name`, and when that is too long to add a suffix
    to, shortened (the start and the extension kept, `…` where it was cut)."""
    shown = shown_name(name)
    raw = shown.encode("utf-8")
    limit = NAME_MAX - NAME_ROOM
    if len(raw) <= limit:
        return shown
    ext = os.path.splitext(shown)[1]
    ext = ext if len(ext.encode("utf-8")) <= 16 else ""
    cut = limit - len(ext.encode("utf-8")) - len("…".encode("utf-8"))
    return raw[:cut].decode("utf-8", "ignore") + "…" + ext


def not_utf8_name(shown: str) -> CaseFileError:
    """The refusal of a file whose name is not UTF-8 text (it is kept under `shown`)."""
    return CaseFileError(f"De naam van dit bestand is geen geldige UTF-8-tekst (waarschijnlijk gemaakt met een andere "
                         f"tekenset); het is ongewijzigd bewaard onder de naam {shown}. Geef het een naam met gewone "
                         "letters en cijfers en zet het opnieuw in de map inbox/.", rule="bestandsnaam")


def read_intake(stage: "Stage", stage_id: str, name: str, *, max_case_file: int, max_pdf: int) -> Intake:
    """Read the staged file once: its bytes, SHA-256 and (case files) the parsed event or the error; (returned
    PDFs) its parsed name.

    Never raises: whatever reading or parsing one file does ends as its `error` (an `InternalError` when it was
    not foreseen), so one file never stops the others."""
    try:
        return _read_intake(stage, stage_id, name, max_case_file=max_case_file, max_pdf=max_pdf)
    except Exception as e:
        log.error("%s: internal error while reading it (%s)", name, type(e).__name__, exc_info=True)
        return Intake(name, stage_id, b"", None, error=InternalError(
            f"Interne fout bij het lezen van het bestand ({type(e).__name__}).", cause=type(e).__name__))


def _read_intake(stage: "Stage", stage_id: str, name: str, *, max_case_file: int, max_pdf: int) -> Intake:
    pdf = is_returned(name)
    limit = max_pdf if pdf else max_case_file
    try:
        raw, size = stage.read(stage_id, name, limit=limit)
    except OSError:
        return Intake(name, stage_id, b"", None, error=not_a_file() if pdf else CaseFileError(
            "Dit is geen gewoon bestand (een snelkoppeling of map); zet het bestand zelf in de inbox."))
    if pdf:
        if size == 0 or size > limit:
            return Intake(name, stage_id, b"", None, error=wrong_size(size, limit))
        return Intake(name, stage_id, raw, hashlib.sha256(raw).hexdigest())
    if size == 0:
        return Intake(name, stage_id, b"", None, error=CaseFileError("Het bestand is leeg."))
    if size > limit:
        return Intake(name, stage_id, b"", None, error=CaseFileError(
            f"Het bestand is te groot ({size} bytes; de grens is {limit})."))
    digest = hashlib.sha256(raw).hexdigest()
    try:
        data = decode_case_file(raw)
    except CaseFileError as e:
        return Intake(name, stage_id, raw, digest, error=e)
    try:
        event = model.parse_event(data)
    except ValidationError as e:
        return Intake(name, stage_id, raw, digest, data=data, error=e)
    return Intake(name, stage_id, raw, digest, event=event, data=data)


def decode_case_file(raw: bytes) -> dict:
    """The JSON object of a case file; CaseFileError (in Dutch) when it is not one."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise CaseFileError(f"Het bestand is geen UTF-8-tekst (ongeldige byte op positie {e.start}). "
                            "Sla het op als UTF-8.") from e
    if _depth_exceeds(text, MAX_JSON_DEPTH):
        raise CaseFileError(f"Het bestand is te diep genest (meer dan {MAX_JSON_DEPTH} niveaus).")
    try:
        data = json.loads(text, parse_int=_INT, parse_float=_FLOAT, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise CaseFileError(f"Het bestand is geen geldige JSON: {json_problem(e.msg)} (regel {e.lineno}, kolom "
                            f"{e.colno}).") from e
    except (ValueError, RecursionError) as e:  # whatever else the decoder refuses is still a bad file, said so
        raise CaseFileError("Het bestand is geen geldige JSON.") from e
    if not isinstance(data, dict):
        raise CaseFileError("Het bestand moet één JSON-object zijn ({ ... }).")
    return data


def _bounded(number):
    """`int` or `float` for json.loads, refusing a number longer than MAX_NUMBER_CHARS (Python refuses ints of more
    than 4,300 digits with a ValueError of its own; no case file needs more than a few)."""
    def parse(text: str):
        if len(text) > MAX_NUMBER_CHARS:
            raise CaseFileError(f"Het bestand bevat een getal van {len(text)} tekens; een getal in een zaakbestand "
                                f"heeft er hooguit {MAX_NUMBER_CHARS}.")
        value = number(text)
        if not math.isfinite(value):
            raise CaseFileError(f"Het bestand bevat een getal dat te groot is om mee te rekenen ({text}).")
        return value
    return parse


_INT, _FLOAT = _bounded(int), _bounded(float)


def _no_constant(text: str):
    raise CaseFileError(f"Het bestand bevat {text}; dat is geen getal in JSON.")


_JSON_NL = {
    # the json module's messages (CPython's scanner), as a secretariat can act on them
    "Expecting property name enclosed in double quotes": "hier wordt een veldnaam tussen dubbele aanhalingstekens "
                                                         "verwacht (staat er een komma te veel vóór een } ?)",
    "Expecting ',' delimiter": "hier ontbreekt een komma tussen twee velden of waarden",
    "Expecting ':' delimiter": "hier ontbreekt de dubbele punt tussen veldnaam en waarde",
    "Expecting value": "hier wordt een waarde verwacht (tekst tussen dubbele aanhalingstekens, een getal, true, "
                       "false of null; staat er een komma te veel vóór een ] ?)",
    "Unterminated string starting at": "een tekst tussen aanhalingstekens wordt niet afgesloten",
    "Invalid control character at": "een tekst bevat een regeleinde of tab; schrijf die als \\n of \\t",
    "Invalid \\escape": "een \\ in een tekst wordt niet gevolgd door een geldig teken (schrijf \\\\ voor een "
                       "backslash)",
    "Extra data": "na het afsluitende } staat nog tekst",
}


def json_problem(message: str) -> str:
    """The Dutch of a json.JSONDecodeError message (never the English itself)."""
    for english, dutch in _JSON_NL.items():
        if message.startswith(english):
            return dutch
    return "de opbouw van het bestand klopt niet"


def _depth_exceeds(text: str, limit: int) -> bool:
    """Cheap nesting check before json.loads (which would recurse deeply on hostile input)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


class Stage:
    """The inbox, its stage and its processed/ and failed/ folders, all opened without following a link."""

    def __init__(self, root: Path, *, inbox: str = "inbox", access: IntakeAccess | None = None) -> None:
        self.root = Path(root)
        self.inbox = inbox
        self.access = access or IntakeAccess()

    def _dir(self, *parts: str, create: Access | None = None):
        return safefs.folder(self.root, parts, create=create)

    def _stage_root(self):
        return self._dir(*STAGE, create=STATE_DIR)

    def take(self, name: str, *, as_name: str | None = None) -> str | None:
        """Move `inbox/<name>` into a new stage folder (as `as_name` when given: `shown_name`); its id, or None
        when the file is gone already."""
        safefs.parts_of([name])
        staged = safefs.parts_of([as_name or name])[0]
        stage_id = f"{time.time_ns():020d}-{secrets.token_hex(3)}"
        with self._dir(self.inbox) as inbox_fd, self._stage_root() as stage_fd:
            os.mkdir(stage_id, 0o700, dir_fd=stage_fd)
            with safefs.folder(self.root, (*STAGE, stage_id)) as fd:
                safefs.apply_access(fd, STATE_DIR, folder=True)
                try:
                    os.rename(name, staged, src_dir_fd=inbox_fd, dst_dir_fd=fd)
                except FileNotFoundError:
                    os.rmdir(stage_id, dir_fd=stage_fd)
                    return None
                # durable in the stage; should the inbox's entry come back after a power cut, the journal by
                # SHA-256 takes it as a duplicate, so the inbox itself needs no fsync
                os.fsync(fd)
        return stage_id

    def leftovers(self) -> list[tuple[str, str]]:
        """(stage id, name) of files a crash left in the stage, oldest first; empty stage folders are removed."""
        out = []
        with self._stage_root() as stage_fd:
            for stage_id in sorted(os.listdir(stage_fd)):
                st = safefs.entry(stage_fd, stage_id)
                if st is None or not stat.S_ISDIR(st.st_mode):
                    safefs.remove_tree_at(stage_fd, stage_id)  # nothing of ours: a stray file or a planted link
                    continue
                fd = safefs.open_dir(stage_fd, [stage_id])
                try:
                    names = sorted(os.listdir(fd))
                finally:
                    os.close(fd)
                if not names:
                    os.rmdir(stage_id, dir_fd=stage_fd)
                    continue
                out += [(stage_id, n) for n in names]
        return out

    def read(self, stage_id: str, name: str, *, limit: int) -> tuple[bytes, int]:
        """The staged bytes (b"" when larger than `limit`) and the file's size; sets the case-file mode.

        OSError when it is not a regular file (a link, a folder, a FIFO)."""
        with self._dir(*STAGE, stage_id) as fd:
            raw, st = safefs.read_at(fd, name, limit=limit, access=self.access.case_file)
        return raw, st.st_size

    def free_name(self, folder: str, name: str) -> str:
        with self._dir(self.inbox, folder, create=self.access.done) as fd:
            return safefs.free_name(fd, name)

    def write_report(self, folder: str, name: str, text: str) -> None:
        """A report beside a refused file, e.g. `inbox/failed/<name>.error.txt`."""
        with self._dir(self.inbox, folder, create=self.access.done) as fd:
            safefs.write_at(fd, name, text.encode("utf-8"), access=self.access.case_file)

    def move_on(self, stage_id: str, name: str, folder: str | None, *, suffix: str = "") -> str:
        """Move the staged file to `inbox/<folder>/` (None: back into the inbox); the name it got there."""
        dest = (self.inbox, folder) if folder else (self.inbox,)
        create = self.access.done if folder else None
        with self._dir(*STAGE) as stage_fd, self._dir(*dest, create=create) as dst_fd:
            src_fd = safefs.open_dir(stage_fd, [stage_id])
            try:
                final = safefs.move_at(src_fd, name, dst_fd, suffix=suffix)
            finally:
                os.close(src_fd)
            os.rmdir(stage_id, dir_fd=stage_fd)  # an empty stage folder a crash leaves is removed by `leftovers`
        return final
