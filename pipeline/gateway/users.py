"""The desk's users, their sessions and the gateway's own notes, kept by the gateway (`state/desk-users.db`, 0600).

The desk never holds a password or a TOTP secret: the gateway checks both (Argon2id via argon2-cffi, RFC 6238 via
pyotp, each code usable once) and hands out a random session token, stored here only as its SHA-256. Every later
request carries that token, so a desk process that is taken over can act only as someone who logs in while it is
taken over, never as any user it names. Users are added on the command line (`sopipe desk adduser`), as the
pipeline's user.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipeline.adapters.clock import SYSTEM_CLOCK, Clock
from pipeline.adapters.sqlite_threads import ThreadConnections
from pipeline.core.actor import Actor, Kanaal, Rol
from pipeline.gateway.protocol import GatewayError

FILE_NAME = "desk-users.db"
ISSUER = "sopipe"
MIN_PASSWORD = 12
MAX_FAILURES = 10
"""Failed logins in a row after which the gateway itself refuses the user for `LOCK_MINUTES` (the desk's own
lockout, django-axes, stops at 5; this one holds also against a desk process that was taken over)."""
LOCK_MINUTES = 15
DEFAULT_IDLE_SECONDS = 15 * 60

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    gebruikersnaam TEXT PRIMARY KEY,
    naam TEXT NOT NULL,
    rol TEXT NOT NULL,
    organisatie TEXT,
    big TEXT,
    wachtwoord TEXT NOT NULL,
    totp_geheim TEXT NOT NULL,
    moet_wijzigen INTEGER NOT NULL,
    mislukt INTEGER NOT NULL DEFAULT 0,
    geblokkeerd_tot TEXT,
    laatste_stap INTEGER NOT NULL DEFAULT 0,
    aangemaakt TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessies (
    token_sha256 TEXT PRIMARY KEY,
    gebruikersnaam TEXT NOT NULL REFERENCES users(gebruikersnaam),
    aangemaakt TEXT NOT NULL,
    laatst TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inzendingen (
    sha256 TEXT PRIMARY KEY,
    kenmerk TEXT NOT NULL,
    stap TEXT NOT NULL,
    bestand TEXT NOT NULL,
    gebruikersnaam TEXT NOT NULL,
    organisatie TEXT,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vervangen (
    sha256 TEXT PRIMARY KEY,
    door_sha256 TEXT NOT NULL,
    gebruikersnaam TEXT NOT NULL,
    at TEXT NOT NULL
);
"""

_HASHER = PasswordHasher()  # argon2-cffi's defaults: Argon2id, RFC 9106 low-memory profile


@dataclass(frozen=True)
class NewUser:
    """What `adduser` prints once: the one-time password and the authenticator app's URI."""
    gebruikersnaam: str
    wachtwoord: str
    otpauth: str
    geheim: str


