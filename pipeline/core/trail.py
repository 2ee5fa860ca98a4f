"""The audit trail as pure functions: record hashes, the hash chain check, and the employee's view of it.

Every action on a case is one `AuditRecord` (NEN 7513: what happened, when, to which case, by whom and on whose
behalf, the action and its outcome). Records form a chain: each carries the hash of the one before it (the first
carries `GENESIS`), and its own hash is the SHA-256 of its canonical JSON (sorted keys, no whitespace, UTF-8).
Changing, removing or reordering a record breaks the chain at that record; `verify_chain` says where.

A record never holds a BSN or medical text: the kenmerk identifies the case, `details` holds only identifiers
(step, rule, document kind, mailbox, file path, hash, consent name). `check_details` enforces that at the door.

`werknemer_view` turns a case's records into plain Dutch sentences for the employee (the Preventix promise: every
step noted and visible to the employee): their own documents, consents, what reached the doctors, that the
employer was informed — never what the employer received, nor internal handling (quarantine, rendering).
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from zoneinfo import ZoneInfo

from pipeline.core import dutch
from pipeline.core.actor import ROL_OMSCHRIJVING, persoon
from pipeline.core.kinds import ROWS
from pipeline.core.redaction import contains_bsn, mask_long_numbers
from pipeline.errors import UnsafeAuditDetail

GENESIS = hashlib.sha256(b"sopipe audit trail v1: genesis").hexdigest()
"""The `prev_hash` of the first record."""

TZ = ZoneInfo("Europe/Amsterdam")


class Gebeurtenis(str, enum.Enum):
    """The kind of event (NEN 7513 'gebeurtenis')."""
    INTAKE = "intake"
    """A case file was accepted into the dossier (or, with outcome geweigerd/mislukt, was not)."""
    RENDERING = "rendering"
    ONDERTEKENING = "ondertekening"
    VERIFICATIE = "verificatie"
    BEZORGING = "bezorging"
    QUARANTAINE = "quarantaine"
    TOESTEMMING = "toestemming"
    INZAGE = "inzage"
    EXPORT = "export"
    VERNIETIGING = "vernietiging"
    BLOKKADE = "blokkade"
    """A legal hold placed on a dossier (`wat=geplaatst`) or lifted (`wat=opgeheven`), with its reason: no
    destruction while it is placed."""


class Actie(str, enum.Enum):
    """The action on the record, as IHE ATNA EventActionCode (to which NEN 7513 refers)."""
    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"


class Uitkomst(str, enum.Enum):
    GESLAAGD = "geslaagd"
    GEWEIGERD = "geweigerd"
    """Refused by a rule (schema, procedure, retention)."""
    MISLUKT = "mislukt"
    """The pipeline itself failed (conversion, signing, disk)."""
    ACHTERGEHOUDEN = "achtergehouden"
    """Not delivered because a consent was not granted at that moment."""
    GESTART = "gestart"
    """First half of a two-step action (destruction): intent recorded before anything is removed."""


@dataclass(frozen=True)
class AuditRecord:
    id: int
    """Sequence number, 1, 2, 3, ... without gaps."""
    at: str
    """Moment of recording, UTC ISO 8601."""
    kenmerk: str | None
    """The case (None for actions on no single case, e.g. a chain check)."""
    gebeurtenis: str
    actie: str
    uitkomst: str
    gebruiker: str
    """The OS user running sopipe."""
    namens: str | None
    """On whose behalf: `ingediend_door` of the case file, or None when the user acts on their own account."""
    systeem: str
    """The host the action ran on."""
    details: Mapping[str, Any]
    """Identifiers only (see `check_details`)."""
    prev_hash: str
    hash: str

    def content(self) -> dict[str, Any]:
        """Everything the hash covers (all fields but `hash`)."""
        return {"id": self.id, "at": self.at, "kenmerk": self.kenmerk, "gebeurtenis": self.gebeurtenis,
                "actie": self.actie, "uitkomst": self.uitkomst, "gebruiker": self.gebruiker, "namens": self.namens,
                "systeem": self.systeem, "details": dict(self.details), "prev_hash": self.prev_hash}

    def as_dict(self) -> dict[str, Any]:
        return self.content() | {"hash": self.hash}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AuditRecord":
        return cls(**{k: data[k] for k in ("id", "at", "kenmerk", "gebeurtenis", "actie", "uitkomst", "gebruiker",
                                           "namens", "systeem", "details", "prev_hash", "hash")})


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no insignificant whitespace, UTF-8: the same value always gives the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def record_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(dict(content))).hexdigest()


def seal_record(*, id: int, at: str, kenmerk: str | None, gebeurtenis: str, actie: str, uitkomst: str,
                gebruiker: str, namens: str | None, systeem: str, details: Mapping[str, Any],
                prev_hash: str) -> AuditRecord:
    """Build a record and compute its hash."""
    unsealed = AuditRecord(id=id, at=at, kenmerk=kenmerk, gebeurtenis=gebeurtenis, actie=actie, uitkomst=uitkomst,
                           gebruiker=gebruiker, namens=namens, systeem=systeem, details=dict(details),
                           prev_hash=prev_hash, hash="")
    return AuditRecord(**{**unsealed.__dict__, "hash": record_hash(unsealed.content())})


# --- no BSN, no medical text ------------------------------------------------------------------------------------

ALLOWED_DETAILS = frozenset({
    "stap", "datum", "regel", "fout", "bestand", "bestand_sha256", "document", "sjabloon", "partij", "pad",
    "sha256", "ondertekenaar", "toestemming", "van", "naar", "wat", "aantal", "manifest_sha256", "reden",
    "bewaren_tot", "laatste_wijziging", "bundel", "problemen", "vertrouwd", "verwijderd", "records",
})
HASH_DETAILS = frozenset({"sha256", "bestand_sha256", "manifest_sha256"})
MAX_DETAIL_TEXT = 300


scrub = mask_long_numbers
"""Mask every run of 8 or more digits (a BSN, a phone or personnel number in a file name)."""


def check_details(details: Mapping[str, Any]) -> dict[str, Any]:
    """Only known keys, only short scalar values, nothing that looks like a BSN. Raises UnsafeAuditDetail."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if key not in ALLOWED_DETAILS:
            raise UnsafeAuditDetail(f"audit detail '{key}' is not on the list of identifier fields")
        if value is None or isinstance(value, (bool, int)):
            out[key] = value
            continue
        if isinstance(value, (list, tuple)):
            value = [check_details({key: v})[key] for v in value]
            out[key] = value
            continue
        if not isinstance(value, str):
            raise UnsafeAuditDetail(f"audit detail '{key}' must be text, a number or a list of them")
        if len(value) > MAX_DETAIL_TEXT:
            raise UnsafeAuditDetail(f"audit detail '{key}' is too long for an identifier ({len(value)} chars)")
        if key not in HASH_DETAILS and contains_bsn(value):
            raise UnsafeAuditDetail(f"audit detail '{key}' contains a number that could be a BSN")
        out[key] = value
    return out


