"""The gateway's operations for the doctors', records officer's, FG's and IT's desk pages.

Each wraps one role operation of `pipeline.shell.role_views` (which checks the person's scope and writes the NEN 7513
record naming that person before it returns anything) and only carries it over the socket: files go out and come in
as base64, errors become the gateway's Dutch refusals in one place (`_answers`). The person is the session's, never
what the desk says. Two things are the gateway's own: the fresh TOTP code a destruction is confirmed with (checked
here, by `Users.verify_code`, not by the desk), and IT's user administration (`user_admin`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import logging
import re
from typing import Any, Callable

from stdnum.nl import bsn as stdnum_bsn

from pipeline.core.role_scope import Taak, may
from pipeline.errors import PipelineError
from pipeline.gateway import user_admin
from pipeline.gateway.protocol import MAX_FILE, ROLE_OPERATIONS, GatewayError
from pipeline.gateway.users import Session, Users
from pipeline.shell import role_views as rv

log = logging.getLogger("sopipe.gateway")

_KENMERK = re.compile(r"^[A-Za-z0-9_-]{3,40}$")

_DESK_WORDING = (
    ("Eerder vernietigen kan alleen met --force --reden \"...\"",
     "Eerder vernietigen kan alleen als vervroegde vernietiging met een reden"),
    ("--force vraagt een --reden", "Vervroegd vernietigen vraagt een reden"),
    ("; hef haar op met `sopipe archive release", "; de blokkade wordt opgeheven met `sopipe archive release"),
)
"""The archive's messages name the command line's options; on the desk the same rule in the page's words."""


def _desk_text(message: str) -> str:
    for cli, desk in _DESK_WORDING:
        message = message.replace(cli, desk)
    return message


def _answers(op: Callable[..., dict]) -> Callable[..., dict]:
    """The one place where a role operation's errors become the gateway's refusals: out of scope or not there is
    `niet-gevonden` (the desk answers 404; the role operation recorded it), what was sent in or a failed check is
    `ongeldig` with its Dutch message."""
    @functools.wraps(op)
    def wrapped(self: "RoleOperations", session: Session, **arguments: Any) -> dict:
        try:
            return op(self, session, **arguments)
        except rv.BuitenBereik as e:
            raise GatewayError("niet-gevonden", e.message) from None
        except PipelineError as e:
            raise GatewayError("ongeldig", _desk_text(e.message)) from None
    return wrapped


def _file(download: rv.Download) -> dict:
    if len(download.data) > MAX_FILE:
        raise GatewayError("te-groot", "Dit bestand is te groot om via de desk te downloaden; vraag het aan "
                                       "beheer via de opdrachtregel.")
    return {"naam": download.naam, "sha256": download.sha256, "media_type": download.media_type,
            "data": base64.b64encode(download.data).decode("ascii")}


def _bytes(data: Any) -> bytes:
    try:
        raw = base64.b64decode(str(data or ""), validate=True)
    except (binascii.Error, ValueError):
        raise GatewayError("protocol", "Het bestand kwam niet goed over.") from None
    if len(raw) > MAX_FILE:
        raise GatewayError("te-groot", f"Het bestand is te groot (hooguit {MAX_FILE // 1_000_000} MB via de desk).")
    return raw


def _bsn(value: Any) -> str:
    """The BSN an FG searches by: checked here (elfproef), never written to the trail or the log."""
    bsn = re.sub(r"[\s.]", "", str(value or ""))
    if not stdnum_bsn.is_valid(bsn):
        raise GatewayError("ongeldig", "Dit is geen geldig BSN (9 cijfers die aan de elfproef voldoen).")
    return bsn


def _kenmerk(value: Any) -> str:
    kenmerk = str(value or "").strip()
    if not _KENMERK.match(kenmerk):
        raise GatewayError("ongeldig", "Vul een kenmerk in, zoals SO-2026-0042.")
    return kenmerk


