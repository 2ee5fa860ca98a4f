"""DEMO public-key infrastructure: a root CA, a signing CA, the arbodienst seal and SO-doctor identities.

`sopipe init` calls `init_demo_pki` so that a fresh installation can sign and validate documents end to end.
Everything here is a DEMO and NEVER for production: the keys are made on this machine and the passphrase that
protects the signing identities lies next to them. That passphrase opens nothing that can mint a certificate:
the two CA keys are kept OUTSIDE the root (see "CA keys" below). Production identities come from a real trust service (PKIoverheid, a QTSP) as
PKCS#12 files or on a token (PKCS#11); the signing adapter only needs the resulting files, not this module.

Layout of the pki directory (mode 0700; private material 0600):

    ca.pem                 root certificate - the trust anchor validators are given
    intermediate.pem       signing CA certificate, embedded in every signature
    seal.p12               arbodienst seal: key + certificate + chain
    doctor-<BIG>.p12       one per SO doctor: key + certificate + chain
    passphrase             the random passphrase of the identities above (never of a CA key)
    demo-ca                where the CA keys are (one line: a directory outside the root)
    DEMO                   marker: this is the DEMO PKI (`is_demo_pki`)
    README-DEMO.txt        says all this in Dutch

CA keys: `ca-key.pem` and `intermediate-key.pem` live in a separate directory (mode 0700), by default
`$XDG_DATA_HOME/sopipe/demo-ca/<hash of the pki path>/` (`~/.local/share/...`), or an explicit `ca_dir`,
encrypted with their own random passphrase (`ca-passphrase`, beside them, not in the root). Whoever reads
the root's `pki/` can therefore not issue a certificate. `add_doctor` and the demo CRL service need them; an
older root that still has CA keys in `pki/` gets them moved out by the next `init_demo_pki`. Beside them,
`ca.sha256` records the fingerprint of the root certificate made with them: a root is DEMO by that fingerprint
(`is_demo_pki`), never by a certificate's name; `init_demo_pki` records it for an older root as well.

With `services_url` (what `sopipe init` passes) the PKI also gets the parts that make PAdES B-T/B-LT/B-LTA work:

    services-url           base URL of the demo trust services, e.g. http://127.0.0.1:8765
    ocsp.pem, ocsp-key.pem OCSP responder, delegated by the signing CA (id-pkix-ocsp-nocheck)
    tsa.pem, tsa-key.pem   time-stamping authority (RFC 3161), issued by the root, valid longer than any signer

and every certificate below the root names where its status is published: a CRL distribution point
(`<url>/crl/root.crl` for certificates the root issued, `<url>/crl/intermediate.crl` below the signing CA) and,
for signer certificates, an OCSP responder (`<url>/ocsp`). `pipeline.adapters.demo_services` serves those
URLs (`sopipe pki serve`); B-LT signing fetches from them and embeds the answers in the document.

Key types: the CAs use ECDSA P-256 (small, fast). The seal and doctor keys are RSA-3072 on purpose: the PDF
signature itself is made with that key, and ECDSA signatures in PDF belong to PDF 2.0 (ISO 32002). pyHanko
therefore raises the catalog /Version to 2.0 when it signs with an ECDSA key, which a PDF/A-2b document
(based on PDF 1.7) may not carry. Certificate signatures inside the chain are not restricted that way.
An RSA-3072 signature takes ~1 ms once the key is loaded (see `pipeline.adapters.signing.SigningIdentity`).

Idempotent: `init_demo_pki` keeps every part that is still usable (readable, matching key, issued by the
current CA, not expiring within `RENEW_BEFORE`) and creates only what is missing or unusable, plus whatever
depends on it (a new root means a new signing CA, seal and doctors).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from pipeline.core.artsen import UZI_OTHER_NAME_OID
from pipeline.errors import SigningError

ROOT_CN = "sopipe DEMO Root CA — NIET VOOR PRODUCTIE"
INTERMEDIATE_CN = "sopipe DEMO Signing CA"
PKI_ORGANISATIE = "sopipe DEMO PKI"
DOCTOR_TITLE = "bedrijfsarts"
DEMO_NOTICE = "sopipe DEMO-certificaat, NIET VOOR PRODUCTIE"

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
INTERMEDIATE_CERT = "intermediate.pem"
INTERMEDIATE_KEY = "intermediate-key.pem"
SEAL_P12 = "seal.p12"
PASSPHRASE = "passphrase"
README = "README-DEMO.txt"
SERVICES_URL = "services-url"
OCSP_CERT = "ocsp.pem"
OCSP_KEY = "ocsp-key.pem"
TSA_CERT = "tsa.pem"
TSA_KEY = "tsa-key.pem"
CA_DIR_POINTER = "demo-ca"
CA_PASSPHRASE = "ca-passphrase"
CA_FINGERPRINT = "ca.sha256"
"""In the CA key directory (outside the root): the SHA-256 fingerprint of the root certificate `init` made."""

ROOT_VALIDITY = timedelta(days=3652)
INTERMEDIATE_VALIDITY = timedelta(days=1826)
LEAF_VALIDITY = timedelta(days=730)
TSA_VALIDITY = timedelta(days=6 * 365)
"""The TSA outlives every signer certificate, so a B-LTA signature stays verifiable after the signer's expired."""
RENEW_BEFORE = timedelta(days=30)
"""Material that expires within this margin counts as unusable and is replaced."""