# --- chain check ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainProblem:
    record_id: int
    """The record at which the chain breaks."""
    what: str
    """`gewijzigd` (content does not match its hash), `schakel` (prev_hash does not match the record before),
    `ontbreekt` (ids missing)."""
    expected: str
    found: str
    message: str


def verify_chain(records: Iterable[AuditRecord], *, last_issued_id: int | None = None) -> list[ChainProblem]:
    """Every problem in the chain, in id order. `last_issued_id`: the highest id ever handed out (SQLite's
    AUTOINCREMENT counter), to notice records removed from the end."""
    problems: list[ChainProblem] = []
    prev: AuditRecord | None = None
    for rec in records:
        expected_id = 1 if prev is None else prev.id + 1
        if rec.id != expected_id:
            if rec.id > expected_id:
                gap = f"{expected_id}" if rec.id == expected_id + 1 else f"{expected_id}–{rec.id - 1}"
                problems.append(ChainProblem(rec.id, "ontbreekt", str(expected_id), str(rec.id),
                                             f"record {gap} ontbreekt vóór record {rec.id} (verwijderd)"))
            else:
                problems.append(ChainProblem(rec.id, "volgorde", str(expected_id), str(rec.id),
                                             f"record {rec.id} staat na record {prev.id} (volgorde gewijzigd)"))
        expected_prev = GENESIS if prev is None else prev.hash
        if rec.prev_hash != expected_prev:
            before = "het begin van de keten" if prev is None else f"record {prev.id}"
            problems.append(ChainProblem(
                rec.id, "schakel", expected_prev, rec.prev_hash,
                f"record {rec.id}: de verwijzing naar {before} klopt niet (verwacht prev_hash {expected_prev}, "
                f"gevonden {rec.prev_hash}); een eerder record is gewijzigd, verwijderd of verplaatst"))
        actual = record_hash(rec.content())
        if actual != rec.hash:
            problems.append(ChainProblem(
                rec.id, "gewijzigd", rec.hash, actual,
                f"record {rec.id} is gewijzigd: opgeslagen hash {rec.hash}, berekende hash {actual}"))
        prev = rec
    if last_issued_id is not None:
        last = prev.id if prev else 0
        if last_issued_id > last:
            gap = f"{last + 1}" if last_issued_id == last + 1 else f"{last + 1}–{last_issued_id}"
            problems.append(ChainProblem(last_issued_id, "ontbreekt", str(last_issued_id), str(last),
                                         f"record {gap} ontbreekt aan het eind van de keten (verwijderd)"))
    return problems


