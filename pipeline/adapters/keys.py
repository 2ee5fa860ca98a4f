"""Signing keys: who signs, loaded once. A private key with its certificate chain (`SigningIdentity`), the keys of
one pki directory by role (`KeyRing`), and the secrets that open them (`read_secret`).

Loading a PKCS#12 file (key derivation, key checks) is the expensive part, so it happens once per process, never
per signature: `SigningIdentity.from_pkcs12`. A token (PKCS#11: a doctor's UZI-pas, SoftHSM in tests):
`from_pkcs11` opens one session, logs in once and keeps it until `close()`. Calls that use the same token
identity are serialised by the identity's lock (a session must not be shared); a key held in memory signs
concurrently (see `pipeline.adapters.signing`).
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType

from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import pkcs12
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
from pyhanko.sign.signers.pdf_cms import Signer, SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from pipeline.adapters import child_env, demo_pki
from pipeline.core.artsen import UZI_OTHER_NAME_OID, Certificaathouder, UziNaam, parse_uzi_name
from pipeline.errors import SigningError


class SigningIdentity:
    """A signing key plus certificate chain, loaded once and reused for any number of signatures."""

    def __init__(self, signer: Signer, *, source: str) -> None:
        if signer.signing_cert is None:
            raise SigningError(f"Ondertekenidentiteit zonder certificaat: {source}")
        self._signer = signer
        self.source = source
        """Where the key came from (for messages and logs), e.g. `pkcs12:/srv/pki/seal.p12`."""
        self.lock = threading.Lock()
        """Held while this identity signs, if `exclusive`; see the module docstring on threads."""
        self.exclusive = False
        """Whether one signature at a time (a token session); a key in memory signs concurrently."""

    @classmethod
    def from_pkcs12(cls, path: Path, passphrase: bytes) -> SigningIdentity:
        """Read and decrypt a PKCS#12 file once; the chain it carries is embedded in every signature."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise SigningError(f"PKCS#12-bestand kan niet worden gelezen: {path} ({e.strerror or e})") from e
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, passphrase)
        except (ValueError, TypeError) as e:
            raise SigningError(f"PKCS#12-bestand {path} kan niet worden geopend: verkeerd wachtwoord of beschadigd "
                               f"bestand") from e
        if key is None or cert is None:
            raise SigningError(f"PKCS#12-bestand {path} bevat geen sleutel met certificaat")
        if not isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey):
            raise SigningError(f"PKCS#12-bestand {path}: sleuteltype {type(key).__name__} wordt niet ondersteund")
        registry = SimpleCertificateStore()
        registry.register_multiple([translate_pyca_cryptography_cert_to_asn1(c) for c in extra])
        signer = _LoadedKeySigner(key, signing_cert=translate_pyca_cryptography_cert_to_asn1(cert),
                                  signing_key=translate_pyca_cryptography_key_to_asn1(key), cert_registry=registry)
        return cls(signer, source=f"pkcs12:{path}")

    @classmethod
    def from_pkcs11(cls, module: str | Path, *, token_label: str, key_label: str, pin: str,
                    cert_label: str | None = None, chain: Sequence[Path] = ()) -> SigningIdentity:
        """Open the token once (login with `pin`) and use the key `key_label` with the certificate of the same label.

        The chain comes from the token itself (every certificate on it) plus the PEM files in `chain`.
        """
        from pyhanko.config.pkcs11 import TokenCriteria
        from pyhanko.keys import load_certs_from_pemder
        from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session
        try:
            session = open_pkcs11_session(str(module), token_criteria=TokenCriteria(label=token_label),
                                          user_pin=pin)
        except Exception as e:  # the PKCS#11 library's own errors carry no useful text for people
            raise SigningError(f"Token {token_label!r} kan niet worden geopend via {module}: verkeerde pincode, "
                               f"token niet aanwezig of module onbruikbaar ({type(e).__name__}: {e})") from e
        try:
            extra = list(load_certs_from_pemder([str(p) for p in chain])) if chain else []
            signer = PKCS11Signer(session, key_label=key_label, cert_label=cert_label or key_label,
                                  other_certs_to_pull=None, ca_chain=extra)
            signer.signing_cert  # load key handle and certificate now, not in the middle of a signature
        except Exception as e:
            session.close()
            raise SigningError(f"Sleutel {key_label!r} met certificaat staat niet op token {token_label!r} "
                               f"({type(e).__name__}: {e})") from e
        identity = cls(signer, source=f"pkcs11:{token_label}/{key_label}")
        identity.exclusive = True
        identity._session = session
        return identity

    def close(self) -> None:
        """Close the token session, if any (a PKCS#12 identity holds nothing to close)."""
        session = getattr(self, "_session", None)
        if session is not None:
            self._session = None
            session.close()

    @property
    def signer(self) -> Signer:
        """The pyHanko signer; shared, so hold `lock` while using it outside `PadesSigner`."""
        return self._signer

    @property
    def certificate(self) -> asn1_x509.Certificate:
        return self._signer.signing_cert

    @property
    def naam(self) -> str:
        """Common name of the certificate subject."""
        return subject_attr(self.certificate, "common_name") or ""

    @property
    def big_nummer(self) -> str | None:
        """The BIG number a doctor's certificate carries (`big_of`); None on a UZI-pas, which does not."""
        return big_of(self.certificate)

    @property
    def organisatie(self) -> str | None:
        return subject_attr(self.certificate, "organization_name")

    @property
    def plaats(self) -> str | None:
        """The subject's localityName, when the certificate carries one."""
        return subject_attr(self.certificate, "locality_name")

    def __repr__(self) -> str:
        return f"SigningIdentity({self.naam!r}, big_nummer={self.big_nummer!r}, source={self.source!r})"