SIGNER_RSA_BITS = 3072
P12_KDF_ROUNDS = 50_000

OID_OCSP_NOCHECK = ObjectIdentifier("1.3.6.1.5.5.7.48.1.5")
# RFC 9336 id-kp-documentSigning; emailProtection is added because NSS (pdfsig, Firefox) and older Acrobat
# versions look for it on signing certificates that carry an extendedKeyUsage at all.
EKU_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
UZI_CA_OID = "2.16.528.1.1003.1.3.5.5.2"
"""The first part of the UZI otherName: the OID of the issuing UZI CA (DEMO: the care-provider CA's)."""
_BIG_RE = re.compile(r"\d{11}")

README_TEXT = """\
DEMO-PKI van sopipe — NIET VOOR PRODUCTIE
=========================================

Deze map is gemaakt door `sopipe init`. Alle sleutels en certificaten hierin zijn
voorbeeldmateriaal om de keten te kunnen testen:

- ca.pem / intermediate.pem: een zelfgemaakte root- en ondertekenings-CA;
- seal.p12: het DEMO-zegel van de arbodienst (certificeert machtigingen);
- doctor-<BIG-nummer>.p12: DEMO-identiteiten van second opinion-bedrijfsartsen;
- passphrase: het wachtwoord van het zegel en de artsidentiteiten, naast de
  sleutels zelf. Het opent geen CA-sleutel: die staan buiten deze map (zie het
  bestand demo-ca), zodat niemand die deze map leest certificaten kan uitgeven.

Handtekeningen met deze sleutels hebben GEEN juridische waarde en worden door
geen enkele lezer buiten sopipe vertrouwd. Gebruik in productie certificaten van
een erkende vertrouwensdienst (bijvoorbeeld PKIoverheid) en bewaar persoonlijke
sleutels van artsen op hun eigen token of in hun eigen PKCS#12-bestand.
"""


@dataclass(frozen=True)
class DemoPki:
    """Where the demo material lives after `init_demo_pki`."""

    pki_dir: Path
    """The pki directory (mode 0700)."""
    ca_cert: Path
    """Root certificate (PEM): the trust anchor for validation."""
    intermediate_cert: Path
    """Signing CA certificate (PEM)."""
    seal_p12: Path
    """The arbodienst seal identity (PKCS#12)."""
    doctor_p12: Mapping[str, Path]
    """Doctor identities by BIG number (only those asked for in this call)."""
    passphrase_file: Path
    """File holding the PKCS#12 / key passphrase."""
    created: tuple[Path, ...] = field(default=())
    """Files written by this call; empty when everything was already in place."""
    services: ServiceUrls | None = None
    """Where CRLs, OCSP and the TSA of this PKI are served; None for a PKI without trust services."""
    ca_dir: Path | None = None
    """Where the CA keys are kept, outside the root (see the module docstring)."""

    def passphrase(self) -> bytes:
        return read_passphrase(self.pki_dir)


@dataclass(frozen=True)
class ServiceUrls:
    """The URLs of the demo trust services under one base URL (see `pipeline.adapters.demo_services`)."""

    base: str
    """e.g. `http://127.0.0.1:8765` (no trailing slash)."""

    @property
    def root_crl(self) -> str:
        return f"{self.base}/crl/root.crl"

    @property
    def intermediate_crl(self) -> str:
        return f"{self.base}/crl/intermediate.crl"

    @property
    def ocsp(self) -> str:
        return f"{self.base}/ocsp"

    @property
    def tsa(self) -> str:
        return f"{self.base}/tsa"


def read_services_url(pki_dir: Path) -> ServiceUrls | None:
    """The trust services of the PKI in `pki_dir`, or None when it was made without them."""
    try:
        base = (Path(pki_dir) / SERVICES_URL).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return ServiceUrls(base.rstrip("/")) if base else None


DEMO_MARKER = "DEMO"
"""A file that `init_demo_pki` writes into a DEMO PKI folder; a production PKI never has it."""