def verify_records(records: Iterable[AuditRecord]) -> list[ChainProblem]:
    """Each record matches its own hash (for a case's records taken out of the chain, as in an export)."""
    return [ChainProblem(r.id, "gewijzigd", r.hash, h, f"record {r.id} is gewijzigd: opgeslagen hash {r.hash}, "
                         f"berekende hash {h}") for r in records if (h := record_hash(r.content())) != r.hash]


# --- what the employee may see ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Regel:
    datum: dt.date
    tekst: str
    record_id: int = field(compare=False)

    def __str__(self) -> str:
        return f"{dutch.datum(self.datum)}: {self.tekst}"


STAP_ZIN = {
    "verzoek": "uw verzoek om een second opinion is ontvangen.",
    "beoordeling": "uw bedrijfsarts heeft beoordeeld of een second opinion het juiste middel is.",
    "selectie": "de keuze van de second opinion-bedrijfsarts is vastgelegd.",
    "beschikbaarheid": "de second opinion-bedrijfsarts heeft laten weten of hij of zij beschikbaar is.",
    "aanvraag": "de aanvraag voor de second opinion is gedaan.",
    "uitvoering": "het spreekuur bij de second opinion-bedrijfsarts is gepland.",
    "spreekuur_gehouden": "het spreekuur bij de second opinion-bedrijfsarts heeft plaatsgevonden.",
    "extra_informatie": "er is u toestemming gevraagd om aanvullende informatie op te vragen.",
    "conceptadvies": "het conceptadvies is opgesteld.",
    "definitief_advies": "het definitieve advies is vastgesteld.",
    "beoordeling_advies": "uw bedrijfsarts heeft het advies beoordeeld.",
    "facturatie": "de second opinion is gefactureerd.",
}

TOESTEMMING_NAAM = {
    "medische_gegevens": "het delen van medische gegevens",
    "extra_informatie:bedrijfsarts": "het opvragen van aanvullende informatie bij uw bedrijfsarts",
    "extra_informatie:behandelaar": "het opvragen van aanvullende informatie bij uw behandelaar",
    "extra_informatie:werkgever": "het opvragen van aanvullende informatie bij uw werkgever",
    "advies_delen_bedrijfsarts": "het delen van het advies met uw bedrijfsarts",
    "advies_delen_werkgever": "het delen van het werkadvies met uw werkgever",
}