class RoleOperations:
    """The role operations of one gateway, on its root's wiring and its users."""

    def __init__(self, r: rv.RoleRoot, users: Users, *, today: Callable[[], dt.date]) -> None:
        self.r = r
        self.users = users
        self.today = today

    def table(self) -> dict[str, Callable[..., dict]]:
        """{operation: handler(session, **arguments)} for every name in `protocol.ROLE_OPERATIONS`."""
        return {op: getattr(self, f"op_{op}") for op in ROLE_OPERATIONS}

    # --- doctors ----------------------------------------------------------------------------------------------

    @_answers
    def op_te_ondertekenen(self, session: Session) -> dict:
        return {"documenten": [w.as_dict() for w in rv.te_ondertekenen(self.r, session.actor)]}

    @_answers
    def op_download_te_ondertekenen(self, session: Session, *, kenmerk: str, document: str) -> dict:
        return _file(rv.download_te_ondertekenen(self.r, session.actor, str(kenmerk), str(document)))

    @_answers
    def op_inleveren(self, session: Session, *, kenmerk: str, document: str, data: str) -> dict:
        return rv.lever_ondertekend_in(self.r, session.actor, str(kenmerk), str(document), _bytes(data)).as_dict()

    @_answers
    def op_inlevering(self, session: Session, *, kenmerk: str, sha256: str) -> dict:
        return rv.inlevering_uitslag(self.r, session.actor, str(kenmerk), str(sha256)).as_dict()

    @_answers
    def op_postbus(self, session: Session) -> dict:
        return {"zaken": [z.as_dict() for z in rv.postbus(self.r, session.actor)]}

    @_answers
    def op_download_postbus(self, session: Session, *, kenmerk: str, bestand: str) -> dict:
        return _file(rv.download_postbus(self.r, session.actor, str(kenmerk), str(bestand)))

    # --- records officer --------------------------------------------------------------------------------------

    @_answers
    def op_te_vernietigen(self, session: Session) -> dict:
        return {"dossiers": rv.te_vernietigen(self.r, session.actor, today=self.today())}

    @_answers
    def op_exporteer(self, session: Session, *, kenmerk: str) -> dict:
        return _file(rv.exporteer(self.r, session.actor, _kenmerk(kenmerk)))

    @_answers
    def op_controleer_bundel(self, session: Session, *, data: str, naam: str = "bundel.zip") -> dict:
        return {"rapport": rv.controleer_bundel(self.r, session.actor, _bytes(data), naam=str(naam))}

    @_answers
    def op_vernietig(self, session: Session, *, kenmerk: str, reden: str | None = None, vervroegd: bool = False,
                     code: str | None = None) -> dict:
        """Without `code`: every check, and what would go (`bevestiging-nodig`). With `code`: the person's fresh
        TOTP code is checked here first (once usable), then the checks run again and the dossier is destroyed."""
        actor = session.actor
        kenmerk = _kenmerk(kenmerk)
        arguments = {"reden": (str(reden).strip() or None) if reden is not None else None,
                     "today": self.today(), "vervroegd": bool(vervroegd)}
        if code is None:
            return rv.vernietig(self.r, actor, kenmerk, **arguments)
        if not may(actor, Taak.ARCHIEF):  # the role first: nobody else learns whether a code was right
            return rv.vernietig(self.r, actor, kenmerk, **arguments)
        if not self.users.verify_code(actor.gebruikersnaam, str(code)):
            log.warning("gateway: %s gave a wrong confirmation code for a destruction", actor.gebruikersnaam)
            raise GatewayError("code", "De code klopt niet of is al gebruikt. Wacht op de volgende code van uw "
                                       "authenticator-app; er is niets vernietigd.")
        return rv.vernietig(self.r, actor, kenmerk, bevestigd=True, **arguments)

    @_answers
    def op_blokkeer(self, session: Session, *, kenmerk: str, reden: str, opheffen: bool = False) -> dict:
        return rv.blokkeer(self.r, session.actor, _kenmerk(kenmerk), reden=str(reden), opheffen=bool(opheffen))

    # --- FG ---------------------------------------------------------------------------------------------------

    @_answers
    def op_toegang_per_zaak(self, session: Session, *, kenmerk: str) -> dict:
        return rv.toegang_per_zaak(self.r, session.actor, _kenmerk(kenmerk))

    @_answers
    def op_toegang_per_werknemer(self, session: Session, *, bsn: str) -> dict:
        return rv.toegang_per_werknemer(self.r, session.actor, _bsn(bsn))

    @_answers
    def op_avg_inzage(self, session: Session, *, bsn: str) -> dict:
        return _file(rv.avg_inzage_export(self.r, session.actor, _bsn(bsn)))

    @_answers
    def op_keten_status(self, session: Session) -> dict:
        return {"keten": rv.keten_status(self.r, session.actor)}

    # --- IT ---------------------------------------------------------------------------------------------------

    @_answers
    def op_systeemcontrole(self, session: Session) -> dict:
        return rv.systeemcontrole(self.r, session.actor)

    def _beheer(self, session: Session):
        if not may(session.actor, Taak.BEHEER):
            raise GatewayError("niet-gevonden", rv.NOT_FOUND)
        return session.actor

    def op_gebruikers(self, session: Session) -> dict:
        self._beheer(session)
        return {"gebruikers": user_admin.overview(self.users)}

    def op_totp_opnieuw(self, session: Session, *, gebruikersnaam: str) -> dict:
        actor = self._beheer(session)
        new = user_admin.new_totp(self.users, str(gebruikersnaam))
        log.info("gateway: %s gave %s a new TOTP secret (sessions ended)", actor.gebruikersnaam, gebruikersnaam)
        return {"gebruikersnaam": new.gebruikersnaam, "otpauth": new.otpauth, "geheim": new.geheim}

    def op_sessies_beeindigen(self, session: Session, *, gebruikersnaam: str) -> dict:
        actor = self._beheer(session)
        ended = user_admin.end_sessions(self.users, str(gebruikersnaam))
        log.info("gateway: %s ended %d session(s) of %s", actor.gebruikersnaam, ended, gebruikersnaam)
        return {"beeindigd": ended}