def is_demo_pki(pki_dir: Path) -> bool:
    """True when `pki_dir` holds the DEMO PKI made by `sopipe init` (never a production PKI).

    Decided by the fingerprint, never by a name: the marker, and a `ca.pem` whose SHA-256 fingerprint is the one
    `init` recorded beside the DEMO CA keys, outside the root, in a folder of this user that nobody else may write
    (`CA_FINGERPRINT`). A self-made certificate named like the DEMO root, or a stray `DEMO` file beside a production
    `ca.pem` (PKIoverheid, a QTSP), does not make it a DEMO, so it never switches doctors' auto-signing back on.
    """
    pki_dir = Path(pki_dir)
    if not (pki_dir / DEMO_MARKER).is_file():
        return False
    try:
        cert = x509.load_pem_x509_certificate((pki_dir / CA_CERT).read_bytes())
    except (OSError, ValueError):
        return False
    recorded = recorded_fingerprint(ca_dir_of(pki_dir))
    return recorded is not None and hmac.compare_digest(recorded, fingerprint(cert))


def fingerprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint (hex, lower case)."""
    return cert.fingerprint(hashes.SHA256()).hex()


def recorded_fingerprint(ca_dir: Path) -> str | None:
    """The root fingerprint `init` recorded in `ca_dir`, or None when there is none or someone else could have
    written it: the folder and the file must belong to this user (or root) and be closed to group and others."""
    path = Path(ca_dir) / CA_FINGERPRINT
    try:
        for st in (os.lstat(ca_dir), os.lstat(path)):
            if st.st_uid not in (os.geteuid(), 0) or st.st_mode & 0o022 or stat.S_ISLNK(st.st_mode):
                return None
        value = path.read_text(encoding="ascii").strip().lower()
    except (OSError, UnicodeDecodeError):
        return None
    return value if re.fullmatch(r"[0-9a-f]{64}", value) else None


def default_ca_dir(pki_dir: Path) -> Path:
    """Where `init_demo_pki` keeps the DEMO CA keys of `pki_dir` unless told otherwise: outside any root."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    digest = hashlib.sha256(str(Path(pki_dir).resolve()).encode("utf-8")).hexdigest()[:16]
    return base / "sopipe" / "demo-ca" / digest


def ca_dir_of(pki_dir: Path) -> Path:
    """The directory holding the CA keys of the DEMO PKI in `pki_dir` (its `demo-ca` pointer, else the default)."""
    named = _read_pointer(pki_dir)
    return Path(named) if named else default_ca_dir(pki_dir)


def _read_pointer(pki_dir: Path) -> str:
    try:
        return (Path(pki_dir) / CA_DIR_POINTER).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def load_ca_identity(pki_dir: Path, cert_name: str) -> tuple[x509.Certificate, object]:
    """(certificate, key) of the root (`CA_CERT`) or signing CA (`INTERMEDIATE_CERT`) of the DEMO PKI."""
    key_name = CA_KEY if cert_name == CA_CERT else INTERMEDIATE_KEY
    ca_dir = ca_dir_of(pki_dir)
    try:
        passphrase = (ca_dir / CA_PASSPHRASE).read_text(encoding="ascii").strip().encode("ascii")
        cert = x509.load_pem_x509_certificate((Path(pki_dir) / cert_name).read_bytes())
        key = serialization.load_pem_private_key((ca_dir / key_name).read_bytes(), password=passphrase)
    except (OSError, ValueError, TypeError, UnicodeDecodeError) as e:
        raise SigningError(f"De sleutel van de DEMO-CA ({key_name}) staat niet in {ca_dir} of is onleesbaar ({e}). "
                           "De CA-sleutels worden buiten de root bewaard, bij de gebruiker die `sopipe init` "
                           "uitvoerde; voer `sopipe init` uit als die gebruiker (een nieuwe DEMO-CA geeft ook "
                           "nieuwe identiteiten uit)") from e
    return cert, key


def read_passphrase(pki_dir: Path, *, name: str = PASSPHRASE) -> bytes:
    """The passphrase of the demo keys in `pki_dir` (`name`: `CA_PASSPHRASE` in the CA key directory)."""
    path = Path(pki_dir) / name
    try:
        value = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise SigningError(f"Wachtwoordbestand van de PKI ontbreekt of is onleesbaar: {path} ({e})") from e
    if not value:
        raise SigningError(f"Wachtwoordbestand van de PKI is leeg: {path}")
    return value.encode("ascii")


def doctor_p12_path(pki_dir: Path, big_nummer: str) -> Path:
    return pki_dir / f"doctor-{_check_big(big_nummer)}.p12"