ARTS = {"bedrijfsarts": "uw bedrijfsarts", "so-bedrijfsarts": "de second opinion-bedrijfsarts"}


def _local_date(at: str) -> dt.date:
    return dt.datetime.fromisoformat(at).astimezone(TZ).date()


def _datum(rec: AuditRecord) -> dt.date:
    value = rec.details.get("datum")
    return dt.date.fromisoformat(value) if value else _local_date(rec.at)


def _document(kind: str) -> str:
    """The document as the employee reads it: its kind's label (`kinds.Row.label`); a kind no longer made (an old
    record) is "een document"."""
    row = ROWS.get(kind)
    if row is not None:
        return row.label
    if kind.startswith("machtiging-") and kind.endswith("-ondertekend"):  # the employee's form, filed as it came
        return "de door u ondertekende machtiging"
    return "een document"


INZAGE_WAT = {
    "status": "de stand van uw dossier",
    "audit": "het logboek van uw dossier",
    "zaak": "uw dossier",
    "inzage-overzicht": "het overzicht van wie uw dossier heeft ingezien",
}
"""What an INZAGE record's `wat` says was looked at, as the employee reads it. `document` and `te-ondertekenen`
(a document downloaded; the kind in `document`) are worded from the document's name; any other `wat` (the
employee's own overview being printed, a listing of many cases) is not shown."""
DOCUMENT_WAT = frozenset({"document", "te-ondertekenen"})


def _ingezien(details: Mapping[str, Any]) -> str | None:
    """"<what> is bekeken" / "<document> is gedownload", or None when the employee is not shown this look."""
    wat = details.get("wat")
    if wat in DOCUMENT_WAT:
        return f"{_document(details.get('document', ''))} is gedownload"
    return f"{INZAGE_WAT[wat]} is bekeken" if wat in INZAGE_WAT else None


