"""DEMO public-key infrastructure: a root CA, a signing CA, the arbodienst seal and SO-doctor identities.

`sopipe init` calls `init_demo_pki` so that a fresh installation can sign and validate documents end to end.
Everything here is a DEMO and NEVER for production: the keys are made on this machine and the passphrase that
protects them lies next to them. Production identities come from a real trust service (PKIoverheid, a QTSP) as
PKCS#12 files or on a token (PKCS#11); the signing adapter only needs the resulting files, not this module.

Layout of the pki directory (mode 0700; private material 0600):

    ca.pem                 root certificate - the trust anchor validators are given
    ca-key.pem             root key (PKCS#8, encrypted with the passphrase)
    intermediate.pem       signing CA certificate, embedded in every signature
    intermediate-key.pem   signing CA key (encrypted), needed to issue more doctors
    seal.p12               arbodienst seal: key + certificate + chain
    doctor-<BIG>.p12       one per SO doctor: key + certificate + chain
    passphrase             the random passphrase of all of the above
    README-DEMO.txt        says all this in Dutch

Key types: the CAs use ECDSA P-256 (small, fast). The seal and doctor keys are RSA-3072 on purpose: the PDF
signature itself is made with that key, and ECDSA signatures in PDF belong to PDF 2.0 (ISO 32002). pyHanko
therefore raises the catalog /Version to 2.0 when it signs with an ECDSA key, which a PDF/A-2b document
(based on PDF 1.7) may not carry. Certificate signatures inside the chain are not restricted that way.
RSA costs only ~2 ms per signature once the key is loaded (see `pipeline.adapters.signing.SigningIdentity`).

Idempotent: `init_demo_pki` keeps every part that is still usable (readable, matching key, issued by the
current CA, not expiring within `RENEW_BEFORE`) and creates only what is missing or unusable, plus whatever
depends on it (a new root means a new signing CA, seal and doctors).
"""

from __future__ import annotations

import os
import re
import secrets
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

ROOT_VALIDITY = timedelta(days=3652)
INTERMEDIATE_VALIDITY = timedelta(days=1826)
LEAF_VALIDITY = timedelta(days=730)
RENEW_BEFORE = timedelta(days=30)
"""Material that expires within this margin counts as unusable and is replaced."""

SIGNER_RSA_BITS = 3072
P12_KDF_ROUNDS = 50_000

# RFC 9336 id-kp-documentSigning; emailProtection is added because NSS (pdfsig, Firefox) and older Acrobat
# versions look for it on signing certificates that carry an extendedKeyUsage at all.
EKU_DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")
_BIG_RE = re.compile(r"\d{11}")