def init_demo_pki(pki_dir: Path, *, organisatie: str, doctors: Sequence[tuple[str, str]],
                  now: datetime | None = None, services_url: str | None = None,
                  ca_dir: Path | None = None) -> DemoPki:
    """Create (or complete) the DEMO PKI in `pki_dir`; keep whatever is still usable.

    `doctors` are (naam, big_nummer) pairs; `now` pins the clock (tests), default the current UTC time.
    `services_url`: base URL of the trust services (CRL, OCSP, TSA) to name in the certificates, e.g.
    `http://127.0.0.1:8765`; adds an OCSP responder and a TSA. A changed URL reissues everything below the root.
    `ca_dir`: where the CA keys go (never inside `pki_dir`); default: the one used before, else `default_ca_dir`.
    """
    if services_url is not None and not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", services_url):
        raise SigningError(f"Ongeldige URL voor de vertrouwensdiensten: {services_url!r}", field="services_url")
    services = ServiceUrls(services_url.rstrip("/")) if services_url else None
    if not organisatie.strip():
        raise SigningError("Organisatie voor het DEMO-zegel ontbreekt", field="organisatie")
    for naam, big in doctors:
        _check_big(big)
        if not naam.strip():
            raise SigningError(f"Naam ontbreekt voor BIG-nummer {big}", field="naam")
    now = now or datetime.now(UTC)
    ca_dir = Path(ca_dir).resolve() if ca_dir is not None else ca_dir_of(pki_dir)
    if ca_dir.is_relative_to(Path(pki_dir).resolve()):
        raise SigningError(f"De CA-sleutels mogen niet in de PKI-map zelf staan: {ca_dir}", field="ca_dir")
    created: list[Path] = []
    try:
        _ensure_dir(pki_dir)
        _ensure_dir(ca_dir)
        passphrase = _ensure_passphrase(pki_dir, created)
        ca_passphrase = _ensure_passphrase(ca_dir, created, name=CA_PASSPHRASE)
        _move_ca_keys_out(pki_dir, passphrase, ca_dir, ca_passphrase)
        if _read_pointer(pki_dir) != str(ca_dir):  # also when it is the default: a copied pki/ still finds it
            _write_public(pki_dir / CA_DIR_POINTER, f"{ca_dir}\n".encode("utf-8"), created)
        root, root_key = _ensure_root(pki_dir, ca_dir, ca_passphrase, now, created)
        if recorded_fingerprint(ca_dir) != fingerprint(root):  # the root whose key is in ca_dir: the DEMO one
            _write_private(ca_dir / CA_FINGERPRINT, (fingerprint(root) + "\n").encode("ascii"), created)
        inter, inter_key = _ensure_intermediate(pki_dir, ca_dir, ca_passphrase, root, root_key, now, created,
                                                services)
        chain = (inter, root)
        if services is not None:
            _ensure_services(pki_dir, passphrase, root, root_key, inter, inter_key, now, created, services)
        seal_subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisatie),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisatie} DEMO zegel"),
        ])
        seal = _ensure_leaf(pki_dir / SEAL_P12, seal_subject, passphrase, chain, inter_key, now, created,
                            services)
        doctor_paths = {}
        for naam, big in doctors:
            doctor_paths[big] = _ensure_leaf(doctor_p12_path(pki_dir, big), _doctor_subject(naam, big), passphrase,
                                             chain, inter_key, now, created, services)
        _ensure_readme(pki_dir, created)
        if not (pki_dir / DEMO_MARKER).is_file():
            _write_public(pki_dir / DEMO_MARKER, b"DEMO PKI made by sopipe init: not for production.\n", created)
    except OSError as e:
        raise SigningError(f"DEMO-PKI kan niet worden aangemaakt in {pki_dir}: {e}") from e
    return DemoPki(pki_dir=pki_dir, ca_cert=pki_dir / CA_CERT, intermediate_cert=pki_dir / INTERMEDIATE_CERT,
                   seal_p12=seal, doctor_p12=MappingProxyType(doctor_paths), passphrase_file=pki_dir / PASSPHRASE,
                   created=tuple(created), services=services, ca_dir=ca_dir)


def move_services(pki_dir: Path, services_url: str, *, now: datetime | None = None) -> DemoPki:
    """Name another base URL for the trust services in every certificate below the root (e.g. another port).

    The organisation and the doctors (name, BIG number) are read from the identities already in `pki_dir`, so
    the same seal and doctors are issued again under the same root; documents signed earlier stay valid.
    """
    passphrase = read_passphrase(pki_dir)
    identities = []
    for path in [pki_dir / SEAL_P12, *sorted(pki_dir.glob("doctor-*.p12"))]:
        try:
            _, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
        except (OSError, ValueError) as e:
            raise SigningError(f"{path} kan niet worden gelezen om opnieuw uit te geven: {e}") from e
        identities.append(cert.subject)
    seal, doctors = identities[0], identities[1:]

    def attr(name: x509.Name, oid) -> str:
        return str(name.get_attributes_for_oid(oid)[0].value)

    return init_demo_pki(pki_dir, organisatie=attr(seal, NameOID.ORGANIZATION_NAME), now=now,
                         doctors=[(attr(d, NameOID.COMMON_NAME), attr(d, NameOID.SERIAL_NUMBER)) for d in doctors],
                         services_url=services_url)


