"""IT's user administration on the gateway's users table (`users.Users`): who may log in with which role and
scope, their open sessions, a new TOTP secret for a lost phone, and ending a person's sessions.

Passwords and secrets never leave the gateway except a new TOTP secret, once, to the IT person who asked for it (to
pass on to its owner as with `sopipe desk adduser`).
"""

from __future__ import annotations

import datetime as dt

import pyotp

from pipeline.core.actor import ROL_OMSCHRIJVING, Rol
from pipeline.gateway.protocol import GatewayError
from pipeline.gateway.users import ISSUER, NewUser, Users


def overview(users: Users) -> list[dict]:
    """Every user: name, role, scope (arbodienst, BIG), whether the one-time password is still in use, a lock, and
    the sessions still open (not idle too long) with the last activity."""
    now = users.clock.now().astimezone(dt.timezone.utc)
    alive_since = (now - users.idle).isoformat()
    rows = users._conn().execute(
        "SELECT u.gebruikersnaam, u.naam, u.rol, u.organisatie, u.big, u.moet_wijzigen, u.geblokkeerd_tot, "
        "u.aangemaakt, COUNT(s.token_sha256), MAX(s.laatst) FROM users u "
        "LEFT JOIN sessies s ON s.gebruikersnaam = u.gebruikersnaam AND s.laatst >= ? "
        "GROUP BY u.gebruikersnaam ORDER BY u.rol, u.gebruikersnaam", (alive_since,)).fetchall()
    return [{"gebruikersnaam": r[0], "naam": r[1], "rol": r[2], "rol_omschrijving": ROL_OMSCHRIJVING[Rol(r[2])],
             "organisatie": r[3], "big": r[4],
             "eerste_wachtwoord": bool(r[5]), "geblokkeerd": bool(r[6] and r[6] > now.isoformat()),
             "aangemaakt": r[7], "sessies": r[8], "laatst_actief": r[9]} for r in rows]


def _exists(users: Users, gebruikersnaam: str) -> None:
    if users._conn().execute("SELECT 1 FROM users WHERE gebruikersnaam=?", (gebruikersnaam,)).fetchone() is None:
        raise GatewayError("niet-gevonden", f"Er is geen gebruiker {gebruikersnaam!r}.")


def end_sessions(users: Users, gebruikersnaam: str) -> int:
    """End every session of this user (the next page asks them to log in again); how many there were."""
    _exists(users, gebruikersnaam)
    return users._conn().execute("DELETE FROM sessies WHERE gebruikersnaam=?", (gebruikersnaam,)).rowcount


def new_totp(users: Users, gebruikersnaam: str) -> NewUser:
    """A new TOTP secret for this user (the old authenticator stops working) and their sessions ended. The
    password stays; `wachtwoord` is empty in the answer."""
    _exists(users, gebruikersnaam)
    secret = pyotp.random_base32()
    conn = users._conn()
    conn.execute("UPDATE users SET totp_geheim=?, laatste_stap=0 WHERE gebruikersnaam=?", (secret, gebruikersnaam))
    conn.execute("DELETE FROM sessies WHERE gebruikersnaam=?", (gebruikersnaam,))
    uri = pyotp.TOTP(secret).provisioning_uri(name=gebruikersnaam, issuer_name=ISSUER)
    return NewUser(gebruikersnaam, "", uri, secret)