def werknemer_view(records: Iterable[AuditRecord]) -> list[Regel]:
    """The employee's view of a case's trail: plain Dutch sentences, by date; per date the step first.

    Shown: each accepted step, every consent recorded or withdrawn, each document sent to the employee, to the
    own doctor or to the SO doctor (or withheld for want of consent), that the employer was informed (once per
    day, never what), who looked at the dossier, an archive copy, the destruction. Not shown: what reached the
    employer, the arbodienst or the archive, rendering, signing, quarantine, refused case files.
    """
    entries: list[tuple[dt.date, int, int, str]] = []
    to_doctors: dict[tuple[dt.date, str, str], tuple[int, list[str]]] = {}
    werkgever_dagen: set[dt.date] = set()
    for rec in records:
        d, g, u, datum = rec.details, rec.gebeurtenis, rec.uitkomst, _datum(rec)
        if g == Gebeurtenis.INTAKE and u == Uitkomst.GESLAAGD and d.get("stap") in STAP_ZIN:
            entries.append((datum, 0, rec.id, STAP_ZIN[d["stap"]]))
        elif g == Gebeurtenis.TOESTEMMING:
            naam = TOESTEMMING_NAAM.get(d.get("toestemming"), "een machtiging")
            if d.get("naar") == "ingetrokken":
                zin = (f"u hebt uw machtiging voor {naam} ingetrokken; vanaf nu wordt niets meer verstuurd "
                       "waarvoor die machtiging nodig was.")
            elif d.get("naar") == "gevraagd":  # given, but the signed form is not in the dossier yet
                zin = (f"u is gevraagd de machtiging voor {naam} te ondertekenen; tot die in het dossier is, wordt "
                       "niets verstuurd waarvoor zij nodig is.")
            elif d.get("naar") == "ondertekend":
                zin = f"uw ondertekende machtiging voor {naam} is vastgelegd."
            else:
                zin = f"uw machtiging voor {naam} is vastgelegd ({d.get('naar')})."
            entries.append((datum, 1, rec.id, zin))
        elif g == Gebeurtenis.BEZORGING and d.get("partij") == "werknemer" and u == Uitkomst.GESLAAGD:
            entries.append((datum, 2, rec.id, f"{_document(d.get('document', ''))} is aan u gestuurd."))
        elif g == Gebeurtenis.BEZORGING and d.get("partij") in ARTS and u in (Uitkomst.GESLAAGD,
                                                                              Uitkomst.ACHTERGEHOUDEN):
            first, who = to_doctors.setdefault((datum, d.get("document", ""), u), (rec.id, []))
            if ARTS[d["partij"]] not in who:
                who.append(ARTS[d["partij"]])
        elif g == Gebeurtenis.BEZORGING and d.get("partij") == "werkgever":
            if u == Uitkomst.GESLAAGD and datum not in werkgever_dagen:
                werkgever_dagen.add(datum)
                entries.append((datum, 4, rec.id, "uw werkgever is geïnformeerd."))
        elif g == Gebeurtenis.INZAGE and u == Uitkomst.GESLAAGD and (wat := _ingezien(d)) is not None:
            entries.append((datum, 5, rec.id, f"{wat} door {persoon(rec.gebruiker).omschrijving}."))
        elif g == Gebeurtenis.EXPORT and u == Uitkomst.GESLAAGD:
            entries.append((datum, 5, rec.id, "er is een verzegelde archiefkopie van uw dossier gemaakt."))
        elif g == Gebeurtenis.VERNIETIGING and u == Uitkomst.GESLAAGD:
            reden = d.get("reden")
            entries.append((datum, 5, rec.id, "uw dossier is vernietigd" + (f" (reden: {reden})." if reden else ".")))
    for (datum, kind, uitkomst), (first, who) in to_doctors.items():
        aan = " en ".join(who)
        zin = (f"{_document(kind)} is gestuurd aan {aan}." if uitkomst == Uitkomst.GESLAAGD else
               f"{_document(kind)} is niet gestuurd aan {aan}, omdat daarvoor geen toestemming was.")
        entries.append((datum, 3, first, zin))
    return [Regel(datum, zin, rid) for datum, _, rid, zin in sorted(entries, key=lambda e: e[:3])]


# --- who looked at what: the FG's overview ----------------------------------------------------------------------

TOEGANG = frozenset({Gebeurtenis.INZAGE, Gebeurtenis.EXPORT, Gebeurtenis.VERNIETIGING, Gebeurtenis.BLOKKADE})
"""Events that are a person's access to a dossier even when an old record names only an account."""


@dataclass(frozen=True)
class Toegang:
    """One access to a dossier as the FG (and an AVG art. 15 answer) shows it: who, when, what, on whose behalf."""
    record_id: int
    at: str
    """UTC ISO 8601, as recorded."""
    kenmerk: str | None
    naam: str
    """The person (or, in a record from before persons were named, the account)."""
    gebruikersnaam: str
    rol: str | None
    """The role in plain Dutch (`ROL_OMSCHRIJVING`); None for an old record."""
    kanaal: str | None
    """`desk`, `shell`; None for an old record."""
    gebeurtenis: str
    wat: str | None
    document: str | None
    namens: str | None
    uitkomst: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def toegang(records: Iterable[AuditRecord]) -> list[Toegang]:
    """Every access by a person in `records` (views, downloads, exports, destruction, holds, refusals of them),
    in id order; the pipeline's own processing is left out."""
    out = []
    for rec in records:
        wie = persoon(rec.gebruiker)
        if wie.rol is None and rec.gebeurtenis not in TOEGANG:
            continue
        out.append(Toegang(rec.id, rec.at, rec.kenmerk, wie.naam, wie.gebruikersnaam,
                           ROL_OMSCHRIJVING[wie.rol] if wie.rol else None, wie.kanaal.value if wie.kanaal else None,
                           rec.gebeurtenis, rec.details.get("wat"), rec.details.get("document"), rec.namens,
                           rec.uitkomst))
    return out