def add_doctor(pki_dir: Path, naam: str, big: str, *, now: datetime | None = None) -> Path:
    """Issue (or keep) a DEMO identity for one more doctor under the existing signing CA; returns the p12 path."""
    _check_big(big)
    return _issue(pki_dir, doctor_p12_path(pki_dir, big), _doctor_subject(naam, big), now=now, what=f"BIG {big}")


def add_uzi_doctor(pki_dir: Path, naam: str, *, uzi_nummer: str, abonneenummer: str, agb: str,
                   rol: str = "01.015", pastype: str = "Z", organisatie: str = "DEMO Arbopraktijk",
                   now: datetime | None = None) -> Path:
    """Issue (or keep) a DEMO identity shaped like a UZI-pas signing certificate; returns `uzi-<UZI>.p12`.

    As the UZI register's profiles have it: the subject's serialNumber is the UZI number (not the BIG number, which
    a UZI-pas does not carry), title the role, and the SubjectAltName an otherName (OID 2.5.5.5, IA5String)
    `<OID-CA>-<versie>-<UZI-nummer>-<pastype>-<abonneenummer>-<rol>-<AGB-code>`. The BIG number is bound to it in
    the doctors' registry (`[artsen.<BIG>] uzi_nummer`)."""
    from asn1crypto.core import IA5String
    for label, value, pattern in (("UZI-nummer", uzi_nummer, r"\d{1,12}"), ("abonneenummer", abonneenummer, r"\d{1,12}"),
                                  ("AGB-code", agb, r"\d{1,12}"), ("rol", rol, r"\d{2}(\.\d{3})?"),
                                  ("pastype", pastype, r"[ZNMS]")):
        if not re.fullmatch(pattern, value or ""):
            raise SigningError(f"Ongeldig(e) {label} {value!r} voor een UZI-certificaat", field=label)
    other = f"{UZI_CA_OID}-1-{uzi_nummer}-{pastype}-{abonneenummer}-{rol}-{agb}"
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisatie),
        x509.NameAttribute(NameOID.TITLE, rol),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, uzi_nummer),
        x509.NameAttribute(NameOID.COMMON_NAME, naam),
    ])
    san = x509.SubjectAlternativeName([x509.OtherName(ObjectIdentifier(UZI_OTHER_NAME_OID),
                                                      IA5String(other).dump())])
    return _issue(pki_dir, pki_dir / f"uzi-{uzi_nummer}.p12", subject, now=now, what=f"UZI {uzi_nummer}", san=san)


def _issue(pki_dir: Path, path: Path, subject: x509.Name, *, now: datetime | None, what: str,
           san: x509.SubjectAlternativeName | None = None) -> Path:
    now = now or datetime.now(UTC)
    passphrase = read_passphrase(pki_dir)
    services = read_services_url(pki_dir)
    ca_dir = ca_dir_of(pki_dir)
    try:
        ca_passphrase = read_passphrase(ca_dir, name=CA_PASSPHRASE)
    except SigningError as e:
        raise SigningError(f"De sleutels van de DEMO-CA staan niet in {ca_dir} (ze worden buiten de root bewaard, "
                           "bij de gebruiker die `sopipe init` uitvoerde): voer dit uit als die gebruiker, of voer "
                           "`sopipe init` opnieuw uit (een nieuwe DEMO-CA geeft ook nieuwe identiteiten uit)") from e
    try:
        root = _usable_ca(pki_dir / CA_CERT, ca_dir / CA_KEY, ca_passphrase, None, now)
        inter = root and _usable_ca(pki_dir / INTERMEDIATE_CERT, ca_dir / INTERMEDIATE_KEY, ca_passphrase, root[0],
                                    now, crl_url=services.root_crl if services else None)
        if not inter:
            raise SigningError(f"Geen bruikbare DEMO-CA voor {pki_dir} (sleutels in {ca_dir}); voer eerst "
                               "`sopipe init` uit")
        return _ensure_leaf(path, subject, passphrase, (inter[0], root[0]), inter[1], now, [], services, san=san)
    except OSError as e:
        raise SigningError(f"DEMO-identiteit voor {what} kan niet worden gemaakt: {e}") from e


def _ensure_dir(pki_dir: Path) -> None:
    pki_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if pki_dir.stat().st_mode & 0o777 != 0o700:
        pki_dir.chmod(0o700)