class _LoadedKeySigner(SimpleSigner):
    """SimpleSigner that keeps the decoded key object.

    pyHanko's SimpleSigner re-parses its DER key in every `sign_raw`, and for RSA that includes cryptography's
    key-consistency check: ~100 ms for RSA-3072, paid twice per PDF signature (pyHanko signs once more to
    estimate the size). Measured: ~240 ms per document with a reused SimpleSigner, ~40 ms with this one.
    """

    def __init__(self, key: RSAPrivateKey | EllipticCurvePrivateKey, **kwargs) -> None:
        super().__init__(**kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
            return self._key.sign(data, ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)  # e.g. RSASSA-PSS: rare, correct, slower


class KeyRing:
    """The identities of one pki directory, by role, each loaded once."""

    def __init__(self, *, seal: SigningIdentity | None, doctors: Mapping[str, SigningIdentity]) -> None:
        self._seal = seal
        self._doctors = MappingProxyType(dict(doctors))

    @classmethod
    def from_pki_dir(cls, pki_dir: Path, *, seal: SigningIdentity | None = None, doctors: bool = True) -> KeyRing:
        """Load `seal.p12` and every `doctor-*.p12` in `pki_dir` with the passphrase stored there (the DEMO).

        `seal`: the seal loaded elsewhere (a token, a PKCS#12 whose passphrase is not in `pki_dir`); then
        `seal.p12` is not read. `doctors=False`: no doctor's key is loaded at all (outside the DEMO doctors sign
        themselves), so nothing in `pki_dir` is opened with its passphrase file.
        """
        if seal is not None and not doctors:
            return cls(seal=seal, doctors={})
        passphrase = demo_pki.read_passphrase(pki_dir)
        seal_path = pki_dir / demo_pki.SEAL_P12
        if seal is None and seal_path.exists():
            seal = SigningIdentity.from_pkcs12(seal_path, passphrase)
        found: dict[str, SigningIdentity] = {}
        for path in sorted(pki_dir.glob("doctor-*.p12")) if doctors else ():
            identity = SigningIdentity.from_pkcs12(path, passphrase)
            big = identity.big_nummer
            if not big:
                raise SigningError(f"Certificaat in {path} heeft geen BIG-nummer (serialNumber)")
            if big in found:
                raise SigningError(f"BIG-nummer {big} komt voor in {found[big].source} en in {path}")
            found[big] = identity
        return cls(seal=seal, doctors=found)

    def seal(self) -> SigningIdentity:
        if self._seal is None:
            raise SigningError("Geen zegel (seal.p12) in de PKI; voer `sopipe init` uit")
        return self._seal

    def doctor(self, big_nummer: str) -> SigningIdentity | None:
        """The doctor whose certificate carries this BIG number, or None."""
        return self._doctors.get(big_nummer)

    @property
    def doctor_big_nummers(self) -> tuple[str, ...]:
        return tuple(self._doctors)


def read_secret(spec: str, *, setting: str) -> bytes:
    """The secret named by `spec`: `env:NAME`, `file:/path` or `credential:NAME` (systemd's
    $CREDENTIALS_DIRECTORY/NAME). One trailing newline is dropped. Errors name the setting, never the secret.

    A `file:` secret must be a regular file of the user running sopipe that neither group nor others may read or
    write (mode 0600 or 0400), as ssh demands of a private key. An `env:` variable is remembered as a secret:
    child processes never get it (`pipeline.adapters.child_env`)."""
    kind, _, name = spec.partition(":")
    try:
        if kind == "env":
            child_env.remember_secret_name(name)
            value = os.environ.get(name)
            if value is None:
                raise SigningError(f"Omgevingsvariabele {name} is niet gezet ([signing] {setting})", field=setting)
            data = value.encode("utf-8")
        elif kind == "file":
            data = _read_private_file(Path(name), setting=setting)
        elif kind == "credential":
            directory = os.environ.get("CREDENTIALS_DIRECTORY")
            if not directory:
                raise SigningError(f"$CREDENTIALS_DIRECTORY is niet gezet: start sopipe als systemd-dienst met "
                                   f"LoadCredential={name}:... ([signing] {setting})", field=setting)
            data = (Path(directory) / name).read_bytes()
        else:
            raise SigningError(f"[signing] {setting}: onbekende bron {kind!r}", field=setting)
    except OSError as e:
        raise SigningError(f"Geheim voor [signing] {setting} kan niet worden gelezen: {e.strerror or e}",
                           field=setting) from e
    data = data[:-1] if data.endswith(b"\n") else data
    if not data:
        raise SigningError(f"Geheim voor [signing] {setting} is leeg", field=setting)
    return data


def _read_private_file(path: Path, *, setting: str) -> bytes:
    """The file's bytes, checked on the opened file itself (no race with a swap between check and read)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise SigningError(f"Geheim voor [signing] {setting}: {path} is geen gewoon bestand", field=setting)
        if st.st_uid != os.geteuid():
            raise SigningError(f"Geheim voor [signing] {setting} geweigerd: {path} is van een andere gebruiker "
                               f"(uid {st.st_uid}); het moet van de gebruiker zijn die sopipe draait "
                               f"(chown {os.geteuid()} {path}; chmod 600 {path})", field=setting,
                               rule="geheim-eigenaar")
        if st.st_mode & 0o077:
            raise SigningError(f"Geheim voor [signing] {setting} geweigerd: {path} is toegankelijk voor groep of "
                               f"anderen (modus {stat.S_IMODE(st.st_mode):04o}); maak het privé met "
                               f"chmod 600 {path}", field=setting, rule="geheim-rechten")
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
            if sum(map(len, chunks)) > 1 << 20:
                raise SigningError(f"Geheim voor [signing] {setting}: {path} is te groot", field=setting)
        return b"".join(chunks)
    finally:
        os.close(fd)


def subject_attr(cert: asn1_x509.Certificate, name: str) -> str | None:
    """One attribute of a certificate's subject (`common_name`, `serial_number` …), or None."""
    value = cert.subject.native.get(name)
    if isinstance(value, list):  # a multi-valued attribute: the last one is the most specific
        value = value[-1]
    return str(value) if value is not None else None


def big_of(cert: asn1_x509.Certificate) -> str | None:
    """The subject's serialNumber as a BIG number (the DEMO doctors' certificates carry it there); None on a
    certificate shaped like a UZI-pas, whose serialNumber is the UZI number (the registry binds it to the BIG
    number: `pipeline.core.artsen`)."""
    return None if _uzi_name(cert) is not None else subject_attr(cert, "serial_number")


def certificate_holder(der: bytes) -> Certificaathouder:
    """What a signing certificate (DER) says about its holder: name, subject serialNumber, SHA-256 fingerprint and,
    on a UZI-pas, the UZI register's otherName (OID 2.5.5.5) from the SubjectAltName."""
    import hashlib
    cert = asn1_x509.Certificate.load(der)
    return Certificaathouder(naam=subject_attr(cert, "common_name") or "", sha256=hashlib.sha256(der).hexdigest(),
                             serial_number=subject_attr(cert, "serial_number"), uzi=_uzi_name(cert))


def _uzi_name(cert: asn1_x509.Certificate) -> UziNaam | None:
    from asn1crypto.core import IA5String
    try:
        names = cert.subject_alt_name_value
        for general in names or ():
            if general.name == "other_name" and general.chosen["type_id"].dotted == UZI_OTHER_NAME_OID:
                value = general.chosen["value"]
                text = value.parse(IA5String).native if not isinstance(value, IA5String) else value.native
                return parse_uzi_name(text)
    except (ValueError, TypeError, KeyError):  # a malformed extension: no UZI data, not a crash
        return None
    return None