README_TEXT = """\
DEMO-PKI van sopipe — NIET VOOR PRODUCTIE
=========================================

Deze map is gemaakt door `sopipe init`. Alle sleutels en certificaten hierin zijn
voorbeeldmateriaal om de keten te kunnen testen:

- ca.pem / intermediate.pem: een zelfgemaakte root- en ondertekenings-CA;
- seal.p12: het DEMO-zegel van de arbodienst (certificeert machtigingen);
- doctor-<BIG-nummer>.p12: DEMO-identiteiten van second opinion-bedrijfsartsen;
- passphrase: het wachtwoord van alle sleutels, naast de sleutels zelf.

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

    def passphrase(self) -> bytes:
        return read_passphrase(self.pki_dir)


def read_passphrase(pki_dir: Path) -> bytes:
    """The passphrase of the demo keys in `pki_dir`."""
    try:
        value = (pki_dir / PASSPHRASE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise SigningError(f"Wachtwoordbestand van de PKI ontbreekt of is onleesbaar: {pki_dir / PASSPHRASE} ({e})") from e
    if not value:
        raise SigningError(f"Wachtwoordbestand van de PKI is leeg: {pki_dir / PASSPHRASE}")
    return value.encode("ascii")


def doctor_p12_path(pki_dir: Path, big_nummer: str) -> Path:
    return pki_dir / f"doctor-{_check_big(big_nummer)}.p12"


def init_demo_pki(pki_dir: Path, *, organisatie: str, doctors: Sequence[tuple[str, str]],
                  now: datetime | None = None) -> DemoPki:
    """Create (or complete) the DEMO PKI in `pki_dir`; keep whatever is still usable.

    `doctors` are (naam, big_nummer) pairs; `now` pins the clock (tests), default the current UTC time.
    """
    if not organisatie.strip():
        raise SigningError("Organisatie voor het DEMO-zegel ontbreekt", field="organisatie")
    for naam, big in doctors:
        _check_big(big)
        if not naam.strip():
            raise SigningError(f"Naam ontbreekt voor BIG-nummer {big}", field="naam")
    now = now or datetime.now(UTC)
    created: list[Path] = []
    try:
        _ensure_dir(pki_dir)
        passphrase = _ensure_passphrase(pki_dir, created)
        root, root_key = _ensure_root(pki_dir, passphrase, now, created)
        inter, inter_key = _ensure_intermediate(pki_dir, passphrase, root, root_key, now, created)
        chain = (inter, root)
        seal_subject = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisatie),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisatie} DEMO zegel"),
        ])
        seal = _ensure_leaf(pki_dir / SEAL_P12, seal_subject, passphrase, chain, inter_key, now, created)
        doctor_paths = {}
        for naam, big in doctors:
            doctor_paths[big] = _ensure_leaf(doctor_p12_path(pki_dir, big), _doctor_subject(naam, big), passphrase,
                                             chain, inter_key, now, created)
        _ensure_readme(pki_dir, created)
    except OSError as e:
        raise SigningError(f"DEMO-PKI kan niet worden aangemaakt in {pki_dir}: {e}") from e
    return DemoPki(pki_dir=pki_dir, ca_cert=pki_dir / CA_CERT, intermediate_cert=pki_dir / INTERMEDIATE_CERT,
                   seal_p12=seal, doctor_p12=MappingProxyType(doctor_paths), passphrase_file=pki_dir / PASSPHRASE,
                   created=tuple(created))


def add_doctor(pki_dir: Path, naam: str, big: str, *, now: datetime | None = None) -> Path:
    """Issue (or keep) a DEMO identity for one more doctor under the existing signing CA; returns the p12 path."""
    _check_big(big)
    now = now or datetime.now(UTC)
    passphrase = read_passphrase(pki_dir)
    try:
        root = _usable_ca(pki_dir / CA_CERT, pki_dir / CA_KEY, passphrase, None, now)
        inter = root and _usable_ca(pki_dir / INTERMEDIATE_CERT, pki_dir / INTERMEDIATE_KEY, passphrase, root[0], now)
        if not inter:
            raise SigningError(f"Geen bruikbare DEMO-CA in {pki_dir}; voer eerst `sopipe init` uit")
        return _ensure_leaf(doctor_p12_path(pki_dir, big), _doctor_subject(naam, big), passphrase,
                            (inter[0], root[0]), inter[1], now, [])
    except OSError as e:
        raise SigningError(f"DEMO-identiteit voor BIG {big} kan niet worden gemaakt: {e}") from e


# --- parts -------------------------------------------------------------------------------------------------------

def _ensure_dir(pki_dir: Path) -> None:
    pki_dir.mkdir(parents=True, exist_ok=True)
    if pki_dir.stat().st_mode & 0o777 != 0o700:
        pki_dir.chmod(0o700)


def _ensure_passphrase(pki_dir: Path, created: list[Path]) -> bytes:
    path = pki_dir / PASSPHRASE
    if path.exists():
        try:
            value = read_passphrase(pki_dir)
            _tighten(path)
            return value
        except SigningError:
            pass  # empty or unreadable: replace; everything encrypted with it is replaced too
    value = secrets.token_urlsafe(32)
    _write_private(path, (value + "\n").encode("ascii"), created)
    return value.encode("ascii")


def _ensure_root(pki_dir: Path, passphrase: bytes, now: datetime,
                 created: list[Path]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    usable = _usable_ca(pki_dir / CA_CERT, pki_dir / CA_KEY, passphrase, None, now)
    if usable:
        return usable
    key = ec.generate_private_key(ec.SECP256R1())
    name = _ca_name(ROOT_CN)
    cert = _builder(name, name, key.public_key(), key.public_key(), now, now + ROOT_VALIDITY) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True) \
        .add_extension(_CA_KEY_USAGE, critical=True) \
        .sign(key, hashes.SHA256())
    _write_private(pki_dir / CA_KEY, _encrypted_pem(key, passphrase), created)
    _write_public(pki_dir / CA_CERT, cert.public_bytes(serialization.Encoding.PEM), created)
    return cert, key


def _ensure_intermediate(pki_dir: Path, passphrase: bytes, root: x509.Certificate,
                         root_key: ec.EllipticCurvePrivateKey, now: datetime,
                         created: list[Path]) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    usable = _usable_ca(pki_dir / INTERMEDIATE_CERT, pki_dir / INTERMEDIATE_KEY, passphrase, root, now)
    if usable:
        return usable
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(now + INTERMEDIATE_VALIDITY, root.not_valid_after_utc)
    cert = _builder(_ca_name(INTERMEDIATE_CN), root.subject, key.public_key(), root_key.public_key(), now, not_after) \
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True) \
        .add_extension(_CA_KEY_USAGE, critical=True) \
        .sign(root_key, hashes.SHA256())
    _write_private(pki_dir / INTERMEDIATE_KEY, _encrypted_pem(key, passphrase), created)
    _write_public(pki_dir / INTERMEDIATE_CERT, cert.public_bytes(serialization.Encoding.PEM), created)
    return cert, key


def _ensure_leaf(path: Path, subject: x509.Name, passphrase: bytes,
                 chain: tuple[x509.Certificate, x509.Certificate], issuer_key: ec.EllipticCurvePrivateKey,
                 now: datetime, created: list[Path]) -> Path:
    inter = chain[0]
    if _usable_leaf(path, subject, passphrase, inter, now):
        _tighten(path)
        return path
    key = rsa.generate_private_key(public_exponent=65537, key_size=SIGNER_RSA_BITS)
    not_after = min(now + LEAF_VALIDITY, inter.not_valid_after_utc)
    cert = _builder(subject, inter.subject, key.public_key(), issuer_key.public_key(), now, not_after) \
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True) \
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True) \
        .add_extension(x509.ExtendedKeyUsage([EKU_DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False) \
        .sign(issuer_key, hashes.SHA256())
    friendly = subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    data = pkcs12.serialize_key_and_certificates(
        name=str(friendly).encode("utf-8"), key=key, cert=cert, cas=list(chain),
        encryption_algorithm=_p12_encryption(passphrase))
    _write_private(path, data, created)
    return path


# --- checks ------------------------------------------------------------------------------------------------------

def _usable_ca(cert_path: Path, key_path: Path, passphrase: bytes, issuer: x509.Certificate | None,
               now: datetime) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
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
    _tighten(key_path)
    return cert, key


def _usable_leaf(path: Path, subject: x509.Name, passphrase: bytes, issuer: x509.Certificate, now: datetime) -> bool:
    try:
        key, cert, _ = pkcs12.load_key_and_certificates(path.read_bytes(), passphrase)
    except (OSError, ValueError, TypeError):
        return False
    return (cert is not None and key is not None and _spki(key.public_key()) == _spki(cert.public_key())
            and cert.subject == subject and _current(cert, now) and _issued_by(cert, issuer))


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