def _move_ca_keys_out(pki_dir: Path, passphrase: bytes, ca_dir: Path, ca_passphrase: bytes) -> None:
    """A root made before the CA keys moved out: re-encrypt them into `ca_dir`, then remove them from `pki_dir`."""
    for name in (CA_KEY, INTERMEDIATE_KEY):
        legacy = pki_dir / name
        if not legacy.exists():
            continue
        if not (ca_dir / name).exists():
            try:
                key = serialization.load_pem_private_key(legacy.read_bytes(), password=passphrase)
                _atomic_write(ca_dir / name, _encrypted_pem(key, ca_passphrase), 0o600)
            except (ValueError, TypeError):
                pass  # unreadable: the CA is made anew below
        legacy.unlink()


def _ensure_passphrase(pki_dir: Path, created: list[Path], *, name: str = PASSPHRASE) -> bytes:
    path = pki_dir / name
    if path.exists():
        try:
            value = read_passphrase(pki_dir, name=name)
            _tighten(path)
            return value
        except SigningError:
            pass  # empty or unreadable: replace; everything encrypted with it is replaced too
    value = secrets.token_urlsafe(32)
    _write_private(path, (value + "\n").encode("ascii"), created)
    return value.encode("ascii")


def _ensure_root(pki_dir: Path, ca_dir: Path, passphrase: bytes, now: datetime,
                 created: list[Path]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    usable = _usable_ca(pki_dir / CA_CERT, ca_dir / CA_KEY, passphrase, None, now)
    if usable:
        return usable
    key = ec.generate_private_key(ec.SECP256R1())
    name = _ca_name(ROOT_CN)
    cert = _builder(name, name, key.public_key(), key.public_key(), now, now + ROOT_VALIDITY) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True) \
        .add_extension(_CA_KEY_USAGE, critical=True) \
        .sign(key, hashes.SHA256())
    _write_private(ca_dir / CA_KEY, _encrypted_pem(key, passphrase), created)
    _write_public(pki_dir / CA_CERT, cert.public_bytes(serialization.Encoding.PEM), created)
    return cert, key


def _ensure_intermediate(pki_dir: Path, ca_dir: Path, passphrase: bytes, root: x509.Certificate,
                         root_key: ec.EllipticCurvePrivateKey, now: datetime,
                         created: list[Path], services: ServiceUrls | None = None,
                         ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    crl_url = services.root_crl if services else None
    usable = _usable_ca(pki_dir / INTERMEDIATE_CERT, ca_dir / INTERMEDIATE_KEY, passphrase, root, now,
                        crl_url=crl_url)
    if usable:
        return usable
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + INTERMEDIATE_VALIDITY, root.not_valid_after_utc)
    builder = _builder(_ca_name(INTERMEDIATE_CN), root.subject, key.public_key(), root_key.public_key(), now,
                       not_after) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True) \
        .add_extension(_CA_KEY_USAGE, critical=True)
    cert = _with_status_urls(builder, crl_url=crl_url, ocsp_url=None).sign(root_key, hashes.SHA256())
    _write_private(ca_dir / INTERMEDIATE_KEY, _encrypted_pem(key, passphrase), created)
    _write_public(pki_dir / INTERMEDIATE_CERT, cert.public_bytes(serialization.Encoding.PEM), created)
    return cert, key