@dataclass(frozen=True)
class Session:
    actor: Actor
    moet_wijzigen: bool
    """The one-time password is still in use: only a new password may be set."""


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Users:
    def __init__(self, path: Path, *, clock: Clock | None = None, idle_seconds: int = DEFAULT_IDLE_SECONDS) -> None:
        self.path = Path(path)
        self.clock = clock or SYSTEM_CLOCK
        self.idle = dt.timedelta(seconds=idle_seconds)
        self._connections = ThreadConnections(self.path, pragmas=("journal_mode=WAL", "foreign_keys=ON"))
        try:  # born 0600 (SQLite would make it by the umask first): password hashes and TOTP secrets
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
        except FileExistsError:
            pass
        self._conn().executescript(_SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        self._connections.close()

    def _now(self) -> dt.datetime:
        return self.clock.now().astimezone(dt.timezone.utc)

    # --- users ------------------------------------------------------------------------------------------------

    def add(self, gebruikersnaam: str, *, naam: str, rol: Rol, organisatie: str | None = None,
            big: str | None = None, replace: bool = False) -> NewUser:
        """A new user with a one-time password (to be changed at the first login) and a new TOTP secret.
        `replace`: an existing user of that name is replaced (new password and secret, sessions ended)."""
        password = secrets.token_urlsafe(12)
        secret = pyotp.random_base32()
        if replace:
            self._conn().execute("DELETE FROM sessies WHERE gebruikersnaam=?", (gebruikersnaam,))
            self._conn().execute("DELETE FROM users WHERE gebruikersnaam=?", (gebruikersnaam,))
        try:
            self._conn().execute(
                "INSERT INTO users (gebruikersnaam, naam, rol, organisatie, big, wachtwoord, totp_geheim, "
                "moet_wijzigen, aangemaakt) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)",
                (gebruikersnaam, naam, rol.value, organisatie, big, _HASHER.hash(password), secret,
                 self._now().isoformat()))
        except sqlite3.IntegrityError:
            raise GatewayError("bestaat", f"De gebruiker {gebruikersnaam} bestaat al.") from None
        uri = pyotp.TOTP(secret).provisioning_uri(name=gebruikersnaam, issuer_name=ISSUER)
        return NewUser(gebruikersnaam, password, uri, secret)

    def _row(self, gebruikersnaam: str):
        return self._conn().execute(
            "SELECT gebruikersnaam, naam, rol, organisatie, big, wachtwoord, totp_geheim, moet_wijzigen, mislukt, "
            "geblokkeerd_tot, laatste_stap FROM users WHERE gebruikersnaam=?", (gebruikersnaam,)).fetchone()

    @staticmethod
    def _actor(row) -> Actor:
        return Actor(gebruikersnaam=row[0], naam=row[1], rol=Rol(row[2]), kanaal=Kanaal.DESK, organisatie=row[3],
                     big=row[4])

    def _code_step(self, secret: str, code: str, last_step: int) -> int | None:
        """The time step `code` belongs to (this one or a neighbour: clocks drift), None when it fits none or was
        used already (a code counts once)."""
        totp = pyotp.TOTP(secret)
        now = self._now()
        step = totp.timecode(now)
        for offset in (0, -1, 1):
            candidate = totp.at(now + dt.timedelta(seconds=offset * totp.interval))
            if hmac.compare_digest(candidate, str(code).strip()) and step + offset > last_step:
                return step + offset
        return None

    def login(self, gebruikersnaam: str, wachtwoord: str, code: str) -> tuple[str, Session]:
        """A new session token for a user whose password and current code are right; GatewayError otherwise
        (one message for every wrong part: nobody learns which user names exist)."""
        refused = GatewayError("inloggen", "Gebruikersnaam, wachtwoord of code klopt niet.")
        row = self._row(str(gebruikersnaam))
        if row is None:
            _HASHER.hash(str(wachtwoord))  # the same work as for a known name: no timing difference
            raise refused
        now = self._now()
        if row[9] and dt.datetime.fromisoformat(row[9]) > now:
            raise GatewayError("geblokkeerd", "Dit account is tijdelijk geblokkeerd na te veel mislukte pogingen. "
                                              f"Probeer het over {LOCK_MINUTES} minuten opnieuw.")
        try:
            password_ok = _HASHER.verify(row[5], str(wachtwoord))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            password_ok = False
        step = self._code_step(row[6], str(code), row[10]) if password_ok else None
        conn = self._conn()
        if step is None:
            failures = row[8] + 1
            until = (now + dt.timedelta(minutes=LOCK_MINUTES)).isoformat() if failures >= MAX_FAILURES else None
            conn.execute("UPDATE users SET mislukt=?, geblokkeerd_tot=? WHERE gebruikersnaam=?",
                         (0 if until else failures, until, row[0]))
            raise refused
        token = secrets.token_urlsafe(32)
        conn.execute("UPDATE users SET mislukt=0, geblokkeerd_tot=NULL, laatste_stap=? WHERE gebruikersnaam=?",
                     (step, row[0]))
        conn.execute("INSERT INTO sessies VALUES (?, ?, ?, ?)", (_sha(token), row[0], now.isoformat(),
                                                                 now.isoformat()))
        return token, Session(self._actor(row), bool(row[7]))

    def session(self, token: str) -> Session:
        """The session of `token`, its idle clock restarted; GatewayError `sessie` when unknown or idle too long."""
        conn = self._conn()
        found = conn.execute("SELECT s.laatst, u.gebruikersnaam FROM sessies s JOIN users u USING (gebruikersnaam) "
                             "WHERE s.token_sha256=?", (_sha(str(token)),)).fetchone()
        now = self._now()
        if found is None or dt.datetime.fromisoformat(found[0]) + self.idle < now:
            if found is not None:
                conn.execute("DELETE FROM sessies WHERE token_sha256=?", (_sha(str(token)),))
            raise GatewayError("sessie", "Uw sessie is verlopen. Log opnieuw in.")
        conn.execute("UPDATE sessies SET laatst=? WHERE token_sha256=?", (now.isoformat(), _sha(str(token))))
        row = self._row(found[1])
        return Session(self._actor(row), bool(row[7]))

    def verify_code(self, gebruikersnaam: str, code: str) -> bool:
        """A fresh code of this user (a confirmation), used once."""
        row = self._row(gebruikersnaam)
        step = self._code_step(row[6], str(code), row[10]) if row else None
        if step is None:
            return False
        self._conn().execute("UPDATE users SET laatste_stap=? WHERE gebruikersnaam=?", (step, gebruikersnaam))
        return True

    def change_password(self, gebruikersnaam: str, old: str, new: str) -> None:
        row = self._row(gebruikersnaam)
        try:
            _HASHER.verify(row[5], str(old))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            raise GatewayError("wachtwoord", "Het huidige wachtwoord klopt niet.") from None
        new = str(new)
        if len(new) < MIN_PASSWORD:
            raise GatewayError("wachtwoord", f"Het nieuwe wachtwoord moet minstens {MIN_PASSWORD} tekens hebben.")
        if new == str(old):
            raise GatewayError("wachtwoord", "Kies een ander wachtwoord dan het huidige.")
        self._conn().execute("UPDATE users SET wachtwoord=?, moet_wijzigen=0 WHERE gebruikersnaam=?",
                             (_HASHER.hash(new), gebruikersnaam))

    def logout(self, token: str) -> None:
        self._conn().execute("DELETE FROM sessies WHERE token_sha256=?", (_sha(str(token)),))

    # --- what the gateway notes for the desk --------------------------------------------------------------------

    def submitted(self, *, sha256: str, kenmerk: str, stap: str, bestand: str, actor: Actor) -> None:
        self._conn().execute("INSERT OR IGNORE INTO inzendingen VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (sha256, kenmerk, stap, bestand, actor.gebruikersnaam, actor.organisatie,
                              self._now().isoformat()))

    def submission(self, sha256: str) -> dict | None:
        row = self._conn().execute("SELECT kenmerk, stap, bestand, gebruikersnaam, organisatie FROM inzendingen "
                                   "WHERE sha256=?", (sha256,)).fetchone()
        return None if row is None else dict(zip(("kenmerk", "stap", "bestand", "gebruikersnaam", "organisatie"),
                                                 row))

    def mark_replaced(self, sha256: str, *, by: str, actor: Actor) -> None:
        self._conn().execute("INSERT OR REPLACE INTO vervangen VALUES (?, ?, ?, ?)",
                             (sha256, by, actor.gebruikersnaam, self._now().isoformat()))

    def replaced(self) -> set[str]:
        return {r[0] for r in self._conn().execute("SELECT sha256 FROM vervangen")}