def _ensure_leaf(path: Path, subject: x509.Name, passphrase: bytes,
                 chain: tuple[x509.Certificate, x509.Certificate], issuer_key: ec.EllipticCurvePrivateKey,
                 now: datetime, created: list[Path], services: ServiceUrls | None = None,
                 san: x509.SubjectAlternativeName | None = None) -> Path:
    inter = chain[0]
    crl_url, ocsp_url = (services.intermediate_crl, services.ocsp) if services else (None, None)
    if _usable_leaf(path, subject, passphrase, inter, now, crl_url=crl_url, ocsp_url=ocsp_url):
        _tighten(path)
        return path
    key = rsa.generate_private_key(public_exponent=65537, key_size=SIGNER_RSA_BITS)
    not_after = min(now + LEAF_VALIDITY, inter.not_valid_after_utc)
    builder = _builder(subject, inter.subject, key.public_key(), issuer_key.public_key(), now, not_after)
    cert = _with_status_urls(builder, crl_url=crl_url, ocsp_url=ocsp_url) \
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True) \
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True) \
        .add_extension(x509.ExtendedKeyUsage([EKU_DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
    cert = (cert.add_extension(san, critical=False) if san is not None else cert).sign(issuer_key, hashes.SHA256())
    friendly = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    data = pkcs12.serialize_key_and_certificates(
        name=str(friendly).encode("utf-8"), key=key, cert=cert, cas=list(chain),
        encryption_algorithm=_p12_encryption(passphrase))
    _write_private(path, data, created)
    return path


def _ensure_services(pki_dir: Path, passphrase: bytes, root: x509.Certificate, root_key: ec.EllipticCurvePrivateKey,
                     inter: x509.Certificate, inter_key: ec.EllipticCurvePrivateKey, now: datetime,
                     created: list[Path], services: ServiceUrls) -> None:
    """The OCSP responder (delegated by the signing CA) and the TSA (issued by the root), plus `services-url`."""
    url_path = pki_dir / SERVICES_URL
    try:
        current = url_path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        current = None
    if current != services.base:
        _write_public(url_path, (services.base + "\n").encode("ascii"), created)

    ocsp_subject = _ca_name("sopipe DEMO OCSP-responder")
    if not _usable_service_cert(pki_dir / OCSP_CERT, pki_dir / OCSP_KEY, ocsp_subject, passphrase, inter, now):
        key = ec.generate_private_key(ec.SECP256R1())
        not_after = min(now + LEAF_VALIDITY, inter.not_valid_after_utc)
        cert = _builder(ocsp_subject, inter.subject, key.public_key(), inter_key.public_key(), now, not_after) \
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True) \
            .add_extension(_SERVICE_KEY_USAGE, critical=True) \
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False) \
            .add_extension(x509.UnrecognizedExtension(OID_OCSP_NOCHECK, b"\x05\x00"), critical=False) \
            .sign(inter_key, hashes.SHA256())
        _write_private(pki_dir / OCSP_KEY, _encrypted_pem(key, passphrase), created)
        _write_public(pki_dir / OCSP_CERT, cert.public_bytes(serialization.Encoding.PEM), created)

    tsa_subject = _ca_name("sopipe DEMO TSA")
    if not _usable_service_cert(pki_dir / TSA_CERT, pki_dir / TSA_KEY, tsa_subject, passphrase, root, now,
                                crl_url=services.root_crl):
        key = ec.generate_private_key(ec.SECP256R1())
        not_after = min(now + TSA_VALIDITY, root.not_valid_after_utc)
        builder = _builder(tsa_subject, root.subject, key.public_key(), root_key.public_key(), now, not_after) \
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True) \
            .add_extension(_SERVICE_KEY_USAGE, critical=True) \
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        cert = _with_status_urls(builder, crl_url=services.root_crl, ocsp_url=None).sign(root_key, hashes.SHA256())
        _write_private(pki_dir / TSA_KEY, _encrypted_pem(key, passphrase), created)
        _write_public(pki_dir / TSA_CERT, cert.public_bytes(serialization.Encoding.PEM), created)


def load_service_identity(pki_dir: Path, cert_name: str, key_name: str) -> tuple[x509.Certificate, object]:
    """(certificate, private key) of a service (OCSP responder, TSA) or a CA in `pki_dir`."""
    passphrase = read_passphrase(pki_dir)
    try:
        cert = x509.load_pem_x509_certificate((pki_dir / cert_name).read_bytes())
        key = serialization.load_pem_private_key((pki_dir / key_name).read_bytes(), password=passphrase)
    except (OSError, ValueError, TypeError) as e:
        raise SigningError(f"{cert_name} of {key_name} in {pki_dir} ontbreekt of is onleesbaar ({e}); voer "
                           "`sopipe init` uit") from e
    return cert, key


# --- checks ------------------------------------------------------------------------------------------------------

def _usable_service_cert(cert_path: Path, key_path: Path, subject: x509.Name, passphrase: bytes,
                         issuer: x509.Certificate, now: datetime, *, crl_url: str | None = None) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=passphrase)
    except (OSError, ValueError, TypeError):
        return False
    ok = (_spki(key.public_key()) == _spki(cert.public_key()) and cert.subject == subject and _current(cert, now)
          and _issued_by(cert, issuer) and _status_urls(cert) == (crl_url, None))
    if ok:
        _tighten(key_path)
    return ok


def _usable_ca(cert_path: Path, key_path: Path, passphrase: bytes, issuer: x509.Certificate | None,
               now: datetime, *, crl_url: str | None = None) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The CA certificate and key if both are present, match, chain to `issuer` (None: self-signed) and are current."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=passphrase)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or _spki(key.public_key()) != _spki(cert.public_key()):
        return None
    try:
        basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None
    if not basic.ca or not _current(cert, now) or not _issued_by(cert, issuer or cert):
        return None
    if issuer is not None and _status_urls(cert) != (crl_url, None):
        return None
    _tighten(key_path)
    return cert, key


def _usable_leaf(path: Path, subject: x509.Name, passphrase: bytes, issuer: x509.Certificate, now: datetime, *,
                 crl_url: str | None = None, ocsp_url: str | None = None) -> bool:
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except (OSError, ValueError, TypeError):
        return False
    return (cert is not None and key is not None and _spki(key.public_key()) == _spki(cert.public_key())
            and cert.subject == subject and _current(cert, now) and _issued_by(cert, issuer)
            and _status_urls(cert) == (crl_url, ocsp_url))


def _status_urls(cert: x509.Certificate) -> tuple[str | None, str | None]:
    """(CRL distribution point, OCSP responder) named in the certificate, None where absent."""
    crl_url = ocsp_url = None
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        crl_url = next((n.value for p in points for n in (p.full_name or [])
                        if isinstance(n, x509.UniformResourceIdentifier)), None)
    except x509.ExtensionNotFound:
        pass
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        ocsp_url = next((d.access_location.value for d in aia
                         if d.access_method == x509.oid.AuthorityInformationAccessOID.OCSP), None)
    except x509.ExtensionNotFound:
        pass
    return crl_url, ocsp_url


def _current(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now and now + RENEW_BEFORE < cert.not_valid_after_utc


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# --- building blocks ---------------------------------------------------------------------------------------------

_CA_KEY_USAGE = x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                              data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                              encipher_only=False, decipher_only=False)


_SERVICE_KEY_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                   data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                                   encipher_only=False, decipher_only=False)


def _with_status_urls(builder: x509.CertificateBuilder, *, crl_url: str | None,
                      ocsp_url: str | None) -> x509.CertificateBuilder:
    """Name where the certificate's revocation status is published (needed for B-LT)."""
    if crl_url:
        builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
            full_name=[x509.UniformResourceIdentifier(crl_url)], relative_name=None, reasons=None,
            crl_issuer=None)]), critical=False)
    if ocsp_url:
        builder = builder.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url))]),
            critical=False)
    return builder


def _builder(subject: x509.Name, issuer: x509.Name, public_key, issuer_public_key, not_before: datetime,
             not_after: datetime) -> x509.CertificateBuilder:
    # Backdate a little so that a validator whose clock runs slightly behind still accepts fresh certificates.
    return x509.CertificateBuilder() \
        .subject_name(subject).issuer_name(issuer).public_key(public_key) \
        .serial_number(x509.random_serial_number()) \
        .not_valid_before(not_before - timedelta(minutes=10)).not_valid_after(not_after) \
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False) \
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False) \
        .add_extension(x509.CertificatePolicies([x509.PolicyInformation(
            x509.oid.CertificatePoliciesOID.ANY_POLICY, [x509.UserNotice(None, DEMO_NOTICE)])]), critical=False)


def _ca_name(cn: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, PKI_ORGANISATIE),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _doctor_subject(naam: str, big: str) -> x509.Name:
    # serialNumber carries the BIG number so a signature can be matched to the case's SO doctor.
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.TITLE, DOCTOR_TITLE),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, big),
        x509.NameAttribute(NameOID.COMMON_NAME, naam),
    ])


def _check_big(big: str) -> str:
    if not _BIG_RE.fullmatch(big or ""):
        raise SigningError(f"Ongeldig BIG-nummer {big!r}: verwacht 11 cijfers", field="big_nummer")
    return big


def _spki(public_key) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _encrypted_pem(key, passphrase: bytes) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(passphrase))


def _p12_encryption(passphrase: bytes) -> serialization.KeySerializationEncryption:
    # AES-256-CBC + PBKDF2-SHA256 and an SHA-256 MAC: readable by OpenSSL 3, NSS and pyHanko alike.
    return serialization.PrivateFormat.PKCS12.encryption_builder() \
        .kdf_rounds(P12_KDF_ROUNDS) \
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC) \
        .hmac_hash(hashes.SHA256()) \
        .build(passphrase)


def _ensure_readme(pki_dir: Path, created: list[Path]) -> None:
    path = pki_dir / README
    try:
        if path.read_text(encoding="utf-8") == README_TEXT:
            return
    except (OSError, UnicodeDecodeError):
        pass
    _write_public(path, README_TEXT.encode("utf-8"), created)


def _tighten(path: Path) -> None:
    if path.exists() and path.stat().st_mode & 0o777 != 0o600:
        path.chmod(0o600)


def _write_private(path: Path, data: bytes, created: list[Path]) -> None:
    _atomic_write(path, data, 0o600)
    created.append(path)


def _write_public(path: Path, data: bytes, created: list[Path]) -> None:
    _atomic_write(path, data, 0o644)
    created.append(path)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    # mkstemp creates the file 0600 from the start, so a key is never readable by others, not even briefly;
    # the rename means a crash leaves either the old file or the new one, never half of one.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
